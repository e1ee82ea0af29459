//! A campaign's definition: the JSON object its `campaign_created` and
//! `campaign_updated` events carry, read into types and checked — every
//! template parsed, every share and cap in range — before any event is
//! written, so the log never holds a definition this build cannot run.
//!
//! ```json
//! {"audience": {"segment": "SELECT user_id, title FROM … "},
//!  "message": {"title": "{{title}} is back", "body": "…", "deep_link": "app://title/{{title_id}}"},
//!  "channel": "mobile", "priority": 5, "transactional": false,
//!  "control_share": 0.1, "caps": {"per_day": 1, "per_week": 3},
//!  "ttl_hours": 48, "conversion": {"event": "play_started", "within_hours": 48}}
//! ```
//!
//! The segment is SQL over the warehouse (events, projections, metrics,
//! `churn_scores`) returning a `user_id` column; its other columns are the
//! message's variables, with the profile's `country` and `language`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::policy::{CampaignRules, Caps};
use crate::template::{Template, TemplateError};

/// A definition refused, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DefinitionError {
    /// The field at fault (`message.title`, `control_share`, …).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl DefinitionError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        DefinitionError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Who a campaign is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Audience {
    /// The users a read-only SQL query returns (column `user_id`).
    Segment(String),
}

/// The push itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// Its title (a template).
    pub title: String,
    /// Its body (a template).
    pub body: String,
    /// Where opening it leads (a template).
    #[serde(default)]
    pub deep_link: Option<String>,
}

/// What counts as the campaign working.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversion {
    /// The event type (`play_started`, `subscription_renewed`, …).
    pub event: String,
    /// Within so many hours of the send (or, for control users, of the
    /// moment they would have been sent).
    pub within_hours: u32,
}

/// A campaign's definition, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Who.
    pub audience: Audience,
    /// What.
    pub message: Message,
    /// The push gateway's channel (`notifications.push.<channel>`).
    #[serde(default = "default_channel")]
    pub channel: String,
    /// Higher wins under a cap.
    #[serde(default)]
    pub priority: i32,
    /// Not capped, not held out.
    #[serde(default)]
    pub transactional: bool,
    /// Share held back as the control group, in `[0, 0.5]`.
    #[serde(default)]
    pub control_share: f64,
    /// Its own caps.
    #[serde(default)]
    pub caps: Caps,
    /// Not worth sending this many hours after it was due (none: always).
    #[serde(default)]
    pub ttl_hours: Option<u32>,
    /// Its primary conversion.
    #[serde(default)]
    pub conversion: Option<Conversion>,
}

fn default_channel() -> String {
    "default".into()
}

/// A definition checked, its templates parsed.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The definition.
    pub definition: Definition,
    /// `message.title`.
    pub title: Template,
    /// `message.body`.
    pub body: Template,
    /// `message.deep_link`.
    pub deep_link: Option<Template>,
}

impl Checked {
    /// Reads and checks a definition.
    pub fn from_json(
        v: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Checked, DefinitionError> {
        let definition: Definition =
            serde_json::from_value(serde_json::Value::Object(v.clone()))
                .map_err(|e| DefinitionError::new("definition", e.to_string()))?;
        Checked::new(definition)
    }

    /// Checks a definition.
    pub fn new(definition: Definition) -> Result<Checked, DefinitionError> {
        let d = &definition;
        let Audience::Segment(sql) = &d.audience;
        if sql.trim().is_empty() {
            return Err(DefinitionError::new("audience.segment", "is empty"));
        }
        if !(0.0..=0.5).contains(&d.control_share) {
            return Err(DefinitionError::new(
                "control_share",
                format!("is {}, must be within 0..=0.5", d.control_share),
            ));
        }
        if d.channel.is_empty()
            || d.channel.len() > 64
            || !d
                .channel
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            return Err(DefinitionError::new(
                "channel",
                "is one subject token: 1 to 64 of a-z, 0-9, _ and -",
            ));
        }
        for (name, cap) in [
            ("caps.per_day", d.caps.per_day),
            ("caps.per_week", d.caps.per_week),
        ] {
            if cap == Some(0) {
                return Err(DefinitionError::new(name, "is 0: leave it out for no cap"));
            }
        }
        if d.ttl_hours == Some(0) {
            return Err(DefinitionError::new("ttl_hours", "is 0"));
        }
        if let Some(c) = &d.conversion {
            if showrunner_events::Family::of_type(&c.event).is_none() {
                return Err(DefinitionError::new(
                    "conversion.event",
                    format!("`{}` is not an event type", c.event),
                ));
            }
            if c.within_hours == 0 {
                return Err(DefinitionError::new("conversion.within_hours", "is 0"));
            }
        }
        let parse = |field: &str, t: &str| {
            Template::parse(t)
                .map_err(|e: TemplateError| DefinitionError::new(field, e.to_string()))
        };
        let title = parse("message.title", &d.message.title)?;
        let body = parse("message.body", &d.message.body)?;
        let deep_link = d
            .message
            .deep_link
            .as_deref()
            .map(|t| parse("message.deep_link", t))
            .transpose()?;
        Ok(Checked {
            title,
            body,
            deep_link,
            definition,
        })
    }

    /// Every variable its templates use.
    pub fn variables(&self) -> BTreeSet<&str> {
        let mut v = self.title.variables();
        v.extend(self.body.variables());
        if let Some(d) = &self.deep_link {
            v.extend(d.variables());
        }
        v
    }

    /// The decision rules of campaign `id`.
    pub fn rules(&self, id: &str) -> CampaignRules {
        let d = &self.definition;
        CampaignRules {
            id: id.to_owned(),
            priority: d.priority,
            transactional: d.transactional,
            control_share: d.control_share,
            caps: d.caps,
        }
    }

    /// The rendered message for a user whose values `value` gives.
    pub fn render<'a>(
        &self,
        value: impl Fn(&str) -> Option<&'a str> + Copy,
    ) -> Result<Rendered, TemplateError> {
        Ok(Rendered {
            title: self.title.render(value)?,
            body: self.body.render(value)?,
            deep_link: self
                .deep_link
                .as_ref()
                .map(|t| t.render(value))
                .transpose()?,
        })
    }
}

/// A message as a user receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Deep link.
    pub deep_link: Option<String>,
}
