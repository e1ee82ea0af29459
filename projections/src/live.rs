//! A fold shared by request handlers and kept fresh from the bus: loaded
//! from the lake, then each of its families followed from a start time
//! before the load (the overlap is applied twice, which the folds absorb).

use std::sync::{Arc, RwLock, RwLockReadGuard};

use async_nats::jetstream;
use showrunner_bus::follow::{FollowStats, follow};

use crate::Fold;

/// A fold behind a lock: reads are concurrent, each event is one write.
#[derive(Debug, Default)]
pub struct Live<P> {
    state: RwLock<P>,
    /// Counters of the followers.
    pub stats: Arc<FollowStats>,
}

impl<P: Fold> Live<P> {
    /// Shares `fold`.
    pub fn new(fold: P) -> Live<P> {
        Live {
            state: RwLock::new(fold),
            stats: Arc::default(),
        }
    }

    /// A read view of the state.
    pub fn read(&self) -> RwLockReadGuard<'_, P> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies one event; returns whether it concerned the fold.
    pub fn apply(&self, e: &showrunner_events::Event) -> bool {
        self.state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .apply(e)
    }
}

/// Follows every family `live` reads from `since`, in the background.
pub fn spawn_followers<P: Fold + Send + Sync + 'static>(
    js: jetstream::Context,
    stream: &str,
    since: time::OffsetDateTime,
    live: Arc<Live<P>>,
) {
    let families = live.read().families();
    for &family in families {
        let l = live.clone();
        tokio::spawn(follow(
            js.clone(),
            stream.to_owned(),
            family,
            since,
            live.stats.clone(),
            move |e| {
                l.apply(e);
            },
        ));
    }
}
