//! `showrunner standalone`: the main job on one machine — a managed
//! nats-server, a simulated audience on first run, and every role of
//! `showrunner_node` (HTTP on 127.0.0.1); Ctrl-C stops everything cleanly.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use clap::Args;
use showrunner_bus::server::LocalNatsServer;
use showrunner_node::first_run::{self, Step};
use showrunner_node::{Node, Role, Roles, stop};

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

/// Runs `standalone`: ingest (and the ClickHouse sink with
/// `clickhouse.enabled`) from the start, so the first run's audience is
/// written while it is published; once it is in, the metric tables and a
/// model, then every other role.
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
    let ingest = run::IngestArgs {
        nats: Some(url.clone()),
        lake: Some(lake.clone()),
        ..run::IngestArgs::default()
    };
    let mut settings = run::node_settings(cfg, &ingest, &format!("127.0.0.1:{}", a.port))?;
    // with --exit-when-ingested the ClickHouse sink drains before the stop
    settings.clickhouse.drain = a.exit_when_ingested;
    let (handle, stop) = stop::channel();
    let mut node = Node::new(settings.clone(), stop);
    let mut roles = Roles::of(&[Role::Ingest]);
    if cfg.clickhouse.enabled {
        // the schema up front; a server that is down is caught up with later
        if let Err(e) =
            showrunner_ingest::sinks::clickhouse::migrate(&settings.clickhouse.clickhouse).await
        {
            eprintln!("ClickHouse migrate failed ({e}); the sink retries until the server answers");
        }
        roles.insert(Role::ClickhouseSink);
    }
    node.start(&roles).await?;
    let sim = simulate::sim_config(&SimulateArgs {
        users: a.users.unwrap_or(cfg.simulator.users),
        days: a.days.unwrap_or(cfg.simulator.days),
        seed: cfg.simulator.seed,
        start: None,
        heartbeat_secs: cfg.simulator.heartbeat_secs,
        nats: None,
        out: None,
    });
    first_run::run(&node, &lake, sim, |s| print_step(&s, &lake)).await?;
    let all = match cfg.clickhouse.enabled {
        true => Roles::all(),
        false => Roles::all().without(Role::ClickhouseSink),
    };
    node.start(&all).await?;
    banner(cfg, &node, &all, &lake);
    if !a.exit_when_ingested {
        stop::signal().await;
        eprintln!("stopping…");
    } else if let Some(sink) = node.wait_clickhouse_drained().await? {
        eprintln!(
            "ClickHouse: {} events inserted",
            sink.inserted.load(Ordering::Relaxed)
        );
    }
    handle.stop();
    let report = node.wait().await?;
    if let Some(sink) = report.clickhouse {
        let n = sink.inserted.load(Ordering::Relaxed);
        eprintln!("ClickHouse: {n} events inserted this run");
    }
    drop(server);
    let ingested = report.ingest.map_or(0, |r| r.ingested);
    eprintln!("stopped cleanly ({ingested} events ingested this run)");
    Ok(())
}

/// One step of the first run, on stderr.
fn print_step(s: &Step, lake: &std::path::Path) {
    match s {
        Step::StreamHolds(n) => eprintln!("event stream holds {n} events; not simulating"),
        Step::Simulating { users, days } => {
            eprintln!("first run: simulating {users} users over {days} days");
        }
        Step::Published(n) => eprint!("\rpublished {n} events   "),
        Step::PublishedAll { events, secs } => {
            eprintln!("\rpublished {events} events in {secs:.1} s");
        }
        Step::Ingesting(p) => eprint!(
            "\ringesting: {} events in the lake, {} to go   ",
            p.ingested, p.left
        ),
        Step::Ingested { progress: p, secs } => eprintln!(
            "\ringested {} events into {} in {secs:.1} s ({} files)",
            p.ingested,
            lake.display(),
            p.files
        ),
        Step::Materialized { metrics, secs } => eprintln!(
            "materialized {metrics} metrics under {} in {secs:.1} s",
            showrunner_lake::Layout::new(lake).metrics().display()
        ),
        Step::Trained { summary, secs } => {
            eprintln!("trained recommender {summary} in {secs:.1} s");
        }
    }
}

/// What is running and how to use it.
fn banner(cfg: &Config, node: &Node, roles: &Roles, lake: &std::path::Path) {
    let addr = node.addr().map_or_else(String::new, |a| a.to_string());
    // the development key of a role when the config holds it
    let key_of = |role: showrunner_web::Role| {
        let dev = showrunner_web::keys::dev_entries();
        showrunner_web::keys::DEV_KEYS
            .iter()
            .zip(dev)
            .find(|((_, r, _), e)| *r == role && cfg.http.keys.contains(e))
            .map_or_else(|| format!("<{role} key>"), |((_, _, k), _)| (*k).to_owned())
    };
    let (key, analyst, app) = (
        key_of(showrunner_web::Role::Ingest),
        key_of(showrunner_web::Role::Analyst),
        key_of(showrunner_web::Role::App),
    );
    let lake = lake.display();
    eprintln!("\nShowrunner is running (roles {roles}):");
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
        "  models      {lake}/models/<version>/ (retrained every {} s)",
        cfg.recommender.retrain_every.as_secs()
    );
    eprintln!(
        "  metric tables {lake}/metrics/<name>/month=YYYY-MM/data.parquet (every {} s)",
        cfg.warehouse.materialize_every.as_secs()
    );
    eprintln!("  lake        {lake}/events/<family>/date=YYYY-MM-DD/*.parquet");
    if cfg.clickhouse.enabled {
        eprintln!(
            "  clickhouse  {} database {} (fed by its own consumer; `metrics --engine clickhouse`, API `engine=clickhouse`)",
            cfg.clickhouse.url, cfg.clickhouse.database
        );
    }
    eprintln!("Ctrl-C stops everything.");
}
