//! The configuration composed into what the roles run with: a command's
//! flags ([`Overrides`]) over [`Config`], into [`NodeSettings`] — the one
//! place `ingest`, `serve` and `standalone` get their settings from.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use showrunner_ingest::consumer::IngestSettings;
use showrunner_warehouse::clickhouse::ClickHouseEngine;

use crate::api::ApiSettings;
use crate::config::Config;
use crate::{NodeSettings, Result};

/// What a command's flags change of the config; `None` (and `false`)
/// keeps the config's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// NATS URL (`nats.url`).
    pub nats: Option<String>,
    /// The lake, a directory or `s3://bucket/prefix` (`lake.path`).
    pub lake: Option<PathBuf>,
    /// The event stream's name (`nats.stream`).
    pub stream: Option<String>,
    /// Ingest's durable consumer (`ingest.durable`).
    pub durable: Option<String>,
    /// Most events per ingest batch (`ingest.batch_max`).
    pub batch_max: Option<usize>,
    /// Longest an ingest batch waits (`ingest.batch_wait_ms`).
    pub batch_wait: Option<Duration>,
    /// Ingest's ack wait (`ingest.ack_wait_secs`).
    pub ack_wait: Option<Duration>,
    /// Ingest and the ClickHouse sink end once nothing is pending.
    pub drain: bool,
    /// The ClickHouse HTTP URL the sink feeds (`clickhouse.url`).
    pub clickhouse: Option<String>,
}

impl Config {
    /// The ingest role's settings: `[ingest]` with `o` over it.
    pub fn ingest_settings(&self, o: &Overrides) -> Result<IngestSettings> {
        let mut c = self.ingest.clone();
        if let Some(d) = &o.durable {
            c.durable = d.clone();
        }
        c.batch_max = o.batch_max.unwrap_or(c.batch_max);
        c.batch_wait = o.batch_wait.unwrap_or(c.batch_wait);
        c.ack_wait = o.ack_wait.unwrap_or(c.ack_wait);
        let mut streams = self.streams();
        if let Some(x) = &o.stream {
            streams.events = x.clone();
        }
        let lake = self.lake_store(o.lake.clone())?;
        let nats = o.nats.as_deref().unwrap_or(&self.nats.url);
        let mut s = c.settings(nats, lake, streams);
        s.drain = o.drain;
        Ok(s)
    }

    /// The settings of every role: ingest's as [`Config::ingest_settings`]
    /// (its NATS URL and lake are the node's), HTTP on `bind`.
    pub fn node_settings(&self, o: &Overrides, bind: &str) -> Result<NodeSettings> {
        let ingest = self.ingest_settings(o)?;
        let ch = &self.clickhouse;
        let url = o.clickhouse.clone().unwrap_or_else(|| ch.url.clone());
        let clickhouse = ch.sink(url, &ingest);
        let api = ApiSettings {
            bind: bind.to_owned(),
            nats_url: ingest.nats_url.clone(),
            streams: ingest.streams.clone(),
            lake: ingest.lake.clone(),
            // none for an object-store lake without `recommender.models_dir`:
            // the node then refuses the roles that need one
            models: self.recommender.models(ingest.lake.local_root()).ok(),
            limits: self.limits(),
            keys: showrunner_web::Keys::new(self.http.keyring().map_err(crate::Error::Config)?),
            rate_limits: self.http.rate_limits,
            reload_keys: reload_keys(self.source.clone()),
            cors_origins: self.http.cors_origins.clone(),
            query: self.warehouse.query_limits(),
            clickhouse: match ch.enabled {
                true => Some(self.clickhouse_engine(None, None)?),
                false => None,
            },
            replay: self.recommender.replay,
            reload: self.recommender.reload,
            marketing: self.marketing.clone(),
        };
        Ok(NodeSettings {
            lake: ingest.lake.clone(),
            ingest,
            clickhouse,
            api,
            materialize_every: self.warehouse.materialize_every,
            retrain_every: self.recommender.retrain_every,
            train_seed: 42,
            keep_versions: 3,
            compact_every: self.lake.compact_every,
            closed_after_days: self.lake.closed_after_days,
        })
    }

    /// The ClickHouse engine of `[clickhouse]`, at `url` and on `database`
    /// when given.
    pub fn clickhouse_engine(
        &self,
        url: Option<&str>,
        database: Option<&str>,
    ) -> Result<ClickHouseEngine> {
        let c = &self.clickhouse;
        Ok(ClickHouseEngine::new(
            url.unwrap_or(&c.url),
            &c.user,
            &c.password,
            database.unwrap_or(&c.database),
        )?)
    }
}

/// Reads the keys again from `source` (and the environment), the whole
/// configuration checked as at start.
fn reload_keys(source: Option<PathBuf>) -> showrunner_dashboard::ReloadKeys {
    Arc::new(move || {
        Config::load(source.as_deref(), std::env::vars())
            .map_err(|e| e.to_string())?
            .http
            .keyring()
    })
}
