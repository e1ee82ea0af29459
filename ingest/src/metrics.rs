//! Counters of the collector and ingest, and the ingest consumer's lag:
//! a [`Collector`] registered with the process's telemetry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use showrunner_bus::sink::Counters;
use showrunner_web::telemetry::{Collector, DescriptorEncoder, counter, gauge};

/// Process-wide ingest counters (monotonic unless noted).
#[derive(Debug, Default)]
pub struct Metrics {
    /// Events accepted by the collector (stored in the stream).
    pub events_accepted: AtomicU64,
    /// Events refused by the collector.
    pub events_rejected: AtomicU64,
    /// Events committed to the lake.
    pub events_ingested: AtomicU64,
    /// Redelivered events found already in the lake and not written again.
    pub events_duplicate: AtomicU64,
    /// The ingest loop's counters: dead letters, messages left unacked
    /// (their batch outlived half the ack wait), batches, retries.
    pub sink: Arc<Counters>,
    /// Parquet files committed.
    pub files: AtomicU64,
    /// Parquet bytes committed.
    pub bytes: AtomicU64,
    /// Whether this process runs the ingest role (its lag is reported only
    /// then: a collector alone has none to report).
    pub ingesting: std::sync::atomic::AtomicBool,
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

impl Collector for Metrics {
    /// The counters and the ingest consumer's lag, read at each scrape.
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        let rows: [(&str, &str, &AtomicU64); 10] = [
            (
                "showrunner_events_accepted",
                "events accepted by the collector",
                &self.events_accepted,
            ),
            (
                "showrunner_events_rejected",
                "events refused by the collector",
                &self.events_rejected,
            ),
            (
                "showrunner_events_ingested",
                "events committed to the Parquet lake",
                &self.events_ingested,
            ),
            (
                "showrunner_events_duplicate",
                "redelivered events already in the lake, not written again",
                &self.events_duplicate,
            ),
            (
                "showrunner_events_deadlettered",
                "invalid events sent to the dead-letter stream",
                &self.sink.deadlettered,
            ),
            (
                "showrunner_events_expired",
                "events left unacked and unwritten because their batch outlived half the ack wait (redelivered later)",
                &self.sink.left,
            ),
            (
                "showrunner_ingest_batches",
                "ingest batches committed and acked",
                &self.sink.batches,
            ),
            (
                "showrunner_ingest_retries",
                "lake writes that failed and were retried",
                &self.sink.retries,
            ),
            (
                "showrunner_ingest_files",
                "Parquet files committed",
                &self.files,
            ),
            (
                "showrunner_ingest_bytes",
                "Parquet bytes committed",
                &self.bytes,
            ),
        ];
        for (name, help, v) in rows {
            counter(&mut e, name, help, v.load(Ordering::Relaxed))?;
        }
        if !self.ingesting.load(Ordering::Relaxed) {
            return Ok(());
        }
        gauge(
            &mut e,
            "showrunner_ingest_lag_messages",
            "messages of the event stream the ingest consumer has not committed yet (pending + unacknowledged, asked from NATS every second by the ingest role)",
            Counters::get(&self.sink.lag) as f64,
        )
    }
}
