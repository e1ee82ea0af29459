//! `showrunner bench ingest`: the bare-consumer ceiling against real ingest
//! to Parquet, on the same pre-filled stream of simulated events, in one
//! run. Prints one JSON object.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use async_nats::jetstream::consumer::{AckPolicy, pull};
use clap::Subcommand;
use futures::StreamExt;
use showrunner_events::Validator;
use showrunner_ingest::consumer::{self, IngestSettings};
use showrunner_ingest::metrics::Metrics;
use showrunner_ingest::nats::{self, StreamSettings, server::LocalNatsServer};
use showrunner_ingest::publish::{Outgoing, publish_all};
use showrunner_simulator::{SimConfig, Simulator};

/// Benchmarks.
#[derive(Subcommand, Debug, Clone)]
pub enum BenchCommand {
    /// Ingest throughput: bare consumer vs ingest into Parquet.
    Ingest {
        /// Events to publish and consume.
        #[arg(long, default_value_t = 2_000_000)]
        events: usize,
        /// Ingest batch size.
        #[arg(long, default_value_t = 20_000)]
        batch_max: usize,
        /// Pull batch of the bare consumer.
        #[arg(long, default_value_t = 1_000)]
        pull: usize,
        /// Rounds of (bare, ingest) on the same stream, alternated so that
        /// a noisy neighbour hits both; the ratio reported is the median's.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// The metric suite, cold and warm, per metric, next to DuckDB on the
    /// same files; says whether the two engines agree.
    Metrics {
        /// Events to simulate into the lake.
        #[arg(long, default_value_t = 10_000_000)]
        events: usize,
        /// Keep (or reuse, when it holds a lake) the lake in this directory.
        #[arg(long)]
        lake: Option<std::path::PathBuf>,
        /// Skip DuckDB.
        #[arg(long)]
        no_duckdb: bool,
    },
    /// ClickHouse: the sink's insert throughput, and the metric suite on
    /// ClickHouse next to DataFusion on the same events.
    Clickhouse(crate::bench_clickhouse::ClickHouseArgs),
    /// Recommendation serving: a model over a synthetic audience, then HTTP
    /// load at fixed concurrency; throughput and latency percentiles.
    Recommend(crate::bench_recommend::RecommendArgs),
    /// Where ingest's CPU goes, per stage, single-threaded, no NATS.
    Stages {
        /// Events.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
    },
}

/// Runs a benchmark.
pub async fn run(c: BenchCommand) -> Result<()> {
    match c {
        BenchCommand::Ingest {
            events,
            batch_max,
            pull,
            rounds,
        } => ingest(events, batch_max, pull, rounds).await,
        BenchCommand::Stages { events } => stages(events),
        BenchCommand::Recommend(a) => crate::bench_recommend::run(a).await,
        BenchCommand::Clickhouse(a) => crate::bench_clickhouse::run(a).await,
        BenchCommand::Metrics {
            events,
            lake,
            no_duckdb,
        } => crate::bench_metrics::run(events, lake, !no_duckdb).await,
    }
}

/// Simulated events, serialized, at least `n` (truncated to `n`).
pub(crate) fn messages(n: usize) -> Vec<Outgoing> {
    let users = (n / 1_200).max(200) as u32;
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let mut cfg = SimConfig::new(users, 60, 7, start);
    cfg.heartbeat_secs = 60;
    let mut out = Vec::with_capacity(n);
    for day in Simulator::new(cfg) {
        out.extend(day.iter().map(Outgoing::event));
        if out.len() >= n {
            break;
        }
    }
    out.truncate(n);
    out
}

async fn ingest(n: usize, batch_max: usize, pull_batch: usize, rounds: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = LocalNatsServer::start(&dir.path().join("nats"), 0)?;
    let url = server.url();
    let t = Instant::now();
    let msgs = messages(n);
    let gen_secs = t.elapsed().as_secs_f64();
    if msgs.len() < n {
        bail!("the simulation yielded only {} events", msgs.len());
    }
    let avg_bytes = msgs.iter().map(|m| m.payload.len()).sum::<usize>() as f64 / n as f64;
    let client = nats::connect(&url, Duration::from_secs(10)).await?;
    let js = nats::context(client.clone(), Duration::from_secs(30), 8_192);
    let streams = StreamSettings::default();
    let stream = nats::ensure_streams(&js, &streams).await?;
    let t = Instant::now();
    publish_all(&js, msgs, 8_192, |_| {}).await?;
    let publish_secs = t.elapsed().as_secs_f64();

    let mut runs = Vec::new();
    for round in 0..rounds.max(1) {
        let bare_secs = bare_consumer(&client, &stream, n, pull_batch, round).await?;
        let (ingest_secs, files, bytes) =
            ingest_once(&url, dir.path(), n, batch_max, round).await?;
        let (bare_rate, ingest_rate) = (n as f64 / bare_secs, n as f64 / ingest_secs);
        runs.push(serde_json::json!({
            "bare_seconds": bare_secs, "bare_events_per_sec": bare_rate.round(),
            "ingest_seconds": ingest_secs, "ingest_events_per_sec": ingest_rate.round(),
            "files": files, "parquet_bytes": bytes, "ratio": ingest_rate / bare_rate,
        }));
    }
    let field = |k: &str| runs.iter().filter_map(|r| r[k].as_f64()).collect();
    let out = serde_json::json!({
        "bench": "ingest",
        "events": n,
        "avg_event_bytes": avg_bytes.round(),
        "simulate_seconds": gen_secs,
        "publish_events_per_sec": (n as f64 / publish_secs).round(),
        "ack": "explicit, each message (both consumers)",
        "bare_pull_batch": pull_batch,
        "ingest_batch_max": batch_max,
        "rounds": runs,
        // each median on its own: the two may come from different rounds
        "median_ratio": median(field("ratio")),
        "median_ingest_events_per_sec": median(field("ingest_events_per_sec")),
    });
    println!("{out}");
    drop(server);
    Ok(())
}

/// (a) A bare consumer: fetches and acks each message, nothing else.
async fn bare_consumer(
    client: &async_nats::Client,
    stream: &async_nats::jetstream::stream::Stream,
    n: usize,
    pull_batch: usize,
    round: usize,
) -> Result<f64> {
    let name = format!("bench-bare-{round}");
    let bare = stream
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                ack_policy: AckPolicy::Explicit,
                max_ack_pending: 80_000,
                ..Default::default()
            },
        )
        .await?;
    let t = Instant::now();
    let mut msgs = bare
        .stream()
        .max_messages_per_batch(pull_batch)
        .messages()
        .await?;
    let mut seen = 0usize;
    while let Some(m) = msgs.next().await {
        let m = m.map_err(|e| anyhow::anyhow!("{e}"))?;
        m.ack().await.map_err(|e| anyhow::anyhow!("{e}"))?;
        seen += 1;
        if seen == n {
            break;
        }
    }
    client.flush().await?;
    Ok(t.elapsed().as_secs_f64())
}

/// (b) The real ingest into a Parquet lake of its own, same ack policy:
/// seconds until every event is committed, files, bytes.
async fn ingest_once(
    url: &str,
    dir: &std::path::Path,
    n: usize,
    batch_max: usize,
    round: usize,
) -> Result<(f64, u64, u64)> {
    let lake = dir.join(format!("lake-{round}"));
    let mut s = IngestSettings::new(url, lake);
    s.durable = format!("bench-ingest-{round}");
    s.batch_max = batch_max;
    let metrics = Arc::new(Metrics::default());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let t = Instant::now();
    let task = tokio::spawn(consumer::run(
        s,
        Validator::default(),
        metrics.clone(),
        async move {
            let _ = rx.await;
        },
    ));
    while (metrics.events_ingested.load(Ordering::Relaxed) as usize) < n {
        if task.is_finished() {
            bail!("ingest stopped early");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = t.elapsed().as_secs_f64();
    let _ = tx.send(());
    task.await??;
    Ok((
        secs,
        metrics.files.load(Ordering::Relaxed),
        metrics.bytes.load(Ordering::Relaxed),
    ))
}

/// Times decode, validate, Arrow building and Parquet encoding as ingest
/// does them (one event at a time, nothing kept but the builders); each
/// pass adds one stage, the report gives each stage's cost.
fn stages(n: usize) -> Result<()> {
    use showrunner_events::arrow::BatchBuilder;
    use showrunner_events::{Family, WireEvent};
    let msgs = messages(n);
    let v = Validator::default();
    let pass = |check: bool, build: bool| -> Result<(f64, Vec<arrow_array::RecordBatch>)> {
        let t = Instant::now();
        let mut batches = Vec::new();
        for chunk in msgs.chunks(20_000) {
            let mut builders: Vec<BatchBuilder> = Family::ALL
                .iter()
                .map(|f| BatchBuilder::new(*f, 1_024))
                .collect();
            for m in chunk {
                let w = WireEvent::from_json(&m.payload)?;
                if check {
                    let (family, _) = v.check(&w)?;
                    if build {
                        builders[Family::ALL.iter().position(|f| *f == family).unwrap_or(0)]
                            .append(&w);
                    }
                }
            }
            for b in &mut builders {
                if !b.is_empty() {
                    batches.push(b.finish()?);
                }
            }
        }
        Ok((t.elapsed().as_secs_f64(), batches))
    };
    let (decode, _) = pass(false, false)?;
    let (check, _) = pass(true, false)?;
    let (build, batches) = pass(true, true)?;
    let t = Instant::now();
    let mut bytes = 0;
    let set = showrunner_ingest::sinks::parquet::seqs::SeqSet::from_seqs(&[1]);
    for b in &batches {
        bytes += showrunner_ingest::sinks::parquet::writer::encode(
            b,
            showrunner_ingest::sinks::parquet::writer::properties("EVENTS", "0", &set)?,
        )?
        .len();
    }
    let parquet = t.elapsed().as_secs_f64();
    let per = |s: f64| (s / n as f64 * 1e9).round();
    println!(
        "{}",
        serde_json::json!({
            "bench": "stages", "events": n,
            "ns_per_event": { "decode": per(decode), "validate": per(check - decode), "arrow": per(build - check), "parquet_encode": per(parquet),
                "total": per(build + parquet) },
            "parquet_bytes": bytes,
        })
    );
    Ok(())
}

/// The median of `v` (the upper one of an even count; 0 when empty).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
