//! `showrunner ingest`: a durable JetStream pull consumer on `EVENTS` that
//! batches messages, commits them to the Parquet lake ([`process`]) and only
//! then acks them. Several processes may share the durable consumer.
//!
//! Pipeline: this task pulls and batches; a second task runs each batch on
//! a blocking thread, then publishes dead letters and sends the acks, so
//! pulling overlaps with writing.

pub mod process;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use showrunner_events::Validator;
use tokio::sync::mpsc;

use self::process::{Incoming, Outcome};
use crate::deadletter;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::sinks::parquet::ParquetSink;
use showrunner_bus::durable::{self, Acks, Durable, Pulled};
use showrunner_bus::{self as nats, StreamSettings};

/// Settings of an ingest worker.
#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// NATS URL.
    pub nats_url: String,
    /// The lake: a directory or an object store.
    pub lake: showrunner_lake::Store,
    /// Stream names and retention.
    pub streams: StreamSettings,
    /// Durable consumer name, shared by cooperating workers.
    pub durable: String,
    /// Most messages per batch (and per lake file).
    pub batch_max: usize,
    /// Longest a batch waits for more messages.
    pub batch_wait: Duration,
    /// How long the server waits for an ack before redelivering.
    pub ack_wait: Duration,
    /// Exit once the consumer has nothing pending.
    pub drain: bool,
}

impl IngestSettings {
    /// Defaults for a NATS URL and a lake.
    pub fn new(nats_url: &str, lake: impl Into<showrunner_lake::Store>) -> Self {
        Self {
            nats_url: nats_url.to_owned(),
            lake: lake.into(),
            streams: StreamSettings::default(),
            durable: "ingest".into(),
            batch_max: 20_000,
            batch_wait: Duration::from_secs(1),
            ack_wait: Duration::from_secs(60),
            drain: false,
        }
    }
}

/// Totals of one ingest run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestReport {
    /// Messages settled (acked).
    pub messages: u64,
    /// Rows committed to the lake.
    pub ingested: u64,
    /// Redelivered messages found already in the lake.
    pub duplicates: u64,
    /// Messages dead-lettered.
    pub deadlettered: u64,
    /// Files committed.
    pub files: u64,
    /// Messages left unacked and unwritten (their batch outlived half the ack wait).
    pub expired: u64,
}

impl IngestSettings {
    /// The durable consumer these settings describe.
    pub fn durable(&self) -> Durable {
        Durable {
            name: self.durable.clone(),
            acks: Acks::Each,
            ack_wait: self.ack_wait,
            max_ack_pending: (self.batch_max * 4).max(1_000),
        }
    }
}

/// Creates (if missing) and returns the durable pull consumer.
pub async fn durable_consumer(
    js: &jetstream::Context,
    s: &IngestSettings,
) -> Result<durable::Consumer> {
    Ok(durable::open(js, &s.streams, &s.durable()).await?.0)
}

impl IngestSettings {
    /// Checks the settings; the error names the setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.batch_max == 0 {
            return bad("ingest.batch_max (--batch-max) must be > 0".into());
        }
        if self.batch_wait.is_zero() {
            return bad("ingest.batch_wait_ms (--batch-wait-ms) must be > 0".into());
        }
        if self.ack_wait < self.batch_wait * 4 {
            return bad(format!(
                "ingest.ack_wait_secs (--ack-wait-secs) must be at least 4 × the batch wait ({:?}), got {:?}",
                self.batch_wait, self.ack_wait
            ));
        }
        Ok(())
    }
}

/// Runs an ingest worker until `shutdown` resolves (then flushes the batch
/// in hand) or, with `drain`, until nothing is pending.
///
/// Messages are pulled with explicit pull requests, one at a time, only
/// while a batch is being filled; each message is treated as received when
/// its pull request was sent (never later than the server delivered it),
/// so the commit deadline is conservative.
pub async fn run(
    s: IngestSettings,
    validator: Validator,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<IngestReport> {
    s.validate()?;
    let client = nats::connect(&s.nats_url, Duration::from_secs(10)).await?;
    let js = nats::context(client.clone(), Duration::from_secs(10), 4_096);
    let mut stream = nats::ensure_streams(&js, &s.streams).await?;
    // the stream's creation time tells this stream from an earlier one of
    // the same name, whose sequences started over
    let incarnation = stream
        .info()
        .await
        .map_err(Error::nats)?
        .created
        .unix_timestamp_nanos()
        .to_string();
    let (consumer, ack_wait) = durable::open(&js, &s.streams, &s.durable()).await?;
    let lake = s.lake.clone();
    let stale = ack_wait * 2;
    let stream_name = s.streams.events.clone();
    let sink = tokio::task::spawn_blocking(move || {
        ParquetSink::open(lake, &stream_name, &incarnation, stale)
    })
    .await
    .map_err(|e| Error::Nats(format!("sink task: {e}")))??;
    tracing::info!(durable = %s.durable, lake = %s.lake, high_water = sink.high_water(), "ingest started");

    let (tx, rx) = mpsc::channel::<Vec<Incoming>>(1);
    // the most events a batch may gather now: halved by the writer each
    // time a batch outlives half the ack wait (its expired messages come
    // back and would expire again in a batch as large), so ingest recovers
    // instead of redelivering the same batch forever
    let cap = Arc::new(AtomicUsize::new(s.batch_max.max(1)));
    let writer = tokio::spawn(write_loop(
        sink,
        validator,
        rx,
        js.clone(),
        Deadline {
            age: ack_wait / 2,
            cap: cap.clone(),
        },
        s.streams.events.clone(),
        metrics,
    ));

    tokio::pin!(shutdown);
    let pull = s.batch_max.clamp(1, 20_000);
    let mut stopping = false;
    let mut idle = 0u32;
    while !stopping {
        let batch_max = cap.load(Ordering::Relaxed);
        let mut batch: Vec<Incoming> = Vec::with_capacity(batch_max);
        let started = Instant::now();
        while batch.len() < batch_max && !stopping {
            let left = s.batch_wait.saturating_sub(started.elapsed());
            if left.is_zero() && !batch.is_empty() {
                break;
            }
            let expires =
                if batch.is_empty() { s.batch_wait } else { left }.max(Duration::from_millis(50));
            let requested = Instant::now();
            let before = batch.len();
            let mut msgs = Vec::new();
            let max = pull.min(batch_max - batch.len());
            if durable::pull(&consumer, max, expires, &mut shutdown, &mut msgs).await?
                == Pulled::Shutdown
            {
                tracing::info!("shutdown requested: flushing");
                stopping = true;
            }
            for m in msgs {
                let info = m.info().map_err(Error::nats)?;
                batch.push(Incoming {
                    seq: info.stream_sequence,
                    delivered: info.delivered,
                    subject: m.subject.clone(),
                    payload: m.payload.clone(),
                    reply: m.reply.clone(),
                    received: requested,
                });
            }
            if batch.len() > before {
                idle = 0;
            } else if batch.is_empty() && s.drain {
                idle += 1;
                if idle >= 2 && durable::drained(&consumer).await {
                    stopping = true;
                }
            }
        }
        if !batch.is_empty() && tx.send(batch).await.is_err() {
            break;
        }
    }
    drop(tx);
    let report = writer
        .await
        .map_err(|e| Error::Nats(format!("writer task: {e}")))??;
    client.flush().await.map_err(Error::nats)?;
    tracing::info!(?report, "ingest stopped");
    Ok(report)
}

/// Fault injection for the crash tests: with `SHOWRUNNER_FAILPOINT=
/// after-commit:N`, the process aborts once N files are committed, before
/// their messages are acked — the window exactly-once must survive.
fn failpoint_after_commit(files: u64) {
    static AT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| {
        std::env::var("SHOWRUNNER_FAILPOINT")
            .ok()
            .and_then(|v| v.strip_prefix("after-commit:")?.parse().ok())
    });
    if at.is_some_and(|n| files >= n) {
        tracing::error!(files, "failpoint after-commit: aborting before acks");
        std::process::abort();
    }
}

/// Fault injection for the tests: with `SHOWRUNNER_FAILPOINT=
/// stall-before-commit:MS`, the first batch waits MS milliseconds before it
/// is written — a worker frozen while the server redelivers its messages;
/// with `slow-commit-us-per-event:US`, every batch waits US µs per event — a
/// disk too slow for the batch size and the ack wait.
async fn failpoint_stall_before_commit(events: usize) {
    static ONCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let fp = std::env::var("SHOWRUNNER_FAILPOINT").ok();
    // a slow disk: every batch takes this long per event to commit
    if let Some(us) = fp.as_deref().and_then(|v| {
        v.strip_prefix("slow-commit-us-per-event:")?
            .parse::<u64>()
            .ok()
    }) {
        tokio::time::sleep(Duration::from_micros(us * events as u64)).await;
        return;
    }
    let ms = fp.and_then(|v| v.strip_prefix("stall-before-commit:")?.parse::<u64>().ok());
    if let Some(ms) = ms
        && !ONCE.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        tracing::warn!(ms, "failpoint stall-before-commit: holding the first batch");
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// How old a message may be when its batch is committed, and the batch
/// cap the writer halves when messages outlive it.
struct Deadline {
    age: Duration,
    cap: Arc<AtomicUsize>,
}

/// The smallest batch the adaptive cap shrinks to.
const MIN_BATCH_CAP: usize = 500;

/// Commits batches one at a time (on a blocking thread) and hands each,
/// committed, to the acker; the next batch is written while the previous
/// one's acks go out.
async fn write_loop(
    mut sink: ParquetSink,
    validator: Validator,
    mut rx: mpsc::Receiver<Vec<Incoming>>,
    js: jetstream::Context,
    deadline: Deadline,
    stream: String,
    metrics: Arc<Metrics>,
) -> Result<IngestReport> {
    let Deadline { age: deadline, cap } = deadline;
    let (ack_tx, ack_rx) = mpsc::channel::<(Vec<Incoming>, Outcome)>(1);
    let acker = tokio::spawn(ack_loop(ack_rx, js, stream, metrics));
    let mut files = 0u64;
    while let Some(batch) = rx.recv().await {
        failpoint_stall_before_commit(batch.len()).await;
        let v = validator.clone();
        let (back, batch, outcome) = tokio::task::spawn_blocking(move || {
            let r = process::process(&mut sink, &v, &batch, deadline);
            (sink, batch, r)
        })
        .await
        .map_err(|e| Error::Nats(format!("batch task: {e}")))?;
        sink = back;
        let outcome: Outcome = outcome?;
        if !outcome.expired.is_empty() {
            let was = cap.load(Ordering::Relaxed);
            let now = (was / 2).max(MIN_BATCH_CAP).min(was);
            cap.store(now, Ordering::Relaxed);
            tracing::warn!(
                expired = outcome.expired.len(),
                batch_max = now,
                "a batch outlived half the ack wait; its expired messages will be redelivered, batches shrink"
            );
        }
        files += outcome.files.len() as u64;
        failpoint_after_commit(files);
        if ack_tx.send((batch, outcome)).await.is_err() {
            break; // the acker failed; its error is returned below
        }
    }
    drop(ack_tx);
    acker
        .await
        .map_err(|e| Error::Nats(format!("ack task: {e}")))?
}

/// Settles committed batches in order: dead letters first (and their
/// acks from the dead-letter stream), then acks. Expired messages get no
/// answer at all: a NAK for a delivery the server has already replaced
/// would trigger yet another delivery while the current one may be being
/// committed elsewhere; left alone, they come back after the ack wait.
async fn ack_loop(
    mut rx: mpsc::Receiver<(Vec<Incoming>, Outcome)>,
    js: jetstream::Context,
    stream: String,
    metrics: Arc<Metrics>,
) -> Result<IngestReport> {
    let mut report = IngestReport::default();
    let client = js.client();
    while let Some((batch, outcome)) = rx.recv().await {
        deadletter::publish(&js, &stream, &batch, &outcome.dead).await?;
        let settled = outcome
            .ack
            .iter()
            .chain(outcome.dead.iter().map(|(i, _)| i));
        for &i in settled {
            if let Some(reply) = &batch[i].reply {
                client
                    .publish(reply.clone(), bytes::Bytes::new())
                    .await
                    .map_err(Error::nats)?;
            }
        }
        let bytes: usize = outcome.files.iter().map(|f| f.bytes).sum();
        Metrics::add(&metrics.events_ingested, outcome.ingested);
        Metrics::add(&metrics.events_duplicate, outcome.duplicates);
        Metrics::add(&metrics.events_deadlettered, outcome.dead.len() as u64);
        Metrics::add(&metrics.events_expired, outcome.expired.len() as u64);
        Metrics::add(&metrics.batches, 1);
        Metrics::add(&metrics.files, outcome.files.len() as u64);
        Metrics::add(&metrics.bytes, bytes as u64);
        report.messages += (outcome.ack.len() + outcome.dead.len()) as u64;
        report.ingested += outcome.ingested;
        report.duplicates += outcome.duplicates;
        report.deadlettered += outcome.dead.len() as u64;
        report.files += outcome.files.len() as u64;
        report.expired += outcome.expired.len() as u64;
        tracing::debug!(
            rows = outcome.ingested,
            files = outcome.files.len(),
            "batch settled"
        );
    }
    Ok(report)
}
