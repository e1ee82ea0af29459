//! A blend of two scorers from different families: an item-item model
//! (EASE or DLAE) and a latent-factor model (implicit ALS). Each one's
//! scores for a history are standardized (z-score over the items, the
//! history's own scores set to 0 first: it is never ranked), then mixed
//! `w · ease + (1 − w) · als`; the weight is tuned on validation folds like
//! any hyper-parameter.

use linfa::dataset::DatasetBase;
use linfa::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::UserItems;
use crate::error::{Error, Result};
use crate::models::Scorer;
use crate::models::als::{Als, AlsValidParams};
use crate::models::ease::{Ease, EaseValidParams};

/// Checked hyper-parameters: the two members' and the weight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlendValidParams {
    ease: EaseValidParams,
    als: AlsValidParams,
    weight: f64,
}

/// Hyper-parameters, unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlendParams(BlendValidParams);

impl BlendParams {
    /// A blend of these members with weight ½.
    pub fn new(ease: EaseValidParams, als: AlsValidParams) -> Self {
        Self(BlendValidParams {
            ease,
            als,
            weight: 0.5,
        })
    }

    /// Sets the item-item model's weight w ∈ [0, 1].
    pub fn weight(mut self, w: f64) -> Self {
        self.0.weight = w;
        self
    }
}

impl ParamGuard for BlendParams {
    type Checked = BlendValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&BlendValidParams> {
        if !(0.0..=1.0).contains(&self.0.weight) {
            return Err(Error::Param(format!(
                "weight must be in [0, 1], got {}",
                self.0.weight
            )));
        }
        Ok(&self.0)
    }

    fn check(self) -> Result<BlendValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted blend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blend {
    /// The item-item member.
    pub ease: Ease,
    /// The latent-factor member.
    pub als: Als,
    /// The item-item member's weight.
    pub weight: f64,
}

impl<T> Fit<UserItems, T, Error> for BlendValidParams {
    type Object = Blend;

    fn fit(&self, dataset: &DatasetBase<UserItems, T>) -> Result<Blend> {
        let records = DatasetBase::new(dataset.records.clone(), ());
        Ok(Blend {
            ease: self.ease.fit(&records)?,
            als: self.als.fit(&records)?,
            weight: self.weight,
        })
    }
}

fn scale(v: &mut [f32]) {
    let n = v.len().max(1) as f32;
    let mean = v.iter().sum::<f32>() / n;
    let sd = (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n).sqrt();
    if sd > 0.0 {
        v.iter_mut().for_each(|x| *x = (*x - mean) / sd);
    }
}

/// Standardizes both members' scores for `history` in place; the
/// history's own scores are set to 0 first: only candidates are ranked,
/// and ALS reconstructs the history near 1, which must not set the scale.
fn standardize(history: &[u32], ease: &mut [f32], als: &mut [f32]) {
    for &h in history {
        ease[h as usize] = 0.0;
        als[h as usize] = 0.0;
    }
    scale(ease);
    scale(als);
}

/// `w · ease + (1 − w) · als`, item by item, into `ease`.
fn combine(ease: &mut [f32], als: &[f32], w: f64) {
    let w = w as f32;
    for (e, a) in ease.iter_mut().zip(als) {
        *e = w * *e + (1.0 - w) * a;
    }
}

/// Mixes the members' scores for `history` into `ease`: both
/// standardized, the history's own scores set to 0 first, then
/// `w · ease + (1 − w) · als`.
pub fn mix(history: &[u32], ease: &mut [f32], als: &mut [f32], w: f64) {
    standardize(history, ease, als);
    combine(ease, als, w);
}

impl Blend {
    /// Scores a history once per weight of `weights` into `outs` (one
    /// vector per weight): the members are scored and standardized once,
    /// which is what tuning the weight needs.
    pub fn score_weights(&self, history: &[u32], weights: &[f64], outs: &mut [Vec<f32>]) {
        let n = outs.first().map_or(0, Vec::len);
        let (mut ease, mut als) = (vec![0f32; n], vec![0f32; n]);
        self.ease.score(history, &mut ease);
        self.als.score(history, &mut als);
        standardize(history, &mut ease, &mut als);
        for (&w, out) in weights.iter().zip(outs.iter_mut()) {
            out.copy_from_slice(&ease);
            combine(out, &als, w);
        }
    }
}

impl Scorer for Blend {
    fn score(&self, history: &[u32], out: &mut [f32]) {
        let mut other = vec![0f32; out.len()];
        self.ease.score(history, out);
        self.als.score(history, &mut other);
        mix(history, out, &mut other, self.weight);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::als::AlsParams;
    use crate::models::ease::EaseParams;

    fn members() -> (EaseValidParams, AlsValidParams) {
        (
            EaseParams::new().lambda(1.0).check().expect("ease"),
            AlsParams::new().factors(2).seed(1).check().expect("als"),
        )
    }

    #[test]
    fn weights_are_checked_and_extremes_are_the_members() {
        let (e, a) = members();
        assert!(BlendParams::new(e, a).weight(1.5).check().is_err());
        let data = DatasetBase::new(
            UserItems::binary(vec![vec![0, 1], vec![0], vec![1, 2], vec![2]], 3),
            (),
        );
        let b = BlendParams::new(e, a).weight(1.0).fit(&data).expect("fit");
        let (mut s, mut t) = ([0f32; 3], [0f32; 3]);
        b.score(&[0], &mut s);
        b.ease.score(&[0], &mut t);
        t[0] = 0.0; // the history's own score plays no part
        scale(&mut t);
        assert_eq!(s, t, "w = 1 is EASE, scaled");
        Blend {
            weight: 0.0,
            ..b.clone()
        }
        .score(&[0], &mut s);
        b.als.score(&[0], &mut t);
        t[0] = 0.0;
        scale(&mut t);
        assert_eq!(s, t, "w = 0 is ALS, scaled");
        // several weights at once are each weight's own scores
        let mut outs = vec![vec![0f32; 3]; 3];
        b.score_weights(&[0, 2], &[0.0, 0.4, 1.0], &mut outs);
        for (w, out) in [0.0, 0.4, 1.0].into_iter().zip(&outs) {
            Blend {
                weight: w,
                ..b.clone()
            }
            .score(&[0, 2], &mut s);
            assert_eq!(out.as_slice(), s, "w = {w}");
        }
        // JSON keeps f64 to the last bit or one ulp: compare scores
        let json = serde_json::to_string(&b).expect("ser");
        let back: Blend = serde_json::from_str(&json).expect("de");
        assert_eq!((back.weight, back.ease.clone()), (b.weight, b.ease.clone()));
        b.score(&[0, 2], &mut s);
        back.score(&[0, 2], &mut t);
        for (x, y) in s.iter().zip(&t) {
            assert!((x - y).abs() < 1e-6, "{s:?} vs {t:?}");
        }
    }
}
