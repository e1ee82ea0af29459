//! Read models: typed, idempotent folds over [`showrunner_events::Event`],
//! the state every service that answers "what is true now" needs:
//!
//! - [`catalog`] — titles, series and their episodes, availability,
//!   maturity;
//! - [`viewing`] — each user's history and resume points;
//! - [`profiles`] — country, time zone, language, push opt-in, maturity
//!   limit;
//! - [`entitlements`] — subscription state and rentals: what a user may
//!   play now;
//! - [`notifications`] — what was sent to whom, when, opened, deferred or
//!   suppressed;
//! - [`campaigns`] — each campaign's definition, lifecycle and audit trail;
//! - [`load`] — a fold filled from the lake's committed files;
//! - [`live`] — a fold behind a lock, followed from the bus;
//! - [`pulse`] — the last minutes of the player family (the dashboard's
//!   Live page): concurrency, plays, failures, startup and rebuffering by
//!   CDN.
//!
//! Invariant (tested by property tests): applying an event twice, or the
//! events of one key in any order, gives the same state. Every fold keys
//! its facts by [`Stamp`] (`occurred_at`, then `event_id`): the latest
//! stamp wins a field, sets are unions, counts count distinct events.
//! This crate links no DataFusion, polars or linfa.

pub mod campaigns;
pub mod catalog;
pub mod entitlements;
pub mod error;
pub mod live;
pub mod load;
pub mod notifications;
pub mod profiles;
pub mod pulse;
pub mod viewing;

use showrunner_events::{Event, Family};
use uuid::Uuid;

pub use campaigns::Campaigns;
pub use catalog::{Catalog, CatalogFold};
pub use entitlements::Entitlements;
pub use error::{Error, Result};
pub use notifications::Notifications;
pub use profiles::Profiles;
pub use viewing::Viewing;

/// A read model built by applying events one by one.
pub trait Fold {
    /// The families whose events it reads (what [`load`] and [`live`]
    /// feed it).
    fn families(&self) -> &'static [Family];

    /// Applies one event; returns whether the event concerns this fold.
    /// Idempotent, and independent of the order of events.
    fn apply(&mut self, e: &Event) -> bool;
}

/// When an event happened, totally ordered: `occurred_at` (ms), then the
/// `event_id` (the tie-break the warehouse's SQL uses too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Stamp {
    /// `occurred_at`, ms since the epoch.
    pub at: i64,
    /// `event_id`.
    pub id: Uuid,
}

impl Stamp {
    /// The stamp of an event.
    pub fn of(e: &Event) -> Stamp {
        Stamp {
            at: e.envelope.occurred_at.0,
            id: e.envelope.event_id,
        }
    }
}

/// A last-writer-wins register: the value set with the greatest stamp.
#[derive(Debug, Clone, PartialEq)]
pub struct Lww<T> {
    stamp: Option<Stamp>,
    value: Option<T>,
}

impl<T> Default for Lww<T> {
    fn default() -> Self {
        Lww {
            stamp: None,
            value: None,
        }
    }
}

impl<T> Lww<T> {
    /// Sets `value` if `stamp` is later than the current one (an equal
    /// stamp is the same event: nothing changes).
    pub fn set(&mut self, stamp: Stamp, value: T) {
        if self.stamp.is_none_or(|s| stamp > s) {
            self.stamp = Some(stamp);
            self.value = Some(value);
        }
    }

    /// The current value.
    pub fn get(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// The stamp of the current value.
    pub fn stamp(&self) -> Option<Stamp> {
        self.stamp
    }
}

/// Every read model at once (what a node that serves apps keeps).
#[derive(Debug, Default)]
pub struct Projections {
    /// Titles and episodes.
    pub catalog: CatalogFold,
    /// History and resume points.
    pub viewing: Viewing,
    /// Profiles.
    pub profiles: Profiles,
    /// Subscriptions and rentals.
    pub entitlements: Entitlements,
    /// Pushes.
    pub notifications: Notifications,
    /// Campaigns.
    pub campaigns: Campaigns,
}

impl Fold for Projections {
    fn families(&self) -> &'static [Family] {
        Family::ALL
    }

    fn apply(&mut self, e: &Event) -> bool {
        // each event concerns at most one of them; all are asked anyway
        let mut any = self.catalog.apply(e);
        any |= self.viewing.apply(e);
        any |= self.profiles.apply(e);
        any |= self.entitlements.apply(e);
        any |= self.notifications.apply(e);
        any |= self.campaigns.apply(e);
        any
    }
}

/// The `user_id` of an event, if any.
pub(crate) fn user_of(e: &Event) -> Option<&str> {
    e.envelope.user_id.as_deref()
}
