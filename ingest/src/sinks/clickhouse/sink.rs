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

use async_nats::jetstream::{self, consumer::AckPolicy, consumer::pull};
use bytes::Bytes;
use futures::StreamExt;
use serde::Serialize;
use showrunner_events::{Family, Validator};

use super::{ClickHouseSettings, encode_row, insert};
use crate::deadletter::{self, Letter};
use crate::error::{Error, Result};
use showrunner_bus::{self as nats, StreamSettings};

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
    /// Exit once nothing is pending.
    pub drain: bool,
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
    let stream = nats::ensure_streams(&js, streams).await?;
    let consumer = stream
        .get_or_create_consumer(
            &s.durable,
            pull::Config {
                durable_name: Some(s.durable.clone()),
                ack_policy: AckPolicy::All,
                ack_wait: Duration::from_secs(300),
                max_ack_pending: (s.batch_max * 2).max(1_000) as i64,
                filter_subject: showrunner_bus::subjects::EVENTS.into(),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| Error::Nats(format!("consumer {}: {e}", s.durable)))?;
    let c = s.clickhouse.client();
    tokio::pin!(shutdown);
    // pulling the next batch overlaps inserting the previous one; batches
    // are inserted and acked in order, so one ack per batch stays correct
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Rows, Vec<jetstream::Message>)>(1);
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let inserter = {
        let (report, db, settings, js, stream_name) = (
            report.clone(),
            s.clickhouse.database.clone(),
            s.clickhouse.clone(),
            js.clone(),
            streams.events.clone(),
        );
        tokio::spawn(async move {
            while let Some((rows, batch)) = rx.recv().await {
                // (message index, why) of the rows the server refused
                let mut refusals: Vec<(usize, String)> = Vec::new();
                for (_, mut fam) in rows {
                    let all = Bytes::from(std::mem::take(&mut fam.bytes));
                    // a range the server refuses is split in halves until
                    // the refused rows stand alone; those are skipped
                    let mut todo = vec![(0, fam.starts.len())];
                    while let Some((lo, hi)) = todo.pop() {
                        let mut backoff = Duration::from_millis(100);
                        loop {
                            let bytes = all.slice(fam.range(lo, hi, all.len()));
                            match insert(&c, &db, fam.family, bytes).await {
                                Ok(()) => {
                                    report
                                        .inserted
                                        .fetch_add((hi - lo) as u64, Ordering::Relaxed);
                                    break;
                                }
                                Err(e) if refused(&e) => {
                                    if hi - lo == 1 {
                                        report.rejected.fetch_add(1, Ordering::Relaxed);
                                        tracing::warn!(family = %fam.family, event_id = %fam.ids[lo], error = %e,
                                            "clickhouse refused an event; dead-lettered (it is in the lake)");
                                        refusals.push((fam.msgs[lo], e.to_string()));
                                    } else {
                                        let mid = lo + (hi - lo) / 2;
                                        todo.push((mid, hi));
                                        todo.push((lo, mid));
                                    }
                                    break;
                                }
                                Err(e) => {
                                    report.retries.fetch_add(1, Ordering::Relaxed);
                                    tracing::warn!(family = %fam.family, error = %e, "clickhouse insert failed; retrying");
                                    // a server without the schema (unknown
                                    // database 81, table 60) gets it, as
                                    // `clickhouse migrate` would create it
                                    let msg = e.to_string();
                                    if msg.contains("Code: 81") || msg.contains("Code: 60") {
                                        match super::migrate(&settings).await {
                                            Ok(r) => {
                                                tracing::info!(created = ?r.created, "clickhouse schema created by the sink")
                                            }
                                            Err(e) => {
                                                tracing::warn!(error = %e, "clickhouse migrate failed")
                                            }
                                        }
                                    }
                                    if !wait_or_stop(&mut stop_rx, &mut backoff).await {
                                        return Ok(());
                                    }
                                }
                            }
                        }
                    }
                }
                if !refusals.is_empty()
                    && !dead_letter(&js, &stream_name, &batch, &refusals, &mut stop_rx).await?
                {
                    return Ok(()); // stopping: the batch is left to the stream
                }
                if let Some(last) = batch.last() {
                    last.ack().await.map_err(Error::nats)?;
                }
                report.batches.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), Error>(())
        })
    };
    let pulled = pull_loop(&consumer, &s, &validator, &report, tx, &mut shutdown).await;
    // the inserter finishes the batches it holds; at a shutdown (or a pull
    // error) it stops retrying and leaves an uninserted batch to the stream
    let _ = stop_tx.send(pulled.is_err() || !s.drain);
    inserter.await.map_err(|e| Error::Nats(e.to_string()))??;
    pulled
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

/// Whether the server refused the data itself (an exception about the
/// rows), as opposed to being unreachable, overloaded or lacking the
/// schema: then retrying the same rows cannot succeed.
fn refused(e: &Error) -> bool {
    let msg = e.to_string();
    let Some(code) = msg
        .split("Code: ")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|c| c.parse::<u32>().ok())
    else {
        return false; // no server exception: network, timeout
    };
    // unknown database or table (the sink migrates), memory, too many
    // parts, timeouts, too many queries, readonly, cancelled: transient;
    // unknown user, wrong or missing password, address not allowed, access
    // denied, authentication failed: the credentials, not the rows
    !matches!(
        code,
        60 | 81 | 159 | 164 | 192 | 193 | 194 | 195 | 202 | 209 | 210 | 241 | 252 | 394 | 497 | 516
    )
}

/// Pulls, decodes and encodes batches into `tx` until shutdown (or, when
/// draining, until nothing is pending and the inserter has acked all).
async fn pull_loop(
    consumer: &jetstream::consumer::Consumer<pull::Config>,
    s: &SinkSettings,
    validator: &Validator,
    report: &SinkReport,
    tx: tokio::sync::mpsc::Sender<(Rows, Vec<jetstream::Message>)>,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Result<()> {
    loop {
        let mut msgs = consumer
            .batch()
            .max_messages(s.batch_max)
            .expires(s.batch_wait.max(MIN_BATCH_WAIT))
            .messages()
            .await
            .map_err(Error::nats)?;
        let mut batch = Vec::new();
        loop {
            tokio::select! {
                biased;
                () = shutdown.as_mut() => return Ok(()),
                next = msgs.next() => match next {
                    Some(Ok(m)) => batch.push(m),
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "clickhouse sink: pull failed; retrying");
                        break;
                    }
                    None => break,
                },
            }
        }
        if batch.is_empty() {
            if s.drain {
                let mut consumer = consumer.clone();
                let info = consumer.info().await.map_err(Error::nats)?;
                if info.num_pending == 0 && info.num_ack_pending == 0 {
                    return Ok(());
                }
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
        let server = |code: u32| {
            Error::ClickHouse(format!(
                "bad response: Code: {code}, e.displayText() = DB::Exception: …"
            ))
        };
        // the data: a throwIf, a type mismatch, a parse error
        for code in [395, 53, 27] {
            assert!(refused(&server(code)), "{code}");
        }
        // the schema (migrated), memory, too many parts, timeouts, and
        // credentials (a wrong password must not dead-letter every row)
        for code in [81, 60, 241, 252, 159, 192, 193, 194, 516] {
            assert!(!refused(&server(code)), "{code}");
        }
        assert!(!refused(&Error::ClickHouse(
            "network error: connection refused".into()
        )));
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
