//! The two models, each a linfa algorithm (Params → check → Fit → serde):
//! [`logistic`] the baseline, [`gbdt`] the challenger kept only when it
//! beats the baseline (`crate::train`).

pub mod gbdt;
pub mod logistic;

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// The kinds of model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Logistic regression, the baseline.
    Logistic,
    /// Gradient-boosted trees.
    Gbdt,
}

impl Kind {
    /// `logistic` or `gbdt`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Logistic => "logistic",
            Kind::Gbdt => "gbdt",
        }
    }
}

/// A fitted churn model of either kind.
///
/// Externally tagged (`{"gbdt": {…}}`): serde's internal tagging buffers
/// the content and cannot read the booster's integer-keyed maps back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Logistic regression.
    Logistic(logistic::Logistic),
    /// Gradient-boosted trees.
    Gbdt(Box<gbdt::Gbdt>),
}

impl Model {
    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Model::Logistic(_) => Kind::Logistic,
            Model::Gbdt(_) => Kind::Gbdt,
        }
    }

    /// Probability of churn per row.
    pub fn predict_proba(&self, x: ArrayView2<'_, f64>) -> Array1<f64> {
        match self {
            Model::Logistic(m) => m.predict_proba(x),
            Model::Gbdt(m) => m.predict_proba(x),
        }
    }

    /// Each feature's contribution to each row's log-odds.
    pub fn contributions(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        match self {
            Model::Logistic(m) => m.contributions(x),
            Model::Gbdt(m) => m.contributions(x),
        }
    }
}
