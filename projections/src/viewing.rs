//! Viewing: where each user is in every movie and episode they touched —
//! the latest position (the resume point), the furthest fraction reached,
//! completions — folded from the `watch` events.
//!
//! The position is a last-writer-wins register (by [`Stamp`]), the
//! fraction and times are maxima, completions are a set of event ids: all
//! idempotent and order-free.

use std::collections::{BTreeSet, HashMap};

use showrunner_events::types::{Payload, WatchEvent};
use showrunner_events::{Event, Family};
use uuid::Uuid;

use crate::{Fold, Lww, Stamp, user_of};

/// Where a user is in one movie or episode.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Watched {
    progress: Lww<(i64, i64)>,
    max_fraction: f64,
    completions: BTreeSet<Uuid>,
    completed_at: Option<i64>,
    last_at: i64,
}

impl Watched {
    /// Position of the latest progress, ms (0 when none).
    pub fn position_ms(&self) -> i64 {
        self.progress.get().map_or(0, |p| p.0)
    }

    /// Duration of the latest progress, ms (0 when none).
    pub fn duration_ms(&self) -> i64 {
        self.progress.get().map_or(0, |p| p.1)
    }

    /// Time of the latest progress, ms (0 when none).
    pub fn progress_at(&self) -> i64 {
        self.progress.stamp().map_or(0, |s| s.at)
    }

    /// Largest position ÷ duration reached.
    pub fn max_fraction(&self) -> f64 {
        self.max_fraction
    }

    /// Number of completions.
    pub fn completions(&self) -> usize {
        self.completions.len()
    }

    /// Latest completion, ms.
    pub fn completed_at(&self) -> Option<i64> {
        self.completed_at
    }

    /// Whether it was watched to the end at least once.
    pub fn completed(&self) -> bool {
        self.completed_at.is_some()
    }

    /// Latest event of either kind, ms.
    pub fn last_at(&self) -> i64 {
        self.last_at
    }

    /// Seeds a state from aggregates computed elsewhere (the recommender's
    /// lake scan): `completions` distinct completions are not known by id,
    /// so only whether there was one is kept.
    pub fn from_aggregate(
        position_ms: i64,
        duration_ms: i64,
        progress_at: i64,
        max_fraction: f64,
        completed_at: Option<i64>,
        last_at: i64,
    ) -> Watched {
        let mut progress = Lww::default();
        if progress_at > 0 || position_ms > 0 {
            progress.set(
                Stamp {
                    at: progress_at,
                    id: Uuid::nil(),
                },
                (position_ms, duration_ms),
            );
        }
        Watched {
            progress,
            max_fraction,
            completions: completed_at.map(|_| Uuid::nil()).into_iter().collect(),
            completed_at,
            last_at,
        }
    }

    fn apply(&mut self, s: Stamp, w: &WatchEvent) {
        match w {
            WatchEvent::Progress(p) => {
                self.progress.set(s, (p.position_ms, p.duration_ms));
                if p.duration_ms > 0 {
                    let f = p.position_ms as f64 / p.duration_ms as f64;
                    if f.is_finite() {
                        self.max_fraction = self.max_fraction.max(f);
                    }
                }
            }
            WatchEvent::Completed(_) => {
                self.completions.insert(s.id);
                self.completed_at = Some(self.completed_at.map_or(s.at, |c| c.max(s.at)));
            }
        }
        self.last_at = self.last_at.max(s.at);
    }
}

/// Every user's viewing, by user id then watched id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Viewing {
    users: HashMap<String, HashMap<String, Watched>>,
}

impl Viewing {
    /// What `user` watched, by watched id.
    pub fn user(&self, user: &str) -> Option<&HashMap<String, Watched>> {
        self.users.get(user)
    }

    /// One user's state in one movie or episode.
    pub fn get(&self, user: &str, watched: &str) -> Option<&Watched> {
        self.users.get(user)?.get(watched)
    }

    /// Installs a state (seeding from aggregates).
    pub fn insert(&mut self, user: &str, watched: &str, w: Watched) {
        self.users
            .entry(user.to_owned())
            .or_default()
            .insert(watched.to_owned(), w);
    }

    /// Number of users with any viewing.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether nobody watched anything.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Every user id.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }
}

impl Fold for Viewing {
    fn families(&self) -> &'static [Family] {
        &[Family::Watch]
    }

    fn apply(&mut self, e: &Event) -> bool {
        let (Payload::Watch(w), Some(user), Some(title)) =
            (&e.payload, user_of(e), e.envelope.title_id.as_deref())
        else {
            return false;
        };
        self.users
            .entry(user.to_owned())
            .or_default()
            .entry(title.to_owned())
            .or_default()
            .apply(Stamp::of(e), w);
        true
    }
}
