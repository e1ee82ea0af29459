//! Implicit ALS (Hu, Koren & Volinsky 2008) solved with a few conjugate
//! gradient steps per row (Takács, Pilászy & Tikk 2011). Every observed
//! (user, item) has preference 1 and confidence c = 1 + α; unobserved ones
//! preference 0 and confidence 1. Users' and items' factors are updated in
//! turn: for a user u with items S, solve
//! (YᵀY + Σ_{i∈S} α·y_i y_iᵀ + λI) x_u = Σ_{i∈S} (1 + α)·y_i,
//! warm-started from the previous x_u. Scores are x_u · y_j.

use linfa::dataset::DatasetBase;
use linfa::prelude::*;
use ndarray::{Array1, Array2, ArrayView1, ArrayViewMut1};
use rand::Rng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::data::UserItems;
use crate::error::{Error, Result};
use crate::models::Scorer;

/// Checked hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlsValidParams {
    factors: usize,
    alpha: f64,
    lambda: f64,
    epochs: usize,
    cg_steps: usize,
    seed: u64,
}

/// Hyper-parameters, unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlsParams(AlsValidParams);

impl Default for AlsParams {
    fn default() -> Self {
        Self(AlsValidParams {
            factors: 64,
            alpha: 10.0,
            lambda: 1.0,
            epochs: 15,
            cg_steps: 3,
            seed: 42,
        })
    }
}

impl AlsParams {
    /// Defaults: 64 factors, α 10, λ 1, 15 epochs, 3 CG steps, seed 42.
    pub fn new() -> Self {
        Self::default()
    }
    /// Latent factors (≥ 1).
    pub fn factors(mut self, f: usize) -> Self {
        self.0.factors = f;
        self
    }
    /// Confidence weight α of observed interactions (≥ 0).
    pub fn alpha(mut self, a: f64) -> Self {
        self.0.alpha = a;
        self
    }
    /// L2 regularization λ (> 0).
    pub fn lambda(mut self, l: f64) -> Self {
        self.0.lambda = l;
        self
    }
    /// Alternating epochs (≥ 1).
    pub fn epochs(mut self, e: usize) -> Self {
        self.0.epochs = e;
        self
    }
    /// Seed of the initial factors.
    pub fn seed(mut self, s: u64) -> Self {
        self.0.seed = s;
        self
    }
}

impl ParamGuard for AlsParams {
    type Checked = AlsValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&AlsValidParams> {
        let p = &self.0;
        if p.factors == 0 || p.epochs == 0 || p.cg_steps == 0 {
            return Err(Error::Param(
                "factors, epochs and cg_steps must be ≥ 1".into(),
            ));
        }
        if !(p.alpha.is_finite() && p.alpha >= 0.0 && p.lambda.is_finite() && p.lambda > 0.0) {
            return Err(Error::Param(format!(
                "alpha must be ≥ 0 and lambda > 0, got {} and {}",
                p.alpha, p.lambda
            )));
        }
        Ok(p)
    }

    fn check(self) -> Result<AlsValidParams> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A fitted implicit-ALS model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Als {
    /// User factors (users × factors).
    pub users: Array2<f64>,
    /// Item factors (items × factors).
    pub items: Array2<f64>,
    /// YᵀY of the item factors, for folding histories in.
    pub gram: Array2<f64>,
    /// The parameters it was fitted with.
    pub params: AlsValidParams,
}

/// One CG solve per row of `x` against the fixed factors `y`; `rows[u]`
/// lists the observed columns of row u. Rows are independent: they are
/// split over the cores (each row's arithmetic is the same either way).
fn solve_rows(x: &mut Array2<f64>, y: &Array2<f64>, rows: &[Vec<u32>], p: &AlsValidParams) {
    let yty = y.t().dot(y);
    let f = y.ncols();
    let solve = |mut x: ndarray::ArrayViewMut2<f64>, rows: &[Vec<u32>]| {
        for (mut xu, row) in x.outer_iter_mut().zip(rows) {
            cg(&mut xu, &yty, y, row, p, f);
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // below a few hundred rows a thread costs more than it saves
    let chunk = rows.len().div_ceil(threads).max(256);
    if chunk >= rows.len() {
        return solve(x.view_mut(), rows);
    }
    std::thread::scope(|s| {
        for (x, rows) in x
            .axis_chunks_iter_mut(ndarray::Axis(0), chunk)
            .zip(rows.chunks(chunk))
        {
            s.spawn(move || solve(x, rows));
        }
    });
}

fn cg(
    xu: &mut ArrayViewMut1<f64>,
    yty: &Array2<f64>,
    y: &Array2<f64>,
    row: &[u32],
    p: &AlsValidParams,
    f: usize,
) {
    // A·v = YᵀY v + λ v + Σ α (y_i·v) y_i
    let apply = |v: ArrayView1<f64>| -> Array1<f64> {
        let mut out = yty.dot(&v) + &v * p.lambda;
        for &i in row {
            let yi = y.row(i as usize);
            let w = p.alpha * yi.dot(&v);
            out.scaled_add(w, &yi);
        }
        out
    };
    let mut b = Array1::<f64>::zeros(f);
    for &i in row {
        b.scaled_add(1.0 + p.alpha, &y.row(i as usize));
    }
    let mut r = &b - &apply(xu.view());
    let mut d = r.clone();
    let mut rs = r.dot(&r);
    for _ in 0..p.cg_steps {
        if rs < 1e-20 {
            break;
        }
        let ad = apply(d.view());
        let step = rs / d.dot(&ad);
        xu.scaled_add(step, &d);
        r.scaled_add(-step, &ad);
        let rs_new = r.dot(&r);
        d = &r + &(d * (rs_new / rs));
        rs = rs_new;
    }
}

impl<T> Fit<UserItems, T, Error> for AlsValidParams {
    type Object = Als;

    fn fit(&self, dataset: &DatasetBase<UserItems, T>) -> Result<Als> {
        let m = &dataset.records;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed);
        let scale = 0.01;
        let mut init = |n: usize| {
            Array2::from_shape_fn((n, self.factors), |_| rng.random_range(-scale..scale))
        };
        let mut x = init(m.rows.len());
        let mut y = init(m.n_items);
        // the transpose: per item, its users
        let mut cols: Vec<Vec<u32>> = vec![Vec::new(); m.n_items];
        for (u, row) in m.rows.iter().enumerate() {
            for &i in row {
                cols[i as usize].push(u as u32);
            }
        }
        for _ in 0..self.epochs {
            solve_rows(&mut x, &y, &m.rows, self);
            solve_rows(&mut y, &x, &cols, self);
        }
        let gram = y.t().dot(&y);
        Ok(Als {
            users: x,
            items: y,
            gram,
            params: *self,
        })
    }
}

impl Als {
    /// The same model without the training users' factors: serving folds
    /// every history in afresh, so an artifact needs only the items'.
    pub fn without_user_factors(mut self) -> Als {
        self.users = Array2::zeros((0, self.items.ncols()));
        self
    }

    /// Factors of a history not seen in training: one solve against the
    /// item factors (what a user's fresh events would give).
    pub fn fold_in(&self, history: &[u32]) -> Array1<f64> {
        let f = self.items.ncols();
        let mut x = Array1::<f64>::zeros(f);
        let mut p = self.params;
        p.cg_steps = p.cg_steps.max(f.min(16));
        cg(&mut x.view_mut(), &self.gram, &self.items, history, &p, f);
        x
    }
}

impl Scorer for Als {
    /// Scores a history by folding it in (the evaluation passes training
    /// histories, whose fitted factors this reproduces closely).
    fn score(&self, history: &[u32], out: &mut [f32]) {
        let xu = self.fold_in(history);
        for (o, yj) in out.iter_mut().zip(self.items.rows()) {
            *o = xu.dot(&yj) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_two_blocks() {
        // users 0–3 watch items 0–2, users 4–7 items 3–5; user 0 misses item 2
        let mut rows: Vec<Vec<u32>> = (0..8)
            .map(|u| if u < 4 { vec![0, 1, 2] } else { vec![3, 4, 5] })
            .collect();
        rows[0] = vec![0, 1];
        let d = DatasetBase::new(UserItems::binary(rows, 6), ());
        let m = AlsParams::new()
            .factors(4)
            .lambda(0.1)
            .epochs(10)
            .fit(&d)
            .expect("fit");
        let mut s = [0f32; 6];
        m.score(&[0, 1], &mut s);
        assert!(s[2] > s[3] && s[2] > s[4] && s[2] > s[5], "{s:?}");
        let back: Als = serde_json::from_str(&serde_json::to_string(&m).expect("ser")).expect("de");
        assert_eq!(back.params, m.params);
        let diff = (&back.items - &m.items)
            .mapv(f64::abs)
            .fold(0.0f64, |a, b| a.max(*b));
        assert!(diff < 1e-12, "JSON keeps the factors: {diff}");
        assert!(AlsParams::new().factors(0).check().is_err());
        assert!(AlsParams::new().lambda(0.0).check().is_err());
    }
}
