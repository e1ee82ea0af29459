//! `showrunner standalone`: the main job on one machine — a managed
//! nats-server, a simulated audience on first run, and every role of
//! `showrunner_node` (HTTP on 127.0.0.1); Ctrl-C stops everything cleanly.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use clap::Args;
use showrunner_bus::server::LocalNatsServer;
use showrunner_node::{Config, Node, Overrides, Role, Roles, banner, first_run, stop};

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
    let o = Overrides {
        nats: Some(url.clone()),
        lake: Some(lake.clone()),
        ..Overrides::default()
    };
    let mut settings = cfg.node_settings(&o, &format!("127.0.0.1:{}", a.port))?;
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
    let today = chrono::Utc::now().date_naive();
    let sim = cfg.simulator.sim(a.users, a.days, today);
    first_run::run(&node, &lake, sim, |s| eprint!("{}", s.text(&lake))).await?;
    let all = match cfg.clickhouse.enabled {
        true => Roles::all(),
        false => Roles::all().without(Role::ClickhouseSink),
    };
    node.start(&all).await?;
    eprint!("{}", banner::banner(cfg, node.addr(), &all, &lake));
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
