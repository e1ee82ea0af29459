//! Counters of the collector and ingest, rendered in Prometheus text format.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use showrunner_bus::sink::Counters;

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
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Appends the counters in Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let rows: [(&str, &str, &AtomicU64); 10] = [
            (
                "showrunner_events_accepted_total",
                "events accepted by the collector",
                &self.events_accepted,
            ),
            (
                "showrunner_events_rejected_total",
                "events refused by the collector",
                &self.events_rejected,
            ),
            (
                "showrunner_events_ingested_total",
                "events committed to the Parquet lake",
                &self.events_ingested,
            ),
            (
                "showrunner_events_duplicate_total",
                "redelivered events already in the lake, not written again",
                &self.events_duplicate,
            ),
            (
                "showrunner_events_deadlettered_total",
                "invalid events sent to the dead-letter stream",
                &self.sink.deadlettered,
            ),
            (
                "showrunner_events_expired_total",
                "events left unacked and unwritten because their batch outlived half the ack wait (redelivered later)",
                &self.sink.left,
            ),
            (
                "showrunner_ingest_batches_total",
                "ingest batches committed and acked",
                &self.sink.batches,
            ),
            (
                "showrunner_ingest_retries_total",
                "lake writes that failed and were retried",
                &self.sink.retries,
            ),
            (
                "showrunner_ingest_files_total",
                "Parquet files committed",
                &self.files,
            ),
            (
                "showrunner_ingest_bytes_total",
                "Parquet bytes committed",
                &self.bytes,
            ),
        ];
        for (name, help, v) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
    }
}

/// Appends one gauge in Prometheus text format.
pub fn render_gauge(out: &mut String, name: &str, help: &str, value: f64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}
