//! `showrunner simulate`: a simulated audience into NATS or NDJSON.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use showrunner_bus as nats;
use showrunner_ingest::publish::publish_days;
use showrunner_simulator::{SimConfig, Simulator};

use showrunner_node::Config;

/// Arguments of `simulate`.
#[derive(Args, Debug, Clone)]
pub struct SimulateArgs {
    /// Users who sign up over the period.
    #[arg(long, default_value_t = 1_000)]
    pub users: u32,
    /// Days to simulate.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Seed: the same seed gives the same events.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First day, YYYY-MM-DD (default: so that the last day is today).
    #[arg(long)]
    pub start: Option<NaiveDate>,
    /// Seconds between player heartbeats.
    #[arg(long, default_value_t = 60)]
    pub heartbeat_secs: u32,
    /// Publish to this NATS server.
    #[arg(long, conflicts_with = "out")]
    pub nats: Option<String>,
    /// Write NDJSON to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn bar(days: u32) -> ProgressBar {
    let pb = ProgressBar::new(u64::from(days));
    pb.set_style(
        ProgressStyle::with_template("{spinner} simulating [{bar:30}] day {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb
}

/// Publishes a simulation to NATS; returns the events.
async fn publish(cfg: &Config, url: &str, sim: SimConfig) -> Result<u64> {
    let client = nats::connect(url, Duration::from_secs(10)).await?;
    let js = nats::context(client, Duration::from_secs(30), 8_192);
    nats::ensure_streams(&js, &cfg.streams()).await?;
    let pb = bar(sim.days);
    let total = publish_days(&js, Simulator::new(sim), |n| {
        pb.inc(1);
        pb.set_message(format!("{n} events"));
    })
    .await?;
    pb.finish_and_clear();
    Ok(total)
}

/// Runs `simulate`.
pub async fn run(cfg: &Config, a: SimulateArgs) -> Result<()> {
    let last = chrono::Utc::now().date_naive();
    let mut sim = match a.start {
        Some(start) => SimConfig::new(a.users, a.days, a.seed, start),
        None => SimConfig::ending(a.users, a.days, a.seed, last),
    };
    sim.heartbeat_secs = a.heartbeat_secs;
    let started = Instant::now();
    let total = match (&a.nats, &a.out) {
        (Some(url), None) => publish(cfg, url, sim).await?,
        (None, Some(path)) => {
            let f = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::new(f);
            let pb = bar(sim.days);
            let mut total = 0u64;
            for day in Simulator::new(sim) {
                for e in &day {
                    w.write_all(&e.to_wire().to_json())?;
                    w.write_all(b"\n")?;
                }
                total += day.len() as u64;
                pb.inc(1);
                pb.set_message(format!("{total} events"));
            }
            w.flush()?;
            pb.finish_and_clear();
            total
        }
        _ => bail!("give exactly one of --nats URL or --out FILE"),
    };
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "simulated {total} events in {secs:.1} s ({:.0} events/s)",
        total as f64 / secs.max(1e-9)
    );
    Ok(())
}
