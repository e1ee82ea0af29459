//! Publishing events to JetStream with `Nats-Msg-Id = event_id`, pipelined:
//! many publishes in flight, each one's server ack awaited before it counts.

use std::future::IntoFuture;

use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage as Publish;
use async_nats::jetstream::{self, publish::PublishAck};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use showrunner_events::Event;

use crate::error::{Error, Result};

/// One message to publish.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Subject, `events.<family>.<type>`.
    pub subject: String,
    /// Deduplication id (`Nats-Msg-Id`), the event id.
    pub msg_id: String,
    /// The event's JSON.
    pub payload: Bytes,
}

impl Outgoing {
    /// The message carrying a typed event.
    pub fn event(e: &Event) -> Self {
        Self {
            subject: showrunner_bus::subjects::of(e),
            msg_id: e.envelope.event_id.to_string(),
            payload: Bytes::from(e.to_wire().to_json()),
        }
    }
}

/// What a publish run stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishStats {
    /// Messages newly stored in the stream.
    pub stored: u64,
    /// Messages the stream already had (same `Nats-Msg-Id` within its window).
    pub duplicates: u64,
}

async fn send(js: &jetstream::Context, m: Outgoing) -> Result<PublishAckFuture> {
    js.send_publish(
        m.subject,
        Publish::build().payload(m.payload).message_id(m.msg_id),
    )
    .await
    .map_err(Error::nats)
}

/// Publishes every message and returns each one's outcome, in order.
/// An `Ok` means the stream stored the message (or already had it).
pub async fn publish_each(
    js: &jetstream::Context,
    items: Vec<Outgoing>,
) -> Vec<Result<PublishAck>> {
    let mut pending = FuturesOrdered::new();
    let mut out = Vec::with_capacity(items.len());
    for m in items {
        match send(js, m).await {
            Ok(fut) => pending.push_back(futures::future::Either::Left(async move {
                fut.into_future().await.map_err(Error::nats)
            })),
            Err(e) => pending.push_back(futures::future::Either::Right(async move { Err(e) })),
        }
    }
    while let Some(r) = pending.next().await {
        out.push(r);
    }
    out
}

/// Publishes a large sequence of messages with up to `window` acks
/// outstanding; stops at the first failure.
pub async fn publish_all<I>(
    js: &jetstream::Context,
    items: I,
    window: usize,
    mut progress: impl FnMut(u64),
) -> Result<PublishStats>
where
    I: IntoIterator<Item = Outgoing>,
{
    let mut stats = PublishStats::default();
    let mut pending = FuturesOrdered::new();
    let account = |ack: PublishAck, stats: &mut PublishStats| {
        if ack.duplicate {
            stats.duplicates += 1;
        } else {
            stats.stored += 1;
        }
    };
    for m in items {
        let fut = send(js, m).await?;
        pending.push_back(fut.into_future());
        while pending.len() >= window {
            if let Some(ack) = pending.next().await {
                account(ack.map_err(Error::nats)?, &mut stats);
                progress(stats.stored + stats.duplicates);
            }
        }
    }
    while let Some(ack) = pending.next().await {
        account(ack.map_err(Error::nats)?, &mut stats);
        progress(stats.stored + stats.duplicates);
    }
    Ok(stats)
}

/// Publishes days of events (a simulation), each day pipelined as
/// [`publish_all`] does, calling `on_day` with the running total after
/// each; returns the total (stored and duplicates).
pub async fn publish_days(
    js: &jetstream::Context,
    days: impl IntoIterator<Item = Vec<Event>>,
    mut on_day: impl FnMut(u64),
) -> Result<u64> {
    let mut total = 0u64;
    for day in days {
        let stats = publish_all(js, day.iter().map(Outgoing::event), 4_096, |_| {}).await?;
        total += stats.stored + stats.duplicates;
        on_day(total);
    }
    js.client().flush().await.map_err(Error::nats)?;
    Ok(total)
}
