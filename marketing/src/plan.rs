//! A campaign's decisions for its whole audience at one instant: what a
//! preview counts, what a dry run lists, and what the sender acts on —
//! one function, so the three cannot disagree.
//!
//! Each recipient (a segment row: `user_id` and its other columns as
//! variables) is decided under the policy ([`Decider`]); a recipient the
//! message would reach (sent now or deferred) has it rendered with the
//! row's variables and the profile's `country` and `language`, and a
//! variable without a value is counted as missing — a campaign with
//! missing variables is refused at launch, so the error shows at preview,
//! never at send. A user listed twice in the segment is decided once.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::assign;
use crate::campaign::{Checked, Rendered};
use crate::decide::{Decider, Decision, Due};
use crate::zone::{Zone, ZoneSource};

/// One row of the audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The user.
    pub user_id: String,
    /// The segment's other columns (non-null values, as text).
    pub vars: BTreeMap<String, String>,
}

/// What the profiles say of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// The user's zone.
    pub zone: Zone,
    /// Accepts pushes.
    pub opted_in: bool,
    /// Country, for templates.
    pub country: Option<String>,
    /// Language, for templates.
    pub language: Option<String>,
}

impl Reach {
    /// A user the profiles do not know: UTC, not opted in.
    pub const UNKNOWN: Reach = Reach {
        zone: Zone::DEFAULT,
        opted_in: false,
        country: None,
        language: None,
    };
}

/// One recipient's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The user.
    pub user_id: String,
    /// The idempotency key.
    pub key: String,
    /// The decision.
    pub decision: Decision,
    /// The message, for a user it would reach; `None` for one it would
    /// not, or when a variable is missing ([`Planned::missing`]).
    pub message: Option<Rendered>,
    /// The first variable without a value, if any.
    pub missing: Option<String>,
}

/// The counts of a plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Distinct users in the segment.
    pub audience: usize,
    /// Rows naming a user already listed.
    pub repeated_rows: usize,
    /// Outcomes: `send`, `deferred:<rule>`, `suppressed:<rule>`,
    /// `duplicate` (decided before under the same key).
    pub outcomes: BTreeMap<String, usize>,
    /// Where recipients' zones came from.
    pub zones: BTreeMap<ZoneSource, usize>,
    /// Variables without a value, and for how many reached users.
    pub missing_variables: BTreeMap<String, usize>,
}

/// How a plan decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Record nothing (preview, dry run).
    Preview,
    /// Record every decision (the sender).
    Record,
}

/// A decision's name in the counts.
pub fn outcome_name(d: &Decision) -> String {
    match d {
        Decision::Send => "send".into(),
        Decision::Duplicate => "duplicate".into(),
        Decision::Defer { rule, .. } => format!("deferred:{}", rule.as_str()),
        Decision::Suppress { rule } => format!("suppressed:{}", rule.as_str()),
    }
}

/// Decides `campaign`'s message for every recipient at `now`.
#[allow(clippy::too_many_arguments)]
pub fn plan(
    campaign_id: &str,
    campaign: &Checked,
    window: &str,
    recipients: &[Recipient],
    reach: impl Fn(&str) -> Reach,
    decider: &mut Decider,
    now: DateTime<Utc>,
    mode: Mode,
) -> (Summary, Vec<Planned>) {
    let rules = campaign.rules(campaign_id);
    let deadline = campaign
        .definition
        .ttl_hours
        .map(|h| now + chrono::Duration::hours(i64::from(h)));
    let mut summary = Summary::default();
    let mut seen = HashSet::with_capacity(recipients.len());
    let mut out = Vec::with_capacity(recipients.len());
    for r in recipients {
        if !seen.insert(r.user_id.as_str()) {
            summary.repeated_rows += 1;
            continue;
        }
        let p = reach(&r.user_id);
        let due = Due {
            campaign: &rules,
            user: &r.user_id,
            zone: p.zone,
            opted_in: p.opted_in,
            window,
            deadline,
        };
        let decision = decider.preview(&due, now);
        *summary.outcomes.entry(outcome_name(&decision)).or_default() += 1;
        *summary.zones.entry(p.zone.source).or_default() += 1;
        let reaches = matches!(decision, Decision::Send | Decision::Defer { .. });
        let (message, missing) = if reaches {
            let value = |k: &str| -> Option<&str> {
                match k {
                    "user_id" => Some(r.user_id.as_str()),
                    "country" => p.country.as_deref(),
                    "language" => p.language.as_deref(),
                    _ => r.vars.get(k).map(String::as_str),
                }
            };
            match campaign.render(value) {
                Ok(m) => (Some(m), None),
                Err(crate::TemplateError::Missing(v)) => {
                    *summary.missing_variables.entry(v.clone()).or_default() += 1;
                    (None, Some(v))
                }
                Err(e) => (None, Some(e.to_string())),
            }
        } else {
            (None, None)
        };
        if mode == Mode::Record && missing.is_none() {
            decider.record(&due, decision, now);
        }
        out.push(Planned {
            user_id: r.user_id.clone(),
            key: due.key(),
            decision,
            message,
            missing,
        });
    }
    summary.audience = out.len();
    (summary, out)
}

/// Up to `n` of the planned users the message would reach, drawn by a
/// stable random order (the same sample each time for the same audience).
pub fn sample(planned: &[Planned], n: usize) -> Vec<&Planned> {
    let mut reached: Vec<(f64, &Planned)> = planned
        .iter()
        .filter(|p| matches!(p.decision, Decision::Send | Decision::Defer { .. }))
        .map(|p| (assign::unit("preview-sample", &p.user_id), p))
        .collect();
    reached.sort_by(|a, b| a.0.total_cmp(&b.0));
    reached.into_iter().take(n).map(|(_, p)| p).collect()
}
