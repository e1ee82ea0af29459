//! Training on the lake: read it with polars, weight the feedback, measure
//! on a holdout of the lake's own interactions, fit on all of them, and
//! publish a versioned [`Artifact`].

use std::path::Path;
use std::time::Instant;

use linfa::prelude::*;

use crate::artifact::{Artifact, DataWindow, FORMAT, Holdout, Manifest, version_name};
use crate::data::{Interactions, UserItems};
use crate::error::Result;
use crate::eval::{evaluate, tune};
use crate::feedback::{self, FeedbackParams};
use crate::lake;
use crate::models::ease::{Ease, EaseParams};
use crate::models::popularity::PopularityParams;

/// Options of [`train_lake`].
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Seed of the holdout split and the validation folds.
    pub seed: u64,
    /// K of the quality metrics.
    pub k: usize,
    /// λ values tried on validation folds.
    pub lambdas: Vec<f64>,
    /// Validation folds.
    pub folds: usize,
    /// Feedback weighting.
    pub feedback: FeedbackParams,
    /// Titles kept per country in the trending lists.
    pub trending_keep: usize,
    /// Versions kept under `models/`.
    pub keep_versions: usize,
    /// Creation time of the version, ms (the wall clock by default).
    pub now_ms: i64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            seed: 42,
            k: 10,
            lambdas: vec![50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0],
            folds: 3,
            feedback: FeedbackParams::default(),
            trending_keep: 500,
            keep_versions: 3,
            now_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        }
    }
}

/// Fits EASE on weighted feedback, λ tuned on validation folds of `train`.
fn fit_tuned(train: &UserItems, o: &TrainOptions) -> Result<Ease> {
    let fit = |lambda: f64, m: &UserItems| {
        EaseParams::new()
            .lambda(lambda)
            .fit(&DatasetBase::new(m.clone(), ()))
    };
    let (lambda, _) = tune(train, &o.lambdas, o.k, o.seed, o.folds, fit)?;
    fit(lambda, train)
}

/// The holdout quality of the tuned model and of popularity on a seeded
/// 80/20 split of `all`, then the model tuned and fitted on all of it.
pub fn fit_with_holdout(all: &UserItems, o: &TrainOptions) -> Result<(Ease, Holdout)> {
    let (train, test) = Interactions::split(all, 0.2, o.seed);
    let held = fit_tuned(&train, o)?;
    let pop = PopularityParams::default().fit(&DatasetBase::new(train.clone(), ()))?;
    let holdout = Holdout {
        k: o.k,
        seed: o.seed,
        model: evaluate(&held, &train, &test, o.k),
        popularity: evaluate(&pop, &train, &test, o.k),
    };
    Ok((fit_tuned(all, o)?, holdout))
}

/// Reads the lake, trains, and publishes the artifact under
/// `<lake>/models/`. Returns it.
pub fn train_lake(lake_dir: &Path, o: &TrainOptions) -> Result<Artifact> {
    let snap = lake::snapshot(lake_dir)?;
    let started = Instant::now();
    let now = snap.window.1;
    let inter = feedback::interactions(&snap.watch, &snap.catalog, now, &o.feedback);
    let (model, holdout) = fit_with_holdout(&inter.matrix, o)?;
    let trending = feedback::trending(
        &snap.watch,
        &snap.catalog,
        &snap.profiles,
        now,
        &o.feedback,
        o.trending_keep,
    );
    let manifest = Manifest {
        format: FORMAT,
        version: version_name(o.now_ms),
        created_at_ms: o.now_ms,
        model: "ease".into(),
        params: model.params,
        feedback: o.feedback,
        data: DataWindow {
            from_ms: snap.window.0,
            to_ms: snap.window.1,
            users: inter.users.len(),
            titles: inter.items.len(),
            interactions: inter.matrix.nnz(),
        },
        holdout,
        train_seconds: started.elapsed().as_secs_f64(),
    };
    let artifact = Artifact {
        manifest,
        catalog: snap.catalog,
        trending,
        model,
    };
    artifact.publish(&lake_dir.join("models"), o.keep_versions)?;
    Ok(artifact)
}
