//! Training on the lake: read it with polars, weight the feedback, measure
//! on a holdout of the lake's own interactions, fit on all of them, and
//! publish a versioned [`Artifact`]. What is tried and how it is chosen
//! (folds, grids, tuning) is [`crate::protocol`]'s, shared with
//! `recommend eval`.
//!
//! `for_you` is a blend of EASE and implicit ALS (the weight, chosen on
//! validation folds, may leave EASE alone), and short histories get taste
//! clusters (k-means over the ALS user factors). The number of clusters
//! (1: popularity) and the history lengths they serve are chosen on
//! validation folds of the training split under the cold-start protocol:
//! k by the mean nDCG over one to three titles, then from one title up, as
//! long as the clusters measure better than the blend — for everyone when
//! they do up to the longest length tried and on whole histories too (an
//! audience too small for a personal model).

use std::path::Path;
use std::time::Instant;

use linfa::prelude::*;

use crate::artifact::{
    Artifact, BlendInfo, ClustersTried, ColdStart, DataWindow, FORMAT, Holdout, Manifest,
    ThinQuality, WeightTried, version_name,
};
use crate::data::{Interactions, UserItems};
use crate::error::Result;
use crate::eval::{Quality, evaluate, evaluate_thin, thin_validation};
use crate::feedback::{self, FeedbackParams};
use crate::lake;
use crate::models::Scorer;
use crate::models::als::{Als, AlsValidParams};
use crate::models::blend::Blend;
use crate::models::clusters::{TasteClusters, TasteClustersValidParams};
use crate::models::ease::{Ease, EaseValidParams};
use crate::models::popularity::PopularityParams;
use crate::protocol::{
    Tuning, als_params, holdout_split, tune_als, tune_blend, tune_clusters, tune_item_item,
};

/// Options of [`train_lake`].
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The protocol: K, the seed of the holdout split and the validation
    /// folds, the folds and every grid ([`crate::protocol`]'s by default).
    pub tuning: Tuning,
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
            tuning: Tuning::default(),
            feedback: FeedbackParams::default(),
            trending_keep: 500,
            keep_versions: 3,
            now_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
        }
    }
}

impl TrainOptions {
    /// Refuses options training cannot run with (see [`Tuning::check`]).
    pub fn check(&self) -> Result<()> {
        self.tuning.check()
    }
}

fn dataset(m: &UserItems) -> DatasetBase<UserItems, ()> {
    DatasetBase::new(m.clone(), ())
}

/// Fits the item-item model (EASE, or DLAE: its dropout 0 is plain EASE)
/// on weighted feedback, tuned on validation folds of `train`.
fn fit_tuned(train: &UserItems, t: &Tuning) -> Result<Ease> {
    tune_item_item(train, t)?.params.fit(&dataset(train))
}

/// What [`fit_with_holdout`] fits and measures.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// EASE, tuned and fitted on all the data.
    pub model: Ease,
    /// Implicit ALS fitted on all the data, without the users' factors,
    /// when the blend uses it.
    pub als: Option<Als>,
    /// The blend's weight and how its members measured.
    pub blend: BlendInfo,
    /// Taste clusters fitted on all the data, without the users' factors,
    /// when they are served.
    pub clusters: Option<TasteClusters>,
    /// When the clusters are served, and how both models measured.
    pub cold_start: ColdStart,
    /// Full-history quality on the holdout.
    pub holdout: Holdout,
}

/// The holdout split and the served blend fitted on its training part.
struct Held<'a> {
    train: &'a UserItems,
    test: &'a UserItems,
    blend: Blend,
    t: &'a Tuning,
}

/// On a seeded 80/20 split of `all`, everything chosen on validation folds
/// of the 80 % and measured on the 20 % ([`crate::protocol`]):
/// - the item-item model's λ and dropout; implicit ALS's factors, α and λ;
///   then the blend weight w of `w · z(EASE) + (1 − w) · z(ALS)` (w = 1:
///   EASE alone) — the holdout has the served blend, each member alone,
///   and popularity;
/// - the cold start: the number of taste clusters (1: popularity), and the
///   history lengths they serve instead of the blend.
///
/// Then EASE is tuned and fitted again on all of it, and ALS and the
/// clusters fitted on all of it when they are served.
pub fn fit_with_holdout(all: &UserItems, o: &TrainOptions) -> Result<Fitted> {
    o.check()?;
    let t = &o.tuning;
    let (train, test) = holdout_split(all, t.seed);
    let held_ease = fit_tuned(&train, t)?;
    // the factor model tuned alone on full histories
    let als = als_params(tune_als(&train, t)?.params, t.seed).check()?;
    // the blend weight on the same folds, members fitted once per fold
    let weights = tune_blend(&train, held_ease.params, als, t)?;
    let held = Held {
        train: &train,
        test: &test,
        blend: Blend {
            ease: held_ease,
            als: als.fit(&dataset(&train))?,
            weight: weights.params,
        },
        t,
    };
    let pop = PopularityParams::default().fit(&dataset(&train))?;
    let holdout = Holdout {
        k: t.k,
        seed: t.seed,
        model: evaluate(&held.blend, &train, &test, t.k),
        popularity: evaluate(&pop, &train, &test, t.k),
    };
    let blend = BlendInfo {
        weight: weights.params,
        als,
        tried: weights
            .tried
            .iter()
            .map(|(weight, q)| WeightTried {
                weight: *weight,
                ndcg: q.ndcg,
            })
            .collect(),
        ease_holdout: evaluate(&held.blend.ease, &train, &test, t.k),
        als_holdout: evaluate(&held.blend.als, &train, &test, t.k),
    };
    let cold_start = cold_start(&held, als, holdout.model)?;
    // on all of it; one cluster is popularity: serving uses trending, its
    // fresh form
    let factors = if blend.blends() || cold_start.has_clusters() {
        Some(als.fit(&dataset(all))?)
    } else {
        None
    };
    let clusters = match &factors {
        Some(f) if cold_start.has_clusters() => Some(
            cold_start
                .params
                .fit_factors(f.clone(), all)?
                .without_user_factors(),
        ),
        _ => None,
    };
    Ok(Fitted {
        model: fit_tuned(all, t)?,
        als: factors
            .filter(|_| blend.blends())
            .map(Als::without_user_factors),
        blend,
        clusters,
        cold_start,
        holdout,
    })
}

/// The cold start on validation folds of the holdout's training part:
/// the cluster count over `als`'s factors ([`tune_clusters`]), then the
/// blend and those clusters at every history length and whole, for
/// `below` and `everyone`; with both measured on the holdout too.
fn cold_start(held: &Held<'_>, als: AlsValidParams, holdout_model: Quality) -> Result<ColdStart> {
    let (train, test, t) = (held.train, held.test, held.t);
    let k = tune_clusters(train, als, t)?;
    let params = k.params;
    let curves = cold_start_curves(train, t, held.blend.ease.params, held.blend.weight, params)?;
    let (blend_curve, chosen) = (&curves[0], &curves[1]);
    let max = t.max_thin;
    let below = blend_curve[..max]
        .iter()
        .zip(chosen)
        .position(|(e, c)| e.ndcg >= c.ndcg)
        .map_or(max + 1, |i| i + 1);
    // a small audience may not support a personal model at all
    let everyone = below > max && chosen[max].ndcg > blend_curve[max].ndcg;
    let held_clusters = params.fit_factors(held.blend.als.clone(), train)?;
    let thin = |h: usize| ThinQuality {
        history: h,
        model: evaluate_thin(&held.blend, train, test, t.k, h, t.seed),
        clusters: evaluate_thin(&held_clusters, train, test, t.k, h, t.seed),
    };
    Ok(ColdStart {
        below,
        everyone,
        params,
        tried: k
            .tried
            .iter()
            .map(|(p, q)| ClustersTried {
                clusters: p.clusters(),
                ndcg: q.ndcg,
            })
            .collect(),
        validation: blend_curve[..max]
            .iter()
            .zip(chosen)
            .enumerate()
            .map(|(i, (&model, &clusters))| ThinQuality {
                history: i + 1,
                model,
                clusters,
            })
            .collect(),
        holdout: (1..=max).map(thin).collect(),
        validation_whole: ThinQuality {
            history: 0,
            model: blend_curve[max],
            clusters: chosen[max],
        },
        holdout_whole: ThinQuality {
            history: 0,
            model: holdout_model,
            clusters: evaluate(&held_clusters, train, test, t.k),
        },
    })
}

/// The blend (of `ease` and the clusters' ALS, weight `weight`) and the
/// chosen clusters on validation folds of `train`, at every history length
/// 1 … `max_thin` and whole: `[blend, clusters][h − 1]`, whole last.
fn cold_start_curves(
    train: &UserItems,
    t: &Tuning,
    ease: EaseValidParams,
    weight: f64,
    params: TasteClustersValidParams,
) -> Result<Vec<Vec<Quality>>> {
    let als = params.als();
    thin_validation(train, t.k, t.seed, t.folds, t.max_thin, true, |m| {
        let factors = als.fit(&dataset(m))?;
        let clusters = params.fit_factors(factors.clone(), m)?;
        let blend = Blend {
            ease: ease.fit(&dataset(m))?,
            als: factors,
            weight,
        };
        Ok(vec![Box::new(blend) as Box<dyn Scorer>, Box::new(clusters)])
    })
}

/// The lake read, and its weighted feedback (users × the catalog's titles,
/// decayed to the lake's newest event).
pub fn lake_interactions(
    lake_dir: &Path,
    fb: &FeedbackParams,
) -> Result<(lake::Snapshot, Interactions)> {
    lake_interactions_store(&showrunner_lake::Store::dir(lake_dir), fb)
}

/// [`lake_interactions`] on any store (a directory, or `s3://…`).
pub fn lake_interactions_store(
    store: &showrunner_lake::Store,
    fb: &FeedbackParams,
) -> Result<(lake::Snapshot, Interactions)> {
    let snap = lake::snapshot_store(store)?;
    let inter = feedback::interactions(&snap.watch, &snap.catalog, snap.window.1, fb);
    Ok((snap, inter))
}

/// Reads the lake, trains, and publishes the artifact under
/// `<lake>/models/`. Returns it.
pub fn train_lake(lake_dir: &Path, o: &TrainOptions) -> Result<Artifact> {
    let models = showrunner_lake::Layout::new(lake_dir).models();
    train_store(&showrunner_lake::Store::dir(lake_dir), &models, o)
}

/// Reads the lake in `store` (a directory, or `s3://…`: blocking, call
/// from a blocking thread), trains, and publishes the artifact under the
/// directory `models`. Returns it.
pub fn train_store(
    store: &showrunner_lake::Store,
    models: &Path,
    o: &TrainOptions,
) -> Result<Artifact> {
    let (snap, inter) = lake_interactions_store(store, &o.feedback)?;
    let started = Instant::now();
    let now = snap.window.1;
    let fitted = fit_with_holdout(&inter.matrix, o)?;
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
        model: if fitted.blend.blends() {
            "blend"
        } else {
            "ease"
        }
        .into(),
        params: fitted.model.params,
        feedback: o.feedback,
        data: DataWindow {
            from_ms: snap.window.0,
            to_ms: snap.window.1,
            users: inter.users.len(),
            titles: inter.items.len(),
            interactions: inter.matrix.nnz(),
        },
        holdout: fitted.holdout,
        train_seconds: started.elapsed().as_secs_f64(),
        cold_start: Some(fitted.cold_start),
        blend: Some(fitted.blend),
    };
    let artifact = Artifact {
        manifest,
        catalog: snap.catalog,
        trending,
        model: fitted.model,
        clusters: fitted.clusters,
        als: fitted.als,
    };
    artifact.publish(models, o.keep_versions)?;
    Ok(artifact)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> TrainOptions {
        TrainOptions {
            tuning: Tuning {
                lambdas: vec![10.0],
                dropouts: vec![0.0],
                als_grid: vec![(4, 1.0, 1.0)],
                cluster_grid: vec![1, 2],
                max_thin: 2,
                folds: 1,
                ..Tuning::default()
            },
            ..TrainOptions::default()
        }
    }

    #[test]
    fn options_are_checked() {
        let mut o = quick();
        o.tuning.weights = vec![1.5];
        assert!(fit_with_holdout(&UserItems::binary(vec![], 1), &o).is_err());
        let mut o = quick();
        o.tuning.max_thin = 0;
        assert!(o.check().is_err());
        o = quick();
        o.tuning.cluster_grid.clear();
        assert!(o.check().is_err());
        assert!(quick().check().is_ok());
    }

    #[test]
    fn a_lake_nobody_watched_in_yet_still_trains() {
        // three titles, two users, no engagement: EASE knows nothing, no
        // cluster can be formed, and nothing is served but trending
        let empty = UserItems::binary(vec![vec![], vec![]], 3);
        let f = fit_with_holdout(&empty, &quick()).expect("trains");
        assert_eq!(f.model.weights.dim(), (3, 3));
        assert_eq!(f.holdout.model.users, 0);
        // every figure ties at 0: the larger weight (EASE alone) and no
        // cold-start row
        assert_eq!((f.blend.weight, f.als.is_none()), (1.0, true));
        assert!(!f.cold_start.served() && f.clusters.is_none());
    }
}
