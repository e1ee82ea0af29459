//! `showrunner.toml`: the sections composed — each crate owns its own and
//! validates it into the durations and settings its code uses (`[nats]`
//! bus, `[lake]` lake, `[http]` dashboard, `[ingest]` and `[clickhouse]`
//! ingest, `[limits]` events, `[simulator]` simulator, `[warehouse]`,
//! `[recommender]`, `[marketing]` campaigns) —, `SHOWRUNNER_<SECTION>_<FIELD>` environment
//! overrides, and validation at start-up (errors name the field). What the
//! roles run with is composed from it in [`crate::settings`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use showrunner_bus::StreamSettings;
pub use showrunner_bus::config::NatsConfig;
pub use showrunner_campaigns::config::MarketingConfig;
pub use showrunner_dashboard::config::HttpConfig;
use showrunner_events::Limits;

use crate::{Error, Result};
pub use showrunner_events::config::LimitsConfig;
pub use showrunner_ingest::config::{ClickHouseConfig, IngestConfig};
pub use showrunner_lake::config::LakeConfig;
pub use showrunner_recommender::config::RecommenderConfig;
pub use showrunner_simulator::SimulatorConfig;
pub use showrunner_warehouse::config::WarehouseConfig;

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// NATS connection and streams.
    pub nats: NatsConfig,
    /// The Parquet lake.
    pub lake: LakeConfig,
    /// The HTTP server.
    pub http: HttpConfig,
    /// The ingest worker.
    pub ingest: IngestConfig,
    /// Event validation limits.
    pub limits: LimitsConfig,
    /// The audience `standalone` simulates on first run.
    pub simulator: SimulatorConfig,
    /// Metric queries.
    pub warehouse: WarehouseConfig,
    /// Recommendation serving and training.
    pub recommender: RecommenderConfig,
    /// The ClickHouse server (`clickhouse migrate`).
    pub clickhouse: ClickHouseConfig,
    /// Campaigns: the sender and webhook endpoints.
    pub marketing: MarketingConfig,
    /// The file it was read from, if any (keys are read again from it).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// Environment variables that are not config overrides.
const NOT_OVERRIDES: &[&str] = &[
    "SHOWRUNNER_CONFIG",
    "SHOWRUNNER_NATS_SERVER",
    "SHOWRUNNER_LOG",
    "SHOWRUNNER_LOG_FORMAT",
    "SHOWRUNNER_FAILPOINT",
];

impl Config {
    /// Loads `path` (if given, else `showrunner.toml` when present), applies
    /// `SHOWRUNNER_*` overrides from `env`, and validates.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config> {
        let (text, source) = match path {
            Some(p) => (
                std::fs::read_to_string(p)
                    .map_err(|e| bad(format!("reading config {}: {e}", p.display())))?,
                Some(p.to_owned()),
            ),
            None => match std::fs::read_to_string("showrunner.toml") {
                Ok(t) => (t, Some(PathBuf::from("showrunner.toml"))),
                Err(_) => (String::new(), None),
            },
        };
        let mut doc: toml::Table =
            toml::from_str(&text).map_err(|e| bad(format!("config: {}", e.message())))?;
        let defaults = toml::Table::try_from(Config::default())
            .map_err(|e| bad(format!("config defaults: {e}")))?;
        let env: BTreeMap<String, String> = env.into_iter().collect();
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("SHOWRUNNER_") else {
                continue;
            };
            if NOT_OVERRIDES.contains(&k.as_str()) {
                continue;
            }
            let lower = rest.to_ascii_lowercase();
            let (keys, default) = config_key(&defaults, &lower).ok_or_else(|| {
                bad(format!(
                    "environment override `{k}`: no config field `{}`",
                    lower.replacen('_', ".", 1)
                ))
            })?;
            let value = match default {
                toml::Value::Integer(_) => toml::Value::Integer(v.parse().map_err(|_| {
                    bad(format!(
                        "environment override `{k}`: `{v}` is not an integer"
                    ))
                })?),
                toml::Value::Boolean(_) => toml::Value::Boolean(v.parse().map_err(|_| {
                    bad(format!(
                        "environment override `{k}`: `{v}` is not true or false"
                    ))
                })?),
                toml::Value::Float(_) => toml::Value::Float(v.parse().map_err(|_| {
                    bad(format!("environment override `{k}`: `{v}` is not a number"))
                })?),
                toml::Value::Array(_) => toml::Value::Array(
                    v.split(',')
                        .map(|s| toml::Value::String(s.trim().to_owned()))
                        .collect(),
                ),
                _ => toml::Value::String(v),
            };
            let (field, tables) = keys.split_last().expect("a key has a field");
            let mut table = &mut doc;
            for t in tables {
                let next = table
                    .entry(t.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                match next {
                    toml::Value::Table(inner) => table = inner,
                    _ => return Err(bad(format!("config: `{t}` is not a table"))),
                }
            }
            table.insert(field.clone(), value);
        }
        let mut cfg: Config = Config::deserialize(doc).map_err(|e| bad(format!("config: {e}")))?;
        cfg.validate()?;
        cfg.source = source;
        Ok(cfg)
    }

    /// The lake at `path` (a flag's) or at `lake.path`, reached as
    /// `[lake.s3]` says when it is an `s3://` URL.
    pub fn lake_store(&self, path: Option<PathBuf>) -> Result<showrunner_lake::Store> {
        Ok(LakeConfig {
            path: path.unwrap_or_else(|| self.lake.path.clone()),
            ..self.lake.clone()
        }
        .store()?)
    }

    /// Checks values; the error names the field.
    pub fn validate(&self) -> Result<()> {
        if !showrunner_bus::config::is_name(&self.ingest.durable) {
            return Err(bad(format!(
                "config field `ingest.durable` must be a non-empty name of letters, digits, `_` or `-`, got `{}`",
                self.ingest.durable
            )));
        }
        for section in [
            self.nats.validate(),
            self.http.validate(),
            self.limits.validate(),
            self.simulator.validate(),
            self.ingest.validate(),
            self.clickhouse.validate(),
            self.recommender.validate(),
            self.warehouse.validate(),
            self.marketing.validate(),
        ] {
            section.map_err(bad)?;
        }
        Ok(())
    }

    /// The validation limits.
    pub fn limits(&self) -> Limits {
        self.limits.limits()
    }

    /// Stream settings.
    pub fn streams(&self) -> StreamSettings {
        self.nats.streams()
    }
}

/// A configuration error (its message names the field).
fn bad(message: impl Into<String>) -> Error {
    Error::Config(message.into())
}

/// The path of config keys an environment override's name (lower case,
/// after `SHOWRUNNER_`) stands for: `lake_s3_endpoint` → `lake`, `s3`,
/// `endpoint`. Underscores separate tables, or belong to a field's name
/// (`ingest_batch_max` → `ingest`, `batch_max`); the defaults tell which.
/// Also returns the field's default (its type types the override).
fn config_key<'a>(defaults: &'a toml::Table, name: &str) -> Option<(Vec<String>, &'a toml::Value)> {
    if let Some(v) = defaults.get(name) {
        return (!v.is_table()).then(|| (vec![name.to_owned()], v));
    }
    let mut at = 0;
    while let Some(i) = name[at..].find('_').map(|i| at + i) {
        let (table, rest) = (&name[..i], &name[i + 1..]);
        if let Some(toml::Value::Table(t)) = defaults.get(table)
            && let Some((mut keys, v)) = config_key(t, rest)
        {
            keys.insert(0, table.to_owned());
            return Some((keys, v));
        }
        at = i + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn load(toml_text: &str, env: &[(&str, &str)]) -> Result<Config> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let p = dir.path().join("c.toml");
        std::fs::write(&p, toml_text).expect("config written");
        Config::load(
            Some(&p),
            env.iter().map(|(a, b)| (a.to_string(), b.to_string())),
        )
    }

    #[test]
    fn defaults_are_valid() {
        let c = load("", &[]).expect("valid");
        assert!(c.source.is_some(), "the file read is remembered");
        assert_eq!(Config { source: None, ..c }, Config::default());
        let e = load(
            "[[http.keys]]\nid = \"p\"\nroles = [\"analyst\"]\nhash = \"plain-text-key\"\n",
            &[],
        )
        .expect_err("a key is not a hash")
        .to_string();
        assert!(e.contains("http.keys") && e.contains("sha256:"), "{e}");
    }

    #[test]
    fn nested_tables_take_environment_overrides() {
        let c = load(
            "",
            &[
                ("SHOWRUNNER_LAKE_PATH", "s3://lake/prefix"),
                ("SHOWRUNNER_LAKE_S3_ENDPOINT", "http://127.0.0.1:9000"),
                ("SHOWRUNNER_LAKE_S3_ALLOW_HTTP", "true"),
                ("SHOWRUNNER_LAKE_CLOSED_AFTER_DAYS", "3"),
            ],
        )
        .expect("config");
        assert_eq!(c.lake.s3.endpoint, "http://127.0.0.1:9000");
        assert!(c.lake.s3.allow_http);
        assert_eq!(c.lake.closed_after_days, 3);
        assert!(c.lake.store().expect("store").local_root().is_none());
        let e = load("", &[("SHOWRUNNER_LAKE_S3_PORT", "1")])
            .expect_err("unknown")
            .to_string();
        assert!(e.contains("SHOWRUNNER_LAKE_S3_PORT"), "{e}");
    }

    #[test]
    fn file_and_env_override_in_that_order() {
        let c = load(
            "[http]\nbind = \"127.0.0.1:9000\"\n[ingest]\nbatch_max = 10\n",
            &[
                ("SHOWRUNNER_INGEST_BATCH_MAX", "500"),
                (
                    "SHOWRUNNER_HTTP_CORS_ORIGINS",
                    "https://a.example, https://b.example",
                ),
                ("SHOWRUNNER_HTTP_RATE_LIMITS_ANALYST_PER_SECOND", "2.5"),
                ("SHOWRUNNER_CONFIG", "ignored"),
                ("PATH", "ignored"),
            ],
        )
        .expect("valid");
        assert_eq!(c.http.bind, "127.0.0.1:9000");
        assert_eq!(c.ingest.batch_max, 500);
        assert_eq!(
            c.http.cors_origins,
            vec!["https://a.example", "https://b.example"]
        );
        assert_eq!(c.http.rate_limits.analyst.per_second, 2.5);
        assert_eq!(c.http.rate_limits.analyst.burst, 40, "the rest stays");
    }

    #[test]
    fn durations_are_read_in_the_unit_their_key_names() {
        let c = load(
            "[recommender]\nreplay_minutes = 5\nreload_ms = 250\n[ingest]\nbatch_wait_ms = 1500\n",
            &[
                ("SHOWRUNNER_WAREHOUSE_MATERIALIZE_EVERY_SECS", "7"),
                ("SHOWRUNNER_CLICKHOUSE_ACK_WAIT_SECS", "90"),
            ],
        )
        .expect("valid");
        assert_eq!(c.recommender.replay, Duration::from_secs(300));
        assert_eq!(c.recommender.reload, Duration::from_millis(250));
        assert_eq!(c.ingest.batch_wait, Duration::from_millis(1_500));
        assert_eq!(c.warehouse.materialize_every, Duration::from_secs(7));
        assert_eq!(c.clickhouse.ack_wait, Duration::from_secs(90));
        assert_eq!(
            c.lake.compact_every,
            Duration::from_secs(3_600),
            "a default"
        );
        let e = load("[clickhouse]\nack_wait_secs = 5\n", &[])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("clickhouse.ack_wait_secs"), "{e}");
    }

    #[test]
    fn bad_config_names_the_field() {
        let e = load("[ingest]\nbatch_max = 0\n", &[])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("ingest.batch_max"), "{e}");
        let e = load("[http]\nbind = \"nowhere\"\n", &[])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("http.bind"), "{e}");
        let e = load("[ingest]\nbatch_size = 3\n", &[])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("batch_size"), "{e}");
        let e = load("[nats]\nurl = 5\n", &[])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("url"), "{e}");
        let e = load("", &[("SHOWRUNNER_INGEST_BATCH_MAX", "many")])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("SHOWRUNNER_INGEST_BATCH_MAX"), "{e}");
        let e = load("[ingest]\nbatch_wait_ms = 0\n", &[])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("ingest.batch_wait_ms"), "{e}");
        let e = load("[limits]\nmax_age_days = 9223372036854775807\n", &[])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("limits.max_age_days"), "{e}");
        let e = load("", &[("SHOWRUNNER_HTTP_PORT", "1")])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("http.port"), "{e}");
        let e = load("[http]\ncors_origins = [\"watch.example.com/app\"]\n", &[])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("http.cors_origins"), "{e}");
        let ok = load(
            "",
            &[(
                "SHOWRUNNER_HTTP_CORS_ORIGINS",
                "https://watch.example.com, http://127.0.0.1:3000",
            )],
        )
        .expect("origins");
        assert_eq!(ok.http.cors_origins.len(), 2);
    }

    #[test]
    fn marketing_reads_the_sender_and_webhooks_and_secrets_stay_out_of_the_file() {
        let c = load(
            "[marketing]\nsend_every_ms = 500\nduplicate_window_secs = 7200\n\
             [[marketing.webhooks]]\nid = \"crm\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret_env = \"CRM_SECRET\"\n",
            &[],
        )
        .expect("valid");
        assert_eq!(c.marketing.sender().every, Duration::from_millis(500));
        assert_eq!(
            c.marketing.sender().duplicate_window,
            Duration::from_secs(7_200)
        );
        let set = |k: &str| (k == "CRM_SECRET").then(|| "whsec_c2VjcmV0".to_owned());
        let e = c.marketing.endpoints(set).expect("endpoints");
        assert_eq!(
            (e[0].id.as_str(), e[0].secret.as_str()),
            ("crm", "whsec_c2VjcmV0")
        );
        let unset = c.marketing.endpoints(|_| None).expect_err("no secret");
        assert!(unset.contains("CRM_SECRET"), "{unset}");
        let e = load("[marketing]\nsend_every_ms = 10\n", &[])
            .expect_err("refused")
            .to_string();
        assert!(e.contains("marketing.send_every_ms"), "{e}");
        let e = load(
            "[[marketing.webhooks]]\nid = \"x\"\nurl = \"http://h\"\nsecret = \"whsec_x\"\n",
            &[],
        )
        .expect_err("a secret in the file is refused")
        .to_string();
        assert!(e.contains("secret"), "{e}");
    }
}
