//! `showrunner churn train|score`: the churn-risk model on a lake
//! (`showrunner_churn`); each prints one JSON line.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use showrunner_churn::TrainOptions;
use showrunner_churn::models::gbdt::GbdtParams;
use showrunner_churn::models::logistic::LogisticParams;
use showrunner_node::Config;

/// `churn` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum ChurnCommand {
    /// Fits the baseline (logistic regression) and gradient-boosted trees
    /// on weekly snapshots, judges them on the latest snapshots (a
    /// time-based holdout), stores the kept one under the lake's
    /// `scores/churn/model.json` and prints its figures and the baseline's.
    Train {
        /// The lake: a directory or `s3://bucket/prefix` (default:
        /// `lake.path` of the config).
        #[arg(long)]
        lake: Option<PathBuf>,
        /// Share of the labelled snapshot dates held out, the latest.
        #[arg(long, default_value_t = 0.2)]
        test_share: f64,
        /// The baseline's L2 penalty.
        #[arg(long, default_value_t = 1.0)]
        alpha: f64,
        /// The trees' budget (perpetual's one hyper-parameter).
        #[arg(long, default_value_t = 0.5)]
        budget: f32,
    },
    /// Scores every subscriber at the end of the lake's latest day with the
    /// stored model and writes `scores/churn/scores.parquet` (the SQL
    /// table `churn_scores`).
    Score {
        /// The lake (default: `lake.path` of the config).
        #[arg(long)]
        lake: Option<PathBuf>,
    },
}

/// Runs a `churn` subcommand.
pub async fn run(cfg: &Config, c: ChurnCommand) -> Result<()> {
    match c {
        ChurnCommand::Train {
            lake,
            test_share,
            alpha,
            budget,
        } => {
            let store = cfg.lake_store(lake)?;
            let opts = TrainOptions {
                test_share,
                logistic: LogisticParams::new().alpha(alpha),
                gbdt: GbdtParams::new().budget(budget),
            };
            let served = showrunner_churn::train_lake(&store, &opts).await?;
            println!("{}", serde_json::to_string(&served.report)?);
        }
        ChurnCommand::Score { lake } => {
            let store = cfg.lake_store(lake)?;
            let summary = showrunner_churn::score_lake(&store).await?;
            println!("{}", serde_json::to_string(&summary)?);
        }
    }
    Ok(())
}
