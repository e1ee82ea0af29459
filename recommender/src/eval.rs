//! Offline evaluation: every user with test items gets a full ranking over
//! all items, their training items excluded, and the top K is scored:
//! - nDCG@K: Σ over hits at rank r of 1/log2(r + 1), ÷ the ideal
//!   Σ_{r ≤ min(|test|, K)} 1/log2(r + 1);
//! - recall@K: hits ÷ min(|test|, K);
//! - precision@K: hits ÷ K;
//! - coverage@K: distinct items in anyone's top K ÷ all items.
//!
//! Averages are over users with at least one test item.

use serde::{Deserialize, Serialize};

use crate::data::{Interactions, UserItems};
use crate::models::blend::Blend;
use crate::models::{Scorer, top_k};

/// Ranking quality at K.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Mean nDCG@K.
    pub ndcg: f64,
    /// Mean recall@K.
    pub recall: f64,
    /// Mean precision@K.
    pub precision: f64,
    /// Item coverage of the top K lists.
    pub coverage: f64,
    /// Users evaluated.
    pub users: usize,
}

/// Evaluates `model` fitted on `train` against `test`.
pub fn evaluate<S: Scorer + ?Sized>(
    model: &S,
    train: &UserItems,
    test: &UserItems,
    k: usize,
) -> Quality {
    rank_quality(model, whole(train, test), train.n_items, k)
}

/// Each user's whole training row as (model input, items excluded, test
/// items).
fn whole<'a>(
    train: &'a UserItems,
    test: &'a UserItems,
) -> impl Iterator<Item = (&'a [u32], &'a [u32], &'a [u32])> {
    train
        .rows
        .iter()
        .zip(&test.rows)
        .map(|(h, t)| (h.as_slice(), h.as_slice(), t.as_slice()))
}

/// Quality of the rankings of users given as (model input, items excluded
/// from the ranking, test items); users without test items are skipped.
fn rank_quality<'a, S: Scorer + ?Sized>(
    model: &S,
    users: impl Iterator<Item = (&'a [u32], &'a [u32], &'a [u32])>,
    n: usize,
    k: usize,
) -> Quality {
    let score = |h: &[u32], outs: &mut [Vec<f32>]| model.score(h, &mut outs[0]);
    rank_qualities(score, 1, users, n, k).remove(0)
}

/// [`rank_quality`] of `m` rankings per user at once: `score` writes one
/// score vector per ranking (so work they share is done once per user).
fn rank_qualities<'a>(
    mut score: impl FnMut(&[u32], &mut [Vec<f32>]),
    m: usize,
    users: impl Iterator<Item = (&'a [u32], &'a [u32], &'a [u32])>,
    n: usize,
    k: usize,
) -> Vec<Quality> {
    let mut scores = vec![vec![0f32; n]; m];
    let mut seen = vec![vec![false; n]; m];
    let mut qs = vec![Quality::default(); m];
    let discount: Vec<f64> = (0..k).map(|r| 1.0 / ((r + 2) as f64).log2()).collect();
    for (input, known, truth) in users {
        if truth.is_empty() {
            continue;
        }
        score(input, &mut scores);
        let ideal: f64 = discount[..truth.len().min(k)].iter().sum();
        for ((s, seen), q) in scores.iter().zip(&mut seen).zip(&mut qs) {
            let top = top_k(s, known, k);
            let mut dcg = 0.0;
            let mut hits = 0usize;
            for (r, item) in top.iter().enumerate() {
                seen[*item as usize] = true;
                if truth.binary_search(item).is_ok() {
                    dcg += discount[r];
                    hits += 1;
                }
            }
            q.ndcg += dcg / ideal;
            q.recall += hits as f64 / truth.len().min(k) as f64;
            q.precision += hits as f64 / k as f64;
            q.users += 1;
        }
    }
    for (q, seen) in qs.iter_mut().zip(&seen) {
        if q.users > 0 {
            let u = q.users as f64;
            q.ndcg /= u;
            q.recall /= u;
            q.precision /= u;
        }
        q.coverage = seen.iter().filter(|s| **s).count() as f64 / n.max(1) as f64;
    }
    qs
}

/// The cold-start protocol: like [`evaluate`], but each user's model input
/// is only `history` of their training items, drawn at random (seeded);
/// the ranking still excludes all their training items, which are neither
/// hits nor misses. Users with fewer training items than `history` are left
/// out. Answers "how good is a row after one, two, three plays".
pub fn evaluate_thin<S: Scorer + ?Sized>(
    model: &S,
    train: &UserItems,
    test: &UserItems,
    k: usize,
    history: usize,
    seed: u64,
) -> Quality {
    use rand::SeedableRng;
    use rand::seq::IndexedRandom;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x7417_4157);
    let rows: Vec<Vec<u32>> = train
        .rows
        .iter()
        .map(|r| {
            let mut h: Vec<u32> = r.choose_multiple(&mut rng, history).copied().collect();
            h.sort_unstable();
            h
        })
        .collect();
    let users = train
        .rows
        .iter()
        .zip(&rows)
        .zip(&test.rows)
        .filter(|((known, _), _)| known.len() >= history)
        .map(|((known, thin), truth)| (thin.as_slice(), known.as_slice(), truth.as_slice()));
    rank_quality(model, users, train.n_items, k)
}

/// Picks the value of `grid` whose model scores the best mean nDCG@K over
/// `folds` validation splits carved from `train` (seeded from `seed`),
/// never looking at test data; several folds keep the noise of one small
/// validation split from choosing. Returns (best value, its mean validation
/// quality).
pub fn tune<P: Copy, M: Scorer>(
    train: &UserItems,
    grid: &[P],
    k: usize,
    seed: u64,
    folds: usize,
    fit: impl Fn(P, &UserItems) -> crate::Result<M>,
) -> crate::Result<(P, Quality)> {
    best_of(tune_curve(train, grid, k, seed, folds, fit)?)
}

/// What [`tune`] chooses from: every value of `grid` with its mean
/// validation quality over the same folds, in the grid's order.
pub fn tune_curve<P: Copy, M: Scorer>(
    train: &UserItems,
    grid: &[P],
    k: usize,
    seed: u64,
    folds: usize,
    fit: impl Fn(P, &UserItems) -> crate::Result<M>,
) -> crate::Result<Vec<(P, Quality)>> {
    let splits = validation_folds(train, seed, folds);
    let mut curve = Vec::with_capacity(grid.len());
    for &p in grid {
        let models = splits
            .iter()
            .map(|(fit_part, _)| fit(p, fit_part))
            .collect::<crate::Result<Vec<M>>>()?;
        curve.push((p, mean_quality(&splits, &models, k)));
    }
    Ok(curve)
}

/// The first value with the best mean nDCG.
pub fn best_of<P>(curve: Vec<(P, Quality)>) -> crate::Result<(P, Quality)> {
    let mut best: Option<(P, Quality)> = None;
    for (p, mean) in curve {
        if best.as_ref().is_none_or(|(_, b)| mean.ndcg > b.ndcg) {
            best = Some((p, mean));
        }
    }
    best.ok_or_else(|| crate::Error::Param("empty tuning grid".into()))
}

/// A blend's mean validation quality at every weight of `weights`, like
/// [`tune`] on the same folds: the weight does not change the fit, so the
/// members are fitted once per fold and scored once per user.
pub fn blend_curve(
    train: &UserItems,
    weights: &[f64],
    k: usize,
    seed: u64,
    folds: usize,
    fit: impl Fn(&UserItems) -> crate::Result<Blend>,
) -> crate::Result<Vec<(f64, Quality)>> {
    let splits = validation_folds(train, seed, folds);
    let n = splits.len() as f64;
    let mut means = vec![Quality::default(); weights.len()];
    for (fit_part, validation) in &splits {
        let b = fit(fit_part)?;
        let score = |h: &[u32], outs: &mut [Vec<f32>]| b.score_weights(h, weights, outs);
        let users = whole(fit_part, validation);
        let qs = rank_qualities(score, weights.len(), users, fit_part.n_items, k);
        for (mean, q) in means.iter_mut().zip(&qs) {
            add_mean(mean, q, n);
        }
    }
    Ok(weights.iter().copied().zip(means).collect())
}

/// The cold-start protocol on validation folds of `train`: `fit` fits a
/// set of candidate models on a fold; for each candidate, the mean quality
/// over the folds with histories of 1..=`max` titles (`[model][h − 1]`),
/// then, when `whole`, with whole histories (`[model][max]`, as
/// [`evaluate`]).
pub fn thin_validation(
    train: &UserItems,
    k: usize,
    seed: u64,
    folds: usize,
    max: usize,
    whole: bool,
    fit: impl Fn(&UserItems) -> crate::Result<Vec<Box<dyn Scorer>>>,
) -> crate::Result<Vec<Vec<Quality>>> {
    let splits = validation_folds(train, seed, folds);
    let n = splits.len() as f64;
    let mut curves: Vec<Vec<Quality>> = Vec::new();
    for (fit_part, validation) in &splits {
        let models = fit(fit_part)?;
        curves.resize(
            models.len(),
            vec![Quality::default(); max + usize::from(whole)],
        );
        for (m, curve) in models.iter().zip(curves.iter_mut()) {
            for (h, q) in curve.iter_mut().enumerate() {
                let m = m.as_ref();
                let quality = match h {
                    h if h < max => evaluate_thin(m, fit_part, validation, k, h + 1, seed),
                    _ => evaluate(m, fit_part, validation, k),
                };
                add_mean(q, &quality, n);
            }
        }
    }
    Ok(curves)
}

/// The mean of several qualities (users: the last one's count); the
/// default quality when there are none.
pub fn mean(qs: &[Quality]) -> Quality {
    let n = qs.len().max(1) as f64;
    let avg = |f: fn(&Quality) -> f64| qs.iter().map(f).sum::<f64>() / n;
    Quality {
        ndcg: avg(|q| q.ndcg),
        recall: avg(|q| q.recall),
        precision: avg(|q| q.precision),
        coverage: avg(|q| q.coverage),
        users: qs.last().map_or(0, |q| q.users),
    }
}

/// Adds `q ÷ n` to a running mean (users: the latest count).
fn add_mean(mean: &mut Quality, q: &Quality, n: f64) {
    mean.ndcg += q.ndcg / n;
    mean.recall += q.recall / n;
    mean.precision += q.precision / n;
    mean.coverage += q.coverage / n;
    mean.users = q.users;
}

/// The validation splits of `train` (seeded from `seed`).
fn validation_folds(train: &UserItems, seed: u64, folds: usize) -> Vec<(UserItems, UserItems)> {
    (0..folds.max(1) as u64)
        .map(|f| Interactions::split(train, 0.2, seed ^ 0x005e_ed0f_7a11 ^ (f << 32)))
        .collect()
}

/// Mean quality of one model per split.
fn mean_quality<'a, S: Scorer + ?Sized + 'a>(
    splits: &[(UserItems, UserItems)],
    models: impl IntoIterator<Item = &'a S>,
    k: usize,
) -> Quality {
    let mut mean = Quality::default();
    let n = splits.len() as f64;
    for ((fit_part, validation), m) in splits.iter().zip(models) {
        add_mean(&mut mean, &evaluate(m, fit_part, validation, k), n);
    }
    mean
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::popularity::Popularity;

    #[test]
    fn metrics_by_hand() {
        // 4 items; popularity ranks 3, 2, 1, 0; the user has item 3 in
        // train, so the top 2 is [2, 1]; test {1, 0}: one hit at rank 2
        let model = Popularity {
            counts: vec![1, 2, 3, 4],
        };
        let train = UserItems {
            rows: vec![vec![3]],
            n_items: 4,
            weights: Vec::new(),
        };
        let test = UserItems {
            rows: vec![vec![0, 1]],
            n_items: 4,
            weights: Vec::new(),
        };
        let q = evaluate(&model, &train, &test, 2);
        let ideal = 1.0 + 1.0 / 3f64.log2();
        assert!((q.ndcg - (1.0 / 3f64.log2()) / ideal).abs() < 1e-12);
        assert_eq!((q.recall, q.precision, q.users), (0.5, 0.5, 1));
        assert_eq!(q.coverage, 0.5);
    }

    /// Scores item 3 high only for a one-item input, item 4 always a little;
    /// asserts every input is a subset of some training row.
    struct ByLength(Vec<Vec<u32>>);

    impl Scorer for ByLength {
        fn score(&self, history: &[u32], out: &mut [f32]) {
            assert!(
                self.0
                    .iter()
                    .any(|row| history.iter().all(|i| row.contains(i))),
                "{history:?} is not drawn from a training row"
            );
            out.fill(0.0);
            out[3] = if history.len() == 1 { 1.0 } else { 0.0 };
            out[4] = 0.5;
        }
    }

    #[test]
    fn the_cold_start_protocol_feeds_n_training_items() {
        // A: train {0, 1, 2}, test {3}; B: train {0}, test {4}; C: no test
        let m = |rows: Vec<Vec<u32>>| UserItems {
            rows,
            n_items: 5,
            weights: Vec::new(),
        };
        let train = m(vec![vec![0, 1, 2], vec![0], vec![0, 1]]);
        let test = m(vec![vec![3], vec![4], vec![]]);
        let model = ByLength(train.rows.clone());
        // one item each: A's top 1 is item 3 (a hit), B's too (a miss)
        let q = evaluate_thin(&model, &train, &test, 1, 1, 7);
        assert_eq!((q.users, q.ndcg, q.recall), (2, 0.5, 0.5));
        // two items: B has too few and is left out; A's input has two, so
        // item 4 wins (a miss); its training items stay excluded either way
        let q = evaluate_thin(&model, &train, &test, 1, 2, 7);
        assert_eq!((q.users, q.ndcg), (1, 0.0));
        // full histories, as `evaluate` gives them: A's three items make
        // item 4 win (a miss), B's one item makes item 3 win (a miss)
        let full = evaluate(&model, &train, &test, 1);
        assert_eq!((full.users, full.ndcg), (2, 0.0));
    }
}
