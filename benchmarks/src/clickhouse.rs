//! `showrunner-bench clickhouse --events N`: the ClickHouse sink's insert
//! throughput, and the metric suite on ClickHouse next to DataFusion on the
//! same events, in one run. Simulated events are published into a local
//! NATS first (untimed); then the sink alone drains the stream into
//! ClickHouse (timed), ingest drains it into a Parquet lake, and both
//! engines compute every metric (default parameters), compared row by row.
//! ClickHouse is timed two ways: one query per metric, every projection
//! inlined (what one API request costs), and the whole suite in one session
//! with the shared projections in temporary tables (`metrics --engine
//! clickhouse`).
//! Without `--clickhouse URL` a local clickhouse-server is started in a temp
//! dir. Prints one JSON object.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::{Value, json};
use showrunner_bus::{self as nats, StreamSettings, server::LocalNatsServer};
use showrunner_events::Validator;
use showrunner_ingest::consumer::{self, IngestSettings};
use showrunner_ingest::metrics::Metrics;
use showrunner_ingest::publish::publish_all;
use showrunner_ingest::sinks::clickhouse::{ClickHouseSettings, drop_database, migrate, sink};
use showrunner_testkit::clickhouse::LocalClickHouse;
use showrunner_warehouse::clickhouse::ClickHouseEngine;
use showrunner_warehouse::metrics::{METRICS, Params};
use showrunner_warehouse::{Lake, output};

use crate::shared::{disagreement, messages};

/// Arguments of `showrunner-bench clickhouse`.
#[derive(clap::Args, Debug, Clone)]
pub struct ClickHouseArgs {
    /// Events to publish, insert and compute over.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    /// A running server's HTTP URL (default: start a local clickhouse-server).
    #[arg(long)]
    pub clickhouse: Option<String>,
    /// Most events per insert batch.
    #[arg(long, default_value_t = 50_000)]
    pub batch_max: usize,
}

/// Per metric: seconds and rows.
type Suite = Vec<(f64, Vec<Vec<Value>>)>;

async fn clickhouse_suite(ch: &ClickHouseEngine) -> Result<Suite> {
    let p = Params::default();
    let mut out = Vec::new();
    for m in METRICS {
        let t = Instant::now();
        let (_, batches) = ch.compute(m, &p).await?;
        out.push((t.elapsed().as_secs_f64(), output::rows(&batches)?));
    }
    Ok(out)
}

async fn datafusion_suite(lake: &Lake) -> Result<Suite> {
    let p = Params::default();
    let mut out = Vec::new();
    for m in METRICS {
        let t = Instant::now();
        let (_, batches) = showrunner_warehouse::metrics::compute(lake, m, &p).await?;
        out.push((t.elapsed().as_secs_f64(), output::rows(&batches)?));
    }
    Ok(out)
}

fn on_ch_rows(suite: &Suite, name: &str) -> Vec<Vec<Value>> {
    METRICS
        .iter()
        .position(|m| m.name == name)
        .and_then(|i| suite.get(i))
        .map(|(_, rows)| rows.clone())
        .unwrap_or_default()
}

/// Runs the benchmark.
pub async fn run(a: ClickHouseArgs) -> Result<()> {
    let n = a.events;
    let dir = tempfile::tempdir()?;
    let nats_server = LocalNatsServer::start(&dir.path().join("nats"), 0)?;
    let local = match &a.clickhouse {
        Some(_) => None,
        None => Some(
            LocalClickHouse::start(&dir.path().join("clickhouse"))
                .await
                .map_err(anyhow::Error::msg)?,
        ),
    };
    let url = a
        .clickhouse
        .clone()
        .or_else(|| local.as_ref().map(LocalClickHouse::url))
        .unwrap_or_default();
    // a database of its own, dropped at the end
    let database = format!("showrunner_bench_{}", std::process::id());
    let settings = ClickHouseSettings {
        url: url.clone(),
        user: "default".into(),
        password: String::new(),
        database: database.clone(),
    };
    migrate(&settings).await?;

    let msgs = messages(n);
    if msgs.len() < n {
        bail!("the simulation yielded only {} events", msgs.len());
    }
    let client = nats::connect(&nats_server.url(), Duration::from_secs(10)).await?;
    let js = nats::context(client.clone(), Duration::from_secs(30), 8_192);
    let streams = StreamSettings::default();
    nats::ensure_streams(&js, &streams).await?;
    publish_all(&js, msgs, 8_192, |_| {}).await?;

    // (a) the ClickHouse sink alone, draining the stream: timed until every
    // event is inserted (sustained rate), and until the drain ends (its
    // last, empty pull waits up to a second for more)
    let report = Arc::new(sink::SinkReport::default());
    let t = Instant::now();
    let sink_settings = sink::SinkSettings {
        clickhouse: settings.clone(),
        durable: "bench-clickhouse".into(),
        batch_max: a.batch_max,
        batch_wait: sink::MIN_BATCH_WAIT,
        ack_wait: std::time::Duration::from_secs(300),
        drain: true,
    };
    let (sink_js, sink_streams, sink_report) = (js.clone(), streams.clone(), report.clone());
    let sink_task = tokio::spawn(async move {
        sink::run(
            sink_js,
            &sink_streams,
            sink_settings,
            Validator::default(),
            sink_report,
            std::future::pending::<()>(),
        )
        .await
    });
    while report.inserted.load(Ordering::Relaxed) < n as u64 && !sink_task.is_finished() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let insert_secs = t.elapsed().as_secs_f64();
    sink_task.await??;
    let sink_secs = t.elapsed().as_secs_f64();
    let inserted = report.inserted.load(Ordering::Relaxed);
    if inserted != n as u64 {
        bail!("the sink inserted {inserted} of {n} events");
    }

    // (b) the same stream into a Parquet lake
    let lake_dir = dir.path().join("lake");
    let mut s = IngestSettings::new(&nats_server.url(), lake_dir.clone());
    s.durable = "bench-parquet".into();
    s.drain = true;
    let t = Instant::now();
    consumer::run(
        s,
        Validator::default(),
        Arc::new(Metrics::default()),
        std::future::pending::<()>(),
    )
    .await?;
    let parquet_secs = t.elapsed().as_secs_f64();

    // (c) the suite on both engines
    let engine = ClickHouseEngine::new(&url, "default", "", &database)?;
    let t = Instant::now();
    let on_ch = clickhouse_suite(&engine).await?;
    let ch_secs = t.elapsed().as_secs_f64();
    // the suite as `metrics --engine clickhouse` runs it: one session, the
    // shared projections in temporary tables
    let all: Vec<_> = METRICS.iter().collect();
    let t = Instant::now();
    let cached = engine.compute_all(&all, &Params::default()).await?;
    let ch_cached_secs = t.elapsed().as_secs_f64();
    for (m, (_, batches)) in METRICS.iter().zip(&cached) {
        if let Some(d) = disagreement(&output::rows(batches)?, &on_ch_rows(&on_ch, m.name)) {
            bail!(
                "{}: the cached suite differs from per-metric queries: {d}",
                m.name
            );
        }
    }
    let t = Instant::now();
    let lake = Lake::open(&lake_dir).await?;
    lake.prepare(&all).await?;
    let prepare_secs = t.elapsed().as_secs_f64();
    let on_df = datafusion_suite(&lake).await?;
    let df_secs = t.elapsed().as_secs_f64();

    let mut per = serde_json::Map::new();
    let mut disagreements = serde_json::Map::new();
    for (m, ((cs, cr), (ds, dr))) in METRICS.iter().zip(on_ch.iter().zip(&on_df)) {
        per.insert(
            m.name.into(),
            json!({ "clickhouse_s": cs, "datafusion_s": ds, "rows": dr.len() }),
        );
        if let Some(d) = disagreement(dr, cr) {
            disagreements.insert(m.name.into(), json!(d));
        }
    }
    let server_version = engine
        .run("SELECT version() AS v")
        .await
        .ok()
        .and_then(|(_, b)| output::rows(&b).ok())
        .and_then(|r| r.first().and_then(|row| row.first().cloned()))
        .unwrap_or(Value::Null);
    let out = json!({
        "bench": "clickhouse",
        "events": n,
        "clickhouse_version": server_version,
        "sink": {
            "batch_max": a.batch_max,
            "batches": report.sink.batches.load(Ordering::Relaxed),
            "seconds_to_all_inserted": insert_secs,
            "events_per_sec": (n as f64 / insert_secs).round(),
            "seconds_with_drain": sink_secs,
            "events_per_sec_with_drain": (n as f64 / sink_secs).round(),
        },
        "parquet_ingest": { "seconds": parquet_secs, "events_per_sec": (n as f64 / parquet_secs).round() },
        "suite": {
            "clickhouse_per_metric_queries_s": ch_secs,
            "clickhouse_one_session_s": ch_cached_secs,
            "datafusion_s": df_secs,
            "datafusion_projections_s": prepare_secs,
            "per_metric": per,
        },
        "agree": disagreements.is_empty(),
        "disagreements": disagreements,
    });
    println!("{out}");
    drop_database(&settings).await?;
    drop(local);
    drop(nats_server);
    Ok(())
}
