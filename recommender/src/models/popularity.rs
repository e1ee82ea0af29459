//! Popularity: every user gets the items most users interacted with (the
//! fallback for cold users, and the floor every model must beat).

use linfa::dataset::DatasetBase;
use linfa::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::UserItems;
use crate::error::{Error, Result};
use crate::models::Scorer;

/// Checked hyper-parameters (none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PopularityValidParams;

/// Hyper-parameters (none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PopularityParams(PopularityValidParams);

impl ParamGuard for PopularityParams {
    type Checked = PopularityValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&PopularityValidParams> {
        Ok(&self.0)
    }

    fn check(self) -> Result<PopularityValidParams> {
        Ok(self.0)
    }
}

/// A fitted popularity model: users per item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Popularity {
    /// Users who interacted with each item.
    pub counts: Vec<u32>,
}

impl<T> Fit<UserItems, T, Error> for PopularityValidParams {
    type Object = Popularity;

    fn fit(&self, dataset: &DatasetBase<UserItems, T>) -> Result<Popularity> {
        let mut counts = vec![0u32; dataset.records.n_items];
        for row in &dataset.records.rows {
            for &i in row {
                counts[i as usize] += 1;
            }
        }
        Ok(Popularity { counts })
    }
}

impl Scorer for Popularity {
    fn score(&self, _history: &[u32], out: &mut [f32]) {
        for (o, c) in out.iter_mut().zip(&self.counts) {
            *o = *c as f32;
        }
    }
}
