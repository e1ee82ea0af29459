//! Gradient-boosted trees: `perpetual`'s booster on log loss (linfa has no
//! boosting). Its one hyper-parameter is a budget: the booster sets its own
//! learning rate and stops by its own generalisation check, so there is no
//! grid to tune on the holdout. Contributions are exact tree SHAP values in
//! log-odds, the same unit as the baseline's.

use linfa::dataset::DatasetBase;
use linfa::prelude::*;
use ndarray::{Array1, Array2, ArrayView2};
use perpetual::ContributionsMethod;
use perpetual::objective::Objective;
use perpetual::{Matrix, PerpetualBooster};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Checked hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GbdtValidParams {
    budget: f32,
    seed: u64,
}

impl GbdtValidParams {
    /// The booster's complexity budget.
    pub fn budget(&self) -> f32 {
        self.budget
    }

    /// Seed of its sampling.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// Hyper-parameters, unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GbdtParams(GbdtValidParams);

impl Default for GbdtParams {
    fn default() -> Self {
        Self(GbdtValidParams {
            budget: 0.5,
            seed: 0,
        })
    }
}

impl GbdtParams {
    /// Defaults (budget 0.5, perpetual's own default; seed 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the budget (> 0; 0.5–2 is the useful range).
    pub fn budget(mut self, budget: f32) -> Self {
        self.0.budget = budget;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }
}

impl ParamGuard for GbdtParams {
    type Checked = GbdtValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&GbdtValidParams> {
        if !(self.0.budget.is_finite() && self.0.budget > 0.0) {
            return Err(Error::Param(format!(
                "budget must be > 0, got {}",
                self.0.budget
            )));
        }
        Ok(&self.0)
    }

    fn check(self) -> Result<GbdtValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted booster.
#[derive(Clone, Serialize, Deserialize)]
pub struct Gbdt {
    /// The trees.
    pub booster: PerpetualBooster,
    /// The parameters it was fitted with.
    pub params: GbdtValidParams,
}

impl std::fmt::Debug for Gbdt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gbdt")
            .field("trees", &self.booster.get_prediction_trees().len())
            .field("params", &self.params)
            .finish()
    }
}

/// `x`'s values column after column: perpetual's [`Matrix`] layout.
fn column_major(x: ArrayView2<'_, f64>) -> Vec<f64> {
    x.t().iter().copied().collect()
}

impl Fit<Array2<f64>, Array1<bool>, Error> for GbdtValidParams {
    type Object = Gbdt;

    fn fit(&self, data: &DatasetBase<Array2<f64>, Array1<bool>>) -> Result<Gbdt> {
        let x = data.records();
        let y: Vec<f64> = data
            .targets()
            .iter()
            .map(|&l| f64::from(u8::from(l)))
            .collect();
        if !y.contains(&1.0) || !y.contains(&0.0) {
            return Err(Error::Data(
                "training rows need churners and non-churners".into(),
            ));
        }
        let values = column_major(x.view());
        let matrix = Matrix::new(&values, x.nrows(), x.ncols());
        let mut booster = PerpetualBooster::default()
            .set_objective(Objective::LogLoss)
            .set_budget(self.budget)
            .set_seed(self.seed);
        booster
            .fit(&matrix, &y, None, None)
            .map_err(|e| Error::Fit(format!("gradient-boosted trees: {e}")))?;
        Ok(Gbdt {
            booster,
            params: *self,
        })
    }
}

impl Gbdt {
    /// Probability of churn per row.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Array1<f64> {
        let values = column_major(x);
        let matrix = Matrix::new(&values, x.nrows(), x.ncols());
        Array1::from(self.booster.predict_proba(&matrix, true, false))
    }

    /// Each feature's SHAP contribution to each row's log-odds (rows ×
    /// features; the bias column perpetual adds is dropped).
    pub fn contributions(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        let values = column_major(x);
        let matrix = Matrix::new(&values, x.nrows(), x.ncols());
        let flat = self
            .booster
            .predict_contributions(&matrix, ContributionsMethod::Shapley, true);
        let width = x.ncols() + 1;
        Array2::from_shape_fn((x.nrows(), x.ncols()), |(r, c)| flat[r * width + c])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 400 rows: churn when the first feature is above 0.6 (with 10 % of
    /// labels flipped), the second is noise.
    fn data() -> DatasetBase<Array2<f64>, Array1<bool>> {
        let x = Array2::from_shape_fn((400, 2), |(r, c)| {
            let h = (r as u64 * 2_654_435_761 + c as u64 * 40_503) % 1_000;
            h as f64 / 1_000.0
        });
        let y = Array1::from_shape_fn(400, |r| (x[[r, 0]] > 0.6) ^ (r % 10 == 0));
        Dataset::new(x, y)
    }

    fn fitted(d: &DatasetBase<Array2<f64>, Array1<bool>>) -> Gbdt {
        GbdtParams::new()
            .check()
            .expect("params")
            .fit(d)
            .expect("fit")
    }

    #[test]
    fn learns_the_rule_and_says_which_feature() {
        let d = data();
        let m = fitted(&d);
        let p = m.predict_proba(d.records().view());
        let c = m.contributions(d.records().view());
        let (mut right, mut first_feature) = (0, 0);
        for r in 0..400 {
            right += usize::from((p[r] > 0.5) == (d.records()[[r, 0]] > 0.6));
            if d.records()[[r, 0]] > 0.8 {
                first_feature += usize::from(c[[r, 0]] > c[[r, 1]].abs());
            }
        }
        assert!(right > 340, "{right} of 400 on the rule's side");
        let high = (0..400).filter(|&r| d.records()[[r, 0]] > 0.8).count();
        assert_eq!(first_feature, high, "the risk is put on the first feature");
        assert!(GbdtParams::new().budget(0.0).check().is_err());
    }

    #[test]
    fn serde_round_trip_predicts_the_same() {
        let d = data();
        let m = fitted(&d);
        let back: Gbdt =
            serde_json::from_str(&serde_json::to_string(&m).expect("ser")).expect("de");
        assert_eq!(
            back.predict_proba(d.records().view()),
            m.predict_proba(d.records().view())
        );
    }
}
