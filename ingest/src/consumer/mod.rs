//! `showrunner ingest`: a durable JetStream pull consumer on `EVENTS` that
//! commits batches to the Parquet lake ([`process`]) and only then acks
//! them. Several processes may share the durable consumer.
//!
//! The run loop (pulling, order, retries, dead letters, acks, stop and
//! drain) is the bus's ([`showrunner_bus::sink`]); this module is the
//! [`Sink`] that writes a batch — on a blocking thread, the whole batch as
//! one part — and its settings.

pub mod process;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream;
use showrunner_events::Validator;

use self::process::Outcome;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::sinks::parquet::ParquetSink;
use showrunner_bus::durable::{self, Acks, Durable};
use showrunner_bus::sink::{
    self, Batch, Class, Counters, LoopSettings, Part, Prepared, Settlement, Sink,
};
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
    let totals = Arc::new(Totals::default());
    let writer = LakeWriter {
        sink: Some(sink),
        validator,
        // the age past which a message may have been redelivered elsewhere
        deadline: ack_wait / 2,
        metrics: metrics.clone(),
        totals: totals.clone(),
    };
    let settings = LoopSettings {
        stream: s.streams.events.clone(),
        acks: Acks::Each,
        batch_max: s.batch_max,
        batch_wait: s.batch_wait,
        min_pull_wait: Duration::from_millis(50),
        drain: s.drain,
    };
    let looped = sink::run(
        js,
        consumer,
        settings,
        writer,
        metrics.sink.clone(),
        shutdown,
    )
    .await?;
    client.flush().await.map_err(Error::nats)?;
    let report = IngestReport {
        messages: looped.settled,
        ingested: Counters::get(&totals.ingested),
        duplicates: Counters::get(&totals.duplicates),
        deadlettered: looped.deadlettered,
        files: Counters::get(&totals.files),
        expired: looped.left,
    };
    tracing::info!(?report, "ingest stopped");
    Ok(report)
}

/// What one run committed.
#[derive(Debug, Default)]
struct Totals {
    ingested: std::sync::atomic::AtomicU64,
    duplicates: std::sync::atomic::AtomicU64,
    files: std::sync::atomic::AtomicU64,
}

/// The lake as a [`Sink`]: a batch is one part, processed on a blocking
/// thread ([`process::process`]).
struct LakeWriter {
    /// Taken while a batch is processed on its blocking thread.
    sink: Option<ParquetSink>,
    validator: Validator,
    deadline: Duration,
    metrics: Arc<Metrics>,
    totals: Arc<Totals>,
}

/// A whole batch: the lake commits a batch's files together.
struct WholeBatch(usize);

impl Part for WholeBatch {
    fn messages(&self) -> Vec<usize> {
        (0..self.0).collect()
    }

    fn split(self) -> std::result::Result<(Self, Self), Self> {
        Err(self)
    }
}

impl Sink for LakeWriter {
    const NAME: &'static str = "lake";
    type Part = WholeBatch;
    type Error = Error;

    fn preparer(&self) -> impl FnMut(&Batch) -> Prepared<WholeBatch> + Send + 'static {
        |batch: &Batch| Prepared {
            parts: vec![WholeBatch(batch.len())],
            settled: Settlement::default(),
        }
    }

    async fn write(&mut self, batch: &Batch, _: &mut WholeBatch) -> Result<Settlement> {
        failpoint_stall_before_commit(batch.len()).await;
        let mut sink = self
            .sink
            .take()
            .ok_or_else(|| Error::Parquet("the lake sink was lost by a failed batch".into()))?;
        let (v, deadline, b) = (self.validator.clone(), self.deadline, batch.clone());
        let (sink, outcome) = tokio::task::spawn_blocking(move || {
            let r = process::process(&mut sink, &v, &b, deadline);
            (sink, r)
        })
        .await
        .map_err(|e| Error::Nats(format!("batch task: {e}")))?;
        self.sink = Some(sink);
        let outcome: Outcome = outcome?;
        let bytes: usize = outcome.files.iter().map(|f| f.bytes).sum();
        let files = outcome.files.len() as u64;
        Metrics::add(&self.metrics.events_ingested, outcome.ingested);
        Metrics::add(&self.metrics.events_duplicate, outcome.duplicates);
        Metrics::add(&self.metrics.files, files);
        Metrics::add(&self.metrics.bytes, bytes as u64);
        Metrics::add(&self.totals.ingested, outcome.ingested);
        Metrics::add(&self.totals.duplicates, outcome.duplicates);
        let written = self.totals.files.fetch_add(files, Ordering::Relaxed) + files;
        failpoint_after_commit(written);
        tracing::debug!(rows = outcome.ingested, files, "batch committed");
        Ok(outcome.settlement())
    }

    /// The lake unreachable or failing (a full disk, an object store
    /// down): retried — a commit that failed part-way is looked up by the
    /// retry ([`ParquetSink::write_all`]); anything else stops ingest.
    fn classify(&self, e: &Error) -> Class {
        match e {
            Error::Lake(_) | Error::Io { .. } => Class::Retry,
            _ => Class::Fatal,
        }
    }
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
