//! The `[ingest]` and `[clickhouse]` configuration sections, validated
//! into what the worker and the sink use.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use showrunner_bus::StreamSettings;

use crate::consumer::IngestSettings;
use crate::sinks::clickhouse::ClickHouseSettings;
use crate::sinks::clickhouse::sink::SinkSettings;

/// `[ingest]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Durable consumer name shared by ingest workers.
    pub durable: String,
    /// Most events per batch (and per lake file).
    pub batch_max: usize,
    /// Longest a batch waits for more events (`batch_wait_ms`).
    #[serde(rename = "batch_wait_ms", with = "showrunner_events::time::millis")]
    pub batch_wait: Duration,
    /// Time the stream waits for an ack before redelivering (`ack_wait_secs`).
    #[serde(rename = "ack_wait_secs", with = "showrunner_events::time::secs")]
    pub ack_wait: Duration,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            durable: "ingest".into(),
            batch_max: 20_000,
            batch_wait: Duration::from_secs(1),
            ack_wait: Duration::from_secs(60),
        }
    }
}

impl IngestConfig {
    /// Checks the values; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.batch_max == 0 {
            return Err("config field `ingest.batch_max` must be > 0".into());
        }
        if self.batch_wait.is_zero() || self.batch_wait > Duration::from_secs(3_600) {
            return Err("config field `ingest.batch_wait_ms` must be within 1..=3600000".into());
        }
        if self.ack_wait > Duration::from_secs(86_400) || self.ack_wait < self.batch_wait * 4 {
            return Err("config field `ingest.ack_wait_secs` must be at least 4 × ingest.batch_wait_ms and at most 86400".into());
        }
        Ok(())
    }

    /// A worker's settings: these, on `nats_url`, `lake` and `streams`.
    pub fn settings(
        &self,
        nats_url: &str,
        lake: showrunner_lake::Store,
        streams: StreamSettings,
    ) -> IngestSettings {
        IngestSettings {
            streams,
            durable: self.durable.clone(),
            batch_max: self.batch_max.max(1),
            batch_wait: self.batch_wait,
            ack_wait: self.ack_wait.max(Duration::from_secs(1)),
            ..IngestSettings::new(nats_url, lake)
        }
    }
}

/// `[clickhouse]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseConfig {
    /// `ingest` also feeds ClickHouse (as with `--clickhouse URL`).
    pub enabled: bool,
    /// HTTP URL of the server.
    pub url: String,
    /// Durable consumer of the ClickHouse sink.
    pub durable: String,
    /// Most events per insert.
    pub batch_max: usize,
    /// How long the stream waits for a batch's ack before redelivering it
    /// (`ack_wait_secs`; longer than an insert with its retries takes).
    #[serde(rename = "ack_wait_secs", with = "showrunner_events::time::secs")]
    pub ack_wait: Duration,
    /// User.
    pub user: String,
    /// Password.
    pub password: String,
    /// Database of Showrunner's tables.
    pub database: String,
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            url: "http://127.0.0.1:8123".into(),
            durable: "clickhouse".into(),
            batch_max: 50_000,
            ack_wait: Duration::from_secs(300),
            user: "default".into(),
            password: String::new(),
            database: "showrunner".into(),
        }
    }
}

impl ClickHouseConfig {
    /// Checks the values; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.batch_max == 0 {
            return Err("config field `clickhouse.batch_max` must be > 0".into());
        }
        if !(Duration::from_secs(10)..=Duration::from_secs(86_400)).contains(&self.ack_wait) {
            return Err(
                "config field `clickhouse.ack_wait_secs` must be between 10 and 86400".into(),
            );
        }
        Ok(())
    }

    /// This config with the user, password and database given by flags
    /// in place of the configured ones.
    pub fn overridden(
        &self,
        user: Option<String>,
        password: Option<String>,
        database: Option<String>,
    ) -> ClickHouseConfig {
        let mut c = self.clone();
        for (flag, field) in [
            (user, &mut c.user),
            (password, &mut c.password),
            (database, &mut c.database),
        ] {
            if let Some(v) = flag {
                *field = v;
            }
        }
        c
    }

    /// The connection settings for the server at `url` (the configured one,
    /// or one given by a flag), with this config's user, password and
    /// database.
    pub fn settings(&self, url: String) -> ClickHouseSettings {
        ClickHouseSettings {
            url,
            user: self.user.clone(),
            password: self.password.clone(),
            database: self.database.clone(),
        }
    }

    /// The sink's settings for the server at `url`, pulling as `ingest`
    /// does (its batch wait, its drain).
    pub fn sink(&self, url: String, ingest: &IngestSettings) -> SinkSettings {
        SinkSettings {
            clickhouse: self.settings(url),
            durable: self.durable.clone(),
            batch_max: self.batch_max,
            batch_wait: ingest.batch_wait,
            ack_wait: self.ack_wait,
            drain: ingest.drain,
        }
    }
}
