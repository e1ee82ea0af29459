//! Churn risk: which subscribers are likely to cancel within 30 days, and
//! why — the marketing side's first model.
//!
//! Module map:
//! - [`data`] — the warehouse's feature rows (`churn_features.sql`, one per
//!   weekly snapshot × subscriber) encoded as the models' matrix;
//! - [`models`] — the baseline ([`models::logistic`], `linfa-logistic`) and
//!   the challenger ([`models::gbdt`], `perpetual`), each Params → check →
//!   Fit → serde like the recommender's;
//! - [`eval`] — ROC AUC, PR AUC, Brier, lift and capture at the top decile,
//!   calibration;
//! - [`train`] — the time-based holdout and the choice between the two;
//! - [`served`] — the stored model and the scores table under the lake's
//!   `scores/churn/`;
//! - [`api`] — `GET /v1/users/{user}/churn-risk` over that table, read
//!   again when `churn score` replaces it.
//!
//! The features have one definition, the warehouse's SQL
//! (`warehouse/sql/churn_features.sql`); docs/churn.md has the model card.

pub mod api;
pub mod data;
pub mod error;
pub mod eval;
pub mod models;
pub mod served;
pub mod train;

use std::time::Instant;

use showrunner_lake::Store;
use showrunner_warehouse::Lake;
use showrunner_warehouse::churn::{features, snapshot_times};

pub use data::Rows;
pub use error::{Error, Result};
pub use served::{Score, ServedModel};
pub use train::{TrainOptions, TrainReport};

/// Days between snapshots.
pub const SNAPSHOT_EVERY_DAYS: i64 = 7;

/// The feature rows of `lake` at `snapshots`.
pub async fn rows(lake: &Lake, snapshots: &[i64]) -> Result<Rows> {
    Rows::from_batches(&features(lake, snapshots).await?)
}

/// Trains on every weekly snapshot of the lake in `store`, stores the kept
/// model as the lake's churn model and returns it (its report inside).
pub async fn train_lake(store: &Store, opts: &TrainOptions) -> Result<ServedModel> {
    let t = Instant::now();
    let lake = Lake::open_store(store, Default::default()).await?;
    let snapshots = snapshot_times(&lake, SNAPSHOT_EVERY_DAYS).await?;
    let rows = rows(&lake, &snapshots).await?;
    let features_s = t.elapsed().as_secs_f64();
    let (model, mut report) = train::train(&rows, opts)?;
    report.seconds.features = features_s;
    let served = ServedModel {
        format: served::FORMAT,
        trained_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        features: data::feature_names(),
        model,
        report,
    };
    served.save(store).await?;
    Ok(served)
}

/// What `churn score` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScoreSummary {
    /// The snapshot scored (UTC).
    pub snapshot: String,
    /// Subscribers scored.
    pub subscribers: usize,
    /// The model's kind.
    pub model: models::Kind,
    /// Mean score.
    pub mean_score: f64,
    /// Subscribers with a score of 0.5 or more.
    pub at_risk: usize,
    /// Seconds it took.
    pub seconds: f64,
}

/// Scores every subscriber trialing or paying at the end of the lake's
/// latest day with the lake's churn model and writes the scores table.
pub async fn score_lake(store: &Store) -> Result<ScoreSummary> {
    let t = Instant::now();
    let served = ServedModel::load(store).await?.ok_or_else(|| {
        Error::Data("no churn model in this lake: run `churn train` first".into())
    })?;
    let lake = Lake::open_store(store, Default::default()).await?;
    let Some(&latest) = snapshot_times(&lake, SNAPSHOT_EVERY_DAYS).await?.last() else {
        return Err(Error::Data("the lake has no billing events".into()));
    };
    let rows = rows(&lake, &[latest]).await?;
    let scores = served::score(&served.model, &rows);
    served::write_scores(store, &scores).await?;
    let n = scores.len();
    Ok(ScoreSummary {
        snapshot: train::day(latest),
        subscribers: n,
        model: served.model.kind(),
        mean_score: scores.iter().map(|s| s.score).sum::<f64>() / n.max(1) as f64,
        at_risk: scores.iter().filter(|s| s.score >= 0.5).count(),
        seconds: t.elapsed().as_secs_f64(),
    })
}
