//! Entitlements: each user's subscription state and rentals, and from them
//! what the user may play at an instant — folded from the `billing` events.
//!
//! The subscription state at t replays the user's `subscription_started`,
//! `renewed`, `plan_changed` and `canceled` events with `occurred_at` ≤ t in
//! (`occurred_at`, `event_id`) order, by the rule of docs/metrics.md
//! ("Subscriptions and revenue") that the warehouse's `subscription_changes`
//! SQL implements: a trial runs from a `subscription_started` with
//! `trial = true` to the next event that is not a `plan_changed`; its price
//! is 0; `canceled` ends the subscription (status canceled, no plan);
//! `payment_failed` and `refunded` change nothing. A test compares this fold
//! with that SQL on a simulated lake, user by user and month by month.
//!
//! The events are kept per user in stamp order (a set: a repeat is
//! absorbed, arrival order does not matter); a user has a few per month.

use std::collections::{BTreeMap, HashMap};

use showrunner_events::types::{BillingEvent, Payload};
use showrunner_events::{Event, Family};

use crate::{Fold, Stamp, user_of};

/// Rental window when the event does not say, hours.
pub const DEFAULT_RENTAL_HOURS: i64 = 48;

/// Subscription status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// In a free trial.
    Trial,
    /// Paying.
    Active,
    /// Canceled.
    Canceled,
}

impl Status {
    /// As the warehouse spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Trial => "trial",
            Status::Active => "active",
            Status::Canceled => "canceled",
        }
    }

    /// Whether the subscription gives access (trial or active).
    pub fn grants_access(self) -> bool {
        matches!(self, Status::Trial | Status::Active)
    }
}

/// A user's subscription at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Status.
    pub status: Status,
    /// Plan (None once canceled).
    pub plan: Option<String>,
    /// Paid monthly price, minor units: 0 in a trial and once canceled (the
    /// user's MRR).
    pub price_minor: i64,
    /// Currency (None once canceled).
    pub currency: Option<String>,
    /// When this state began, ms.
    pub since: i64,
}

/// What may be played, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Through a trial or paid subscription to `plan`.
    Subscription {
        /// The plan.
        plan: String,
        /// Trial or active.
        status: Status,
    },
    /// Through a rental of this title, until `until` (ms).
    Rental {
        /// End of the rental window, ms.
        until: i64,
    },
}

/// Why nothing may be played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// No subscription now (never had one, or canceled) and no rental.
    NotSubscribed,
    /// The title was rented, but the window is over.
    RentalExpired,
}

impl Denial {
    /// A stable code clients can switch on.
    pub fn code(self) -> &'static str {
        match self {
            Denial::NotSubscribed => "not_subscribed",
            Denial::RentalExpired => "rental_expired",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Change {
    Started {
        plan: String,
        price_minor: i64,
        currency: String,
        trial: bool,
    },
    Renewed {
        plan: String,
        price_minor: i64,
        currency: String,
    },
    PlanChanged {
        plan: String,
        price_minor: i64,
        currency: String,
    },
    Canceled,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct State {
    changes: BTreeMap<Stamp, Change>,
    /// Rentals by stamp: (title, end of window).
    rentals: BTreeMap<Stamp, (String, i64)>,
}

impl State {
    fn subscription_at(&self, t: i64) -> Option<Subscription> {
        let mut out = None;
        let mut in_trial = false;
        for (s, c) in self.changes.iter().take_while(|(s, _)| s.at <= t) {
            let (plan, price, currency) = match c {
                Change::Started {
                    plan,
                    price_minor,
                    currency,
                    trial,
                } => {
                    in_trial = *trial;
                    (plan, *price_minor, currency)
                }
                Change::Renewed {
                    plan,
                    price_minor,
                    currency,
                } => {
                    in_trial = false;
                    (plan, *price_minor, currency)
                }
                Change::PlanChanged {
                    plan,
                    price_minor,
                    currency,
                } => (plan, *price_minor, currency),
                Change::Canceled => {
                    in_trial = false;
                    out = Some(Subscription {
                        status: Status::Canceled,
                        plan: None,
                        price_minor: 0,
                        currency: None,
                        since: s.at,
                    });
                    continue;
                }
            };
            out = Some(Subscription {
                status: if in_trial {
                    Status::Trial
                } else {
                    Status::Active
                },
                plan: Some(plan.clone()),
                price_minor: if in_trial { 0 } else { price },
                currency: Some(currency.clone()),
                since: s.at,
            });
        }
        out
    }
}

/// Every user's subscriptions and rentals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entitlements {
    users: HashMap<String, State>,
}

impl Entitlements {
    /// The user's subscription at `t` (ms; events at `t` included); None
    /// before their first subscription event.
    pub fn subscription_at(&self, user: &str, t: i64) -> Option<Subscription> {
        self.users.get(user)?.subscription_at(t)
    }

    /// The end of the latest rental window of `title` by `user` that began
    /// at or before `t`.
    pub fn rental_until(&self, user: &str, title: &str, t: i64) -> Option<i64> {
        self.users
            .get(user)?
            .rentals
            .iter()
            .filter(|(s, (x, _))| s.at <= t && x == title)
            .map(|(_, (_, until))| *until)
            .max()
    }

    /// What lets `user` play `title` at `t`, or why nothing does. A
    /// subscription gives access to the catalog (which plan includes which
    /// title is the playback service's rule, not the events'); a rental to
    /// its title for its window.
    pub fn access(&self, user: &str, title: &str, t: i64) -> Result<Access, Denial> {
        if let Some(s) = self.subscription_at(user, t)
            && s.status.grants_access()
        {
            return Ok(Access::Subscription {
                plan: s.plan.unwrap_or_default(),
                status: s.status,
            });
        }
        match self.rental_until(user, title, t) {
            Some(until) if t < until => Ok(Access::Rental { until }),
            Some(_) => Err(Denial::RentalExpired),
            None => Err(Denial::NotSubscribed),
        }
    }

    /// Every user with a billing event.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }
}

impl Fold for Entitlements {
    fn families(&self) -> &'static [Family] {
        &[Family::Billing]
    }

    fn apply(&mut self, e: &Event) -> bool {
        let (Payload::Billing(b), Some(user)) = (&e.payload, user_of(e)) else {
            return false;
        };
        let s = Stamp::of(e);
        let change = match b {
            BillingEvent::SubscriptionStarted(x) => Change::Started {
                plan: x.plan.clone(),
                price_minor: x.price_minor,
                currency: x.currency.0.clone(),
                trial: x.trial,
            },
            BillingEvent::Renewed(x) => Change::Renewed {
                plan: x.plan.clone(),
                price_minor: x.price_minor,
                currency: x.currency.0.clone(),
            },
            BillingEvent::PlanChanged(x) => Change::PlanChanged {
                plan: x.plan.clone(),
                price_minor: x.price_minor,
                currency: x.currency.0.clone(),
            },
            BillingEvent::Canceled(_) => Change::Canceled,
            BillingEvent::RentalPurchased(x) => {
                let Some(title) = e.envelope.title_id.clone() else {
                    return false;
                };
                let hours = x.rental_hours.unwrap_or(DEFAULT_RENTAL_HOURS);
                let until = s.at.saturating_add(hours.saturating_mul(3_600_000));
                let state = self.users.entry(user.to_owned()).or_default();
                state.rentals.insert(s, (title, until));
                return true;
            }
            BillingEvent::PaymentFailed(_)
            | BillingEvent::Refunded(_)
            | BillingEvent::AdImpression(_) => return false,
        };
        self.users
            .entry(user.to_owned())
            .or_default()
            .changes
            .insert(s, change);
        true
    }
}
