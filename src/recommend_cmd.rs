//! `showrunner recommend eval` and `recommend train`: their flags, the
//! input read, the recommender's `offline` evaluation (one JSON line per
//! model) or `train_lake` (the manifest as one JSON line) called.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Subcommand, ValueEnum};
use showrunner_recommender::data::Interactions;
use showrunner_recommender::offline::{self, Model};
use showrunner_recommender::protocol::{self, Tuning};
use showrunner_recommender::train as training;

/// Input formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InterFormat {
    /// RecBole `.inter` (MovieLens): header with `user_id:…`, `item_id:…`.
    Movielens,
    /// `user<TAB>item`, no header.
    Tsv,
}

/// `recommend` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum RecommendCommand {
    /// Offline evaluation: nDCG, recall, precision and coverage at K.
    Eval(EvalArgs),
    /// Trains on the lake and publishes a versioned artifact under
    /// `<lake>/models/` (or `--models`); prints its manifest as one JSON
    /// line.
    Train {
        /// The lake: a directory or `s3://bucket/prefix` (default:
        /// `lake.path` of the config).
        #[arg(long)]
        lake: Option<PathBuf>,
        /// Where the versions go (default: `<lake>/models/`; required for
        /// an object-store lake: models are served from a directory).
        #[arg(long)]
        models: Option<PathBuf>,
        /// Seed of the holdout split and the validation folds.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Versions kept under `<lake>/models/`.
        #[arg(long, default_value_t = 3)]
        keep: usize,
    },
}

/// Arguments of `recommend eval`.
#[derive(clap::Args, Debug, Clone)]
pub struct EvalArgs {
    /// Interactions (every one an implicit positive), split here 80/20
    /// per user with `--seed`.
    #[arg(long, required_unless_present_any = ["train", "lake"])]
    pub interactions: Option<PathBuf>,
    /// The lake's weighted feedback, as `recommend train` builds it, split
    /// here like `--interactions`.
    #[arg(long, conflicts_with_all = ["interactions", "train"])]
    pub lake: Option<PathBuf>,
    /// Format of `--interactions`.
    #[arg(long, value_enum, default_value = "movielens")]
    pub format: InterFormat,
    /// A split made elsewhere: train TSV (`user<TAB>item`) …
    #[arg(long, requires = "test", conflicts_with = "interactions")]
    pub train: Option<PathBuf>,
    /// … and test TSV.
    #[arg(long, requires = "train")]
    pub test: Option<PathBuf>,
    /// Model: ease (λ tuned on a validation split of the training data),
    /// dlae (denoising EASE: λ and dropout), als (implicit ALS: factors, α,
    /// λ), itemknn (neighbours), popularity, blend (DLAE and ALS, then the
    /// weight), clusters (k-means over ALS's user factors: cold start), or
    /// all, one line each (docs/recommender.md).
    #[arg(long, default_value = "all")]
    pub model: String,
    /// Cut-off.
    #[arg(long, default_value_t = protocol::K)]
    pub k: usize,
    /// Seed of the split (and of the validation split).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Cold-start protocol: the models see only this many of each
    /// user's training items (drawn at random); the ranking still
    /// excludes all of them. Tuning is unchanged.
    #[arg(long)]
    pub history: Option<usize>,
    /// Clusters of the `clusters` model (default: tuned on validation
    /// folds like training's, over 1, 2, 5, 10, 20, 40).
    #[arg(long)]
    pub clusters: Option<usize>,
}

/// Runs `recommend`.
pub async fn run(cfg: &showrunner_node::Config, c: RecommendCommand) -> Result<()> {
    let a = match c {
        RecommendCommand::Eval(a) => a,
        RecommendCommand::Train {
            lake,
            models,
            seed,
            keep,
        } => {
            let store = cfg.lake_store(lake)?;
            let models = match (models, store.local_root()) {
                (Some(m), _) => m,
                (None, Some(root)) => showrunner_lake::Layout::new(root).models(),
                (None, None) => bail!("an object-store lake ({store}) needs --models DIR"),
            };
            let m = tokio::task::spawn_blocking(move || {
                showrunner_node::jobs::train_store(&store, &models, seed, keep)
            })
            .await??;
            println!("{}", serde_json::to_string(&m)?);
            return Ok(());
        }
    };
    if a.k == 0 {
        bail!("--k must be ≥ 1");
    }
    let models = Model::named(&a.model).map_err(anyhow::Error::msg)?;
    let (train, test) = match (&a.interactions, &a.lake, &a.train, &a.test) {
        (None, Some(lake), None, None) => {
            let fb = Default::default();
            protocol::holdout_split(&training::lake_interactions(lake, &fb)?.1.matrix, a.seed)
        }
        (Some(path), None, None, None) => {
            let all = match a.format {
                InterFormat::Movielens => Interactions::from_recbole(path)?,
                InterFormat::Tsv => Interactions::from_tsv(path)?,
            };
            protocol::holdout_split(&all.matrix, a.seed)
        }
        (None, None, Some(tr), Some(te)) => {
            let (_, train, test) = Interactions::from_split_tsv(tr, te)?;
            (train, test)
        }
        _ => bail!("give --interactions, --lake, or --train and --test"),
    };
    let o = offline::Options {
        tuning: Tuning::new(a.k, a.seed),
        history: a.history,
        clusters: a.clusters,
    };
    for m in models {
        println!(
            "{}",
            offline::evaluate_model(m, &train, &test, &o)?.to_json()
        );
    }
    Ok(())
}
