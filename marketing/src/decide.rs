//! The send decision: for one message due to one user now, send it, defer
//! it (to an instant, for a rule) or suppress it (for a rule) — and the
//! ledger of what was decided, which caps count and idempotency keys guard.
//!
//! Invariant: a key — one per (campaign, user, window) — is decided once.
//! Once a key is sent or suppressed, any later decision on it is
//! [`Decision::Duplicate`] (a replayed trigger, a retried batch, a restart
//! that rebuilt the ledger from the log); a deferred key is `Duplicate`
//! until its instant, then decided again as the same message. Nothing else
//! reads or writes the ledger, so a dry run over a copy decides exactly
//! what the real run will.
//!
//! The order of the checks: the key; opt-out; global holdout and the
//! campaign's control group (not for transactional messages); the
//! deadline; quiet hours (defer to their end); the campaign's caps then
//! the global caps (not for transactional messages; defer to the next
//! local day or week, past quiet hours). A deferral past the message's
//! deadline is a suppression for the same rule. [`Decider::decide_batch`]
//! decides each user's messages in priority order, so under a cap the
//! higher priority goes and the lower is deferred or suppressed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::assign;
use crate::policy::{CampaignRules, Caps, Policy, Rule};
use crate::zone::Zone;

/// What to do with a message now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send it now.
    Send,
    /// Decide again at `until`.
    Defer {
        /// When.
        until: DateTime<Utc>,
        /// Why.
        rule: Rule,
    },
    /// Never send it.
    Suppress {
        /// Why.
        rule: Rule,
    },
    /// Its key was decided before: nothing to do, nothing to log.
    Duplicate,
}

/// A message due to a user.
#[derive(Debug, Clone, Copy)]
pub struct Due<'a> {
    /// Its campaign.
    pub campaign: &'a CampaignRules,
    /// The user.
    pub user: &'a str,
    /// The user's zone.
    pub zone: Zone,
    /// The user accepts pushes.
    pub opted_in: bool,
    /// The campaign's window: one message per (campaign, user, window) —
    /// `once` for a one-off campaign, the local day for a daily trigger,
    /// the triggering event's id for an event trigger.
    pub window: &'a str,
    /// Not worth sending after this.
    pub deadline: Option<DateTime<Utc>>,
}

impl Due<'_> {
    /// Its idempotency key: `<campaign>:<user>:<window>` (also the
    /// delivery's `Nats-Msg-Id` and webhook id).
    pub fn key(&self) -> String {
        idempotency_key(&self.campaign.id, self.user, self.window)
    }
}

/// The idempotency key of (campaign, user, window).
pub fn idempotency_key(campaign: &str, user: &str, window: &str) -> String {
    format!("{campaign}:{user}:{window}")
}

/// A key's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyState {
    Done,
    Deferred(DateTime<Utc>),
}

/// One send, as caps count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sent {
    at: DateTime<Utc>,
    campaign: u32,
}

/// What was sent to whom and which keys were decided.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    campaigns: HashMap<String, u32>,
    /// Each user's capped (non-transactional) sends, oldest first.
    sent: HashMap<String, Vec<Sent>>,
    keys: HashMap<String, KeyState>,
}

impl Ledger {
    fn campaign(&mut self, id: &str) -> u32 {
        if let Some(&c) = self.campaigns.get(id) {
            return c;
        }
        let c = self.campaigns.len() as u32;
        self.campaigns.insert(id.to_owned(), c);
        c
    }

    /// Records a capped send of `campaign` to `user` at `at` (what the log's
    /// `push_sent` events say, when the ledger is rebuilt).
    pub fn record_sent(&mut self, campaign: &str, user: &str, at: DateTime<Utc>) {
        let campaign = self.campaign(campaign);
        let h = self.sent.entry(user.to_owned()).or_default();
        let i = h.partition_point(|s| s.at <= at);
        h.insert(i, Sent { at, campaign });
    }

    /// Marks `key` decided for good (sent or suppressed).
    pub fn record_done(&mut self, key: String) {
        self.keys.insert(key, KeyState::Done);
    }

    /// Marks `key` deferred to `until` (a key decided for good stays so).
    pub fn record_deferred(&mut self, key: String, until: DateTime<Utc>) {
        let s = self.keys.entry(key).or_insert(KeyState::Deferred(until));
        if *s != KeyState::Done {
            *s = KeyState::Deferred(until);
        }
    }

    /// Keys decided so far.
    pub fn keys(&self) -> usize {
        self.keys.len()
    }

    /// `user`'s capped sends in the local day and week of `at` — of every
    /// campaign, and of `campaign` only: (day, week, campaign day,
    /// campaign week).
    fn counts(&self, user: &str, campaign: &str, zone: &Zone, at: DateTime<Utc>) -> [u32; 4] {
        let mut n = [0; 4];
        let Some(h) = self.sent.get(user) else {
            return n;
        };
        let c = self.campaigns.get(campaign).copied();
        let (day, week) = (zone.date(at), zone.week(at));
        // a week is at most 7 days and 2 hours of UTC (a DST change):
        // older sends cannot count
        let from = at - chrono::Duration::days(8);
        for s in h.iter().rev().take_while(|s| s.at >= from) {
            if zone.week(s.at) != week {
                continue;
            }
            let today = zone.date(s.at) == day;
            let mine = Some(s.campaign) == c;
            n[0] += u32::from(today);
            n[1] += 1;
            n[2] += u32::from(today && mine);
            n[3] += u32::from(mine);
        }
        n
    }
}

/// Decides messages under a policy, keeping the ledger.
#[derive(Debug, Clone, Default)]
pub struct Decider {
    /// The rules.
    pub policy: Policy,
    /// What was decided.
    pub ledger: Ledger,
}

impl Decider {
    /// A decider with an empty ledger.
    pub fn new(policy: Policy) -> Decider {
        Decider {
            policy,
            ledger: Ledger::default(),
        }
    }

    /// What [`Decider::decide`] would decide for `d` at `now`, recording
    /// nothing: a campaign's preview (each recipient has one message, so
    /// nothing one decision records can change another's).
    pub fn preview(&self, d: &Due<'_>, now: DateTime<Utc>) -> Decision {
        if self.seen(&d.key(), now) {
            return Decision::Duplicate;
        }
        self.judge(d, now)
    }

    /// Whether `key` was decided (and is not due again by `now`).
    fn seen(&self, key: &str, now: DateTime<Utc>) -> bool {
        match self.ledger.keys.get(key) {
            Some(KeyState::Done) => true,
            Some(KeyState::Deferred(until)) => now < *until,
            None => false,
        }
    }

    /// Decides `d` at `now` and records the outcome.
    pub fn decide(&mut self, d: &Due<'_>, now: DateTime<Utc>) -> Decision {
        let decision = self.preview(d, now);
        self.record(d, decision, now);
        decision
    }

    /// Records `decision`, which [`Decider::preview`] gave for `d` at
    /// `now` (a message that turned out not to be sendable — a variable
    /// without a value — is simply not recorded).
    pub fn record(&mut self, d: &Due<'_>, decision: Decision, now: DateTime<Utc>) {
        let key = d.key();
        match decision {
            Decision::Send => {
                if !d.campaign.transactional {
                    self.ledger.record_sent(&d.campaign.id, d.user, now);
                }
                self.ledger.record_done(key);
            }
            Decision::Suppress { .. } => self.ledger.record_done(key),
            Decision::Defer { until, .. } => self.ledger.record_deferred(key, until),
            Decision::Duplicate => {}
        }
    }

    /// Decides every message of `due` at `now`, each user's in order of
    /// priority (highest first; then campaign id, then window, so the
    /// order never depends on the input's); the decisions are in `due`'s
    /// order.
    pub fn decide_batch(&mut self, due: &[Due<'_>], now: DateTime<Utc>) -> Vec<Decision> {
        let mut order: Vec<usize> = (0..due.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&due[a], &due[b]);
            a.user
                .cmp(b.user)
                .then(b.campaign.priority.cmp(&a.campaign.priority))
                .then(a.campaign.id.cmp(&b.campaign.id))
                .then(a.window.cmp(b.window))
        });
        let mut out = vec![Decision::Duplicate; due.len()];
        for i in order {
            out[i] = self.decide(&due[i], now);
        }
        out
    }

    /// What `d` at `now` should become (no recording).
    fn judge(&self, d: &Due<'_>, now: DateTime<Utc>) -> Decision {
        let c = d.campaign;
        if !d.opted_in {
            return Decision::Suppress { rule: Rule::OptOut };
        }
        if !c.transactional {
            if assign::in_holdout(d.user, self.policy.holdout_share) {
                return Decision::Suppress {
                    rule: Rule::Holdout,
                };
            }
            if assign::in_control(&c.id, d.user, c.control_share) {
                return Decision::Suppress {
                    rule: Rule::Control,
                };
            }
        }
        if d.deadline.is_some_and(|t| t < now) {
            return Decision::Suppress {
                rule: Rule::Expired,
            };
        }
        if let Some(until) = self.quiet_release(d, now) {
            return self.defer(d, until, Rule::QuietHours);
        }
        if c.transactional {
            return Decision::Send;
        }
        let [day, week, c_day, c_week] = self.ledger.counts(d.user, &c.id, &d.zone, now);
        for (caps, (day, week), rule) in [
            (c.caps, (c_day, c_week), Rule::CampaignCap),
            (self.policy.caps, (day, week), Rule::FrequencyCap),
        ] {
            if let Some(next) = reopens(&caps, day, week, &d.zone, now) {
                let until = self.quiet_release(d, next).unwrap_or(next);
                return self.defer(d, until, rule);
            }
        }
        Decision::Send
    }

    fn quiet_release(&self, d: &Due<'_>, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.policy.quiet_hours.and_then(|q| q.release(at, &d.zone))
    }

    fn defer(&self, d: &Due<'_>, until: DateTime<Utc>, rule: Rule) -> Decision {
        if d.deadline.is_some_and(|t| t < until) {
            Decision::Suppress { rule }
        } else {
            Decision::Defer { until, rule }
        }
    }
}

/// When a cap reached at `now` lets messages through again: `None` when
/// it is not reached; the next local week when the weekly cap is, else the
/// next local day.
fn reopens(
    caps: &Caps,
    day: u32,
    week: u32,
    zone: &Zone,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if caps.per_week.is_some_and(|cap| week >= cap) {
        return Some(zone.next_week(now));
    }
    if caps.per_day.is_some_and(|cap| day >= cap) {
        return Some(zone.next_day(now));
    }
    None
}
