//! The `[recommender]` configuration section.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[recommender]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RecommenderConfig {
    /// Serving checks `<lake>/models/CURRENT` for a new model this often
    /// (`reload_ms`).
    #[serde(rename = "reload_ms", with = "showrunner_events::time::millis")]
    pub reload: Duration,
    /// At start, serving replays this much of the watch and user events
    /// from the stream over the lake snapshot it loads (covers events not
    /// yet ingested; `replay_minutes`).
    #[serde(rename = "replay_minutes", with = "showrunner_events::time::minutes")]
    pub replay: Duration,
    /// The trainer role retrains on the lake this often
    /// (`retrain_every_secs`; 0: never, after standalone's first training).
    #[serde(rename = "retrain_every_secs", with = "showrunner_events::time::secs")]
    pub retrain_every: Duration,
}

impl Default for RecommenderConfig {
    fn default() -> Self {
        Self {
            reload: Duration::from_secs(1),
            replay: Duration::from_secs(3_600),
            retrain_every: Duration::from_secs(1_800),
        }
    }
}

impl RecommenderConfig {
    /// Checks the values; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(Duration::from_millis(10)..=Duration::from_secs(3_600)).contains(&self.reload) {
            return Err("config field `recommender.reload_ms` must be within 10..=3600000".into());
        }
        Ok(())
    }
}
