//! The baseline: L2-regularised logistic regression (`linfa-logistic`,
//! L-BFGS) on standardised features. Each feature is centred and scaled by
//! the training rows' mean and standard deviation, so that one α penalises
//! every coefficient alike and a row's contributions are comparable:
//! contribution j = wⱼ · (xⱼ − μⱼ) / σⱼ, in log-odds.

use linfa::dataset::DatasetBase;
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Checked hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticValidParams {
    alpha: f64,
    max_iterations: u64,
}

impl LogisticValidParams {
    /// L2 penalty α on the coefficients.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// L-BFGS iterations at most.
    pub fn max_iterations(&self) -> u64 {
        self.max_iterations
    }
}

/// Hyper-parameters, unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams(LogisticValidParams);

impl Default for LogisticParams {
    fn default() -> Self {
        Self(LogisticValidParams {
            alpha: 1.0,
            max_iterations: 300,
        })
    }
}

impl LogisticParams {
    /// Defaults (α = 1, 300 iterations).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets α (≥ 0).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.0.alpha = alpha;
        self
    }

    /// Sets the iteration limit (> 0).
    pub fn max_iterations(mut self, n: u64) -> Self {
        self.0.max_iterations = n;
        self
    }
}

impl ParamGuard for LogisticParams {
    type Checked = LogisticValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&LogisticValidParams> {
        if !(self.0.alpha.is_finite() && self.0.alpha >= 0.0) {
            return Err(Error::Param(format!(
                "alpha must be ≥ 0, got {}",
                self.0.alpha
            )));
        }
        if self.0.max_iterations == 0 {
            return Err(Error::Param("max_iterations must be > 0".into()));
        }
        Ok(&self.0)
    }

    fn check(self) -> Result<LogisticValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    /// Training means of the features.
    pub mean: Array1<f64>,
    /// Training standard deviations (1 where a feature was constant).
    pub scale: Array1<f64>,
    /// Coefficients on the standardised features.
    pub weights: Array1<f64>,
    /// Intercept (log-odds at the mean row).
    pub intercept: f64,
    /// The parameters it was fitted with.
    pub params: LogisticValidParams,
}

impl Fit<Array2<f64>, Array1<bool>, Error> for LogisticValidParams {
    type Object = Logistic;

    fn fit(&self, data: &DatasetBase<Array2<f64>, Array1<bool>>) -> Result<Logistic> {
        let x = data.records();
        let y = data.targets();
        if !y.iter().any(|&l| l) || y.iter().all(|&l| l) {
            return Err(Error::Data(
                "training rows need churners and non-churners".into(),
            ));
        }
        let mean = x
            .mean_axis(Axis(0))
            .ok_or_else(|| Error::Data("no training rows".into()))?;
        let scale = x
            .std_axis(Axis(0), 0.0)
            .mapv(|s| if s > 1e-12 { s } else { 1.0 });
        let z = (x - &mean) / &scale;
        let fitted = LogisticRegression::default()
            .alpha(self.alpha)
            .max_iterations(self.max_iterations)
            .fit(&Dataset::new(z, y.clone()))
            .map_err(|e| Error::Fit(format!("logistic regression: {e}")))?;
        // linfa-logistic models the more frequent class (here: no churn)
        // as its positive one; the model states the log-odds of churn
        let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
        Ok(Logistic {
            mean,
            scale,
            weights: fitted.params() * sign,
            intercept: fitted.intercept() * sign,
            params: *self,
        })
    }
}

impl Logistic {
    /// Log-odds of churn per row.
    pub fn log_odds(&self, x: ArrayView2<'_, f64>) -> Array1<f64> {
        ((&x - &self.mean) / &self.scale).dot(&self.weights) + self.intercept
    }

    /// Probability of churn per row.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Array1<f64> {
        self.log_odds(x).mapv(|z| 1.0 / (1.0 + (-z).exp()))
    }

    /// Each feature's contribution to each row's log-odds (rows × features).
    pub fn contributions(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        (&x - &self.mean) / &self.scale * &self.weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Churn rises with the first feature and not with the second: the
    /// fitted log-odds say so, whichever class is the more frequent.
    #[test]
    fn log_odds_are_of_churn() {
        let x = array![
            [0.0, 1.0],
            [1.0, 0.0],
            [2.0, 1.0],
            [3.0, 0.0],
            [4.0, 1.0],
            [5.0, 0.0]
        ];
        for y in [
            array![false, false, false, true, true, true],
            array![false, false, false, false, true, true],
            array![false, false, true, true, true, true],
        ] {
            let m = LogisticParams::new()
                .alpha(0.01)
                .check()
                .expect("params")
                .fit(&Dataset::new(x.clone(), y.clone()))
                .expect("fit");
            assert!(m.weights[0] > 0.0, "{y}: {:?}", m.weights);
            let p = m.predict_proba(x.view());
            assert!(p[5] > 0.5 && p[0] < 0.5, "{y}: {p}");
        }
        let bad = LogisticParams::new().alpha(-1.0).check();
        assert!(matches!(bad, Err(Error::Param(_))));
    }

    #[test]
    fn serde_round_trip() {
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let m = LogisticParams::new()
            .check()
            .expect("params")
            .fit(&Dataset::new(x.clone(), array![false, false, true, true]))
            .expect("fit");
        let back: Logistic =
            serde_json::from_str(&serde_json::to_string(&m).expect("ser")).expect("de");
        assert_eq!(back, m);
    }
}
