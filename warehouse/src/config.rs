//! The `[warehouse]` configuration section.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::api::QueryLimits;

/// `[warehouse]`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WarehouseConfig {
    /// Memory one `POST /v1/sql` query may use, MiB.
    pub query_memory_mb: u64,
    /// Time one API query may take (`query_timeout_secs`).
    #[serde(rename = "query_timeout_secs", with = "showrunner_events::time::secs")]
    pub query_timeout: Duration,
    /// Rows one `POST /v1/sql` answer holds at most (more are cut, and the
    /// answer says `truncated`).
    pub query_max_rows: usize,
    /// Queries (metrics and SQL) one key may have running at once; one more
    /// is refused with 429 `too_many_queries`.
    pub queries_per_key: usize,
    /// How long metrics may answer from projections the lake has moved past
    /// while fresh ones are computed in the background
    /// (`max_staleness_secs`; 0: every request waits for fresh ones).
    #[serde(rename = "max_staleness_secs", with = "showrunner_events::time::secs")]
    pub max_staleness: Duration,
    /// The materializer role refreshes the metric tables this often
    /// (`materialize_every_secs`; 0: never, after standalone's first run).
    #[serde(
        rename = "materialize_every_secs",
        with = "showrunner_events::time::secs"
    )]
    pub materialize_every: Duration,
}

impl Default for WarehouseConfig {
    fn default() -> Self {
        Self {
            query_memory_mb: 1_024,
            query_timeout: Duration::from_secs(30),
            query_max_rows: 100_000,
            queries_per_key: 2,
            max_staleness: Duration::from_secs(30),
            materialize_every: Duration::from_secs(300),
        }
    }
}

impl WarehouseConfig {
    /// Checks the values; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(16..=1_048_576).contains(&self.query_memory_mb) {
            return Err(
                "config field `warehouse.query_memory_mb` must be within 16..=1048576".into(),
            );
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(3_600)).contains(&self.query_timeout) {
            return Err(
                "config field `warehouse.query_timeout_secs` must be within 1..=3600".into(),
            );
        }
        if !(1..=10_000_000).contains(&self.query_max_rows) {
            return Err(
                "config field `warehouse.query_max_rows` must be within 1..=10000000".into(),
            );
        }
        if !(1..=64).contains(&self.queries_per_key) {
            return Err("config field `warehouse.queries_per_key` must be within 1..=64".into());
        }
        if self.max_staleness > Duration::from_secs(3_600) {
            return Err(
                "config field `warehouse.max_staleness_secs` must be within 0..=3600".into(),
            );
        }
        Ok(())
    }

    /// The API's query limits.
    pub fn query_limits(&self) -> QueryLimits {
        QueryLimits {
            memory_bytes: usize::try_from(self.query_memory_mb << 20).unwrap_or(usize::MAX),
            timeout: self.query_timeout,
            max_rows: self.query_max_rows,
            per_key: self.queries_per_key,
            max_staleness: self.max_staleness,
        }
    }
}
