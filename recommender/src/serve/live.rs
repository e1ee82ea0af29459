//! Keeping serving fresh without retraining: ordered JetStream consumers on
//! `events.watch.>` and `events.user.>` apply each event to the users store
//! as it is stored in the stream; a poller installs new model versions.
//!
//! The consumers start at a time before the lake snapshot the store was
//! loaded from (events both in the snapshot and in the replay are applied
//! twice, which the store's idempotent updates absorb). On any error they
//! reconnect from the last message they applied.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures::StreamExt;
use showrunner_events::wire::WireEvent;
use showrunner_events::{Event, Family};
use tracing::{info, warn};

use crate::serve::ServeState;
use crate::serve::users::Users;

/// Counters of the follower.
#[derive(Debug, Default)]
pub struct LiveStats {
    /// Events applied to the users store.
    pub applied: AtomicU64,
    /// Messages that did not decode as events (skipped).
    pub undecodable: AtomicU64,
}

impl LiveStats {
    /// Appends the counters in Prometheus text format.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        for (name, help, v) in [
            (
                "showrunner_recommender_live_events_total",
                "watch and user events applied to serving's user state from the stream",
                &self.applied,
            ),
            (
                "showrunner_recommender_undecodable_total",
                "stream messages serving could not decode as events (skipped)",
                &self.undecodable,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
    }
}

/// Follows `subject` (e.g. `events.watch.>`) of `stream` from `since` into
/// `users`, forever.
pub async fn follow(
    js: jetstream::Context,
    stream: String,
    subject: String,
    since: time::OffsetDateTime,
    users: Arc<Users>,
    stats: Arc<LiveStats>,
) {
    let mut from = since;
    loop {
        match follow_once(&js, &stream, &subject, &mut from, &users, &stats).await {
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
    users: &Users,
    stats: &LiveStats,
) -> Result<(), String> {
    let s = js.get_stream(stream).await.map_err(|e| e.to_string())?;
    let c = s
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: subject.to_owned(),
            deliver_policy: consumer::DeliverPolicy::ByStartTime { start_time: *from },
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut msgs = c.messages().await.map_err(|e| e.to_string())?;
    info!(%subject, since = %from, "following events");
    while let Some(m) = msgs.next().await {
        let m = m.map_err(|e| e.to_string())?;
        if let Ok(info) = m.info() {
            *from = info.published;
        }
        let event = WireEvent::from_json(&m.payload)
            .ok()
            .and_then(|w| Event::from_wire(&w).ok());
        match event {
            Some(e) => {
                if users.apply(&e) {
                    stats.applied.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => {
                stats.undecodable.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    Ok(())
}

/// Starts the followers of the watch and user families (counting into
/// `state.live`).
pub fn spawn_followers(
    js: jetstream::Context,
    stream: &str,
    since: time::OffsetDateTime,
    state: &ServeState,
) {
    let stats = state.live.clone();
    for subject in [Family::Watch, Family::User].map(showrunner_bus::subjects::family) {
        tokio::spawn(follow(
            js.clone(),
            stream.to_owned(),
            subject,
            since,
            state.users.clone(),
            stats.clone(),
        ));
    }
}

/// Polls `<models>/CURRENT` every `every` and installs new versions.
pub async fn reload_loop(state: ServeState, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let s = state.clone();
        match tokio::task::spawn_blocking(move || s.reload()).await {
            Ok(Ok(true)) => {
                if let Some(m) = state.model() {
                    info!(version = %m.version(), "serving a new model");
                }
            }
            Ok(Ok(false)) => {}
            Ok(Err(e)) => {
                warn!(error = %e, "loading the current model failed; keeping the served one")
            }
            Err(e) => warn!(error = %e, "model reload task failed"),
        }
    }
}
