//! The `showrunner` binary: command-line parsing and wiring only.

mod churn_cmd;
mod clickhouse_cmd;
mod deadletter_cmd;
mod events_cmd;
mod keys_cmd;
mod lake_cmd;
mod metrics_cmd;
mod recommend_cmd;
mod run;
mod simulate;
mod standalone;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use showrunner_node::Config;

/// Event-sourced analytics and recommendations for OTT streaming services.
#[derive(Parser)]
#[command(name = "showrunner", version, about)]
struct Cli {
    /// Configuration file (default: ./showrunner.toml when present).
    #[arg(long, global = true, env = "SHOWRUNNER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate an OTT audience into NATS or an NDJSON file.
    Simulate(simulate::SimulateArgs),
    /// Consume the event stream into the Parquet lake.
    Ingest(run::IngestArgs),
    /// Run roles (default: the collector and the APIs over HTTP; `--roles`).
    Serve(run::ServeArgs),
    /// Everything on one machine: local NATS, simulated audience, ingest, HTTP.
    Standalone(standalone::StandaloneArgs),
    /// Compute metrics over the lake (`metrics list` shows them).
    Metrics(metrics_cmd::MetricsArgs),
    /// Run a read-only SQL query over the lake.
    Sql(metrics_cmd::SqlArgs),
    /// Inspect and replay dead letters.
    Deadletter {
        #[command(subcommand)]
        command: deadletter_cmd::DeadletterCommand,
    },
    /// Print the event contract: examples, lake schema.
    Events {
        #[command(subcommand)]
        command: events_cmd::EventsCommand,
    },
    /// Recommendation models: offline evaluation, training on the lake.
    Recommend {
        #[command(subcommand)]
        command: recommend_cmd::RecommendCommand,
    },
    /// The lake itself: `lake compact`.
    Lake {
        #[command(subcommand)]
        command: lake_cmd::LakeCommand,
    },
    /// The churn-risk model: `churn train`, `churn score`.
    Churn {
        #[command(subcommand)]
        command: churn_cmd::ChurnCommand,
    },
    /// Bearer keys: `keys new --role R [--id NAME]`.
    Keys {
        #[command(subcommand)]
        command: keys_cmd::KeysCommand,
    },
    /// The ClickHouse schema: `clickhouse migrate`.
    Clickhouse {
        #[command(subcommand)]
        command: clickhouse_cmd::ClickhouseCommand,
    },
}

/// Logs to stderr, filtered by `SHOWRUNNER_LOG` (default `info`), as text
/// or, with `SHOWRUNNER_LOG_FORMAT=json`, one JSON object a line.
fn logs() -> Result<()> {
    let b = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHOWRUNNER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,async_nats=warn")),
        )
        .with_writer(std::io::stderr);
    match std::env::var("SHOWRUNNER_LOG_FORMAT").as_deref() {
        Ok("json") => b.json().flatten_event(true).init(),
        Ok("text") | Ok("") | Err(_) => b.init(),
        Ok(other) => anyhow::bail!("SHOWRUNNER_LOG_FORMAT is `{other}`: use text or json"),
    }
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    logs()?;
    let cfg = Config::load(cli.config.as_deref(), std::env::vars())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Simulate(a) => simulate::run(&cfg, a).await,
            Command::Ingest(a) => run::ingest(&cfg, a).await,
            Command::Serve(a) => run::serve(&cfg, a).await,
            Command::Standalone(a) => standalone::run(&cfg, a).await,
            Command::Deadletter { command } => deadletter_cmd::run(&cfg, command).await,
            Command::Events { command } => events_cmd::run(command),
            Command::Keys { command } => keys_cmd::run(command),
            Command::Metrics(a) => metrics_cmd::metrics(&cfg, a).await,
            Command::Sql(a) => metrics_cmd::sql(&cfg, a).await,
            Command::Lake { command } => lake_cmd::run(&cfg, command).await,
            Command::Clickhouse { command } => clickhouse_cmd::run(&cfg, command).await,
            Command::Recommend { command } => recommend_cmd::run(&cfg, command).await,
            Command::Churn { command } => churn_cmd::run(&cfg, command).await,
        }
    })
}
