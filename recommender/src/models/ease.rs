//! EASE (Steck, 2019): a closed-form item-item linear model. With the Gram
//! matrix G = XᵀX + λI and P = G⁻¹, the weights are B = I − P · diag(1/diag P):
//! `B[i][j] = −P[i][j] / P[j][j]` off the diagonal, 0 on it. A user's scores
//! are x·B, the sum of the rows of B of the items in their history.

use linfa::dataset::DatasetBase;
use linfa::prelude::*;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::data::UserItems;
use crate::error::{Error, Result};
use crate::models::Scorer;

/// Checked hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EaseValidParams {
    lambda: f64,
    #[serde(default)]
    dropout: f64,
}

impl EaseValidParams {
    /// L2 regularization λ added to the Gram matrix's diagonal.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Dropout probability p of the denoising variant (0: plain EASE).
    pub fn dropout(&self) -> f64 {
        self.dropout
    }
}

/// Hyper-parameters, unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EaseParams(EaseValidParams);

impl Default for EaseParams {
    fn default() -> Self {
        Self(EaseValidParams {
            lambda: 400.0,
            dropout: 0.0,
        })
    }
}

impl EaseParams {
    /// Defaults (λ = 400).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets λ (> 0).
    pub fn lambda(mut self, lambda: f64) -> Self {
        self.0.lambda = lambda;
        self
    }

    /// Sets the dropout p ∈ [0, 1) of the denoising variant (DLAE, Steck
    /// 2020): Λ = λ + p/(1 − p)·diag(G), B = I − (G + Λ)⁻¹Λ, whose diagonal
    /// is not forced to zero (seen items are excluded from rankings anyway).
    pub fn dropout(mut self, p: f64) -> Self {
        self.0.dropout = p;
        self
    }
}

impl ParamGuard for EaseParams {
    type Checked = EaseValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&EaseValidParams> {
        if !(self.0.lambda.is_finite() && self.0.lambda > 0.0) {
            return Err(Error::Param(format!(
                "lambda must be > 0, got {}",
                self.0.lambda
            )));
        }
        if !(0.0..1.0).contains(&self.0.dropout) {
            return Err(Error::Param(format!(
                "dropout must be in [0, 1), got {}",
                self.0.dropout
            )));
        }
        Ok(&self.0)
    }

    fn check(self) -> Result<EaseValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted EASE model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ease {
    /// Item-item weights, zero diagonal.
    pub weights: Array2<f32>,
    /// The parameters it was fitted with.
    pub params: EaseValidParams,
}

/// XᵀX of a user-item matrix (its entries the interactions' weights), dense.
pub fn gram(x: &UserItems) -> Array2<f64> {
    let n = x.n_items;
    let mut g = Array2::<f64>::zeros((n, n));
    for (u, row) in x.rows.iter().enumerate() {
        for (a, &i) in row.iter().enumerate() {
            let wi = f64::from(x.weight(u, a));
            let mut gi = g.row_mut(i as usize);
            for (b, &j) in row.iter().enumerate() {
                gi[j as usize] += wi * f64::from(x.weight(u, b));
            }
        }
    }
    g
}

impl<T> Fit<UserItems, T, Error> for EaseValidParams {
    type Object = Ease;

    fn fit(&self, dataset: &DatasetBase<UserItems, T>) -> Result<Ease> {
        let mut g = gram(&dataset.records);
        let q = self.dropout / (1.0 - self.dropout);
        let reg: Vec<f64> = (0..g.nrows())
            .map(|i| self.lambda + q * g[[i, i]])
            .collect();
        for (i, r) in reg.iter().enumerate() {
            g[[i, i]] += r;
        }
        crate::linalg::invert_spd(&mut g)?;
        let p = g;
        let n = p.nrows();
        let mut b = Array2::<f32>::zeros((n, n));
        for j in 0..n {
            // EASE: −P_ij / P_jj (zero diagonal); DLAE: −P_ij · Λ_jj
            let scale = if self.dropout > 0.0 {
                reg[j]
            } else {
                1.0 / p[[j, j]]
            };
            for i in 0..n {
                if i != j {
                    b[[i, j]] = (-p[[i, j]] * scale) as f32;
                }
            }
        }
        Ok(Ease {
            weights: b,
            params: *self,
        })
    }
}

impl Scorer for Ease {
    fn score(&self, history: &[u32], out: &mut [f32]) {
        out.fill(0.0);
        for &i in history {
            for (o, w) in out.iter_mut().zip(self.weights.row(i as usize)) {
                *o += w;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> DatasetBase<UserItems, ()> {
        // u1 watched items 0 and 1, u2 only item 0
        DatasetBase::new(
            UserItems {
                rows: vec![vec![0, 1], vec![0]],
                n_items: 2,
                weights: Vec::new(),
            },
            (),
        )
    }

    #[test]
    fn closed_form_on_two_items() {
        // G + λI = [[3, 1], [1, 2]] (λ = 1); P = ⅕[[2, −1], [−1, 3]];
        // B01 = −P01/P11 = (1/5)/(3/5) = 1/3, B10 = −P10/P00 = (1/5)/(2/5) = 1/2
        let m = EaseParams::new().lambda(1.0).fit(&data()).expect("fit");
        let b = &m.weights;
        assert_eq!((b[[0, 0]], b[[1, 1]]), (0.0, 0.0));
        assert!((b[[0, 1]] - 1.0 / 3.0).abs() < 1e-6, "{b}");
        assert!((b[[1, 0]] - 0.5).abs() < 1e-6, "{b}");
        let mut s = [0.0; 2];
        m.score(&[0], &mut s);
        assert!((s[1] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn denoising_variant_on_two_items() {
        // p = 0.5: Λ = λ + diag(G) = diag(3, 2); G + Λ = [[5, 1], [1, 3]];
        // P = (1/14)[[3, −1], [−1, 5]]; B01 = −P01·Λ11 = 2/14, B10 = −P10·Λ00 = 3/14
        let m = EaseParams::new()
            .lambda(1.0)
            .dropout(0.5)
            .fit(&data())
            .expect("fit");
        let b = &m.weights;
        assert!((b[[0, 1]] - 2.0 / 14.0).abs() < 1e-6, "{b}");
        assert!((b[[1, 0]] - 3.0 / 14.0).abs() < 1e-6, "{b}");
        assert!(EaseParams::new().dropout(1.0).check().is_err());
    }

    #[test]
    fn params_are_checked() {
        assert!(EaseParams::new().lambda(0.0).check().is_err());
        assert!(EaseParams::new().lambda(f64::NAN).check().is_err());
        assert!(EaseParams::new().lambda(-1.0).fit(&data()).is_err());
    }

    #[test]
    fn serde_round_trip() {
        let m = EaseParams::new().lambda(2.0).fit(&data()).expect("fit");
        let json = serde_json::to_string(&m).expect("ser");
        let back: Ease = serde_json::from_str(&json).expect("de");
        assert_eq!(back, m);
    }
}
