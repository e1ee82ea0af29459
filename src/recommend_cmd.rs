//! `showrunner recommend eval`: offline evaluation of the models under the
//! protocol of `recommender::eval`, one JSON line per model;
//! `showrunner recommend train`: a model artifact from the lake.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Subcommand, ValueEnum};
use linfa::prelude::*;
use showrunner_recommender::data::{Interactions, UserItems};
use showrunner_recommender::eval::{self, Quality};
use showrunner_recommender::feedback::FeedbackParams;
use showrunner_recommender::models::Scorer;
use showrunner_recommender::models::blend::BlendParams;
use showrunner_recommender::models::clusters::TasteClustersParams;
use showrunner_recommender::models::ease::EaseParams;
use showrunner_recommender::models::itemknn::ItemKnnParams;
use showrunner_recommender::models::popularity::PopularityParams;
use showrunner_recommender::protocol::{als_grid, als_params};

/// Validation splits each hyper-parameter is scored on.
const FOLDS: usize = 3;

/// Input formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InterFormat {
    /// RecBole `.inter` (MovieLens): header with `user_id:…`, `item_id:…`.
    Movielens,
    /// `user<TAB>item`, no header.
    Tsv,
}

/// Models.
#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
pub enum ModelName {
    /// EASE, λ tuned on a validation split of the training data.
    Ease,
    /// Denoising EASE (DLAE): λ and dropout tuned the same way.
    Dlae,
    /// Implicit ALS (conjugate gradient): factors, α and λ tuned the same way.
    Als,
    /// Item-kNN (cosine), neighbours tuned the same way.
    Itemknn,
    /// Most popular items.
    Popularity,
    /// DLAE and implicit ALS blended, each tuned alone, then the weight.
    Blend,
    /// Taste clusters: k-means (linfa-clustering) over the tuned implicit
    /// ALS's user factors, each cluster's popular items (cold start).
    Clusters,
    /// Every model, one line each.
    All,
}

/// `recommend` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum RecommendCommand {
    /// Offline evaluation: nDCG, recall, precision and coverage at K.
    Eval(EvalArgs),
    /// Trains on the lake and publishes a versioned artifact under
    /// `<lake>/models/`; prints its manifest as one JSON line.
    Train {
        /// The lake (default: `lake.path` of the config).
        #[arg(long)]
        lake: Option<PathBuf>,
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
    /// Model.
    #[arg(long, value_enum, default_value = "all")]
    pub model: ModelName,
    /// Cut-off.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Seed of the split (and of the validation split).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Cold-start protocol: the models see only this many of each
    /// user's training items (drawn at random); the ranking still
    /// excludes all of them. Tuning is unchanged.
    #[arg(long)]
    pub history: Option<usize>,
    /// Clusters of the `clusters` model.
    #[arg(long, default_value_t = 20)]
    pub clusters: usize,
}

/// Runs `recommend train`: returns the manifest.
pub fn train(
    lake: &std::path::Path,
    seed: u64,
    keep: usize,
) -> Result<showrunner_recommender::artifact::Manifest> {
    let o = showrunner_recommender::train::TrainOptions {
        seed,
        keep_versions: keep.max(1),
        ..Default::default()
    };
    let a = showrunner_recommender::train::train_lake(lake, &o)?;
    Ok(a.manifest)
}

fn line(name: &str, k: usize, q: &Quality, train_s: f64, tune_s: f64, params: serde_json::Value) {
    let mut v = serde_json::json!({
        "model": name,
        format!("ndcg@{k}"): q.ndcg,
        format!("recall@{k}"): q.recall,
        format!("precision@{k}"): q.precision,
        format!("coverage@{k}"): q.coverage,
        "users": q.users,
        "train_seconds": train_s,
        "tune_seconds": tune_s,
    });
    v["params"] = params;
    println!("{v}");
}

/// How a fitted model is scored: the cut-off, and the cold-start history
/// length (with its seed) when given.
#[derive(Debug, Clone, Copy)]
struct Protocol {
    k: usize,
    history: Option<usize>,
    seed: u64,
}

fn run_model<M: Scorer>(
    name: &str,
    train: &UserItems,
    test: &UserItems,
    p: Protocol,
    tune_s: f64,
    params: serde_json::Value,
    fit: impl FnOnce(&UserItems) -> showrunner_recommender::Result<M>,
) -> Result<()> {
    let t = Instant::now();
    let m = fit(train)?;
    let train_s = t.elapsed().as_secs_f64();
    let k = p.k;
    let q = match p.history {
        None => eval::evaluate(&m, train, test, k),
        Some(h) => eval::evaluate_thin(&m, train, test, k, h, p.seed),
    };
    let mut params = params;
    if let Some(h) = p.history {
        params["history"] = serde_json::json!(h);
    }
    line(name, k, &q, train_s, tune_s, params);
    Ok(())
}

fn dataset(x: &UserItems) -> DatasetBase<UserItems, ()> {
    DatasetBase::new(x.clone(), ())
}

/// Tunes a model over `grid` on validation folds of `train`, refits the
/// best value on all of `train`, and prints its line.
#[allow(clippy::too_many_arguments)]
fn tuned<P: Copy, M: Scorer>(
    name: &str,
    train: &UserItems,
    test: &UserItems,
    p: Protocol,
    grid: &[P],
    describe: impl Fn(P) -> serde_json::Value,
    fit: impl Fn(P, &UserItems) -> showrunner_recommender::Result<M>,
) -> Result<()> {
    let t = Instant::now();
    let (best, _) = eval::tune(train, grid, p.k, p.seed, FOLDS, &fit)?;
    let tune_s = t.elapsed().as_secs_f64();
    run_model(name, train, test, p, tune_s, describe(best), |x| {
        fit(best, x)
    })
}

/// Runs `recommend`.
pub fn run(cfg: &crate::config::Config, c: RecommendCommand) -> Result<()> {
    let EvalArgs {
        interactions,
        lake,
        format,
        train,
        test,
        model,
        k,
        seed,
        history,
        clusters,
    } = match c {
        RecommendCommand::Eval(a) => a,
        RecommendCommand::Train { lake, seed, keep } => {
            let lake = lake.unwrap_or_else(|| cfg.lake.path.clone());
            let m = self::train(&lake, seed, keep)?;
            println!("{}", serde_json::to_string(&m)?);
            return Ok(());
        }
    };
    if k == 0 {
        bail!("--k must be ≥ 1");
    }
    let (train, test) = match (interactions, lake, train, test) {
        (None, Some(lake), None, None) => {
            let fb = FeedbackParams::default();
            let (_, all) = showrunner_recommender::train::lake_interactions(&lake, &fb)?;
            Interactions::split(&all.matrix, 0.2, seed)
        }
        (Some(path), None, None, None) => {
            let all = match format {
                InterFormat::Movielens => Interactions::from_recbole(&path)?,
                InterFormat::Tsv => Interactions::from_tsv(&path)?,
            };
            Interactions::split(&all.matrix, 0.2, seed)
        }
        (None, None, Some(tr), Some(te)) => {
            let (_, train, test) = Interactions::from_split_tsv(&tr, &te)?;
            (train, test)
        }
        _ => bail!("give --interactions, --lake, or --train and --test"),
    };
    let proto = Protocol { k, history, seed };
    let want = |m: ModelName| model == m || model == ModelName::All;
    if want(ModelName::Popularity) {
        run_model(
            "popularity",
            &train,
            &test,
            proto,
            0.0,
            serde_json::json!({}),
            |x| PopularityParams::default().fit(&dataset(x)),
        )?;
    }
    if want(ModelName::Itemknn) {
        tuned(
            "itemknn",
            &train,
            &test,
            proto,
            &[10usize, 20, 50, 100, 200, 400],
            |nb| serde_json::json!({ "neighbours": nb }),
            |nb, x| ItemKnnParams::new().neighbours(nb).fit(&dataset(x)),
        )?;
    }
    if want(ModelName::Ease) {
        let grid = [
            100.0f64, 150.0, 200.0, 250.0, 300.0, 400.0, 500.0, 650.0, 800.0, 1000.0, 1300.0,
            1600.0,
        ];
        tuned(
            "ease",
            &train,
            &test,
            proto,
            &grid,
            |l| serde_json::json!({ "lambda": l }),
            |l, x| EaseParams::new().lambda(l).fit(&dataset(x)),
        )?;
    }
    let dlae_fit =
        |(p, l): (f64, f64), x: &UserItems| EaseParams::new().lambda(l).dropout(p).fit(&dataset(x));
    let als_params = |p: (usize, f64, f64)| als_params(p, seed);
    let als_fit = |p: (usize, f64, f64), x: &UserItems| als_params(p).fit(&dataset(x));
    if want(ModelName::Dlae) {
        tuned(
            "dlae",
            &train,
            &test,
            proto,
            &dlae_grid(),
            |(p, l)| serde_json::json!({ "lambda": l, "dropout": p }),
            dlae_fit,
        )?;
    }
    if want(ModelName::Als) {
        tuned(
            "als",
            &train,
            &test,
            proto,
            &als_grid(),
            |(f, a, l)| serde_json::json!({ "factors": f, "alpha": a, "lambda": l }),
            als_fit,
        )?;
    }
    if want(ModelName::Blend) {
        // each member tuned alone, then the weight on the same folds
        let t = Instant::now();
        let ((p, l), _) = eval::tune(&train, &dlae_grid(), k, seed, FOLDS, dlae_fit)?;
        let (fal, _) = eval::tune(&train, &als_grid(), k, seed, FOLDS, als_fit)?;
        let members = BlendParams::new(
            EaseParams::new().lambda(l).dropout(p).check()?,
            als_params(fal).check()?,
        );
        let weights = [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7];
        let (w, _) = eval::best_of(eval::blend_curve(&train, &weights, k, seed, FOLDS, |x| {
            members.check()?.fit(&dataset(x))
        })?)?;
        let params = serde_json::json!({
            "dlae": { "lambda": l, "dropout": p },
            "als": { "factors": fal.0, "alpha": fal.1, "lambda": fal.2 },
            "weight": w,
        });
        run_model(
            "blend",
            &train,
            &test,
            proto,
            t.elapsed().as_secs_f64(),
            params,
            |x| members.weight(w).fit(&dataset(x)),
        )?;
    }
    if want(ModelName::Clusters) {
        // the factor model tuned alone (full histories), then clustered
        let t = Instant::now();
        let (fal, _) = eval::tune(&train, &als_grid(), k, seed, FOLDS, als_fit)?;
        let params = TasteClustersParams::new(als_params(fal).check()?)
            .clusters(clusters)
            .seed(seed);
        run_model(
            "clusters",
            &train,
            &test,
            proto,
            t.elapsed().as_secs_f64(),
            serde_json::json!({
                "clusters": clusters,
                "als": { "factors": fal.0, "alpha": fal.1, "lambda": fal.2 },
            }),
            |x| params.fit(&dataset(x)),
        )?;
    }
    Ok(())
}

/// DLAE's grid: (dropout, λ).
fn dlae_grid() -> Vec<(f64, f64)> {
    [0.25, 0.33, 0.5]
        .iter()
        .flat_map(|p| [100.0, 200.0, 400.0, 800.0].map(|l| (*p, l)))
        .collect()
}
