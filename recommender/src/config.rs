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
    /// Where model versions are published and served from: a directory
    /// (empty: `<lake>/models`; required when the lake is an object store,
    /// whose models are served from a local directory).
    pub models_dir: String,
}

impl Default for RecommenderConfig {
    fn default() -> Self {
        Self {
            reload: Duration::from_secs(1),
            replay: Duration::from_secs(3_600),
            retrain_every: Duration::from_secs(1_800),
            models_dir: String::new(),
        }
    }
}

impl RecommenderConfig {
    /// The models directory for a lake whose directory is `lake_dir`
    /// (`None`: an object store): the configured one, else
    /// `<lake>/models`; an object-store lake needs one configured.
    pub fn models(&self, lake_dir: Option<&std::path::Path>) -> Result<std::path::PathBuf, String> {
        match (self.models_dir.is_empty(), lake_dir) {
            (false, _) => Ok(self.models_dir.clone().into()),
            (true, Some(dir)) => Ok(showrunner_lake::Layout::new(dir).models()),
            (true, None) => Err(
                "config field `recommender.models_dir` is needed for an object-store lake: \
                 model versions are written to and served from a local directory"
                    .into(),
            ),
        }
    }

    /// Checks the values; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(Duration::from_millis(10)..=Duration::from_secs(3_600)).contains(&self.reload) {
            return Err("config field `recommender.reload_ms` must be within 10..=3600000".into());
        }
        Ok(())
    }
}
