//! `[nats]` of the configuration: the server and the streams' names and
//! duplicate window, validated into [`StreamSettings`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::connect::StreamSettings;
use crate::subjects::{DEADLETTER_STREAM, EVENTS_STREAM};

/// `[nats]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NatsConfig {
    /// NATS server URL.
    pub url: String,
    /// JetStream stream of events (subjects `events.>`).
    pub stream: String,
    /// JetStream stream of dead letters (subjects `deadletter.>`).
    pub deadletter_stream: String,
    /// Window in which a repeated event id is dropped by the stream, seconds.
    pub duplicate_window_secs: u64,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".into(),
            stream: EVENTS_STREAM.into(),
            deadletter_stream: DEADLETTER_STREAM.into(),
            duplicate_window_secs: 120,
        }
    }
}

/// Whether `v` can name a stream or a durable consumer: letters, digits,
/// `_` or `-`, not empty.
pub fn is_name(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl NatsConfig {
    /// Checks the fields; the error names the one that is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.url.starts_with("nats://") || self.url.starts_with("tls://")) {
            return Err(format!(
                "config field `nats.url` must start with nats:// or tls://, got `{}`",
                self.url
            ));
        }
        for (name, v) in [
            ("nats.stream", &self.stream),
            ("nats.deadletter_stream", &self.deadletter_stream),
        ] {
            if !is_name(v) {
                return Err(format!(
                    "config field `{name}` must be a non-empty name of letters, digits, `_` or `-`, got `{v}`"
                ));
            }
        }
        Ok(())
    }

    /// The streams' settings.
    pub fn streams(&self) -> StreamSettings {
        StreamSettings {
            events: self.stream.clone(),
            deadletter: self.deadletter_stream.clone(),
            duplicate_window: Duration::from_secs(self.duplicate_window_secs),
            ..StreamSettings::default()
        }
    }
}
