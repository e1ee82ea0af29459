//! `ingest` and `serve`: their flags over the config, the roles of
//! `showrunner_node` run with them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use showrunner_node::{Config, Node, Overrides, Role, Roles, stop};

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

impl IngestArgs {
    /// What these flags change of the config.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            nats: self.nats.clone(),
            lake: self.lake.clone(),
            stream: self.stream.clone(),
            durable: self.durable.clone(),
            batch_max: self.batch_max,
            batch_wait: self.batch_wait_ms.map(Duration::from_millis),
            ack_wait: self.ack_wait_secs.map(Duration::from_secs),
            drain: self.drain,
            clickhouse: self.clickhouse.clone(),
        }
    }
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
    let settings = cfg.node_settings(&a.overrides(), "127.0.0.1:0")?;
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
    let o = Overrides {
        nats: a.nats,
        lake: a.lake,
        ..Overrides::default()
    };
    let bind = a.bind.unwrap_or_else(|| cfg.http.bind.clone());
    let (handle, stop) = stop::channel();
    let mut node = Node::new(cfg.node_settings(&o, &bind)?, stop);
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
