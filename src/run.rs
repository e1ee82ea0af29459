//! `ingest` and `serve`, and what `standalone` shares with them: the
//! config composed into the settings of `showrunner_node`'s roles.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use showrunner_ingest::consumer::IngestSettings;
use showrunner_node::api::ApiSettings;
use showrunner_node::{Node, NodeSettings, Role, Roles, stop};

use crate::config::Config;

/// Arguments of `ingest`.
#[derive(Args, Debug, Clone, Default)]
pub struct IngestArgs {
    /// NATS URL (default: config `nats.url`).
    #[arg(long)]
    pub nats: Option<String>,
    /// Lake: a directory or `s3://bucket/prefix` (default: config
    /// `lake.path`; an S3 lake is reached as `[lake.s3]` says).
    #[arg(long)]
    pub lake: Option<PathBuf>,
    /// Event stream name (default: config `nats.stream`).
    #[arg(long)]
    pub stream: Option<String>,
    /// Durable consumer name (default: config `ingest.durable`).
    #[arg(long)]
    pub durable: Option<String>,
    /// Most events per batch (default: config `ingest.batch_max`).
    #[arg(long)]
    pub batch_max: Option<usize>,
    /// Longest a batch waits, ms (default: config `ingest.batch_wait_ms`).
    #[arg(long)]
    pub batch_wait_ms: Option<u64>,
    /// Ack wait, seconds (default: config `ingest.ack_wait_secs`).
    #[arg(long)]
    pub ack_wait_secs: Option<u64>,
    /// Exit once nothing is pending.
    #[arg(long)]
    pub drain: bool,
    /// Serve this worker's Prometheus counters at `http://ADDR/metrics`.
    #[arg(long)]
    pub metrics_bind: Option<String>,
    /// Also feed ClickHouse at this HTTP URL (its own durable consumer;
    /// default: config `clickhouse.url` when `clickhouse.enabled`).
    #[arg(long)]
    pub clickhouse: Option<String>,
    /// ClickHouse user (default: config `clickhouse.user`).
    #[arg(long)]
    pub clickhouse_user: Option<String>,
    /// ClickHouse password (default: config `clickhouse.password`).
    #[arg(long)]
    pub clickhouse_password: Option<String>,
    /// ClickHouse database (default: config `clickhouse.database`).
    #[arg(long)]
    pub clickhouse_database: Option<String>,
}

/// Ingest settings from the config (`[ingest]`'s own) and flags.
pub fn ingest_settings(cfg: &Config, a: &IngestArgs) -> Result<IngestSettings> {
    let mut c = cfg.ingest.clone();
    if let Some(d) = &a.durable {
        c.durable = d.clone();
    }
    c.batch_max = a.batch_max.unwrap_or(c.batch_max);
    c.batch_wait = a.batch_wait_ms.map_or(c.batch_wait, Duration::from_millis);
    c.ack_wait = a.ack_wait_secs.map_or(c.ack_wait, Duration::from_secs);
    let mut streams = cfg.streams();
    if let Some(x) = &a.stream {
        streams.events = x.clone();
    }
    let lake = cfg.lake_store(a.lake.clone())?;
    let mut s = c.settings(a.nats.as_deref().unwrap_or(&cfg.nats.url), lake, streams);
    s.drain = a.drain;
    Ok(s)
}

/// The settings of every role, from the config: `ingest` as `a` says
/// (its NATS URL and lake are the node's), HTTP on `bind`.
pub fn node_settings(cfg: &Config, a: &IngestArgs, bind: &str) -> Result<NodeSettings> {
    let ingest = ingest_settings(cfg, a)?;
    let ch = &cfg.clickhouse;
    let clickhouse = ch.sink(
        a.clickhouse.clone().unwrap_or_else(|| ch.url.clone()),
        &ingest,
    );
    let api = ApiSettings {
        bind: bind.to_owned(),
        nats_url: ingest.nats_url.clone(),
        streams: ingest.streams.clone(),
        lake: ingest.lake.clone(),
        // none for an object-store lake without `recommender.models_dir`:
        // the node then refuses the roles that need one
        models: cfg.recommender.models(ingest.lake.local_root()).ok(),
        limits: cfg.limits(),
        keys: showrunner_web::Keys::new(cfg.http.keyring().map_err(anyhow::Error::msg)?),
        rate_limits: cfg.http.rate_limits,
        reload_keys: reload_keys(cfg.source.clone()),
        cors_origins: cfg.http.cors_origins.clone(),
        query: cfg.warehouse.query_limits(),
        clickhouse: match ch.enabled {
            true => Some(crate::metrics_cmd::clickhouse_engine(cfg, None, None)?),
            false => None,
        },
        replay: cfg.recommender.replay,
        reload: cfg.recommender.reload,
    };
    Ok(NodeSettings {
        lake: ingest.lake.clone(),
        ingest,
        clickhouse,
        api,
        materialize_every: cfg.warehouse.materialize_every,
        retrain_every: cfg.recommender.retrain_every,
        train_seed: 42,
        keep_versions: 3,
        compact_every: cfg.lake.compact_every,
        closed_after_days: cfg.lake.closed_after_days,
    })
}

/// Reads the keys again from `source` (and the environment), the whole
/// configuration checked as at start.
fn reload_keys(source: Option<PathBuf>) -> showrunner_dashboard::ReloadKeys {
    std::sync::Arc::new(move || {
        Config::load(source.as_deref(), std::env::vars())
            .map_err(|e| format!("{e:#}"))?
            .http
            .keyring()
    })
}

/// Runs `ingest`: the ingest role (and the ClickHouse sink's, when asked),
/// until drained or stopped; prints their reports.
pub async fn ingest(cfg: &Config, a: IngestArgs) -> Result<()> {
    let cfg = &Config {
        clickhouse: cfg.clickhouse.overridden(
            a.clickhouse_user.clone(),
            a.clickhouse_password.clone(),
            a.clickhouse_database.clone(),
        ),
        ..cfg.clone()
    };
    let settings = node_settings(cfg, &a, "127.0.0.1:0")?;
    let (handle, stop) = stop::channel();
    let mut node = Node::new(settings, stop);
    if let Some(addr) = &a.metrics_bind {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        eprintln!(
            "ingest metrics on http://{}/metrics",
            listener.local_addr()?
        );
        let ops =
            showrunner_node::api::worker_ops(&node.telemetry, &node.settings().ingest.nats_url)
                .await?;
        let app = showrunner_web::ops::router(ops);
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    let mut roles = Roles::of(&[Role::Ingest]);
    if a.clickhouse.is_some() || cfg.clickhouse.enabled {
        roles.insert(Role::ClickhouseSink);
    }
    node.start(&roles).await?;
    tokio::spawn(async move {
        stop::signal().await;
        handle.stop();
    });
    let report = node.wait().await?;
    if let Some(r) = report.ingest {
        println!("{}", serde_json::to_string(&r)?);
    }
    if let Some(sink) = report.clickhouse {
        println!("{}", serde_json::json!({ "clickhouse": &*sink }));
    }
    Ok(())
}

/// Arguments of `serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// NATS URL (default: config `nats.url`).
    #[arg(long)]
    pub nats: Option<String>,
    /// Listen address (default: config `http.bind`).
    #[arg(long)]
    pub bind: Option<String>,
    /// Lake the roles read and write (default: config `lake.path`).
    #[arg(long)]
    pub lake: Option<PathBuf>,
    /// Roles of this process, comma-separated (or `all`): collector, api,
    /// ingest, clickhouse-sink, materializer, trainer, compactor.
    #[arg(long, default_value = "collector,api")]
    pub roles: Roles,
}

/// Runs `serve`: its roles until SIGINT or SIGTERM.
pub async fn serve(cfg: &Config, a: ServeArgs) -> Result<()> {
    let ingest = IngestArgs {
        nats: a.nats,
        lake: a.lake,
        ..IngestArgs::default()
    };
    let bind = a.bind.unwrap_or_else(|| cfg.http.bind.clone());
    let (handle, stop) = stop::channel();
    let mut node = Node::new(node_settings(cfg, &ingest, &bind)?, stop);
    node.start(&a.roles).await?;
    // a log line, not a print: a server's stderr is its log (JSON when
    // SHOWRUNNER_LOG_FORMAT=json)
    match node.addr() {
        Some(addr) => tracing::info!(roles = %a.roles, url = %format!("http://{addr}"), "serving"),
        None => tracing::info!(roles = %a.roles, "serving"),
    }
    stop::signal().await;
    handle.stop();
    node.wait().await?;
    Ok(())
}
