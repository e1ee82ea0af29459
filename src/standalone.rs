//! `showrunner standalone`: the main job on one machine — a managed
//! nats-server, a simulated audience on first run, ingest into the lake,
//! and the HTTP server on 127.0.0.1; Ctrl-C stops everything cleanly.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use showrunner_bus::{self as nats, server::LocalNatsServer};
use showrunner_events::Validator;
use showrunner_ingest::consumer;
use showrunner_ingest::metrics::Metrics;
use tokio::sync::watch;

use crate::config::Config;
use crate::run;
use crate::simulate::{self, SimulateArgs};

/// Arguments of `standalone`.
#[derive(Args, Debug, Clone)]
pub struct StandaloneArgs {
    /// Data directory (NATS store and lake).
    #[arg(long, default_value = "showrunner-data")]
    pub data: PathBuf,
    /// HTTP port on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Users to simulate on first run (default: config `simulator.users`).
    #[arg(long)]
    pub users: Option<u32>,
    /// Days to simulate on first run (default: config `simulator.days`).
    #[arg(long)]
    pub days: Option<u32>,
    /// Exit after the first run is ingested (for scripts and tests).
    #[arg(long)]
    pub exit_when_ingested: bool,
}

/// Runs `standalone`.
pub async fn run(cfg: &Config, a: StandaloneArgs) -> Result<()> {
    std::fs::create_dir_all(&a.data).with_context(|| format!("creating {}", a.data.display()))?;
    let lake = a.data.join("lake");
    let nats_store = a.data.join("nats");
    let server = LocalNatsServer::start(&nats_store, 0)?;
    let url = server.url();
    eprintln!(
        "nats-server running at {url} (store {})",
        nats_store.display()
    );

    let client = nats::connect(&url, Duration::from_secs(10)).await?;
    let js = nats::context(client.clone(), Duration::from_secs(10), 1_024);
    let metrics = Arc::new(Metrics::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    // ingest runs from the start, so the first run's audience is written to
    // the lake while it is being published
    let settings = run::ingest_settings(
        cfg,
        &run::IngestArgs {
            nats: Some(url.clone()),
            lake: Some(lake.clone()),
            ..run::IngestArgs::default()
        },
    );
    let ingest = tokio::spawn(consumer::run(
        settings.clone(),
        Validator::new(cfg.limits()),
        metrics.clone(),
        stopped(stop_rx.clone()),
    ));
    // with `clickhouse.enabled`, ClickHouse is fed too (and the metrics API
    // answers `engine=clickhouse` from it)
    let clickhouse = if cfg.clickhouse.enabled {
        let ch = cfg.clickhouse.settings(cfg.clickhouse.url.clone());
        // the schema up front; a server that is down is caught up with later
        if let Err(e) = showrunner_ingest::sinks::clickhouse::migrate(&ch).await {
            eprintln!("ClickHouse migrate failed ({e}); the sink retries until the server answers");
        }
        // with --exit-when-ingested the sink drains before the stop
        let mut s = settings.clone();
        s.drain = a.exit_when_ingested;
        Some(run::spawn_clickhouse_sink(
            cfg,
            &s,
            ch.url,
            stopped(stop_rx.clone()),
        ))
    } else {
        None
    };

    let started = Instant::now();
    let mut stream = nats::ensure_streams(&js, &cfg.streams()).await?;
    let existing = stream.info().await?.state.messages;
    if existing == 0 {
        let args = SimulateArgs {
            users: a.users.unwrap_or(cfg.simulator.users),
            days: a.days.unwrap_or(cfg.simulator.days),
            seed: cfg.simulator.seed,
            start: None,
            heartbeat_secs: cfg.simulator.heartbeat_secs,
            nats: Some(url.clone()),
            out: None,
        };
        eprintln!(
            "first run: simulating {} users over {} days",
            args.users, args.days
        );
        let (n, secs) = simulate::publish(cfg, &url, simulate::sim_config(&args)).await?;
        eprintln!("published {n} events in {secs:.1} s");
    } else {
        eprintln!("event stream holds {existing} events; not simulating");
    }

    let consumer = consumer::durable_consumer(&js, &settings).await?;
    loop {
        let mut c = consumer.clone();
        let info = c.info().await?;
        let left = info.num_pending + info.num_ack_pending as u64;
        eprint!(
            "\ringesting: {} events in the lake, {left} to go   ",
            metrics.events_ingested.load(Ordering::Relaxed)
        );
        if left == 0 {
            break;
        }
        if ingest.is_finished() {
            // ingest stopped on its own: that is an error, report it now
            let report = ingest.await??;
            anyhow::bail!(
                "ingest stopped unexpectedly after {} events",
                report.ingested
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "\ringested {} events into {} in {:.1} s ({} files)",
        metrics.events_ingested.load(Ordering::Relaxed),
        lake.display(),
        started.elapsed().as_secs_f64(),
        metrics.files.load(Ordering::Relaxed)
    );

    // the metric tables, now and then on a timer (new events from the
    // collector are ingested meanwhile)
    let t = std::time::Instant::now();
    let report = showrunner_warehouse::materialize::run(&lake).await?;
    eprintln!(
        "materialized {} metrics under {} in {:.1} s",
        report.recomputed.len(),
        showrunner_lake::Layout::new(&lake).metrics().display(),
        t.elapsed().as_secs_f64()
    );
    let every = cfg.warehouse.materialize_every_secs;
    let materializer = (every > 0).then(|| {
        let (lake, mut stop) = (lake.clone(), stop_rx.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(every)) => {}
                    _ = stop.wait_for(|v| *v) => return,
                }
                match showrunner_warehouse::materialize::run(&lake).await {
                    Ok(r) if r.new_files > 0 => tracing::info!(
                        new_files = r.new_files,
                        files_written = r.files_written,
                        "metric tables refreshed"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "materialize failed"),
                }
            }
        })
    });
    let compactor = spawn_compactor(&lake, &cfg.lake, stop_rx.clone());

    // the recommender: a model from the lake, retrained on a timer (the
    // server picks each new version up by itself)
    let t = std::time::Instant::now();
    let m = {
        let lake = lake.clone();
        tokio::task::spawn_blocking(move || crate::recommend_cmd::train(&lake, 42, 3)).await??
    };
    let cold = m.cold_start.as_ref().map_or_else(
        || "none".to_string(),
        |c| {
            let whom = match c.everyone {
                true => "for everyone".to_string(),
                false => format!("below {} titles", c.below),
            };
            match (c.served(), c.params.clusters()) {
                (false, _) => "none".into(),
                (true, 1) => format!("trending {whom}"),
                (true, k) => format!("{k} taste clusters {whom}"),
            }
        },
    );
    eprintln!(
        "trained recommender {} ({}) on {} users × {} titles in {:.1} s (holdout nDCG@10 {:.3}, popularity {:.3}; cold start: {cold})",
        m.version,
        m.model,
        m.data.users,
        m.data.titles,
        t.elapsed().as_secs_f64(),
        m.holdout.model.ndcg,
        m.holdout.popularity.ndcg
    );
    let retrain_every = cfg.recommender.retrain_every_secs;
    let retrainer = (retrain_every > 0).then(|| {
        let (lake, mut stop) = (lake.clone(), stop_rx.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(retrain_every)) => {}
                    _ = stop.wait_for(|v| *v) => return,
                }
                let lake = lake.clone();
                match tokio::task::spawn_blocking(move || crate::recommend_cmd::train(&lake, 42, 3)).await {
                    Ok(Ok(m)) => tracing::info!(version = %m.version, users = m.data.users, "recommender retrained"),
                    Ok(Err(e)) => tracing::warn!(error = %e, "retraining failed"),
                    Err(e) => tracing::warn!(error = %e, "retraining task failed"),
                }
            }
        })
    });

    let state = run::app_state(cfg, &url, &lake, metrics.clone()).await?;
    let (addr, http) = run::serve_app(
        &format!("127.0.0.1:{}", a.port),
        state,
        stopped(stop_rx.clone()),
    )
    .await?;
    let key = cfg.http.ingest_keys.first().cloned().unwrap_or_default();
    let analyst = cfg.http.analyst_keys.first().cloned().unwrap_or_default();
    let app = cfg.http.app_keys.first().cloned().unwrap_or_default();
    eprintln!("\nShowrunner is running:");
    eprintln!("  open        http://{addr}/");
    eprintln!("  metrics     http://{addr}/metrics");
    eprintln!(
        "  send events curl -H 'Authorization: Bearer {key}' --data-binary @events.ndjson http://{addr}/v1/events"
    );
    eprintln!(
        "  metrics API curl -H 'Authorization: Bearer {analyst}' 'http://{addr}/v1/metrics/mrr'"
    );
    eprintln!(
        "  for you     curl -H 'Authorization: Bearer {app}' 'http://{addr}/v1/users/<user>/recommendations?row=for_you'"
    );
    eprintln!(
        "  models      {}/models/<version>/ (retrained every {retrain_every} s)",
        lake.display()
    );
    eprintln!(
        "  metric tables {}/metrics/<name>/month=YYYY-MM/data.parquet (every {every} s)",
        lake.display()
    );
    eprintln!(
        "  lake        {}/events/<family>/date=YYYY-MM-DD/*.parquet",
        lake.display()
    );
    if cfg.clickhouse.enabled {
        eprintln!(
            "  clickhouse  {} database {} (fed by its own consumer; `metrics --engine clickhouse`, API `engine=clickhouse`)",
            cfg.clickhouse.url, cfg.clickhouse.database
        );
    }
    eprintln!("Ctrl-C stops everything.");

    let mut clickhouse = clickhouse;
    if !a.exit_when_ingested {
        run::shutdown_signal().await;
        eprintln!("stopping…");
    } else if let Some((task, sink)) = clickhouse.take() {
        task.await??;
        eprintln!(
            "ClickHouse: {} events inserted",
            sink.inserted.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
    let _ = stop_tx.send(true);
    if let Some(m) = materializer {
        let _ = m.await;
    }
    if let Some(r) = retrainer {
        let _ = r.await;
    }
    if let Some(c) = compactor {
        let _ = c.await;
    }
    http.await??;
    let report = ingest.await??;
    if let Some((task, sink)) = clickhouse {
        task.await??;
        eprintln!(
            "ClickHouse: {} events inserted this run",
            sink.inserted.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
    drop(client);
    drop(server);
    eprintln!(
        "stopped cleanly ({} events ingested this run)",
        report.ingested
    );
    Ok(())
}

/// Compacts the lake's closed partitions every `lake.compact_every_secs`
/// (none when 0), on a blocking thread, until `stop`.
fn spawn_compactor(
    lake: &std::path::Path,
    cfg: &crate::config::LakeConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let every = cfg.compact_every_secs;
    (every > 0).then(|| {
        let (lake, cfg) = (lake.to_path_buf(), cfg.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(every)) => {}
                    _ = stop.wait_for(|v| *v) => return,
                }
                let (lake, cfg) = (lake.clone(), cfg.clone());
                match tokio::task::spawn_blocking(move || crate::lake_cmd::compact(&lake, &cfg))
                    .await
                {
                    Ok(Ok(r)) if r["partitions_compacted"].as_u64() > Some(0) => {
                        tracing::info!(report = %r, "lake compacted")
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "compaction failed"),
                    Err(e) => tracing::warn!(error = %e, "compaction task failed"),
                }
            }
        })
    })
}
