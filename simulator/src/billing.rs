//! The subscription life cycle of a simulated user: free tier, trials that
//! convert or not, monthly renewals, failed payments and retries, plan
//! changes, voluntary cancellation (likelier with low engagement and bad
//! QoE), refunds, and returns after a cancel.

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

/// Advances one day; returns the new state and the day's billing events
/// (each with its offset in ms from `d.at`).
pub fn step<R: Rng>(s: SubState, d: Day<'_, R>) -> (SubState, Vec<(i64, Payload)>) {
    let mut ev = Vec::new();
    let m = d.market;
    // unhappiness raises every exit probability
    let unhappy = (1.0 - d.engagement).clamp(0.0, 1.0) * 0.12
        + (1.0 - d.satisfaction).clamp(0.0, 1.0).powi(2) * 0.6;
    let next = match s {
        SubState::Trial { plan, until } if d.day >= until => {
            let convert = (0.85 - unhappy * 2.5).clamp(0.05, 0.95);
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
            let cancel = (0.025 + unhappy).clamp(0.0, 0.9);
            if d.rng.random_bool(cancel) {
                let why = if d.satisfaction < 0.6 {
                    "playback_quality"
                } else if d.engagement < 0.3 {
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
