//! Keeping serving fresh without retraining: the users' folds follow
//! `events.watch.>` and `events.user.>` from the bus
//! (`showrunner_projections::live`), and a poller installs new model
//! versions.
//!
//! The followers start at a time before the lake snapshot the folds were
//! loaded from (events both in the snapshot and in the replay are applied
//! twice, which the folds absorb).

use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream;
use tracing::{info, warn};

use crate::serve::ServeState;

/// Writes the followers' counters (a part of [`super::ServeCollector`]).
pub fn encode(
    state: &ServeState,
    e: &mut showrunner_web::telemetry::DescriptorEncoder,
) -> std::fmt::Result {
    let live = state.users.live();
    for (name, help, v) in [
        (
            "showrunner_recommender_live_events",
            "watch and user events applied to serving's user state from the stream",
            &live.stats.applied,
        ),
        (
            "showrunner_recommender_undecodable",
            "stream messages serving could not decode as events (skipped)",
            &live.stats.undecodable,
        ),
    ] {
        showrunner_web::telemetry::counter(e, name, help, v.load(Ordering::Relaxed))?;
    }
    Ok(())
}

/// Starts the followers of the watch and user families.
pub fn spawn_followers(
    js: jetstream::Context,
    stream: &str,
    since: time::OffsetDateTime,
    state: &ServeState,
) {
    showrunner_projections::live::spawn_followers(js, stream, since, state.users.live());
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
