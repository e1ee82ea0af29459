//! The `showrunner-bench` binary: command-line parsing and wiring only; the
//! benchmarks live in the `showrunner_benchmarks` library.

use anyhow::Result;
use clap::{Parser, Subcommand};
use showrunner_benchmarks::{campaigns, clickhouse, dashboard, ingest, metrics, recommend, stages};

/// Showrunner's benchmarks; each prints one JSON object.
#[derive(Parser)]
#[command(name = "showrunner-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest throughput: bare consumer vs ingest into Parquet.
    Ingest(ingest::IngestArgs),
    /// The metric suite, cold and warm, per metric, next to DuckDB on the
    /// same files; says whether the two engines agree.
    Metrics(metrics::MetricsArgs),
    /// ClickHouse: the sink's insert throughput, and the metric suite on
    /// ClickHouse next to DataFusion on the same events.
    Clickhouse(clickhouse::ClickHouseArgs),
    /// Recommendation serving: a model over a synthetic audience, then HTTP
    /// load at fixed concurrency; throughput and latency percentiles.
    Recommend(recommend::RecommendArgs),
    /// Where ingest's CPU goes, per stage, single-threaded, no NATS.
    Stages(stages::StagesArgs),
    /// The analysts' pages' data requests, on a quiet lake and while a
    /// file of events is committed every second; when new events show.
    Dashboard(dashboard::DashboardArgs),
    /// Marketing's send decisions for a large audience: the ledger, the
    /// audience, the preview (threads) and the recorded decisions.
    Campaigns(campaigns::CampaignsArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHOWRUNNER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,async_nats=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Ingest(a) => ingest::run(a).await,
            Command::Stages(a) => stages::run(a),
            Command::Recommend(a) => recommend::run(a).await,
            Command::Clickhouse(a) => clickhouse::run(a).await,
            Command::Metrics(a) => metrics::run(a).await,
            Command::Dashboard(a) => dashboard::run(a).await,
            Command::Campaigns(a) => campaigns::run(a),
        }
    })
}
