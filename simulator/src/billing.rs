//! The subscription life cycle of a simulated user: free tier, trials that
//! convert or not, monthly renewals, failed payments and retries, plan
//! changes, voluntary cancellation (likelier when interest is fading, with
//! low engagement and after bad QoE), refunds, and returns after a cancel.

use rand::Rng;
use showrunner_events::types::Currency;
use showrunner_events::types::billing::*;
use showrunner_events::{Payload, Timestamp};

use crate::catalog::MARKETS;

/// A plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Ad-supported free tier (no subscription).
    Free,
    /// Basic.
    Basic,
    /// Standard.
    Standard,
    /// Premium.
    Premium,
}

impl Plan {
    /// Wire name.
    pub fn name(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Basic => "basic",
            Plan::Standard => "standard",
            Plan::Premium => "premium",
        }
    }

    /// Monthly price in `market`, minor units.
    pub fn price(self, market: usize) -> i64 {
        match self {
            Plan::Free => 0,
            Plan::Basic => MARKETS[market].prices[0],
            Plan::Standard => MARKETS[market].prices[1],
            Plan::Premium => MARKETS[market].prices[2],
        }
    }
}

/// Where a user's subscription stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SubState {
    /// Not signed up yet.
    None,
    /// Ad-supported free tier.
    Free,
    /// In a free trial until `until` (day index).
    Trial {
        /// Plan to convert to.
        plan: Plan,
        /// Conversion day.
        until: u32,
    },
    /// Paying; renews on `renew_day`.
    Active {
        /// Plan.
        plan: Plan,
        /// Next renewal day.
        renew_day: u32,
    },
    /// A renewal payment failed; retried on `retry_day`.
    PastDue {
        /// Plan.
        plan: Plan,
        /// Retry day.
        retry_day: u32,
    },
    /// Canceled on `since` (day index).
    Canceled {
        /// Day of the cancel.
        since: u32,
    },
}

impl SubState {
    /// May the user watch?
    pub fn entitled(self) -> bool {
        matches!(
            self,
            SubState::Free
                | SubState::Trial { .. }
                | SubState::Active { .. }
                | SubState::PastDue { .. }
        )
    }

    /// Sees ads.
    pub fn ads(self) -> bool {
        matches!(self, SubState::Free)
    }
}

/// Inputs of one day's billing step.
pub struct Day<'a, R: Rng> {
    /// Day index.
    pub day: u32,
    /// Start of the user's billing hour that day.
    pub at: Timestamp,
    /// The user's market.
    pub market: usize,
    /// Engagement EWMA.
    pub engagement: f64,
    /// Satisfaction EWMA.
    pub satisfaction: f64,
    /// Days the user's interest has been fading, if it is.
    pub fading_days: Option<u32>,
    /// Recent bad playback: see [`crate::audience::User::frustration`].
    pub frustration: f64,
    /// Random stream.
    pub rng: &'a mut R,
}

fn currency(market: usize) -> Currency {
    Currency::new(MARKETS[market].currency)
}

fn started(plan: Plan, market: usize, trial: bool) -> Payload {
    Payload::Billing(BillingEvent::SubscriptionStarted(SubscriptionStarted {
        plan: plan.name().into(),
        price_minor: plan.price(market),
        currency: currency(market),
        trial,
    }))
}

fn renewed(plan: Plan, market: usize) -> Payload {
    Payload::Billing(BillingEvent::Renewed(Renewed {
        plan: plan.name().into(),
        price_minor: plan.price(market),
        currency: currency(market),
    }))
}

fn canceled(reason: &str) -> Payload {
    Payload::Billing(BillingEvent::Canceled(Canceled {
        reason: Some(reason.into()),
    }))
}

/// The state at sign-up and its events.
pub fn sign_up(plan: Plan, trial: bool, day: u32, market: usize) -> (SubState, Vec<Payload>) {
    match plan {
        Plan::Free => (SubState::Free, vec![]),
        p if trial => (
            SubState::Trial {
                plan: p,
                until: day + 7,
            },
            vec![started(p, market, true)],
        ),
        p => (
            SubState::Active {
                plan: p,
                renew_day: day + 30,
            },
            vec![started(p, market, false)],
        ),
    }
}

/// The most a user's interest fades: activity falls to 10 % of its usual.
pub const MAX_FADE: f64 = 0.9;

/// Days over which fading interest reaches [`MAX_FADE`].
pub const FADE_DAYS: f64 = 7.0;

/// Days of fading before it weighs on a renewal at all, and after which it
/// weighs fully: people stop watching weeks before they cancel.
pub const GIVE_UP_DAYS: (f64, f64) = (14.0, 49.0);

/// The daily probability that a subscriber's interest starts to fade (the
/// catalogue stops holding them): 0.1 %, plus 0.04 % per point of
/// satisfaction lost — a stalled or failed evening is what starts it.
pub fn fade_hazard(satisfaction: f64) -> f64 {
    0.001 + 0.04 * (1.0 - satisfaction).clamp(0.0, 1.0)
}

/// How far interest has faded `days` after it started (the share of the
/// usual activity lost): linear to [`MAX_FADE`] over [`FADE_DAYS`].
pub fn fade(days: u32) -> f64 {
    (f64::from(days) / FADE_DAYS).min(MAX_FADE)
}

/// The probability a paying subscriber cancels at a renewal: a 0.8 % floor
/// nothing in the events explains (moving, money), up to 85 % for interest
/// that has been fading for long enough (linear over [`GIVE_UP_DAYS`]),
/// 3 % × (1 − engagement), and
/// 60 % × the recent share of bad playback (`frustration`).
pub fn cancel_probability(fading_days: Option<u32>, engagement: f64, frustration: f64) -> f64 {
    let (from, to) = GIVE_UP_DAYS;
    let given_up = fading_days.map_or(0.0, |d| {
        ((f64::from(d) - from) / (to - from)).clamp(0.0, 1.0)
    });
    (0.005
        + 0.85 * given_up
        + 0.12 * (1.0 - engagement).clamp(0.0, 1.0).powi(2)
        + 2.0 * (frustration - 0.05).clamp(0.0, 1.0))
    .clamp(0.0, 0.95)
}

/// Advances one day; returns the new state and the day's billing events
/// (each with its offset in ms from `d.at`).
pub fn step<R: Rng>(s: SubState, d: Day<'_, R>) -> (SubState, Vec<(i64, Payload)>) {
    let mut ev = Vec::new();
    let m = d.market;
    // fading interest, low engagement and bad playback raise every exit
    let disengaged = (1.0 - d.engagement).clamp(0.0, 1.0);
    let faded = d.fading_days.map_or(0.0, fade);
    let next = match s {
        SubState::Trial { plan, until } if d.day >= until => {
            let convert =
                (0.85 - 0.8 * faded - 0.15 * disengaged - 1.5 * d.frustration).clamp(0.05, 0.95);
            if d.rng.random_bool(convert) {
                ev.push((0, renewed(plan, m)));
                SubState::Active {
                    plan,
                    renew_day: d.day + 30,
                }
            } else {
                ev.push((0, canceled("trial_not_converted")));
                SubState::Canceled { since: d.day }
            }
        }
        SubState::Active { plan, renew_day } if d.day >= renew_day => {
            let cancel = cancel_probability(d.fading_days, d.engagement, d.frustration);
            if d.rng.random_bool(cancel) {
                let why = if d.frustration > 0.15 {
                    "playback_quality"
                } else if faded > 0.3 || d.engagement < 0.3 {
                    "not_using"
                } else {
                    "too_expensive"
                };
                ev.push((0, canceled(why)));
                SubState::Canceled { since: d.day }
            } else if d.rng.random_bool(0.04) {
                ev.push((
                    0,
                    Payload::Billing(BillingEvent::PaymentFailed(PaymentFailed {
                        amount_minor: Some(plan.price(m)),
                        currency: Some(currency(m)),
                        reason: Some("card_declined".into()),
                    })),
                ));
                SubState::PastDue {
                    plan,
                    retry_day: d.day + 3,
                }
            } else {
                ev.push((0, renewed(plan, m)));
                if d.rng.random_bool(0.01) {
                    ev.push((
                        3_600_000,
                        Payload::Billing(BillingEvent::Refunded(Refunded {
                            amount_minor: plan.price(m),
                            currency: currency(m),
                        })),
                    ));
                }
                SubState::Active {
                    plan,
                    renew_day: d.day + 30,
                }
            }
        }
        SubState::Active { plan, renew_day } if d.rng.random_bool(0.0015) => {
            let to = if d.engagement > 0.5 {
                match plan {
                    Plan::Basic => Plan::Standard,
                    _ => Plan::Premium,
                }
            } else {
                match plan {
                    Plan::Premium => Plan::Standard,
                    _ => Plan::Basic,
                }
            };
            if to != plan {
                ev.push((
                    0,
                    Payload::Billing(BillingEvent::PlanChanged(PlanChanged {
                        plan: to.name().into(),
                        previous_plan: Some(plan.name().into()),
                        price_minor: to.price(m),
                        currency: currency(m),
                    })),
                ));
            }
            SubState::Active {
                plan: to,
                renew_day,
            }
        }
        SubState::PastDue { plan, retry_day } if d.day >= retry_day => {
            if d.rng.random_bool(0.6) {
                ev.push((0, renewed(plan, m)));
                SubState::Active {
                    plan,
                    renew_day: d.day + 27,
                }
            } else {
                ev.push((0, canceled("payment_failed")));
                SubState::Canceled { since: d.day }
            }
        }
        SubState::Canceled { since }
            if d.day > since + 14 && d.rng.random_bool(0.004 * d.satisfaction) =>
        {
            let plan = if d.rng.random_bool(0.5) {
                Plan::Standard
            } else {
                Plan::Basic
            };
            ev.push((0, started(plan, m, false)));
            SubState::Active {
                plan,
                renew_day: d.day + 30,
            }
        }
        SubState::Free if d.rng.random_bool(0.002 + 0.004 * d.engagement) => {
            ev.push((0, started(Plan::Basic, m, false)));
            SubState::Active {
                plan: Plan::Basic,
                renew_day: d.day + 30,
            }
        }
        other => other,
    };
    (next, ev)
}
