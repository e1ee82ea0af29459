//! Durable pull consumers, in one place: their settings, creation (a
//! consumer that exists keeps the ack wait it was created with — the one
//! the server uses is returned and a difference logged), one pull request
//! at a time with shutdown, and drain detection. The ingest worker and the
//! ClickHouse sink both pull through this.

use std::pin::Pin;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::AckPolicy, consumer::pull};
use futures::StreamExt;

use crate::{Error, Result, StreamSettings, ensure_streams};

/// How a durable consumer acknowledges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// Each message on its own (ingest: a message is settled once its file
    /// is committed or its dead letter stored).
    Each,
    /// The last message of a batch settles all before it (a sink whose
    /// batches are written and acked in order).
    Cumulative,
}

/// A durable pull consumer on the events stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Durable {
    /// Its name, shared by cooperating workers.
    pub name: String,
    /// How it acknowledges.
    pub acks: Acks,
    /// How long the server waits for an ack before redelivering.
    pub ack_wait: Duration,
    /// Most messages delivered and not yet acknowledged.
    pub max_ack_pending: usize,
}

/// A durable pull consumer, created or opened.
pub type Consumer = jetstream::consumer::Consumer<pull::Config>;

/// Creates (if missing) and returns the durable consumer of the whole events
/// stream (every event subject), and the ack wait the server applies to it.
pub async fn open(
    js: &jetstream::Context,
    streams: &StreamSettings,
    d: &Durable,
) -> Result<(Consumer, Duration)> {
    let stream = ensure_streams(js, streams).await?;
    let consumer = stream
        .get_or_create_consumer(
            &d.name,
            pull::Config {
                durable_name: Some(d.name.clone()),
                ack_policy: match d.acks {
                    Acks::Each => AckPolicy::Explicit,
                    Acks::Cumulative => AckPolicy::All,
                },
                ack_wait: d.ack_wait,
                max_ack_pending: d.max_ack_pending.max(1) as i64,
                // no filter subject: the stream holds only `events.>`, and on
                // nats-server 2.9 a filtered consumer costs the server about
                // half as much again per message (`bench ingest --days 20`:
                // ingest 102 k → 142 k events/s, ratio 0.51 → 0.86)
                ..Default::default()
            },
        )
        .await
        .map_err(|e| Error::Nats(format!("consumer {}: {e}", d.name)))?;
    let ack_wait = consumer.cached_info().config.ack_wait;
    if ack_wait != d.ack_wait {
        tracing::warn!(server = ?ack_wait, configured = ?d.ack_wait, durable = %d.name,
            "the durable consumer keeps the ack wait it was created with; using the server's");
    }
    Ok((consumer, ack_wait))
}

/// How a pull request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pulled {
    /// It delivered what it could (possibly nothing) and expired, or
    /// failed and was logged: pull again.
    Done,
    /// Shutdown was requested while it ran.
    Shutdown,
}

/// Sends one pull request for up to `max` messages expiring after
/// `expires`, appending what it delivers to `out`; stops early when
/// `shutdown` resolves.
pub async fn pull(
    consumer: &Consumer,
    max: usize,
    expires: Duration,
    shutdown: &mut Pin<&mut impl Future<Output = ()>>,
    out: &mut Vec<jetstream::Message>,
) -> Result<Pulled> {
    let mut msgs = consumer
        .batch()
        .max_messages(max.max(1))
        .expires(expires)
        .messages()
        .await
        .map_err(Error::nats)?;
    loop {
        tokio::select! {
            biased;
            () = shutdown.as_mut() => return Ok(Pulled::Shutdown),
            next = msgs.next() => match next {
                Some(Ok(m)) => out.push(m),
                Some(Err(e)) => {
                    tracing::warn!(consumer = %consumer.cached_info().name, error = %e, "pull failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return Ok(Pulled::Done);
                }
                None => return Ok(Pulled::Done),
            },
        }
    }
}

/// Whether the consumer has nothing left: no message pending delivery and
/// none delivered but unacknowledged (false when the server cannot say).
pub async fn drained(consumer: &Consumer) -> bool {
    let mut c = consumer.clone();
    match c.info().await {
        Ok(info) => info.num_pending == 0 && info.num_ack_pending == 0,
        Err(_) => false,
    }
}

/// The consumer's lag as the server counts it: messages pending delivery
/// plus those delivered and not yet acknowledged (`None` when the server
/// cannot say).
pub async fn lag(consumer: &Consumer) -> Option<u64> {
    let mut c = consumer.clone();
    c.info()
        .await
        .ok()
        .map(|info| info.num_pending + info.num_ack_pending as u64)
}
