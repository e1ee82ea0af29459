//! Taste clusters for cold start: users' implicit-ALS factors, scaled to
//! unit length, are grouped with linfa-clustering's k-means; a history is
//! folded into the factor space, scaled alike, assigned its nearest
//! centroid, and scored by the share of that cluster's users who have each
//! item — popularity within a taste, for
//! users with too little history to score item by item.

use linfa::dataset::DatasetBase;
use linfa::prelude::*;
use linfa_clustering::KMeans;
use ndarray::{Array1, Array2, Axis};
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::data::UserItems;
use crate::error::{Error, Result};
use crate::models::Scorer;
use crate::models::als::{Als, AlsValidParams};

/// Checked hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TasteClustersValidParams {
    clusters: usize,
    als: AlsValidParams,
    seed: u64,
}

/// Hyper-parameters, unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TasteClustersParams(TasteClustersValidParams);

impl TasteClustersParams {
    /// 20 clusters over the factors of this ALS, seed 42.
    pub fn new(als: AlsValidParams) -> Self {
        Self(TasteClustersValidParams {
            clusters: 20,
            als,
            seed: 42,
        })
    }

    /// Sets the number of clusters (k-means' k).
    pub fn clusters(mut self, k: usize) -> Self {
        self.0.clusters = k;
        self
    }

    /// Sets the k-means seed.
    pub fn seed(mut self, s: u64) -> Self {
        self.0.seed = s;
        self
    }
}

impl ParamGuard for TasteClustersParams {
    type Checked = TasteClustersValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&TasteClustersValidParams> {
        if self.0.clusters == 0 {
            return Err(Error::Param("clusters must be > 0".into()));
        }
        Ok(&self.0)
    }

    fn check(self) -> Result<TasteClustersValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted model: the factor model, the centroids, and each cluster's
/// item shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TasteClusters {
    /// The factor model histories are folded into.
    pub als: Als,
    /// Cluster centroids in factor space (clusters × factors).
    pub centroids: Array2<f64>,
    /// Per cluster, per item: the share of the cluster's users who have it.
    pub shares: Array2<f32>,
}

impl<T> Fit<UserItems, T, Error> for TasteClustersValidParams {
    type Object = TasteClusters;

    fn fit(&self, dataset: &DatasetBase<UserItems, T>) -> Result<TasteClusters> {
        self.fit_factors(self.als.fit(dataset)?, &dataset.records)
    }
}

impl TasteClustersValidParams {
    /// The number of clusters asked for.
    pub fn clusters(&self) -> usize {
        self.clusters
    }

    /// The factor model's parameters.
    pub fn als(&self) -> AlsValidParams {
        self.als
    }

    /// Clusters the users of `m` by the factors of `als`, a factor model
    /// fitted on `m` with these parameters' ALS (one factor model serves
    /// every k tried).
    pub fn fit_factors(&self, als: Als, m: &UserItems) -> Result<TasteClusters> {
        if als.users.nrows() != m.rows.len() {
            return Err(Error::Param(format!(
                "{} users' factors for {} users",
                als.users.nrows(),
                m.rows.len()
            )));
        }
        // users with a history (an empty row has no taste to cluster)
        let active: Vec<usize> = (0..m.rows.len())
            .filter(|&u| !m.rows[u].is_empty())
            .collect();
        if active.is_empty() {
            // nothing watched yet: one cluster that knows no title
            return Ok(TasteClusters {
                centroids: Array2::zeros((1, als.items.ncols())),
                shares: Array2::zeros((1, m.n_items)),
                als,
            });
        }
        let k = self.clusters.min(active.len());
        // directions, not lengths: a history of 3 folds in to a short
        // vector, a binge-watcher's is long, and the taste is the direction
        let mut factors = als.users.select(Axis(0), &active);
        factors
            .rows_mut()
            .into_iter()
            .for_each(|mut r| normalize(&mut r));
        let data = DatasetBase::from(factors);
        let kmeans = KMeans::params_with_rng(k, Xoshiro256Plus::seed_from_u64(self.seed))
            .max_n_iterations(200)
            .tolerance(1e-6)
            .fit(&data)
            .map_err(|e| Error::Param(format!("k-means: {e}")))?;
        let labels: Array1<usize> = kmeans.predict(&data);
        let mut shares = Array2::<f32>::zeros((k, m.n_items));
        let mut sizes = vec![0f32; k];
        for (&u, &c) in active.iter().zip(labels.iter()) {
            sizes[c] += 1.0;
            for &i in &m.rows[u] {
                shares[[c, i as usize]] += 1.0;
            }
        }
        for (mut row, size) in shares.rows_mut().into_iter().zip(&sizes) {
            if *size > 0.0 {
                row.mapv_inplace(|x| x / size);
            }
        }
        Ok(TasteClusters {
            centroids: kmeans.centroids().clone(),
            als,
            shares,
        })
    }
}

/// Scales a vector to unit length (a zero vector stays zero).
fn normalize(v: &mut ndarray::ArrayViewMut1<f64>) {
    let n = v.dot(v).sqrt();
    if n > 0.0 {
        v.mapv_inplace(|x| x / n);
    }
}

impl TasteClusters {
    /// The number of clusters.
    pub fn len(&self) -> usize {
        self.centroids.nrows()
    }

    /// Whether there are no clusters (a fitted model has at least one).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The same model without the training users' factors: serving folds
    /// every history in afresh, so an artifact needs only the items'.
    pub fn without_user_factors(mut self) -> TasteClusters {
        self.als = self.als.without_user_factors();
        self
    }

    /// The cluster nearest to a history's folded-in factors.
    pub fn cluster_of(&self, history: &[u32]) -> usize {
        let mut x = self.als.fold_in(history);
        normalize(&mut x.view_mut());
        let mut best = (0, f64::INFINITY);
        for (c, centroid) in self.centroids.rows().into_iter().enumerate() {
            let d: f64 = centroid
                .iter()
                .zip(x.iter())
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            if d < best.1 {
                best = (c, d);
            }
        }
        best.0
    }
}

impl Scorer for TasteClusters {
    fn score(&self, history: &[u32], out: &mut [f32]) {
        let c = self.cluster_of(history);
        for (o, s) in out.iter_mut().zip(self.shares.row(c)) {
            *o = *s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::als::AlsParams;

    #[test]
    fn two_tastes_make_two_clusters() {
        // users 0–5 watch items from {0, 1, 2}, users 6–11 from {3, 4, 5}
        let rows: Vec<Vec<u32>> = (0..12u32)
            .map(|u| {
                let base = if u < 6 { 0 } else { 3 };
                let mut r = vec![base, base + 1 + u % 2];
                r.sort_unstable();
                r
            })
            .collect();
        let d = DatasetBase::new(UserItems::binary(rows, 6), ());
        let als = AlsParams::new()
            .factors(4)
            .lambda(0.1)
            .epochs(10)
            .seed(3)
            .check()
            .expect("als");
        assert!(TasteClustersParams::new(als).clusters(0).check().is_err());
        let m = TasteClustersParams::new(als)
            .clusters(2)
            .fit(&d)
            .expect("fit");
        // one history from each taste: different clusters, each scoring
        // its own taste's items
        assert_ne!(m.cluster_of(&[0]), m.cluster_of(&[3]));
        let mut s = [0f32; 6];
        m.score(&[0], &mut s);
        // all six users of that taste have item 0; half have 1, half 2
        assert_eq!(s, [1.0, 0.5, 0.5, 0.0, 0.0, 0.0]);
        m.score(&[4], &mut s);
        assert_eq!(s, [0.0, 0.0, 0.0, 1.0, 0.5, 0.5]);
        let back: TasteClusters =
            serde_json::from_str(&serde_json::to_string(&m).expect("ser")).expect("de");
        assert_eq!(back.shares, m.shares);
        assert_eq!(back.cluster_of(&[3]), m.cluster_of(&[3]));
        // serving's copy drops the users' factors and assigns alike
        let lean = m.clone().without_user_factors();
        assert_eq!((lean.als.users.nrows(), lean.len()), (0, 2));
        for h in [[0u32], [1], [3], [5]] {
            assert_eq!(lean.cluster_of(&h), m.cluster_of(&h));
        }
    }
}
