//! Notifications: what was pushed to whom and when, what was opened, what
//! was deferred or suppressed and by which rule — folded from the
//! `notification` events, kept per user in stamp order (a set: repeats are
//! absorbed).

use std::collections::{BTreeMap, HashMap};

use showrunner_events::types::notification::SuppressionRule;
use showrunner_events::types::{NotificationEvent, Payload};
use showrunner_events::{Event, Family};

use crate::{Fold, Stamp, user_of};

/// What happened to one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent.
    Sent,
    /// Opened.
    Opened,
    /// Not sent because of a rule.
    Suppressed(SuppressionRule),
    /// Held back by a rule until an instant (ms).
    Deferred(SuppressionRule, i64),
}

/// One notification event of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// When, ms.
    pub at: i64,
    /// Campaign.
    pub campaign_id: String,
    /// The campaign's send window, when the event says.
    pub window: Option<String>,
    /// What happened.
    pub outcome: Outcome,
}

/// Every user's notification history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notifications {
    users: HashMap<String, BTreeMap<Stamp, Push>>,
}

impl Notifications {
    /// A user's history, oldest first.
    pub fn history(&self, user: &str) -> impl Iterator<Item = &Push> {
        self.users.get(user).into_iter().flat_map(|h| h.values())
    }

    /// Pushes sent to `user` in `[from, to)` (ms) — what frequency caps
    /// count.
    pub fn sent_between(&self, user: &str, from: i64, to: i64) -> usize {
        self.history(user)
            .filter(|p| p.outcome == Outcome::Sent && from <= p.at && p.at < to)
            .count()
    }

    /// The latest push of `campaign` sent to `user`, ms.
    pub fn last_sent(&self, user: &str, campaign: &str) -> Option<i64> {
        self.history(user)
            .filter(|p| p.outcome == Outcome::Sent && p.campaign_id == campaign)
            .map(|p| p.at)
            .max()
    }

    /// Every user's history, oldest first, in no order of users.
    pub fn users(&self) -> impl Iterator<Item = (&str, impl Iterator<Item = &Push>)> {
        self.users.iter().map(|(u, h)| (u.as_str(), h.values()))
    }

    /// Number of users with any notification event.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether nobody has any.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

impl Fold for Notifications {
    fn families(&self) -> &'static [Family] {
        &[Family::Notification]
    }

    fn apply(&mut self, e: &Event) -> bool {
        let (Payload::Notification(n), Some(user)) = (&e.payload, user_of(e)) else {
            return false;
        };
        let (campaign_id, window, outcome) = match n {
            NotificationEvent::PushSent(x) => (&x.campaign_id, &x.window, Outcome::Sent),
            NotificationEvent::PushOpened(x) => (&x.campaign_id, &None, Outcome::Opened),
            NotificationEvent::PushSuppressed(x) => {
                (&x.campaign_id, &x.window, Outcome::Suppressed(x.rule))
            }
            NotificationEvent::PushDeferred(x) => (
                &x.campaign_id,
                &x.window,
                Outcome::Deferred(x.rule, x.until.0),
            ),
        };
        let s = Stamp::of(e);
        self.users.entry(user.to_owned()).or_default().insert(
            s,
            Push {
                at: s.at,
                campaign_id: campaign_id.clone(),
                window: window.clone(),
                outcome,
            },
        );
        true
    }
}
