//! `[limits]` of the configuration: the validation limits in the units an
//! operator writes (days, seconds), validated into [`Limits`].

use serde::{Deserialize, Serialize};

use crate::validate::Limits;

/// `[limits]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest event, bytes.
    pub max_event_bytes: usize,
    /// Most events per request.
    pub max_batch_events: usize,
    /// Largest request body, bytes.
    pub max_batch_bytes: usize,
    /// How late an event may arrive (`received_at − occurred_at`), days.
    pub max_age_days: i64,
    /// How far `occurred_at` may run ahead of `received_at`, seconds.
    pub max_skew_secs: i64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let l = Limits::default();
        Self {
            max_event_bytes: l.max_event_bytes,
            max_batch_events: l.max_batch_events,
            max_batch_bytes: l.max_batch_bytes,
            max_age_days: l.max_age_ms / 86_400_000,
            max_skew_secs: l.max_skew_ms / 1_000,
        }
    }
}

impl LimitsConfig {
    /// Checks the fields; the error names the one that is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_event_bytes == 0
            || self.max_batch_events == 0
            || self.max_batch_bytes < self.max_event_bytes
        {
            return Err("config field `limits.max_batch_bytes` must be ≥ limits.max_event_bytes > 0, and limits.max_batch_events > 0".into());
        }
        if !(0..=3_650).contains(&self.max_age_days) || !(0..=86_400).contains(&self.max_skew_secs)
        {
            return Err("config field `limits.max_age_days` must be within 0..=3650 and `limits.max_skew_secs` within 0..=86400".into());
        }
        Ok(())
    }

    /// The validator's limits.
    pub fn limits(&self) -> Limits {
        Limits {
            max_event_bytes: self.max_event_bytes,
            max_batch_events: self.max_batch_events,
            max_batch_bytes: self.max_batch_bytes,
            max_age_ms: self.max_age_days * 86_400_000,
            max_skew_ms: self.max_skew_secs * 1_000,
            ..Limits::default()
        }
    }
}
