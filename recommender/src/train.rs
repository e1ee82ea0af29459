//! Training on the lake: read it with polars, weight the feedback, measure
//! on a holdout of the lake's own interactions, fit on all of them, and
//! publish a versioned [`Artifact`].
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
use crate::eval::{blend_curve, evaluate, evaluate_thin, thin_validation, tune};
use crate::feedback::{self, FeedbackParams};
use crate::lake;
use crate::models::Scorer;
use crate::models::als::{Als, AlsParams};
use crate::models::blend::{Blend, BlendParams};
use crate::models::clusters::{TasteClusters, TasteClustersParams};
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
    /// Dropout p of denoising EASE (DLAE) tried with each λ; 0 is plain
    /// EASE.
    pub dropouts: Vec<f64>,
    /// Validation folds.
    pub folds: usize,
    /// (factors, α, λ) of implicit ALS tried on validation folds, for the
    /// taste clusters' factor model.
    pub als_grid: Vec<(usize, f64, f64)>,
    /// Taste cluster counts (k-means' k) tried on validation folds; 1 is
    /// popularity, which serving answers with trending.
    pub cluster_grid: Vec<usize>,
    /// Blend weights of EASE tried on validation folds (1: EASE alone,
    /// 0: implicit ALS alone).
    pub weights: Vec<f64>,
    /// Longest history the clusters may serve, and the cold-start curve's
    /// length.
    pub max_thin: usize,
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
            dropouts: vec![0.0, 0.25, 0.5],
            folds: 3,
            als_grid: als_grid(),
            cluster_grid: vec![1, 2, 5, 10, 20, 40],
            max_thin: 8,
            weights: vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
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
    /// Refuses options training cannot run with: empty grids, weights
    /// outside [0, 1], no history length or fold to choose on.
    pub fn check(&self) -> Result<()> {
        let bad = |m: &str| Err(crate::Error::Param(m.into()));
        if self.lambdas.is_empty()
            || self.dropouts.is_empty()
            || self.als_grid.is_empty()
            || self.cluster_grid.is_empty()
        {
            return bad("the λ, dropout, ALS and cluster grids must not be empty");
        }
        if self.dropouts.iter().any(|p| !(0.0..1.0).contains(p)) {
            return bad("dropouts must be in [0, 1)");
        }
        if self.weights.is_empty() || self.weights.iter().any(|w| !(0.0..=1.0).contains(w)) {
            return bad("blend weights must be in [0, 1], at least one");
        }
        if self.cluster_grid.contains(&0) || self.max_thin == 0 || self.folds == 0 || self.k == 0 {
            return bad("cluster counts, max_thin, folds and k must be ≥ 1");
        }
        Ok(())
    }
}

/// Implicit ALS's grid: (factors, α, λ).
pub fn als_grid() -> Vec<(usize, f64, f64)> {
    [16usize, 32, 64]
        .iter()
        .flat_map(|f| {
            [0.3, 1.0, 3.0]
                .iter()
                .flat_map(move |a| [3.0, 10.0, 30.0].map(|l| (*f, *a, l)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// ALS parameters of a grid point.
pub fn als_params((f, a, l): (usize, f64, f64), seed: u64) -> AlsParams {
    AlsParams::new().factors(f).alpha(a).lambda(l).seed(seed)
}

fn dataset(m: &UserItems) -> DatasetBase<UserItems, ()> {
    DatasetBase::new(m.clone(), ())
}

/// Fits EASE on weighted feedback, λ and DLAE's dropout (0: plain EASE)
/// tuned on validation folds of `train`.
fn fit_tuned(train: &UserItems, o: &TrainOptions) -> Result<Ease> {
    let grid: Vec<(f64, f64)> = o
        .dropouts
        .iter()
        .flat_map(|&p| o.lambdas.iter().map(move |&l| (l, p)))
        .collect();
    let fit = |(lambda, p): (f64, f64), m: &UserItems| {
        EaseParams::new().lambda(lambda).dropout(p).fit(&dataset(m))
    };
    let (best, _) = tune(train, &grid, o.k, o.seed, o.folds, fit)?;
    fit(best, train)
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

/// On a seeded 80/20 split of `all`, everything chosen on validation folds
/// of the 80 % and measured on the 20 %:
/// - EASE's λ; implicit ALS's factors, α and λ; then the blend weight w of
///   `w · z(EASE) + (1 − w) · z(ALS)` (w = 1: EASE alone) — the holdout
///   has the served blend, each member alone, and popularity;
/// - the cold start: the number of taste clusters (1: popularity), and the
///   history lengths they serve instead of the blend.
///
/// Then EASE is tuned and fitted again on all of it, and ALS and the
/// clusters fitted on all of it when they are served.
pub fn fit_with_holdout(all: &UserItems, o: &TrainOptions) -> Result<Fitted> {
    o.check()?;
    let (train, test) = Interactions::split(all, 0.2, o.seed);
    let held = fit_tuned(&train, o)?;
    let pop = PopularityParams::default().fit(&dataset(&train))?;
    // the factor model tuned alone on full histories
    let (als, _) = tune(&train, &o.als_grid, o.k, o.seed, o.folds, |p, m| {
        als_params(p, o.seed).fit(&dataset(m))
    })?;
    let als = als_params(als, o.seed).check()?;
    // the blend weight on the same folds, members fitted once per fold
    let members = BlendParams::new(held.params, als);
    let tried = blend_curve(&train, &o.weights, o.k, o.seed, o.folds, |m| {
        members.check()?.fit(&dataset(m))
    })?;
    // the best; on a tie the larger weight (EASE alone is the simpler)
    let weight = tried
        .iter()
        .max_by(|a, b| a.1.ndcg.total_cmp(&b.1.ndcg).then(a.0.total_cmp(&b.0)))
        .map(|t| t.0)
        .ok_or_else(|| crate::Error::Param("empty weight grid".into()))?;
    let held_als = als.fit(&dataset(&train))?;
    let held_blend = Blend {
        ease: held.clone(),
        als: held_als.clone(),
        weight,
    };
    let holdout = Holdout {
        k: o.k,
        seed: o.seed,
        model: evaluate(&held_blend, &train, &test, o.k),
        popularity: evaluate(&pop, &train, &test, o.k),
    };
    let blend = BlendInfo {
        weight,
        als,
        tried: tried
            .iter()
            .map(|(weight, q)| WeightTried {
                weight: *weight,
                ndcg: q.ndcg,
            })
            .collect(),
        ease_holdout: evaluate(&held, &train, &test, o.k),
        als_holdout: evaluate(&held_als, &train, &test, o.k),
    };
    // the cold start: clusters over the same factors, against the blend
    let grid = o
        .cluster_grid
        .iter()
        .map(|&c| {
            TasteClustersParams::new(als)
                .clusters(c)
                .seed(o.seed)
                .check()
        })
        .collect::<Result<Vec<_>>>()?;
    // k on the mean over the shortest histories, the ones clusters are for
    let short = o.max_thin.min(3);
    let by_k = thin_validation(&train, o.k, o.seed, o.folds, short, false, |m| {
        let factors = als.fit(&dataset(m))?;
        grid.iter()
            .map(|p| Ok(Box::new(p.fit_factors(factors.clone(), m)?) as Box<dyn Scorer>))
            .collect()
    })?;
    let k_tried: Vec<(usize, f64)> = grid
        .iter()
        .zip(&by_k)
        .map(|(p, c)| {
            let mean = c.iter().map(|q| q.ndcg).sum::<f64>() / short as f64;
            (p.clusters(), mean)
        })
        .collect();
    let best = (0..grid.len())
        .max_by(|&a, &b| k_tried[a].1.total_cmp(&k_tried[b].1).then(b.cmp(&a)))
        .ok_or_else(|| crate::Error::Param("empty cluster grid".into()))?;
    let params = grid[best];
    // then the blend and those clusters at every length, and whole
    let ease = held.params;
    let curves = thin_validation(&train, o.k, o.seed, o.folds, o.max_thin, true, |m| {
        let factors = als.fit(&dataset(m))?;
        let clusters = params.fit_factors(factors.clone(), m)?;
        let blend = Blend {
            ease: ease.fit(&dataset(m))?,
            als: factors,
            weight,
        };
        Ok(vec![Box::new(blend) as Box<dyn Scorer>, Box::new(clusters)])
    })?;
    let chosen = &curves[1];
    let max = o.max_thin;
    let below = curves[0][..max]
        .iter()
        .zip(chosen)
        .position(|(e, c)| e.ndcg >= c.ndcg)
        .map_or(max + 1, |i| i + 1);
    // a small audience may not support a personal model at all
    let everyone = below > max && chosen[max].ndcg > curves[0][max].ndcg;
    let held_clusters = params.fit_factors(held_als, &train)?;
    let thin = |h: usize| ThinQuality {
        history: h,
        model: evaluate_thin(&held_blend, &train, &test, o.k, h, o.seed),
        clusters: evaluate_thin(&held_clusters, &train, &test, o.k, h, o.seed),
    };
    let cold_start = ColdStart {
        below,
        everyone,
        params,
        tried: k_tried
            .iter()
            .map(|&(clusters, ndcg)| ClustersTried { clusters, ndcg })
            .collect(),
        validation: curves[0][..max]
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
            model: curves[0][max],
            clusters: chosen[max],
        },
        holdout_whole: ThinQuality {
            history: 0,
            model: holdout.model,
            clusters: evaluate(&held_clusters, &train, &test, o.k),
        },
    };
    // on all of it; one cluster is popularity: serving uses trending, its
    // fresh form
    let factors = if blend.blends() || cold_start.has_clusters() {
        Some(als.fit(&dataset(all))?)
    } else {
        None
    };
    let clusters = match &factors {
        Some(f) if cold_start.has_clusters() => {
            Some(params.fit_factors(f.clone(), all)?.without_user_factors())
        }
        _ => None,
    };
    Ok(Fitted {
        model: fit_tuned(all, o)?,
        als: factors
            .filter(|_| blend.blends())
            .map(Als::without_user_factors),
        blend,
        clusters,
        cold_start,
        holdout,
    })
}

/// The lake read, and its weighted feedback (users × the catalog's titles,
/// decayed to the lake's newest event).
pub fn lake_interactions(
    lake_dir: &Path,
    fb: &FeedbackParams,
) -> Result<(lake::Snapshot, Interactions)> {
    let snap = lake::snapshot(lake_dir)?;
    let inter = feedback::interactions(&snap.watch, &snap.catalog, snap.window.1, fb);
    Ok((snap, inter))
}

/// Reads the lake, trains, and publishes the artifact under
/// `<lake>/models/`. Returns it.
pub fn train_lake(lake_dir: &Path, o: &TrainOptions) -> Result<Artifact> {
    let (snap, inter) = lake_interactions(lake_dir, &o.feedback)?;
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
    artifact.publish(
        &showrunner_lake::Layout::new(lake_dir).models(),
        o.keep_versions,
    )?;
    Ok(artifact)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> TrainOptions {
        TrainOptions {
            lambdas: vec![10.0],
            dropouts: vec![0.0],
            als_grid: vec![(4, 1.0, 1.0)],
            cluster_grid: vec![1, 2],
            max_thin: 2,
            folds: 1,
            ..TrainOptions::default()
        }
    }

    #[test]
    fn options_are_checked() {
        let mut o = quick();
        o.weights = vec![1.5];
        assert!(fit_with_holdout(&UserItems::binary(vec![], 1), &o).is_err());
        let mut o = quick();
        o.max_thin = 0;
        assert!(o.check().is_err());
        o = quick();
        o.cluster_grid.clear();
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
