//! The ClickHouse sink: a durable consumer of its own on the event stream
//! (so a slow or absent ClickHouse never holds the Parquet ingest back, and
//! the sink catches up from the stream when the server returns), batches
//! encoded as RowBinary per family, inserted with retries and backoff, then
//! acknowledged (`AckPolicy::All`: one ack per batch). A message that does
//! not decode or validate is skipped and counted (the Parquet ingest sends
//! it to the dead letters); it never fails its batch. An insert the server
//! refuses for its data (an exception that is not about the schema, load
//! or time) is split in halves until the refused rows stand alone; they
//! go to the dead-letter stream (sink `clickhouse`, the server's reason),
//! are counted (`rejected`), and the rest is inserted. Redeliveries
//! collapse in the `ReplacingMergeTree` and are deduplicated by queries.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use clickhouse::Client;
use serde::Serialize;
use showrunner_events::{Family, Validator};

use super::{ClickHouseSettings, encode_row, insert};
use crate::deadletter::{self, Letter};
use crate::error::{Error, Result};
use showrunner_bus::StreamSettings;
use showrunner_bus::durable::{self, Acks, Durable, Pulled};

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
#[derive(Debug, Default, Serialize)]
pub struct SinkReport {
    /// Rows inserted (redeliveries included).
    pub inserted: AtomicU64,
    /// Messages skipped as undecodable or invalid.
    pub invalid: AtomicU64,
    /// Batches inserted and acknowledged.
    pub batches: AtomicU64,
    /// Failed insert attempts (retried).
    pub retries: AtomicU64,
    /// Events the server refused (found by splitting the refused insert);
    /// skipped: they are in the lake.
    pub rejected: AtomicU64,
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
    report: std::sync::Arc<SinkReport>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let (consumer, _) = durable::open(&js, streams, &s.durable()).await?;
    tokio::pin!(shutdown);
    // pulling the next batch overlaps inserting the previous one; batches
    // are inserted and acked in order, so one ack per batch stays correct
    let (tx, rx) = tokio::sync::mpsc::channel::<(Rows, Vec<jetstream::Message>)>(1);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let inserter = Inserter {
        client: s.clickhouse.client(),
        settings: s.clickhouse.clone(),
        js: js.clone(),
        stream: streams.events.clone(),
        report: report.clone(),
        stop: stop_rx,
    };
    let inserter = tokio::spawn(inserter.run(rx));
    let pulled = pull_loop(&consumer, &s, &validator, &report, tx, &mut shutdown).await;
    // the inserter finishes the batches it holds; at a shutdown (or a pull
    // error) it stops retrying and leaves an uninserted batch to the stream
    let _ = stop_tx.send(pulled.is_err() || !s.drain);
    inserter.await.map_err(|e| Error::Nats(e.to_string()))??;
    pulled
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

/// The task that inserts batches in order, then dead-letters the rows the
/// server refused, then acks the batch.
struct Inserter {
    client: Client,
    settings: ClickHouseSettings,
    js: jetstream::Context,
    stream: String,
    report: std::sync::Arc<SinkReport>,
    stop: tokio::sync::watch::Receiver<bool>,
}

impl Inserter {
    async fn run(
        mut self,
        mut rx: tokio::sync::mpsc::Receiver<(Rows, Vec<jetstream::Message>)>,
    ) -> Result<()> {
        while let Some((rows, batch)) = rx.recv().await {
            // (message index, why) of the rows the server refused
            let mut refusals: Vec<(usize, String)> = Vec::new();
            for (_, fam) in rows {
                if !self.insert_family(fam, &mut refusals).await {
                    return Ok(()); // stopping: the batch is left to the stream
                }
            }
            if !refusals.is_empty()
                && !dead_letter(&self.js, &self.stream, &batch, &refusals, &mut self.stop).await?
            {
                return Ok(());
            }
            if let Some(last) = batch.last() {
                last.ack().await.map_err(Error::nats)?;
            }
            self.report.batches.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Inserts one family's rows; a range the server refuses is split in
    /// halves until the refused rows stand alone, and those are added to
    /// `refusals`. False when told to stop while retrying.
    async fn insert_family(
        &mut self,
        mut fam: FamilyRows,
        refusals: &mut Vec<(usize, String)>,
    ) -> bool {
        let all = Bytes::from(std::mem::take(&mut fam.bytes));
        let mut todo = vec![(0, fam.starts.len())];
        while let Some((lo, hi)) = todo.pop() {
            let bytes = all.slice(fam.range(lo, hi, all.len()));
            let Some(outcome) = self.insert_retrying(fam.family, bytes).await else {
                return false;
            };
            match outcome {
                Ok(()) => {
                    self.report
                        .inserted
                        .fetch_add((hi - lo) as u64, Ordering::Relaxed);
                }
                Err(e) if hi - lo == 1 => {
                    self.report.rejected.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(family = %fam.family, event_id = %fam.ids[lo], error = %e,
                        "clickhouse refused an event; dead-lettered (it is in the lake)");
                    refusals.push((fam.msgs[lo], e.to_string()));
                }
                Err(_) => {
                    let mid = lo + (hi - lo) / 2;
                    todo.push((mid, hi));
                    todo.push((lo, mid));
                }
            }
        }
        true
    }

    /// Inserts `rows`, retrying transient failures with backoff (creating
    /// the schema when it is missing, as `clickhouse migrate` would):
    /// `Ok` once inserted, `Err` with the server's refusal, None when told
    /// to stop first.
    async fn insert_retrying(&mut self, family: Family, rows: Bytes) -> Option<Result<()>> {
        let mut backoff = Duration::from_millis(100);
        loop {
            let e = match insert(&self.client, &self.settings.database, family, rows.clone()).await
            {
                Ok(()) => return Some(Ok(())),
                Err(e) => e,
            };
            let failure = classify(&e);
            if failure == Failure::Refused {
                return Some(Err(e));
            }
            self.report.retries.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%family, error = %e, "clickhouse insert failed; retrying");
            if failure == Failure::MissingSchema {
                match super::migrate(&self.settings).await {
                    Ok(r) => {
                        tracing::info!(created = ?r.created, "clickhouse schema created by the sink")
                    }
                    Err(e) => tracing::warn!(error = %e, "clickhouse migrate failed"),
                }
            }
            if !wait_or_stop(&mut self.stop, &mut backoff).await {
                return None;
            }
        }
    }
}

/// Sends the rows the server refused to the dead-letter stream (sink
/// `clickhouse`, the server's exception as the reason), retrying while NATS
/// is unreachable; false when told to stop first.
async fn dead_letter(
    js: &jetstream::Context,
    stream: &str,
    batch: &[jetstream::Message],
    refusals: &[(usize, String)],
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<bool> {
    let reasons: Vec<String> = refusals
        .iter()
        .map(|(_, e)| format!("clickhouse refused the row: {e}"))
        .collect();
    // the sequence names the letter (`clickhouse:<stream>:<seq>`): a
    // message without one is not a JetStream delivery, as ingest says too
    let letters = refusals
        .iter()
        .zip(&reasons)
        .map(|((i, _), reason)| {
            let m = &batch[*i];
            Ok(Letter {
                subject: &m.subject,
                seq: m.info().map_err(Error::nats)?.stream_sequence,
                payload: &m.payload,
                field: "$",
                reason,
            })
        })
        .collect::<Result<Vec<Letter<'_>>>>()?;
    let mut backoff = Duration::from_millis(100);
    loop {
        match deadletter::publish_letters(js, stream, Some(deadletter::CLICKHOUSE), &letters).await
        {
            Ok(()) => return Ok(true),
            Err(e) => {
                tracing::warn!(error = %e, "clickhouse sink: dead letters not stored; retrying");
                if !wait_or_stop(stop, &mut backoff).await {
                    return Ok(false);
                }
            }
        }
    }
}

/// Sleeps `backoff` (then doubles it, up to 5 s) unless told to stop
/// first; false when stopping.
async fn wait_or_stop(
    stop: &mut tokio::sync::watch::Receiver<bool>,
    backoff: &mut Duration,
) -> bool {
    tokio::select! {
        biased;
        _ = stop.wait_for(|v| *v) => return false,
        () = tokio::time::sleep(*backoff) => {}
    }
    *backoff = (*backoff * 2).min(Duration::from_secs(5));
    true
}

/// One family's rows of a batch, RowBinary-encoded back to back.
struct FamilyRows {
    family: Family,
    bytes: Vec<u8>,
    /// Where each row starts in `bytes`.
    starts: Vec<usize>,
    /// Each row's event id (to name a row the server refuses).
    ids: Vec<String>,
    /// Each row's message, as an index into its batch.
    msgs: Vec<usize>,
}

impl FamilyRows {
    /// The byte range of rows `lo..hi` in the family's `len` bytes.
    fn range(&self, lo: usize, hi: usize, len: usize) -> std::ops::Range<usize> {
        self.starts[lo]..self.starts.get(hi).copied().unwrap_or(len)
    }
}

type Rows = BTreeMap<&'static str, FamilyRows>;

/// Pulls, decodes and encodes batches into `tx` until shutdown (or, when
/// draining, until nothing is pending and the inserter has acked all).
async fn pull_loop(
    consumer: &durable::Consumer,
    s: &SinkSettings,
    validator: &Validator,
    report: &SinkReport,
    tx: tokio::sync::mpsc::Sender<(Rows, Vec<jetstream::Message>)>,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Result<()> {
    loop {
        let mut batch = Vec::new();
        let expires = s.batch_wait.max(MIN_BATCH_WAIT);
        if durable::pull(consumer, s.batch_max, expires, shutdown, &mut batch).await?
            == Pulled::Shutdown
        {
            return Ok(());
        }
        if batch.is_empty() {
            if s.drain && durable::drained(consumer).await {
                return Ok(());
            }
            continue;
        }
        let mut rows: Rows = BTreeMap::new();
        for (i, m) in batch.iter().enumerate() {
            match super::decode_row(validator, &m.payload) {
                Ok((family, w)) => {
                    let e = rows.entry(family.as_str()).or_insert_with(|| FamilyRows {
                        family,
                        bytes: Vec::new(),
                        starts: Vec::new(),
                        ids: Vec::new(),
                        msgs: Vec::new(),
                    });
                    e.starts.push(e.bytes.len());
                    encode_row(family, &w, &mut e.bytes);
                    e.ids.push(w.event_id.unwrap_or_default());
                    e.msgs.push(i);
                }
                Err(_) => {
                    report.invalid.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if tx.send((rows, batch)).await.is_err() {
            return Ok(());
        }
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
    fn rows_are_sliced_by_their_starts() {
        let fam = FamilyRows {
            family: Family::Player,
            bytes: Vec::new(),
            starts: vec![0, 3, 7],
            ids: vec!["a".into(), "b".into(), "c".into()],
            msgs: vec![0, 1, 2],
        };
        assert_eq!(fam.range(0, 3, 10), 0..10);
        assert_eq!(fam.range(1, 2, 10), 3..7);
        assert_eq!(fam.range(2, 3, 10), 7..10);
    }
}
