//! The `[marketing]` configuration section.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::sender::SenderSettings;
use crate::webhook::{Endpoint, Retry};

/// One `[[marketing.webhooks]]` endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Its id (in the delivery log).
    pub id: String,
    /// Where pushes are POSTed (`http://` only).
    pub url: String,
    /// The environment variable holding its `whsec_<base64>` secret (a
    /// secret is never written in the file).
    pub secret_env: String,
}

/// `[marketing]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MarketingConfig {
    /// The sender plans launched campaigns this often (`send_every_ms`).
    #[serde(rename = "send_every_ms", with = "showrunner_events::time::millis")]
    pub send_every: Duration,
    /// The push gateway stream's duplicate window: a sender restarted
    /// within it never delivers a push twice (`duplicate_window_secs`).
    #[serde(
        rename = "duplicate_window_secs",
        with = "showrunner_events::time::secs"
    )]
    pub duplicate_window: Duration,
    /// Failed deliveries in a row that disable a webhook endpoint.
    pub webhook_disable_after: u32,
    /// Webhook endpoints every push is also delivered to.
    pub webhooks: Vec<WebhookConfig>,
}

impl Default for MarketingConfig {
    fn default() -> Self {
        let s = SenderSettings::default();
        MarketingConfig {
            send_every: s.every,
            duplicate_window: s.duplicate_window,
            webhook_disable_after: 5,
            webhooks: Vec::new(),
        }
    }
}

impl MarketingConfig {
    /// Checks the values; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(Duration::from_millis(100)..=Duration::from_secs(3_600)).contains(&self.send_every) {
            return Err(
                "config field `marketing.send_every_ms` must be within 100..=3600000".into(),
            );
        }
        if self.duplicate_window < Duration::from_secs(60) {
            return Err(
                "config field `marketing.duplicate_window_secs` must be at least 60".into(),
            );
        }
        if self.webhook_disable_after == 0 {
            return Err("config field `marketing.webhook_disable_after` must be at least 1".into());
        }
        Ok(())
    }

    /// The sender's settings.
    pub fn sender(&self) -> SenderSettings {
        SenderSettings {
            every: self.send_every,
            duplicate_window: self.duplicate_window,
        }
    }

    /// The webhook endpoints, their secrets read from the environment
    /// (`env`); a missing variable is an error naming it.
    pub fn endpoints(&self, env: impl Fn(&str) -> Option<String>) -> Result<Vec<Endpoint>, String> {
        self.webhooks
            .iter()
            .map(|w| {
                let secret = env(&w.secret_env).ok_or_else(|| {
                    format!(
                        "webhook `{}`: environment variable `{}` (its secret) is not set",
                        w.id, w.secret_env
                    )
                })?;
                Ok(Endpoint {
                    id: w.id.clone(),
                    url: w.url.clone(),
                    secret,
                })
            })
            .collect()
    }

    /// How webhook deliveries are retried.
    pub fn retry(&self) -> Retry {
        Retry::default()
    }
}
