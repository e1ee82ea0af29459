//! What serving knows of each user: the `projections` viewing (where they
//! are in every movie and episode they touched) and profiles (country,
//! maturity limit), loaded from the lake at start and followed live from
//! the bus. Both folds are idempotent, so replaying an overlap is harmless.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use showrunner_events::types::catalog::Maturity;
use showrunner_events::{Event, Family};
use showrunner_projections::live::Live;
use showrunner_projections::profiles::Profile;
use showrunner_projections::viewing::Watched;
use showrunner_projections::{Fold, Profiles, Viewing};

use crate::error::Result;
use crate::lake;

/// The read models serving keeps.
#[derive(Debug, Default)]
pub struct Audience {
    /// History and resume points.
    pub viewing: Viewing,
    /// Profiles.
    pub profiles: Profiles,
}

impl Fold for Audience {
    fn families(&self) -> &'static [Family] {
        &[Family::Watch, Family::User]
    }

    fn apply(&mut self, e: &Event) -> bool {
        self.viewing.apply(e) | self.profiles.apply(e)
    }
}

/// A user as one request sees them.
#[derive(Debug, Clone)]
pub struct UserState<'a> {
    /// Movies and episodes by watched id (None: nothing watched).
    pub watched: Option<&'a HashMap<String, Watched>>,
    /// Country.
    pub country: Option<String>,
    /// Highest maturity allowed.
    pub maturity_limit: Option<Maturity>,
}

impl<'a> UserState<'a> {
    /// Every movie and episode watched.
    pub fn watched(&self) -> impl Iterator<Item = (&'a String, &'a Watched)> + use<'a> {
        self.watched.into_iter().flatten()
    }
}

/// Every user, behind one lock (reads are concurrent; writes are single
/// events).
#[derive(Debug, Default)]
pub struct Users {
    live: Arc<Live<Audience>>,
}

impl Users {
    /// Over these folds.
    pub fn new(viewing: Viewing, profiles: Profiles) -> Users {
        Users {
            live: Arc::new(Live::new(Audience { viewing, profiles })),
        }
    }

    /// Seeded from watch aggregates and profiles known elsewhere (fixtures,
    /// benchmarks).
    pub fn seeded(watch: &[lake::WatchAgg], profiles: &HashMap<String, Profile>) -> Users {
        let mut p = Profiles::default();
        for (u, x) in profiles {
            p.seed(u, x);
        }
        Users::new(lake::viewing(watch), p)
    }

    /// From the lake: viewing seeded from the watch aggregates (one polars
    /// scan), profiles folded from the `user` family.
    pub fn load(lake_dir: &Path) -> Result<Users> {
        Self::load_store(&showrunner_lake::Store::dir(lake_dir))
    }

    /// [`Users::load`] from any store (a directory, or an object store).
    /// Blocking.
    pub fn load_store(store: &showrunner_lake::Store) -> Result<Users> {
        Ok(Users::new(
            lake::viewing(&lake::watch_store(store)?),
            lake::profiles_store(store)?,
        ))
    }

    /// The shared folds (for the bus followers).
    pub fn live(&self) -> Arc<Live<Audience>> {
        self.live.clone()
    }

    /// Runs `f` on the user's state (None: unknown user).
    pub fn with<R>(&self, user: &str, f: impl FnOnce(Option<&UserState<'_>>) -> R) -> R {
        let a = self.live.read();
        let watched = a.viewing.user(user);
        let profile = a.profiles.get(user);
        if watched.is_none() && profile.is_none() {
            return f(None);
        }
        let profile = profile.unwrap_or_default();
        f(Some(&UserState {
            watched,
            country: profile.country,
            maturity_limit: profile.maturity_limit,
        }))
    }

    /// Number of users known.
    pub fn len(&self) -> usize {
        let a = self.live.read();
        a.viewing
            .users()
            .filter(|u| a.profiles.get(u).is_none())
            .count()
            + a.profiles.len()
    }

    /// Whether no user is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies one event; returns whether it concerned serving.
    pub fn apply(&self, e: &Event) -> bool {
        self.live.apply(e)
    }
}
