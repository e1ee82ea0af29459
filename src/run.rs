//! `ingest`, `serve` and `deadletter` commands, and the pieces `standalone`
//! reuses: the shutdown signal, the HTTP server.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use showrunner_bus as nats;
use showrunner_dashboard::AppState;
use showrunner_events::Validator;
use showrunner_ingest::collector::CollectorState;
use showrunner_ingest::consumer::{self, IngestSettings};
use showrunner_ingest::deadletter::{self, DeadLetter};
use showrunner_ingest::metrics::Metrics;
use showrunner_ingest::sinks::clickhouse::sink as clickhouse_sink;
use showrunner_recommender::serve::{ServeState, live};

use crate::config::Config;

/// Arguments of `ingest`.
#[derive(Args, Debug, Clone, Default)]
pub struct IngestArgs {
    /// NATS URL (default: config `nats.url`).
    #[arg(long)]
    pub nats: Option<String>,
    /// Lake directory (default: config `lake.path`).
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

/// Ingest settings from the config and flags.
pub fn ingest_settings(cfg: &Config, a: &IngestArgs) -> IngestSettings {
    let mut s = IngestSettings::new(
        a.nats.as_deref().unwrap_or(&cfg.nats.url),
        a.lake.clone().unwrap_or_else(|| cfg.lake.path.clone()),
    );
    s.streams = cfg.streams();
    if let Some(x) = &a.stream {
        s.streams.events = x.clone();
    }
    s.durable = a
        .durable
        .clone()
        .unwrap_or_else(|| cfg.ingest.durable.clone());
    s.batch_max = a.batch_max.unwrap_or(cfg.ingest.batch_max).max(1);
    s.batch_wait = Duration::from_millis(a.batch_wait_ms.unwrap_or(cfg.ingest.batch_wait_ms));
    s.ack_wait = Duration::from_secs(a.ack_wait_secs.unwrap_or(cfg.ingest.ack_wait_secs).max(1));
    s.drain = a.drain;
    s
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Runs `ingest`.
pub async fn ingest(cfg: &Config, a: IngestArgs) -> Result<()> {
    let s = ingest_settings(cfg, &a);
    let cfg = &Config {
        clickhouse: cfg.clickhouse.overridden(
            a.clickhouse_user.clone(),
            a.clickhouse_password.clone(),
            a.clickhouse_database.clone(),
        ),
        ..cfg.clone()
    };
    let metrics = Arc::new(Metrics::default());
    if let Some(addr) = &a.metrics_bind {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr}"))?;
        eprintln!(
            "ingest metrics on http://{}/metrics",
            listener.local_addr()?
        );
        let app = showrunner_dashboard::metrics_router(metrics.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let clickhouse = a
        .clickhouse
        .clone()
        .or_else(|| cfg.clickhouse.enabled.then(|| cfg.clickhouse.url.clone()));
    let sink = clickhouse.map(|url| spawn_clickhouse_sink(cfg, &s, url, stopped(stop_rx.clone())));
    let report = consumer::run(
        s,
        Validator::new(cfg.limits()),
        metrics,
        stopped(stop_rx.clone()),
    )
    .await?;
    println!("{}", serde_json::to_string(&report)?);
    if let Some((task, sink)) = sink {
        task.await??;
        println!("{}", serde_json::json!({ "clickhouse": &*sink }));
    }
    Ok(())
}

/// The ClickHouse sink of `ingest` and `standalone`: its own durable
/// consumer feeding the server at `url`, beside the Parquet ingest `s`,
/// until `stop` (or, draining, until nothing is pending).
pub fn spawn_clickhouse_sink(
    cfg: &Config,
    s: &IngestSettings,
    url: String,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> (
    tokio::task::JoinHandle<showrunner_ingest::Result<()>>,
    Arc<clickhouse_sink::SinkReport>,
) {
    let settings = clickhouse_sink::SinkSettings {
        clickhouse: cfg.clickhouse.settings(url),
        durable: cfg.clickhouse.durable.clone(),
        batch_max: cfg.clickhouse.batch_max,
        batch_wait: s.batch_wait,
        ack_wait: Duration::from_secs(cfg.clickhouse.ack_wait_secs),
        drain: s.drain,
    };
    let report = Arc::new(clickhouse_sink::SinkReport::default());
    let (streams, nats_url, validator) = (
        s.streams.clone(),
        s.nats_url.clone(),
        Validator::new(cfg.limits()),
    );
    let r = report.clone();
    let task = tokio::spawn(async move {
        let client = nats::connect(&nats_url, Duration::from_secs(10)).await?;
        let js = nats::context(client, Duration::from_secs(10), 1_024);
        clickhouse_sink::run(js, &streams, settings, validator, r, stop).await
    });
    (task, report)
}

/// Arguments of `serve`.
#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// NATS URL (default: config `nats.url`).
    #[arg(long)]
    pub nats: Option<String>,
    /// Listen address (default: config `http.bind`).
    #[arg(long)]
    pub bind: Option<String>,
    /// Lake the query API reads (default: config `lake.path`).
    #[arg(long)]
    pub lake: Option<std::path::PathBuf>,
}

/// Builds the app state: a NATS client that connects (and reconnects) in
/// the background, and stream creation retried until NATS answers.
pub async fn app_state(
    cfg: &Config,
    nats_url: &str,
    lake: &std::path::Path,
    metrics: Arc<Metrics>,
) -> Result<AppState> {
    let client = nats::connect_lazy(nats_url).await?;
    let js = nats::context(client.clone(), Duration::from_secs(5), 8_192);
    let streams = cfg.streams();
    {
        let (js, streams) = (js.clone(), streams.clone());
        tokio::spawn(async move {
            while let Err(e) = nats::ensure_streams(&js, &streams).await {
                tracing::warn!(error = %e, "streams not ready; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    let recommender = {
        let lake = lake.to_path_buf();
        tokio::task::spawn_blocking(move || ServeState::open(&lake))
            .await?
            .context("loading the recommender's users and model")?
    };
    let since = time::OffsetDateTime::now_utc()
        - time::Duration::minutes(i64::try_from(cfg.recommender.replay_minutes).unwrap_or(60));
    live::spawn_followers(js.clone(), &streams.events, since, &recommender);
    tokio::spawn(live::reload_loop(
        recommender.clone(),
        Duration::from_millis(cfg.recommender.reload_ms),
    ));
    let mut warehouse = showrunner_warehouse::api::ApiState::new(
        lake.to_path_buf(),
        showrunner_warehouse::api::QueryLimits {
            memory_bytes: usize::try_from(cfg.warehouse.query_memory_mb << 20)
                .unwrap_or(usize::MAX),
            timeout: Duration::from_secs(cfg.warehouse.query_timeout_secs),
        },
    );
    if cfg.clickhouse.enabled {
        // `engine=clickhouse` on the metrics API
        warehouse =
            warehouse.with_clickhouse(crate::metrics_cmd::clickhouse_engine(cfg, None, None)?);
    }
    Ok(AppState {
        collector: CollectorState {
            client,
            js,
            validator: Arc::new(Validator::new(cfg.limits())),
            ingest_keys: Arc::new(cfg.http.ingest_keys.clone()),
            metrics: metrics.clone(),
            streams,
        },
        ingest_durable: cfg.ingest.durable.clone(),
        clickhouse_durable: cfg.clickhouse.durable.clone(),
        metrics,
        warehouse,
        analyst_keys: Arc::new(cfg.http.analyst_keys.clone()),
        recommender,
        app_keys: Arc::new(cfg.http.app_keys.clone()),
    })
}

/// Binds and serves the app until `shutdown` resolves.
pub async fn serve_app(
    addr: &str,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, tokio::task::JoinHandle<Result<()>>)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    let app = showrunner_dashboard::router(state);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("http server")
    });
    Ok((local, task))
}

/// Runs `serve`.
pub async fn serve(cfg: &Config, a: ServeArgs) -> Result<()> {
    let url = a.nats.unwrap_or_else(|| cfg.nats.url.clone());
    let lake = a.lake.unwrap_or_else(|| cfg.lake.path.clone());
    let state = app_state(cfg, &url, &lake, Arc::new(Metrics::default())).await?;
    let bind = a.bind.unwrap_or_else(|| cfg.http.bind.clone());
    let (addr, task) = serve_app(&bind, state, shutdown_signal()).await?;
    eprintln!("listening on http://{addr}");
    task.await?
}

/// `deadletter` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum DeadletterCommand {
    /// Print dead letters as NDJSON (seq, source subject, field, reason, payload).
    List {
        /// NATS URL (default: config `nats.url`).
        #[arg(long)]
        nats: Option<String>,
        /// Write to this file instead of stdout (edit it, then `replay --file`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-validate dead letters and re-publish those that pass; those the
    /// ClickHouse sink's server refused are inserted into ClickHouse again
    /// instead (the lake has them).
    Replay {
        /// NATS URL (default: config `nats.url`).
        #[arg(long)]
        nats: Option<String>,
        /// ClickHouse HTTP URL for the letters its server refused (default:
        /// config `clickhouse.url` when `clickhouse.enabled`).
        #[arg(long)]
        clickhouse: Option<String>,
        /// NDJSON of dead letters as printed by `list`, with fixed payloads
        /// (default: every dead letter as stored).
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

/// Runs `deadletter`.
pub async fn deadletter(cfg: &Config, c: DeadletterCommand) -> Result<()> {
    let url = match &c {
        DeadletterCommand::List { nats, .. } | DeadletterCommand::Replay { nats, .. } => {
            nats.clone().unwrap_or_else(|| cfg.nats.url.clone())
        }
    };
    let client = nats::connect(&url, Duration::from_secs(10)).await?;
    let js = nats::context(client, Duration::from_secs(10), 1_024);
    let streams = cfg.streams();
    nats::ensure_streams(&js, &streams).await?;
    match c {
        DeadletterCommand::List { out, .. } => {
            let letters = deadletter::list(&js, &streams.deadletter).await?;
            let mut w: Box<dyn Write> = match out {
                Some(p) => Box::new(
                    std::fs::File::create(&p)
                        .with_context(|| format!("creating {}", p.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            for l in &letters {
                writeln!(w, "{}", serde_json::to_string(l)?)?;
            }
            eprintln!("{} dead letters", letters.len());
        }
        DeadletterCommand::Replay {
            file, clickhouse, ..
        } => {
            let letters: Vec<DeadLetter> = match file {
                Some(p) => {
                    let f = std::fs::File::open(&p)
                        .with_context(|| format!("opening {}", p.display()))?;
                    let mut v = Vec::new();
                    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
                        let line = line?;
                        if line.trim().is_empty() {
                            continue;
                        }
                        v.push(
                            serde_json::from_str(&line)
                                .with_context(|| format!("{} line {}", p.display(), n + 1))?,
                        );
                    }
                    v
                }
                None => deadletter::list(&js, &streams.deadletter).await?,
            };
            let ch = clickhouse
                .or_else(|| cfg.clickhouse.enabled.then(|| cfg.clickhouse.url.clone()))
                .map(|url| cfg.clickhouse.settings(url));
            let results = deadletter::replay(
                &js,
                &streams.deadletter,
                letters,
                &Validator::new(cfg.limits()),
                ch.as_ref(),
            )
            .await?;
            for r in &results {
                println!("{}", serde_json::to_string(r)?);
            }
            let count = |s: &str| results.iter().filter(|r| r.status == s).count();
            // a duplicate's letter is deleted too: the stream had the event
            let done = ["republished", "duplicate", "reinserted"].map(count);
            eprintln!(
                "{} republished, {} already in the stream, {} reinserted into ClickHouse, {} left",
                done[0],
                done[1],
                done[2],
                results.len() - done.iter().sum::<usize>()
            );
        }
    }
    Ok(())
}
