//! The run loop of a stream sink: a durable pull consumer on the events
//! stream whose batches a [`Sink`] writes somewhere (the Parquet lake,
//! ClickHouse). The loop owns everything but the writing:
//!
//! - **batching**: pull requests fill a batch up to the batch cap or the
//!   batch wait; each message is stamped with the time its pull request was
//!   sent (never later than its delivery), so a sink's age checks err on the
//!   safe side;
//! - **order**: a batch is prepared in the pulling task (overlapping the
//!   write of the one before), written part by part, then settled; batches
//!   are written and settled one at a time, in stream order;
//! - **failures**, by the sink's [`Class`] of each write error: `Retry` —
//!   the same part again after a backoff (100 ms, doubling to 5 s);
//!   `Refuse` — the data: the part is split in halves until the refused
//!   messages stand alone, and those go to the dead letters tagged with the
//!   sink's [`Sink::NAME`]; `Fatal` — the loop stops with the error, and
//!   what it did not settle is redelivered;
//! - **settling**: dead letters are stored (the dead-letter stream acks
//!   them) before any ack is sent; then each settled message is acked
//!   ([`Acks::Each`]), or the batch's last message once every one is
//!   settled ([`Acks::Cumulative`]). A message the sink *leaves* gets no
//!   answer and comes back after the ack wait; then batches shrink (halved,
//!   to [`MIN_BATCH_CAP`] at least) so they stop outliving it;
//! - **stop and drain**: at shutdown the batch in hand is written (once: no
//!   retries) and settled as far as it got; draining, the loop ends once the
//!   consumer has nothing pending and every batch is settled.
//!
//! Invariant: a message is acked only after its sink said it is written or
//! its dead letter is stored.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_nats::Subject;
use async_nats::jetstream;
use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use crate::deadletter::{self, Letter};
use crate::durable::{self, Acks, Consumer, Pulled};
use crate::{Error, Result};

/// A message pulled for a sink.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Stream sequence.
    pub seq: u64,
    /// Delivery count (1 on first delivery).
    pub delivered: i64,
    /// The subject it was published on.
    pub subject: Subject,
    /// The event's JSON.
    pub payload: Bytes,
    /// Where to ack it.
    pub reply: Option<Subject>,
    /// When its pull request was sent.
    pub received: Instant,
}

/// A batch of deliveries, shared by the loop and the sink's parts.
pub type Batch = Arc<[Delivery]>;

/// Why a message goes to the dead letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The field at fault (`$` for the whole event).
    pub field: String,
    /// Why.
    pub reason: String,
}

/// What becomes of the messages of a batch (indexes into it). A message
/// in none of the lists is left, like those in `leave`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// Written (or found written before): ack.
    pub ack: Vec<usize>,
    /// Refused by the contract: store a dead letter (no sink tag), then ack.
    pub dead: Vec<(usize, Refusal)>,
    /// Not written and not to be written now (too old to commit safely):
    /// no answer, so the server redelivers it after the ack wait.
    pub leave: Vec<usize>,
}

impl Settlement {
    /// Adds another part's settlement.
    pub fn merge(&mut self, other: Settlement) {
        self.ack.extend(other.ack);
        self.dead.extend(other.dead);
        self.leave.extend(other.leave);
    }
}

/// What a failed write calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The destination (unreachable, overloaded, timed out): write the same
    /// part again later.
    Retry,
    /// The data: the same rows cannot succeed. Split; a message refused on
    /// its own is dead-lettered.
    Refuse,
    /// Neither: stop the sink.
    Fatal,
}

/// One independently written part of a batch.
pub trait Part: Send + 'static {
    /// The messages it holds, as indexes into its batch.
    fn messages(&self) -> Vec<usize>;
    /// Its two halves (both non-empty); itself back when it holds one
    /// message or cannot be split.
    fn split(self) -> std::result::Result<(Self, Self), Self>
    where
        Self: Sized;
}

/// A batch made ready for writing: its parts, and the messages settled
/// without a write (refused by the contract, or skipped).
#[derive(Debug)]
pub struct Prepared<P> {
    /// Written in order.
    pub parts: Vec<P>,
    /// Settled already.
    pub settled: Settlement,
}

/// A destination fed from the events stream by [`run`].
pub trait Sink: Send + 'static {
    /// Its name: the tag of the dead letters of the rows it refuses.
    const NAME: &'static str;
    /// An independently written part of a batch.
    type Part: Part;
    /// Its error (the loop's own failures come in through `From`).
    type Error: std::error::Error + From<Error> + Send + Sync + 'static;

    /// Prepares pulled batches (decoding, encoding) in the pulling task.
    fn preparer(&self) -> impl FnMut(&Batch) -> Prepared<Self::Part> + Send + 'static;

    /// Writes one part; writing it again after an error must be safe.
    fn write(
        &mut self,
        batch: &Batch,
        part: &mut Self::Part,
    ) -> impl Future<Output = std::result::Result<Settlement, Self::Error>> + Send;

    /// What an error of [`write`](Self::write) calls for.
    fn classify(&self, e: &Self::Error) -> Class;
}

/// Settings of the loop.
#[derive(Debug, Clone)]
pub struct LoopSettings {
    /// The events stream (dead-letter ids name it).
    pub stream: String,
    /// How the consumer acknowledges.
    pub acks: Acks,
    /// Most messages per batch.
    pub batch_max: usize,
    /// Longest a batch waits for more messages.
    pub batch_wait: Duration,
    /// The shortest expiry of a pull request: NATS 2.9 stalls on pulls for
    /// many messages that expire long before it can deliver them.
    pub min_pull_wait: Duration,
    /// Exit once the consumer has nothing pending.
    pub drain: bool,
}

/// The smallest batch the adaptive cap shrinks to.
pub const MIN_BATCH_CAP: usize = 500;

/// Most messages asked for by one pull request.
const PULL_MAX: usize = 20_000;

/// Live counters of a loop (monotonic), for metrics.
#[derive(Debug, Default)]
pub struct Counters {
    /// Messages acked (written, or dead-lettered).
    pub settled: AtomicU64,
    /// Messages the contract refused, dead-lettered.
    pub deadlettered: AtomicU64,
    /// Messages the sink's server refused on their own, dead-lettered.
    pub refused: AtomicU64,
    /// Messages left unanswered (redelivered after the ack wait).
    pub left: AtomicU64,
    /// Batches settled.
    pub batches: AtomicU64,
    /// Failed writes retried.
    pub retries: AtomicU64,
    /// A gauge: the consumer's lag as the server counts it (pending
    /// delivery plus delivered and unacknowledged), asked every
    /// [`LAG_EVERY`] while the loop runs.
    pub lag: AtomicU64,
}

/// How often a running loop asks the server for its consumer's lag.
pub const LAG_EVERY: Duration = Duration::from_secs(1);

impl Counters {
    fn add(c: &AtomicU64, n: usize) {
        c.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// A counter's value.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// Totals of one run of the loop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoopReport {
    /// Messages acked (written, or dead-lettered).
    pub settled: u64,
    /// Messages the contract refused, dead-lettered.
    pub deadlettered: u64,
    /// Messages the sink's server refused, dead-lettered.
    pub refused: u64,
    /// Messages left unanswered.
    pub left: u64,
    /// Batches settled.
    pub batches: u64,
    /// Failed writes retried.
    pub retries: u64,
}

/// A written batch on its way to be settled.
struct Written {
    batch: Batch,
    settled: Settlement,
    /// Messages the sink refused on their own, with the reason.
    refused: Vec<(usize, String)>,
    /// Writing stopped (shutdown) before every part was written.
    stopped: bool,
}

impl Written {
    /// The dead letter of message `i`.
    fn letter<'a>(&'a self, i: usize, field: &'a str, reason: &'a str) -> Letter<'a> {
        let m = &self.batch[i];
        Letter {
            subject: &m.subject,
            seq: m.seq,
            payload: &m.payload,
            field,
            reason,
        }
    }

    /// Every message is written or refused.
    fn complete(&self) -> bool {
        !self.stopped
            && self.settled.leave.is_empty()
            && self.settled.ack.len() + self.settled.dead.len() + self.refused.len()
                >= self.batch.len()
    }
}

/// Runs `sink` on `consumer` until `shutdown` resolves (then writes the
/// batch in hand) or, draining, until nothing is pending.
pub async fn run<S: Sink>(
    js: jetstream::Context,
    consumer: Consumer,
    settings: LoopSettings,
    sink: S,
    counters: Arc<Counters>,
    shutdown: impl Future<Output = ()>,
) -> std::result::Result<LoopReport, S::Error> {
    let prepare = sink.preparer();
    let cap = Arc::new(AtomicUsize::new(settings.batch_max.max(1)));
    let (stop_tx, stop) = watch::channel(false);
    let (batch_tx, batch_rx) = mpsc::channel::<(Batch, Prepared<S::Part>)>(1);
    let (written_tx, written_rx) = mpsc::channel::<Written>(1);
    let writer = tokio::spawn(write_loop(
        sink,
        batch_rx,
        written_tx,
        stop.clone(),
        counters.clone(),
        cap.clone(),
    ));
    let settler = tokio::spawn(settle_loop(
        js,
        settings.clone(),
        S::NAME,
        written_rx,
        stop,
        counters.clone(),
    ));
    // ends with this function, however it ends (dropped included)
    let _lag = AbortOnDrop(tokio::spawn(watch_lag(consumer.clone(), counters.clone())));
    let pulled = pull_loop(
        &consumer, &settings, prepare, &cap, batch_tx, &stop_tx, shutdown,
    )
    .await;
    if pulled.is_err() {
        // the batches in hand are written once, not retried
        let _ = stop_tx.send(true);
    }
    let retries = writer
        .await
        .map_err(|e| Error::Nats(format!("sink writer task: {e}")))??;
    let mut report = settler
        .await
        .map_err(|e| Error::Nats(format!("sink settle task: {e}")))??;
    pulled?;
    report.retries = retries;
    // the figure the loop ends on, not the last one a second before (not
    // waited for long: NATS may be what stopped the loop)
    if let Ok(Some(lag)) = tokio::time::timeout(LAG_EVERY, durable::lag(&consumer)).await {
        counters.lag.store(lag, Ordering::Relaxed);
    }
    Ok(report)
}

/// A task aborted when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Keeps `counters.lag` as the server counts it, every [`LAG_EVERY`],
/// until aborted (the loop's end).
async fn watch_lag(consumer: Consumer, counters: Arc<Counters>) {
    loop {
        if let Some(lag) = durable::lag(&consumer).await {
            counters.lag.store(lag, Ordering::Relaxed);
        }
        tokio::time::sleep(LAG_EVERY).await;
    }
}

/// Fills batches from pull requests and prepares them, until shutdown
/// (which it tells the writer at once, so that a write being retried gives
/// up) or, draining, until nothing is pending.
async fn pull_loop<P: Part>(
    consumer: &Consumer,
    s: &LoopSettings,
    mut prepare: impl FnMut(&Batch) -> Prepared<P>,
    cap: &AtomicUsize,
    tx: mpsc::Sender<(Batch, Prepared<P>)>,
    stop: &watch::Sender<bool>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    tokio::pin!(shutdown);
    let mut idle = 0u32;
    let mut end = false;
    while !end {
        let batch_max = cap.load(Ordering::Relaxed).max(1);
        let mut batch: Vec<Delivery> = Vec::with_capacity(batch_max.min(PULL_MAX * 4));
        let started = Instant::now();
        while batch.len() < batch_max && !end {
            if tx.is_closed() {
                return Ok(()); // the writer failed: its error is returned
            }
            let left = s.batch_wait.saturating_sub(started.elapsed());
            if left.is_zero() && !batch.is_empty() {
                break;
            }
            let expires = if batch.is_empty() { s.batch_wait } else { left }.max(s.min_pull_wait);
            let requested = Instant::now();
            let before = batch.len();
            let mut msgs = Vec::new();
            let max = PULL_MAX.min(batch_max - batch.len());
            if durable::pull(consumer, max, expires, &mut shutdown, &mut msgs).await?
                == Pulled::Shutdown
            {
                tracing::info!("shutdown requested: flushing");
                let _ = stop.send(true);
                end = true;
            }
            for m in msgs {
                let info = m.info().map_err(Error::nats)?;
                batch.push(Delivery {
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
                if idle >= 2 && durable::drained(consumer).await {
                    end = true;
                }
            }
        }
        if batch.is_empty() {
            continue;
        }
        let batch: Batch = batch.into();
        let prepared = prepare(&batch);
        let permit = if end {
            tx.reserve().await
        } else {
            tokio::select! {
                permit = tx.reserve() => permit,
                () = shutdown.as_mut() => {
                    tracing::info!("shutdown requested: flushing");
                    let _ = stop.send(true);
                    end = true;
                    tx.reserve().await
                }
            }
        };
        match permit {
            Ok(permit) => permit.send((batch, prepared)),
            Err(_) => return Ok(()), // the writer failed: its error is returned
        }
    }
    Ok(())
}

/// How writing one part ended.
enum Attempt<E> {
    Written(Settlement),
    Refused(E),
    Stopped,
}

/// Writes one part, retrying what the sink classifies `Retry` until told
/// to stop.
async fn write_part<S: Sink>(
    sink: &mut S,
    batch: &Batch,
    part: &mut S::Part,
    stop: &mut watch::Receiver<bool>,
    counters: &Counters,
    retries: &mut u64,
) -> std::result::Result<Attempt<S::Error>, S::Error> {
    let mut backoff = Duration::from_millis(100);
    loop {
        let e = match sink.write(batch, part).await {
            Ok(s) => return Ok(Attempt::Written(s)),
            Err(e) => e,
        };
        match sink.classify(&e) {
            Class::Refuse => return Ok(Attempt::Refused(e)),
            Class::Fatal => return Err(e),
            Class::Retry => {
                Counters::add(&counters.retries, 1);
                *retries += 1;
                tracing::warn!(sink = S::NAME, error = %e, "write failed; retrying");
                if !wait_or_stop(stop, &mut backoff).await {
                    return Ok(Attempt::Stopped);
                }
            }
        }
    }
}

/// Writes batches in order, part by part, and hands each to the settler;
/// shrinks the batch cap when the sink left messages. Returns the retries.
async fn write_loop<S: Sink>(
    mut sink: S,
    mut rx: mpsc::Receiver<(Batch, Prepared<S::Part>)>,
    tx: mpsc::Sender<Written>,
    mut stop: watch::Receiver<bool>,
    counters: Arc<Counters>,
    cap: Arc<AtomicUsize>,
) -> std::result::Result<u64, S::Error> {
    let mut retries = 0u64;
    while let Some((batch, prepared)) = rx.recv().await {
        let Prepared { parts, mut settled } = prepared;
        let mut refused = Vec::new();
        let mut stopped = false;
        let mut todo: Vec<S::Part> = parts.into_iter().rev().collect();
        while let Some(mut part) = todo.pop() {
            match write_part(
                &mut sink,
                &batch,
                &mut part,
                &mut stop,
                &counters,
                &mut retries,
            )
            .await?
            {
                Attempt::Written(s) => settled.merge(s),
                Attempt::Refused(e) => match part.split() {
                    Ok((a, b)) => {
                        todo.push(b);
                        todo.push(a);
                    }
                    Err(alone) => {
                        let why = e.to_string();
                        refused.extend(alone.messages().into_iter().map(|i| (i, why.clone())));
                    }
                },
                Attempt::Stopped => {
                    stopped = true;
                    break;
                }
            }
        }
        if !settled.leave.is_empty() {
            let was = cap.load(Ordering::Relaxed);
            let now = (was / 2).max(MIN_BATCH_CAP).min(was);
            cap.store(now, Ordering::Relaxed);
            tracing::warn!(
                sink = S::NAME,
                left = settled.leave.len(),
                batch_max = now,
                "a batch outlived half the ack wait; its late messages will be redelivered, batches shrink"
            );
        }
        let written = Written {
            batch,
            settled,
            refused,
            stopped,
        };
        if tx.send(written).await.is_err() || stopped {
            break; // the settler failed (its error is returned), or stopping
        }
    }
    Ok(retries)
}

/// Settles written batches in order: dead letters first (stored, retried
/// until told to stop), then acks.
async fn settle_loop(
    js: jetstream::Context,
    s: LoopSettings,
    sink: &'static str,
    mut rx: mpsc::Receiver<Written>,
    mut stop: watch::Receiver<bool>,
    counters: Arc<Counters>,
) -> Result<LoopReport> {
    let mut report = LoopReport::default();
    let client = js.client();
    while let Some(w) = rx.recv().await {
        if !store_dead_letters(&js, &s.stream, sink, &w, &mut stop).await? {
            break; // stopping: the batch is left to the stream
        }
        let complete = w.complete();
        let settled: Vec<usize> = w
            .settled
            .ack
            .iter()
            .copied()
            .chain(w.settled.dead.iter().map(|(i, _)| *i))
            .chain(w.refused.iter().map(|(i, _)| *i))
            .collect();
        match s.acks {
            Acks::Each => {
                for &i in &settled {
                    if let Some(reply) = &w.batch[i].reply {
                        client
                            .publish(reply.clone(), Bytes::new())
                            .await
                            .map_err(Error::nats)?;
                    }
                }
            }
            // the last message acks every one before it: only a batch
            // settled whole may be acked, and nothing after one that is not
            Acks::Cumulative if complete => {
                if let Some(reply) = w.batch.last().and_then(|m| m.reply.clone()) {
                    client
                        .publish(reply, Bytes::new())
                        .await
                        .map_err(Error::nats)?;
                }
            }
            Acks::Cumulative if w.stopped => break,
            Acks::Cumulative => {
                return Err(Error::Nats(format!(
                    "a sink with cumulative acks left {} message(s) of a batch unsettled; \
                     stopping so that the stream redelivers them",
                    w.batch.len() - settled.len()
                )));
            }
        }
        let left = w.batch.len() - settled.len();
        for (c, r, n) in [
            (&counters.settled, &mut report.settled, settled.len()),
            (
                &counters.deadlettered,
                &mut report.deadlettered,
                w.settled.dead.len(),
            ),
            (&counters.refused, &mut report.refused, w.refused.len()),
            (&counters.left, &mut report.left, left),
            (&counters.batches, &mut report.batches, 1),
        ] {
            Counters::add(c, n);
            *r += n as u64;
        }
        if w.stopped {
            break;
        }
    }
    client.flush().await.map_err(Error::nats)?;
    Ok(report)
}

/// Stores a written batch's dead letters — the contract's refusals
/// untagged, the sink's tagged with its name — retrying while the stream
/// is unreachable; false when told to stop first.
async fn store_dead_letters(
    js: &jetstream::Context,
    stream: &str,
    sink: &'static str,
    w: &Written,
    stop: &mut watch::Receiver<bool>,
) -> Result<bool> {
    let reasons: Vec<String> = w
        .refused
        .iter()
        .map(|(_, e)| format!("{sink} refused the row: {e}"))
        .collect();
    let contract: Vec<Letter<'_>> = w
        .settled
        .dead
        .iter()
        .map(|(i, r)| w.letter(*i, &r.field, &r.reason))
        .collect();
    let refused: Vec<Letter<'_>> = w
        .refused
        .iter()
        .zip(&reasons)
        .map(|((i, _), reason)| w.letter(*i, "$", reason))
        .collect();
    for (tag, letters) in [(None, contract), (Some(sink), refused)] {
        let mut backoff = Duration::from_millis(100);
        while !letters.is_empty() {
            match deadletter::publish(js, stream, tag, &letters).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(sink, error = %e, "dead letters not stored; retrying");
                    if !wait_or_stop(stop, &mut backoff).await {
                        return Ok(false);
                    }
                }
            }
        }
    }
    Ok(true)
}

/// Sleeps `backoff` (then doubles it, up to 5 s) unless told to stop
/// first; false when stopping.
async fn wait_or_stop(stop: &mut watch::Receiver<bool>, backoff: &mut Duration) -> bool {
    tokio::select! {
        biased;
        _ = stop.wait_for(|v| *v) => return false,
        () = tokio::time::sleep(*backoff) => {}
    }
    *backoff = (*backoff * 2).min(Duration::from_secs(5));
    true
}
