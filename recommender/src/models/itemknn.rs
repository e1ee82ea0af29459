//! Item-kNN: cosine similarity between items' user sets,
//! `sim(i, j) = |U_i ∩ U_j| / sqrt(|U_i| · |U_j|)`, keeping each item's
//! `neighbours` most similar items; a user's score for j is the sum of
//! sim(i, j) over the items i of their history that are among j's
//! neighbours.

use linfa::dataset::DatasetBase;
use linfa::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::UserItems;
use crate::error::{Error, Result};
use crate::models::{Scorer, ease::gram};

/// Checked hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ItemKnnValidParams {
    neighbours: usize,
}

impl ItemKnnValidParams {
    /// Neighbours kept per item.
    pub fn neighbours(&self) -> usize {
        self.neighbours
    }
}

/// Hyper-parameters, unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ItemKnnParams(ItemKnnValidParams);

impl Default for ItemKnnParams {
    fn default() -> Self {
        Self(ItemKnnValidParams { neighbours: 100 })
    }
}

impl ItemKnnParams {
    /// Defaults (100 neighbours).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the neighbours kept per item (≥ 1).
    pub fn neighbours(mut self, k: usize) -> Self {
        self.0.neighbours = k;
        self
    }
}

impl ParamGuard for ItemKnnParams {
    type Checked = ItemKnnValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&ItemKnnValidParams> {
        if self.0.neighbours == 0 {
            return Err(Error::Param("neighbours must be ≥ 1".into()));
        }
        Ok(&self.0)
    }

    fn check(self) -> Result<ItemKnnValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted item-kNN model: each item's neighbours and similarities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemKnn {
    /// Per item, (neighbour, similarity), most similar first.
    pub neighbours: Vec<Vec<(u32, f32)>>,
    /// The parameters it was fitted with.
    pub params: ItemKnnValidParams,
}

impl<T> Fit<UserItems, T, Error> for ItemKnnValidParams {
    type Object = ItemKnn;

    fn fit(&self, dataset: &DatasetBase<UserItems, T>) -> Result<ItemKnn> {
        let g = gram(&dataset.records);
        let n = g.nrows();
        let mut neighbours = Vec::with_capacity(n);
        for i in 0..n {
            let mut sims: Vec<(u32, f32)> = (0..n)
                .filter(|&j| j != i && g[[i, j]] > 0.0)
                .map(|j| {
                    (
                        j as u32,
                        (g[[i, j]] / (g[[i, i]] * g[[j, j]]).sqrt()) as f32,
                    )
                })
                .collect();
            sims.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            sims.truncate(self.neighbours);
            neighbours.push(sims);
        }
        Ok(ItemKnn {
            neighbours,
            params: *self,
        })
    }
}

impl Scorer for ItemKnn {
    /// A candidate j scores Σ sim(i, j) over the history items i that are
    /// among j's own neighbours (the neighbourhood of the item scored, as
    /// item-kNN is usually defined).
    fn score(&self, history: &[u32], out: &mut [f32]) {
        let mut seen = vec![false; out.len()];
        for &i in history {
            seen[i as usize] = true;
        }
        for (o, nbrs) in out.iter_mut().zip(&self.neighbours) {
            *o = nbrs
                .iter()
                .filter(|(i, _)| seen[*i as usize])
                .map(|(_, s)| s)
                .sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_neighbours() {
        // item 0: users a, b; item 1: users a, b; item 2: user a
        let d = DatasetBase::new(
            UserItems {
                rows: vec![vec![0, 1, 2], vec![0, 1]],
                n_items: 3,
                weights: Vec::new(),
            },
            (),
        );
        let m = ItemKnnParams::new().neighbours(1).fit(&d).expect("fit");
        // sim(0,1) = 2/√4 = 1; sim(0,2) = 1/√2
        assert_eq!(m.neighbours[0], vec![(1, 1.0)]);
        assert_eq!(m.neighbours[2][0].0, 0, "ties go to the lower index");
        assert!((m.neighbours[2][0].1 - 1.0 / 2f32.sqrt()).abs() < 1e-6);
        let back: ItemKnn =
            serde_json::from_str(&serde_json::to_string(&m).expect("ser")).expect("de");
        assert_eq!(back, m);
        assert!(ItemKnnParams::new().neighbours(0).check().is_err());
    }
}
