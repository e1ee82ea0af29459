//! The ClickHouse sink: a durable consumer of its own on the event stream
//! (so a slow or absent ClickHouse never holds the Parquet ingest back, and
//! the sink catches up from the stream when the server returns), batches
//! encoded as RowBinary per family, inserted with retries and backoff, then
//! acknowledged (`AckPolicy::All`: one ack per batch) — by the bus's run
//! loop ([`showrunner_bus::sink`]); this module is the [`Sink`] that
//! encodes and inserts, and classifies the server's errors. A message that does
//! not decode or validate is skipped and counted (the Parquet ingest sends
//! it to the dead letters); it never fails its batch. An insert the server
//! refuses for its data (an exception that is not about the schema, load
//! or time) is split in halves until the refused rows stand alone; they
//! go to the dead-letter stream (tagged `clickhouse`, the server's reason),
//! are counted (`rejected`), and the rest is inserted. Redeliveries
//! collapse in the `ReplacingMergeTree` and are deduplicated by queries.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use clickhouse::Client;
use serde::Serialize;
use showrunner_events::{Family, Validator};

use super::{ClickHouseSettings, encode_row, insert};
use crate::deadletter;
use crate::error::{Error, Result};
use showrunner_bus::StreamSettings;
use showrunner_bus::durable::{self, Acks, Durable};
use showrunner_bus::sink::{
    self, Batch, Class, Counters, LoopSettings, Part, Prepared, Settlement, Sink,
};

/// Settings of the sink.
#[derive(Debug, Clone)]
pub struct SinkSettings {
    /// The server and database.
    pub clickhouse: ClickHouseSettings,
    /// Its durable consumer.
    pub durable: String,
    /// Most events per insert batch.
    pub batch_max: usize,
    /// Longest a batch waits for more events; at least [`MIN_BATCH_WAIT`].
    pub batch_wait: Duration,
    /// How long the server waits for a batch's ack before redelivering
    /// it: longer than an insert can take with its retries.
    pub ack_wait: Duration,
    /// Exit once nothing is pending.
    pub drain: bool,
}

impl SinkSettings {
    /// The durable consumer these settings describe: one ack per batch
    /// (the last message's, batches being acked in order).
    pub fn durable(&self) -> Durable {
        Durable {
            name: self.durable.clone(),
            acks: Acks::Cumulative,
            ack_wait: self.ack_wait,
            max_ack_pending: (self.batch_max * 2).max(1_000),
        }
    }
}

/// Counters of the sink.
#[derive(Debug, Default)]
pub struct SinkReport {
    /// Rows inserted (redeliveries included).
    pub inserted: AtomicU64,
    /// Messages skipped as undecodable or invalid.
    pub invalid: AtomicU64,
    /// The run loop's: batches inserted and acknowledged, failed inserts
    /// retried, events the server refused (found by splitting the refused
    /// insert; dead-lettered, they are in the lake).
    pub sink: Arc<Counters>,
}

impl Serialize for SinkReport {
    /// `{inserted, invalid, batches, retries, rejected}`, as `showrunner
    /// ingest` prints it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("SinkReport", 5)?;
        st.serialize_field("inserted", &Counters::get(&self.inserted))?;
        st.serialize_field("invalid", &Counters::get(&self.invalid))?;
        st.serialize_field("batches", &Counters::get(&self.sink.batches))?;
        st.serialize_field("retries", &Counters::get(&self.sink.retries))?;
        st.serialize_field("rejected", &Counters::get(&self.sink.refused))?;
        st.end()
    }
}

impl showrunner_web::telemetry::Collector for SinkReport {
    /// The sink's counters and its consumer's lag, read at each scrape.
    fn encode(&self, mut e: showrunner_web::telemetry::DescriptorEncoder) -> std::fmt::Result {
        use showrunner_web::telemetry::{counter, gauge};
        for (name, help, v) in [
            (
                "showrunner_clickhouse_inserted_rows",
                "rows inserted into ClickHouse (redeliveries included)",
                &self.inserted,
            ),
            (
                "showrunner_clickhouse_invalid",
                "messages the ClickHouse sink skipped as undecodable or invalid",
                &self.invalid,
            ),
            (
                "showrunner_clickhouse_batches",
                "ClickHouse batches inserted and acknowledged",
                &self.sink.batches,
            ),
            (
                "showrunner_clickhouse_retries",
                "ClickHouse inserts that failed and were retried",
                &self.sink.retries,
            ),
            (
                "showrunner_clickhouse_rejected",
                "events the ClickHouse server refused (dead-lettered; they are in the lake)",
                &self.sink.refused,
            ),
        ] {
            counter(&mut e, name, help, Counters::get(v))?;
        }
        gauge(
            &mut e,
            "showrunner_clickhouse_lag_messages",
            "messages of the event stream the ClickHouse consumer has not inserted yet (pending + unacknowledged, asked from NATS every second by the sink)",
            Counters::get(&self.sink.lag) as f64,
        )
    }
}

/// The shortest wait of a pull. ClickHouse wants few large inserts (about
/// one a second: each insert is a part to merge), and a pull for a large
/// batch that expires in much less than it takes the server to deliver it
/// stalls: measured on NATS 2.9, 100 ms pulls of up to 50,000 messages took
/// about 5 s each (240,434 events in 100 s), 1 s pulls 8.9 s in all.
pub const MIN_BATCH_WAIT: Duration = Duration::from_secs(1);

/// Runs the sink until `shutdown` (or, draining, until nothing is
/// pending). A batch whose insert fails is retried (backoff up to 5 s)
/// and is acknowledged only once inserted; at shutdown an unacknowledged
/// batch is left to the stream. Pulling and encoding the next batch
/// overlaps inserting the previous one.
pub async fn run(
    js: jetstream::Context,
    streams: &StreamSettings,
    s: SinkSettings,
    validator: Validator,
    report: Arc<SinkReport>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let (consumer, _) = durable::open(&js, streams, &s.durable()).await?;
    let inserter = Inserter {
        client: s.clickhouse.client(),
        settings: s.clickhouse.clone(),
        validator,
        report: report.clone(),
    };
    let settings = LoopSettings {
        stream: streams.events.clone(),
        acks: Acks::Cumulative,
        batch_max: s.batch_max,
        batch_wait: s.batch_wait.max(MIN_BATCH_WAIT),
        min_pull_wait: MIN_BATCH_WAIT,
        drain: s.drain,
    };
    sink::run(
        js,
        consumer,
        settings,
        inserter,
        report.sink.clone(),
        shutdown,
    )
    .await?;
    Ok(())
}

/// What a failed insert calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// The server refused the rows themselves: retrying the same rows
    /// cannot succeed (split, then dead-letter the ones that stand alone).
    Refused,
    /// The database or a table is missing: create the schema, then retry.
    MissingSchema,
    /// Unreachable, overloaded, timed out, or the credentials: retry later.
    Transient,
}

/// Classifies an insert's error by the server's exception code.
fn classify(e: &Error) -> Failure {
    let Error::ClickHouseServer { code, .. } = e else {
        return Failure::Transient; // no server exception: network, timeout
    };
    match code {
        // unknown table, unknown database
        60 | 81 => Failure::MissingSchema,
        // memory, too many parts, timeouts, too many queries, readonly,
        // cancelled; unknown user, wrong or missing password, address not
        // allowed, access denied, authentication failed: the server or the
        // credentials, not the rows
        159 | 164 | 192 | 193 | 194 | 195 | 202 | 209 | 210 | 241 | 252 | 394 | 497 | 516 => {
            Failure::Transient
        }
        _ => Failure::Refused,
    }
}

/// ClickHouse as a [`Sink`]: a batch's parts are its families' rows.
struct Inserter {
    client: Client,
    settings: ClickHouseSettings,
    validator: Validator,
    report: Arc<SinkReport>,
}

impl Sink for Inserter {
    const NAME: &'static str = deadletter::CLICKHOUSE;
    type Part = FamilyRows;
    type Error = Error;

    /// Decodes every message and encodes it as a RowBinary row of its
    /// family; an invalid one is skipped (settled: ingest dead-letters it).
    fn preparer(&self) -> impl FnMut(&Batch) -> Prepared<FamilyRows> + Send + 'static {
        let (validator, report) = (self.validator.clone(), self.report.clone());
        move |batch: &Batch| {
            let mut rows: BTreeMap<&'static str, Building> = BTreeMap::new();
            let mut settled = Settlement::default();
            for (i, m) in batch.iter().enumerate() {
                match super::decode_row(&validator, &m.payload) {
                    Ok((family, w)) => {
                        let e = rows
                            .entry(family.as_str())
                            .or_insert_with(|| Building::new(family));
                        e.starts.push(e.bytes.len());
                        encode_row(family, &w, &mut e.bytes);
                        e.ids.push(w.event_id.unwrap_or_default());
                        e.msgs.push(i);
                    }
                    Err(_) => {
                        report.invalid.fetch_add(1, Ordering::Relaxed);
                        settled.ack.push(i);
                    }
                }
            }
            let parts = rows.into_values().map(Building::finish).collect();
            Prepared { parts, settled }
        }
    }

    /// Inserts the part's rows; a missing schema is created (as
    /// `clickhouse migrate` would) before the error goes back for a retry.
    async fn write(&mut self, _: &Batch, part: &mut FamilyRows) -> Result<Settlement> {
        let bytes = part.shared.slice(part.span());
        match insert(&self.client, &self.settings.database, part.family, bytes).await {
            Ok(()) => {
                let rows = part.hi - part.lo;
                self.report
                    .inserted
                    .fetch_add(rows as u64, Ordering::Relaxed);
                Ok(Settlement {
                    ack: part.messages(),
                    ..Settlement::default()
                })
            }
            Err(e) => {
                if classify(&e) == Failure::MissingSchema {
                    match super::migrate(&self.settings).await {
                        Ok(r) => {
                            tracing::info!(created = ?r.created, "clickhouse schema created by the sink")
                        }
                        Err(e) => tracing::warn!(error = %e, "clickhouse migrate failed"),
                    }
                }
                if classify(&e) == Failure::Refused && part.hi - part.lo == 1 {
                    tracing::warn!(family = %part.family, event_id = %part.ids[part.lo], error = %e,
                        "clickhouse refused an event; dead-lettered (it is in the lake)");
                }
                Err(e)
            }
        }
    }

    fn classify(&self, e: &Error) -> Class {
        match classify(e) {
            Failure::Refused => Class::Refuse,
            Failure::MissingSchema | Failure::Transient => Class::Retry,
        }
    }
}

/// One family's rows of a batch being encoded.
struct Building {
    family: Family,
    bytes: Vec<u8>,
    starts: Vec<usize>,
    ids: Vec<String>,
    msgs: Vec<usize>,
}

impl Building {
    fn new(family: Family) -> Self {
        Self {
            family,
            bytes: Vec::new(),
            starts: Vec::new(),
            ids: Vec::new(),
            msgs: Vec::new(),
        }
    }

    fn finish(self) -> FamilyRows {
        FamilyRows {
            family: self.family,
            hi: self.starts.len(),
            lo: 0,
            shared: Bytes::from(self.bytes),
            starts: self.starts.into(),
            ids: self.ids.into(),
            msgs: self.msgs.into(),
        }
    }
}

/// Rows `lo..hi` of one family's rows of a batch, RowBinary-encoded back
/// to back.
struct FamilyRows {
    family: Family,
    /// Every row of the family in the batch.
    shared: Bytes,
    /// Where each row starts in `shared`.
    starts: Arc<[usize]>,
    /// Each row's event id (to name a row the server refuses).
    ids: Arc<[String]>,
    /// Each row's message, as an index into its batch.
    msgs: Arc<[usize]>,
    lo: usize,
    hi: usize,
}

impl FamilyRows {
    /// The byte range of rows `lo..hi`.
    fn span(&self) -> std::ops::Range<usize> {
        self.starts[self.lo]
            ..self
                .starts
                .get(self.hi)
                .copied()
                .unwrap_or(self.shared.len())
    }
}

impl Part for FamilyRows {
    fn messages(&self) -> Vec<usize> {
        self.msgs[self.lo..self.hi].to_vec()
    }

    fn split(self) -> std::result::Result<(Self, Self), Self> {
        if self.hi - self.lo < 2 {
            return Err(self);
        }
        let mid = self.lo + (self.hi - self.lo) / 2;
        let low = FamilyRows {
            family: self.family,
            shared: self.shared.clone(),
            starts: self.starts.clone(),
            ids: self.ids.clone(),
            msgs: self.msgs.clone(),
            lo: self.lo,
            hi: mid,
        };
        Ok((low, FamilyRows { lo: mid, ..self }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_told_from_transient_failures() {
        let server = |code: u32| Error::ClickHouseServer {
            code,
            message: "DB::Exception: …".into(),
        };
        // the data: a throwIf, a type mismatch, a parse error
        for code in [395, 53, 27] {
            assert_eq!(classify(&server(code)), Failure::Refused, "{code}");
        }
        for code in [81, 60] {
            assert_eq!(classify(&server(code)), Failure::MissingSchema, "{code}");
        }
        // memory, too many parts, timeouts, and credentials (a wrong
        // password must not dead-letter every row)
        for code in [241, 252, 159, 192, 193, 194, 516] {
            assert_eq!(classify(&server(code)), Failure::Transient, "{code}");
        }
        assert_eq!(
            classify(&Error::ClickHouse(
                "network error: connection refused".into()
            )),
            Failure::Transient
        );
    }

    #[test]
    fn server_exceptions_keep_their_code() {
        let text = "Code: 395, e.displayText() = DB::Exception: Value passed to 'throwIf' function is non zero";
        let e = super::super::ch(clickhouse::error::Error::BadResponse(text.into()));
        assert!(
            matches!(e, Error::ClickHouseServer { code: 395, .. }),
            "{e:?}"
        );
        let e = super::super::ch(clickhouse::error::Error::BadResponse(
            "gateway timeout".into(),
        ));
        assert!(matches!(e, Error::ClickHouse(_)), "{e:?}");
    }

    #[test]
    fn rows_are_sliced_and_split_by_their_starts() {
        let mut b = Building::new(Family::Player);
        for (i, row) in [&b"abc"[..], b"defg", b"hij"].into_iter().enumerate() {
            b.starts.push(b.bytes.len());
            b.bytes.extend_from_slice(row);
            b.ids.push(format!("e{i}"));
            b.msgs.push(10 + i);
        }
        let all = b.finish();
        assert_eq!(all.span(), 0..10);
        assert_eq!(all.messages(), vec![10, 11, 12]);
        let (low, high) = all.split().map_err(|_| "split").expect("three rows split");
        assert_eq!((low.span(), low.messages()), (0..3, vec![10]));
        assert_eq!((high.span(), high.messages()), (3..10, vec![11, 12]));
        let (mid, last) = high.split().map_err(|_| "split").expect("two rows split");
        assert_eq!((mid.span(), last.span()), (3..7, 7..10));
        assert_eq!(&last.shared[last.span()], b"hij");
        assert!(last.split().is_err(), "one row stands alone");
    }
}
