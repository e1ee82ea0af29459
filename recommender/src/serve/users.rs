//! What serving knows of each user: where they are in every movie and
//! episode they touched, their country and maturity limit. Loaded from the
//! lake at start and kept fresh from the event stream; applying an event is
//! idempotent (positions keep the latest by event time, completions and
//! fractions keep their maximum), so replaying an overlap is harmless.

use std::collections::HashMap;
use std::sync::RwLock;

use showrunner_events::Event;
use showrunner_events::types::{Payload, UserEvent, WatchEvent};

use crate::catalog::maturity_rank;
use crate::lake::{Profile, WatchAgg};

/// Where a user is in one movie or episode.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Watched {
    /// Position of the latest progress, ms.
    pub position_ms: i64,
    /// Duration of the latest progress, ms.
    pub duration_ms: i64,
    /// Time of that progress event, ms.
    pub progress_at: i64,
    /// Largest fraction of the duration reached.
    pub max_fraction: f64,
    /// Latest completion, ms.
    pub completed_at: Option<i64>,
    /// Latest event of either kind, ms.
    pub last_at: i64,
}

impl Watched {
    /// Whether it was watched to the end at least once.
    pub fn completed(&self) -> bool {
        self.completed_at.is_some()
    }
}

/// A user as serving sees them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserState {
    /// Movies and episodes by watched id.
    pub watched: HashMap<String, Watched>,
    /// Country at sign-up.
    pub country: Option<String>,
    /// Highest maturity allowed (rank).
    pub maturity_limit: Option<u8>,
}

/// Every user, behind one lock (reads are concurrent; writes are single
/// events).
#[derive(Debug, Default)]
pub struct Users {
    map: RwLock<HashMap<String, UserState>>,
}

impl Users {
    /// From the lake's watch aggregates and profiles.
    pub fn from_lake(watch: Vec<WatchAgg>, profiles: HashMap<String, Profile>) -> Users {
        let mut map: HashMap<String, UserState> = HashMap::new();
        for (u, p) in profiles {
            let s = map.entry(u).or_default();
            s.country = p.country;
            s.maturity_limit = p.maturity_limit;
        }
        for w in watch {
            let s = map.entry(w.user).or_default();
            s.watched.insert(
                w.watched,
                Watched {
                    position_ms: w.position_ms,
                    duration_ms: w.duration_ms,
                    progress_at: w.last_at,
                    max_fraction: w.max_fraction,
                    completed_at: w.completed_at,
                    last_at: w.last_at,
                },
            );
        }
        Users {
            map: RwLock::new(map),
        }
    }

    /// Runs `f` on the user's state (None: unknown user).
    pub fn with<R>(&self, user: &str, f: impl FnOnce(Option<&UserState>) -> R) -> R {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        f(map.get(user))
    }

    /// Number of users known.
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no user is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies one event; returns whether it concerned serving.
    pub fn apply(&self, e: &Event) -> bool {
        let Some(user) = e.envelope.user_id.as_deref() else {
            return false;
        };
        let at = e.envelope.occurred_at.0;
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        match &e.payload {
            Payload::Watch(w) => {
                let Some(title) = e.envelope.title_id.as_deref() else {
                    return false;
                };
                let s = map.entry(user.to_owned()).or_default();
                let x = s.watched.entry(title.to_owned()).or_default();
                match w {
                    WatchEvent::Progress(p) => {
                        if at >= x.progress_at {
                            x.position_ms = p.position_ms;
                            x.duration_ms = p.duration_ms;
                            x.progress_at = at;
                        }
                        if p.duration_ms > 0 {
                            x.max_fraction = x
                                .max_fraction
                                .max(p.position_ms as f64 / p.duration_ms as f64);
                        }
                    }
                    WatchEvent::Completed(_) => {
                        x.completed_at = Some(x.completed_at.map_or(at, |c| c.max(at)));
                    }
                }
                x.last_at = x.last_at.max(at);
                true
            }
            Payload::User(UserEvent::SignedUp(s)) => {
                map.entry(user.to_owned()).or_default().country = Some(s.country.0.clone());
                true
            }
            Payload::User(UserEvent::ProfileUpdated(p)) => match p.maturity_limit {
                Some(m) => {
                    map.entry(user.to_owned()).or_default().maturity_limit =
                        Some(maturity_rank(m.as_str()));
                    true
                }
                None => false,
            },
            _ => false,
        }
    }
}
