//! The rules a send obeys: quiet hours and frequency caps, global and per
//! campaign, in the user's own calendar.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::zone::Zone;

/// The local hours in which nothing but a transactional message may be
/// sent, `[start, end)`; `start > end` spans midnight (21:00–08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    /// When they begin, local time.
    pub start: NaiveTime,
    /// When they end, local time.
    pub end: NaiveTime,
}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours {
            start: NaiveTime::from_hms_opt(21, 0, 0).expect("21:00"),
            end: NaiveTime::from_hms_opt(8, 0, 0).expect("08:00"),
        }
    }
}

impl QuietHours {
    /// Whether the local time `t` is quiet.
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start <= self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// When a message due at `at` may go out for a user in `zone`: `None`
    /// when `at` is not quiet, else the instant the quiet hours end (the
    /// local `end` on the day they end, resolved across a DST change).
    pub fn release(&self, at: DateTime<Utc>, zone: &Zone) -> Option<DateTime<Utc>> {
        let local = zone.local(at);
        if !self.contains(local.time()) {
            return None;
        }
        let day = if local.time() < self.end {
            local.date()
        } else {
            local.date() + Duration::days(1)
        };
        let release = zone.instant(day.and_time(self.end));
        // the end resolved into a gap may land before `at` (never in
        // practice: quiet hours end after any DST change of the night)
        Some(release.max(at))
    }
}

/// Frequency caps: at most so many messages per local calendar day and per
/// local ISO week (Monday to Sunday); `None` is no cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caps {
    /// Per local day.
    pub per_day: Option<u32>,
    /// Per local week.
    pub per_week: Option<u32>,
}

/// The rules every marketing message obeys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Quiet hours in each user's zone; `None`: none.
    pub quiet_hours: Option<QuietHours>,
    /// Caps over every campaign's (non-transactional) messages.
    pub caps: Caps,
    /// Share of users no marketing message reaches (the global holdout).
    pub holdout_share: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            quiet_hours: Some(QuietHours::default()),
            caps: Caps {
                per_day: Some(2),
                per_week: Some(5),
            },
            holdout_share: 0.05,
        }
    }
}

/// What a campaign says of its own messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignRules {
    /// The campaign's id.
    pub id: String,
    /// Higher wins when caps allow only some of a user's messages.
    pub priority: i32,
    /// Transactional (a payment failed, a download is ready): not capped,
    /// not counted by caps, never held out; still opt-outs and quiet hours.
    pub transactional: bool,
    /// Share of its audience held back as the control group.
    pub control_share: f64,
    /// Its own caps, over its messages only.
    pub caps: Caps,
}

/// Why a message was not sent (now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The user does not accept pushes.
    OptOut,
    /// The user is in the global holdout.
    Holdout,
    /// The user is in the campaign's control group.
    Control,
    /// Due in the user's quiet hours.
    QuietHours,
    /// The global cap is reached.
    FrequencyCap,
    /// The campaign's own cap is reached.
    CampaignCap,
    /// Its deadline passed before it could go.
    Expired,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 7] = [
        Rule::OptOut,
        Rule::Holdout,
        Rule::Control,
        Rule::QuietHours,
        Rule::FrequencyCap,
        Rule::CampaignCap,
        Rule::Expired,
    ];

    /// Its name in events and answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::OptOut => "opt_out",
            Rule::Holdout => "holdout",
            Rule::Control => "control",
            Rule::QuietHours => "quiet_hours",
            Rule::FrequencyCap => "frequency_cap",
            Rule::CampaignCap => "campaign_cap",
            Rule::Expired => "expired",
        }
    }
}
