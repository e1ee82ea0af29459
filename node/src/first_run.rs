//! `standalone`'s first run as a library: with ingest already running (so
//! the audience is written while it is published), a simulated audience is
//! published when the event stream is empty; once the lake holds every
//! event, the metric tables and a first model are built. Each step is
//! reported to the caller, which prints it.

use std::path::Path;
use std::time::{Duration, Instant};

use showrunner_bus as nats;
use showrunner_ingest::publish::publish_days;
use showrunner_simulator::{SimConfig, Simulator};

use crate::{IngestProgress, Node, Result, jobs};

/// A step of the first run, as it happens.
#[derive(Debug, Clone)]
pub enum Step {
    /// The stream already holds events: nothing is simulated.
    StreamHolds(u64),
    /// Simulating and publishing `users` users over `days` days.
    Simulating {
        /// Users.
        users: u32,
        /// Days.
        days: u32,
    },
    /// Events published so far (after each simulated day).
    Published(u64),
    /// Every simulated event is in the stream.
    PublishedAll {
        /// Events.
        events: u64,
        /// Seconds it took.
        secs: f64,
    },
    /// Ingest's progress, while the durable consumer holds messages.
    Ingesting(IngestProgress),
    /// The durable consumer holds nothing more.
    Ingested {
        /// What this process ingested.
        progress: IngestProgress,
        /// Seconds it took.
        secs: f64,
    },
    /// The metric tables are up to date.
    Materialized {
        /// Metrics recomputed.
        metrics: usize,
        /// Seconds it took.
        secs: f64,
    },
    /// A model is trained and published.
    Trained {
        /// Its manifest's summary.
        summary: String,
        /// Seconds it took.
        secs: f64,
    },
}

impl Step {
    /// The step as a terminal shows it (`lake` is the lake's directory):
    /// progress steps start with `\r` and end without a newline, so the
    /// next one overwrites them.
    pub fn text(&self, lake: &Path) -> String {
        match self {
            Step::StreamHolds(n) => format!("event stream holds {n} events; not simulating\n"),
            Step::Simulating { users, days } => {
                format!("first run: simulating {users} users over {days} days\n")
            }
            Step::Published(n) => format!("\rpublished {n} events   "),
            Step::PublishedAll { events, secs } => {
                format!("\rpublished {events} events in {secs:.1} s\n")
            }
            Step::Ingesting(p) => format!(
                "\ringesting: {} events in the lake, {} to go   ",
                p.ingested, p.left
            ),
            Step::Ingested { progress: p, secs } => format!(
                "\ringested {} events into {} in {secs:.1} s ({} files)\n",
                p.ingested,
                lake.display(),
                p.files
            ),
            Step::Materialized { metrics, secs } => format!(
                "materialized {metrics} metrics under {} in {secs:.1} s\n",
                showrunner_lake::Layout::new(lake).metrics().display()
            ),
            Step::Trained { summary, secs } => {
                format!("trained recommender {summary} in {secs:.1} s\n")
            }
        }
    }
}

/// Runs the first run on `node` (ingest started) over the directory lake
/// `lake`: `sim` is the audience to publish when the stream is empty.
pub async fn run(
    node: &Node,
    lake: &Path,
    sim: SimConfig,
    mut step: impl FnMut(Step),
) -> Result<()> {
    publish_if_empty(node, sim, &mut step).await?;
    let started = Instant::now();
    let progress = node.wait_ingested(|p| step(Step::Ingesting(p))).await?;
    step(Step::Ingested {
        progress,
        secs: started.elapsed().as_secs_f64(),
    });
    let t = Instant::now();
    let report = jobs::materialize(&showrunner_lake::Store::dir(lake)).await?;
    step(Step::Materialized {
        metrics: report.recomputed.len(),
        secs: t.elapsed().as_secs_f64(),
    });
    let t = Instant::now();
    let dir = lake.to_path_buf();
    let m = tokio::task::spawn_blocking(move || jobs::train(&dir, 42, 3))
        .await
        .map_err(|e| crate::Error::Task {
            role: "trainer",
            message: e.to_string(),
        })??;
    step(Step::Trained {
        summary: m.summary(),
        secs: t.elapsed().as_secs_f64(),
    });
    Ok(())
}

/// Publishes the simulated audience when the event stream is empty.
async fn publish_if_empty(node: &Node, sim: SimConfig, step: &mut impl FnMut(Step)) -> Result<()> {
    let s = &node.settings().ingest;
    let client = nats::connect(&s.nats_url, Duration::from_secs(10)).await?;
    let js = nats::context(client, Duration::from_secs(30), 8_192);
    let mut stream = nats::ensure_streams(&js, &s.streams).await?;
    let existing = stream
        .info()
        .await
        .map_err(showrunner_bus::Error::nats)?
        .state
        .messages;
    if existing > 0 {
        step(Step::StreamHolds(existing));
        return Ok(());
    }
    step(Step::Simulating {
        users: sim.users,
        days: sim.days,
    });
    let started = Instant::now();
    let events = publish_days(&js, Simulator::new(sim), |n| step(Step::Published(n))).await?;
    step(Step::PublishedAll {
        events,
        secs: started.elapsed().as_secs_f64(),
    });
    Ok(())
}
