//! Inverting the symmetric positive definite matrices of EASE: in-place
//! Gauss–Jordan elimination without pivoting (safe for SPD matrices), its
//! row updates vectorized and split over the machine's cores. linfa-linalg's
//! Cholesky inverse is exact too but scalar: 14 s against about 1 s here for
//! MovieLens-100K's 1,682 items (`showrunner recommend eval`).

use std::sync::{Barrier, RwLock};

use ndarray::Array2;

use crate::error::{Error, Result};

/// Inverts `a` (square, symmetric positive definite) in place.
pub fn invert_spd(a: &mut Array2<f64>) -> Result<()> {
    let n = a.nrows();
    if a.ncols() != n {
        return Err(Error::Linalg(format!("not square: {:?}", a.dim())));
    }
    if n == 0 {
        return Ok(());
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(n)
        .max(1);
    let data = a
        .as_slice_mut()
        .ok_or_else(|| Error::Linalg("matrix not contiguous".into()))?;
    let chunk = n.div_ceil(threads);
    let pivot = RwLock::new(vec![0f64; n]);
    let barrier = Barrier::new(threads);
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for (t, rows) in data.chunks_mut(chunk * n).enumerate() {
            let (pivot, barrier, failed) = (&pivot, &barrier, &failed);
            s.spawn(move || {
                let first = t * chunk;
                let mine = rows.len() / n;
                for k in 0..n {
                    // the owner of row k scales it and publishes it
                    if k >= first && k < first + mine {
                        let row = &mut rows[(k - first) * n..(k - first + 1) * n];
                        let p = row[k];
                        if !(p.is_finite() && p > 0.0) {
                            failed.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                        let inv = 1.0 / p;
                        row[k] = 1.0;
                        for x in row.iter_mut() {
                            *x *= inv;
                        }
                        if let Ok(mut buf) = pivot.write() {
                            buf.copy_from_slice(row);
                        }
                    }
                    barrier.wait();
                    if let Ok(pk) = pivot.read() {
                        for r in 0..mine {
                            if first + r == k {
                                continue;
                            }
                            let row = &mut rows[r * n..(r + 1) * n];
                            let f = row[k];
                            if f != 0.0 {
                                row[k] = 0.0;
                                for (x, p) in row.iter_mut().zip(pk.iter()) {
                                    *x -= f * p;
                                }
                            }
                        }
                    }
                    barrier.wait();
                }
            });
        }
    });
    if failed.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(Error::Linalg("matrix is not positive definite".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_a_small_spd_matrix() {
        let mut a = ndarray::arr2(&[[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]]);
        let orig = a.clone();
        invert_spd(&mut a).expect("invert");
        let id = orig.dot(&a);
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((id[[i, j]] - want).abs() < 1e-12, "{id}");
            }
        }
        let mut bad = ndarray::arr2(&[[0.0, 1.0], [1.0, 0.0]]);
        assert!(invert_spd(&mut bad).is_err());
    }
}
