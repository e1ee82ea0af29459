//! Ordered follow for live readers: an ordered JetStream consumer on one
//! family's subject from a start time, each message decoded as an
//! [`Event`] and handed to the caller, forever. On any error it reconnects
//! from the publication time of the last message it handed over (the
//! reader's folds are idempotent, so the overlap is harmless).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use showrunner_events::wire::WireEvent;
use showrunner_events::{Event, Family};
use tracing::{info, warn};

/// Counters of a follower.
#[derive(Debug, Default)]
pub struct FollowStats {
    /// Events handed to the reader.
    pub applied: AtomicU64,
    /// Messages that did not decode as events (skipped).
    pub undecodable: AtomicU64,
}

/// Follows `family` in `stream` from `since`, calling `apply` on each
/// event in stream order, forever.
pub async fn follow(
    js: jetstream::Context,
    stream: String,
    family: Family,
    since: time::OffsetDateTime,
    stats: std::sync::Arc<FollowStats>,
    mut apply: impl FnMut(&Event) + Send,
) {
    let subject = crate::subjects::family(family);
    let mut from = since;
    loop {
        match follow_once(&js, &stream, &subject, &mut from, &stats, &mut apply).await {
            Ok(()) => warn!(%subject, "event stream ended; reconnecting"),
            Err(e) => warn!(%subject, error = %e, "following events failed; retrying"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn follow_once(
    js: &jetstream::Context,
    stream: &str,
    subject: &str,
    from: &mut time::OffsetDateTime,
    stats: &FollowStats,
    apply: &mut (impl FnMut(&Event) + Send),
) -> Result<(), crate::Error> {
    let s = js.get_stream(stream).await.map_err(crate::Error::nats)?;
    let c = s
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: subject.to_owned(),
            deliver_policy: consumer::DeliverPolicy::ByStartTime { start_time: *from },
            ..Default::default()
        })
        .await
        .map_err(crate::Error::nats)?;
    let mut msgs = c.messages().await.map_err(crate::Error::nats)?;
    info!(%subject, since = %from, "following events");
    while let Some(m) = msgs.next().await {
        let m = m.map_err(crate::Error::nats)?;
        if let Ok(info) = m.info() {
            *from = info.published;
        }
        match WireEvent::from_json(&m.payload)
            .ok()
            .and_then(|w| Event::from_wire(&w).ok())
        {
            Some(e) => {
                apply(&e);
                stats.applied.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                stats.undecodable.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    Ok(())
}
