//! What the campaigns service knows: campaigns, profiles and pushes — one
//! fold ([`Book`]) loaded from the lake and followed from the bus — and the
//! ledger of past decisions rebuilt from the pushes.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use showrunner_events::{Event, Family};
use showrunner_marketing::plan::Reach;
use showrunner_marketing::{Ledger, Zone, idempotency_key};
use showrunner_projections::live::Live;
use showrunner_projections::notifications::Outcome;
use showrunner_projections::{Campaigns, Fold, Notifications, Profiles};

/// The read models the service decides from.
#[derive(Debug, Default)]
pub struct Book {
    /// Campaigns.
    pub campaigns: Campaigns,
    /// Profiles: zones, opt-ins.
    pub profiles: Profiles,
    /// Pushes: what caps count and keys guard.
    pub notifications: Notifications,
}

impl Fold for Book {
    fn families(&self) -> &'static [Family] {
        &[Family::User, Family::Notification, Family::Campaign]
    }

    fn apply(&mut self, e: &Event) -> bool {
        let mut any = self.campaigns.apply(e);
        any |= self.profiles.apply(e);
        any |= self.notifications.apply(e);
        any
    }
}

impl Book {
    /// What the profiles say of `user` (zone, opt-in, country, language).
    pub fn reach(&self, user: &str) -> Reach {
        let Some(p) = self.profiles.get(user) else {
            return Reach::UNKNOWN;
        };
        Reach {
            zone: Zone::resolve(p.time_zone.as_deref(), p.country.as_deref()),
            opted_in: p.push_opt_in,
            country: p.country,
            language: p.language,
        }
    }

    /// The ledger the pushes imply: each non-transactional send counted
    /// for caps, each key decided (sent or suppressed) or deferred.
    pub fn ledger(&self) -> Ledger {
        let transactional: HashSet<String> = self
            .campaigns
            .all()
            .into_iter()
            .filter(|c| {
                c.definition
                    .get("transactional")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false)
            })
            .map(|c| c.id)
            .collect();
        let mut ledger = Ledger::default();
        for (user, history) in self.notifications.users() {
            for p in history {
                let at = DateTime::<Utc>::from_timestamp_millis(p.at).unwrap_or_default();
                let key = p
                    .window
                    .as_deref()
                    .map(|w| idempotency_key(&p.campaign_id, user, w));
                match (&p.outcome, key) {
                    (Outcome::Sent, key) => {
                        if !transactional.contains(&p.campaign_id) {
                            ledger.record_sent(&p.campaign_id, user, at);
                        }
                        if let Some(k) = key {
                            ledger.record_done(k);
                        }
                    }
                    (Outcome::Suppressed(_), Some(k)) => ledger.record_done(k),
                    (Outcome::Deferred(_, until), Some(k)) => {
                        // a later outcome of the same key (history is in
                        // stamp order) replaces this one
                        let until = DateTime::<Utc>::from_timestamp_millis(*until).unwrap_or(at);
                        ledger.record_deferred(k, until);
                    }
                    _ => {}
                }
            }
        }
        ledger
    }
}

/// The shared, live [`Book`].
pub type SharedBook = Arc<Live<Book>>;
