//! `showrunner metrics` and `showrunner sql`: the warehouse from the shell.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use showrunner_warehouse::lake::LakeOptions;
use showrunner_warehouse::metrics::{self, Params};
use showrunner_warehouse::report::{self, Format};
use showrunner_warehouse::{Lake, query};

use showrunner_node::Config;

/// Metric engines.
#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum Engine {
    /// DataFusion over the Parquet lake.
    #[default]
    Datafusion,
    /// ClickHouse over the sink's tables.
    Clickhouse,
}

/// Arguments of `metrics`.
#[derive(Args, Debug, Clone)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MetricsArgs {
    /// `list` shows every metric with its definition.
    #[command(subcommand)]
    pub command: Option<MetricsCommand>,
    /// Lake directory (default: config `lake.path`).
    #[arg(long)]
    pub lake: Option<PathBuf>,
    /// First day, inclusive (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day, exclusive (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// Metrics to compute (default: all).
    #[arg(long = "metric")]
    pub metrics: Vec<String>,
    /// Breakdown dimensions, in order (device, os, player, player_version,
    /// app_version, cdn, country, isp, network, title, plan, startup,
    /// rebuffering).
    #[arg(long = "by")]
    pub by: Vec<String>,
    /// Only the views whose dimension holds one of the values, as
    /// `DIMENSION=V1[,V2…]` (repeatable; e.g. `--where country=FR --where
    /// device=tv`); the view metrics only.
    #[arg(long = "where", value_name = "DIMENSION=VALUES")]
    pub filters: Vec<String>,
    /// Time bucket: hour, day, week, month.
    #[arg(long, default_value = "day")]
    pub bucket: String,
    /// Output format: table, json (one object per metric: metric,
    /// params, columns, rows) or csv.
    #[arg(long, default_value = "table")]
    pub format: Format,
    /// Engine: DataFusion over the lake, or ClickHouse over the sink's tables.
    #[arg(long, value_enum, default_value_t = Engine::Datafusion)]
    pub engine: Engine,
    /// ClickHouse HTTP URL (default: config `clickhouse.url`).
    #[arg(long)]
    pub clickhouse: Option<String>,
    /// ClickHouse database (default: config `clickhouse.database`).
    #[arg(long)]
    pub database: Option<String>,
    /// Print each metric's SQL, rendered for the engine and parameters,
    /// instead of running it.
    #[arg(long)]
    pub show_sql: bool,
}

/// `metrics` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum MetricsCommand {
    /// Every metric with its one-line definition.
    List,
    /// Writes every metric's table under `<lake>/metrics/<name>/` as
    /// Parquet, recomputing only the months new or late events touch;
    /// prints what it recomputed (JSON).
    Materialize {
        /// Lake: a directory or `s3://bucket/prefix` (default: config
        /// `lake.path`).
        #[arg(long)]
        lake: Option<PathBuf>,
    },
}

/// Arguments of `sql`.
#[derive(Args, Debug, Clone)]
pub struct SqlArgs {
    /// Lake directory (default: config `lake.path`).
    #[arg(long)]
    pub lake: Option<PathBuf>,
    /// Output format: table, json or csv.
    #[arg(long, default_value = "table")]
    pub format: Format,
    /// A read-only query over the lake's tables and views.
    pub query: String,
}

/// Runs `metrics`.
pub async fn metrics(cfg: &Config, a: MetricsArgs) -> Result<()> {
    match a.command {
        Some(MetricsCommand::List) => {
            for m in metrics::METRICS {
                println!("{:<26} {}", m.name, m.summary);
            }
            return Ok(());
        }
        Some(MetricsCommand::Materialize { lake }) => {
            let store = cfg.lake_store(lake.or(a.lake))?;
            let t = std::time::Instant::now();
            let report = showrunner_warehouse::materialize::run_store(&store).await?;
            let mut v = serde_json::to_value(&report)?;
            v["seconds"] = serde_json::json!(t.elapsed().as_secs_f64());
            println!("{v}");
            return Ok(());
        }
        None => {}
    }
    let params = Params {
        from: a.from.as_deref().map(metrics::date).transpose()?,
        to: a.to.as_deref().map(metrics::date).transpose()?,
        bucket: a.bucket.parse()?,
        by: a.by.clone(),
        filters: a
            .filters
            .iter()
            .map(|f| {
                let (dim, values) = f
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("--where {f}: expected DIMENSION=V1[,V2…]"))?;
                Ok(metrics::Filter::parse(dim, values)?)
            })
            .collect::<Result<_>>()?,
    };
    let (chosen, skipped) = report::choose(&a.metrics, &params)?;
    for e in skipped {
        eprintln!("skipped: {e}");
    }
    let db = a.database.as_deref().unwrap_or(&cfg.clickhouse.database);
    if a.show_sql {
        let clickhouse = (a.engine == Engine::Clickhouse).then_some(db);
        print!("{}", report::sql(&chosen, &params, clickhouse)?);
        return Ok(());
    }
    let results = if a.engine == Engine::Clickhouse {
        let ch = cfg.clickhouse_engine(a.clickhouse.as_deref(), Some(db))?;
        report::compute(report::Engine::ClickHouse(&ch), &chosen, &params).await?
    } else {
        let lake = Lake::open_store(&cfg.lake_store(a.lake)?, LakeOptions::default()).await?;
        report::compute(report::Engine::DataFusion(&lake), &chosen, &params).await?
    };
    for (m, (columns, batches)) in chosen.into_iter().zip(results) {
        let named = (m.name, &m.effective(&params));
        print!(
            "{}",
            report::render(Some(named), &columns, &batches, a.format)?
        );
    }
    Ok(())
}

/// Runs `sql`.
pub async fn sql(cfg: &Config, a: SqlArgs) -> Result<()> {
    let lake = Lake::open_store(&cfg.lake_store(a.lake)?, LakeOptions::default()).await?;
    let (columns, batches) = query::run(&lake, &a.query).await?;
    print!("{}", report::render(None, &columns, &batches, a.format)?);
    Ok(())
}
