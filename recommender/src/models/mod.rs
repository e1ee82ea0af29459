//! The models. Each scores every item for a user's history; the caller
//! ranks, excluding what the user already has.

pub mod als;
pub mod blend;
pub mod clusters;
pub mod ease;
pub mod itemknn;
pub mod popularity;

use linfa::traits::PredictInplace;
use ndarray::Array2;

use crate::data::UserItems;

/// A fitted model that scores items for a history of items.
pub trait Scorer {
    /// Writes a score per item into `out` (length: the number of items).
    fn score(&self, history: &[u32], out: &mut [f32]);

    /// The recommend step: the `k` best-scored items of `n_items` for a
    /// history (sorted), the history's own items left out, best first.
    fn recommend(&self, history: &[u32], n_items: usize, k: usize) -> Vec<u32> {
        let mut scores = vec![0f32; n_items];
        self.score(history, &mut scores);
        top_k(&scores, history, k)
    }
}

/// linfa's predict step for every model: `model.predict(&dataset)` scores
/// every item for each user, the user's row taken as the history
/// (users × items).
macro_rules! predict_scores {
    ($($model:ty),*) => {$(
        impl PredictInplace<UserItems, Array2<f32>> for $model {
            fn predict_inplace<'a>(&'a self, x: &'a UserItems, y: &mut Array2<f32>) {
                assert_eq!(
                    y.dim(),
                    (x.rows.len(), x.n_items),
                    "the targets must be users × items"
                );
                for (history, mut out) in x.rows.iter().zip(y.rows_mut()) {
                    match out.as_slice_mut() {
                        Some(o) => self.score(history, o),
                        None => {
                            let mut o = vec![0f32; x.n_items];
                            self.score(history, &mut o);
                            out.iter_mut().zip(o).for_each(|(a, b)| *a = b);
                        }
                    }
                }
            }

            fn default_target(&self, x: &UserItems) -> Array2<f32> {
                Array2::zeros((x.rows.len(), x.n_items))
            }
        }
    )*};
}

predict_scores!(
    ease::Ease,
    als::Als,
    itemknn::ItemKnn,
    popularity::Popularity,
    blend::Blend,
    clusters::TasteClusters
);

/// The `k` best items by score, skipping `exclude` (sorted), best first;
/// ties broken by the lower index.
pub fn top_k(scores: &[f32], exclude: &[u32], k: usize) -> Vec<u32> {
    top_k_by(scores, |i| exclude.binary_search(&i).is_err(), k)
}

/// The `k` best items by score among those `keep` accepts, best first;
/// ties broken by the lower index.
pub fn top_k_by(scores: &[f32], keep: impl Fn(u32) -> bool, k: usize) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..scores.len() as u32).filter(|&i| keep(i)).collect();
    let better = |a: &u32, b: &u32| {
        scores[*b as usize]
            .total_cmp(&scores[*a as usize])
            .then(a.cmp(b))
    };
    if idx.len() > k {
        idx.select_nth_unstable_by(k, better);
        idx.truncate(k);
    }
    idx.sort_unstable_by(better);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::prelude::*;

    #[test]
    fn predict_and_recommend_follow_linfa() {
        // u0 has {0, 1}, u1 {0}, u2 {2}; popularity counts 2, 1, 1
        let data = DatasetBase::new(UserItems::binary(vec![vec![0, 1], vec![0], vec![2]], 3), ());
        let pop = popularity::PopularityParams::default()
            .fit(&data)
            .expect("fit");
        let scores: Array2<f32> = pop.predict(&data);
        assert_eq!(scores.dim(), (3, 3));
        assert_eq!(scores.row(1).to_vec(), [2.0, 1.0, 1.0]);
        // recommend: u1's best unseen items, ties by the lower index
        assert_eq!(pop.recommend(&[0], 3, 2), [1, 2]);
        assert_eq!(pop.recommend(&[0, 1], 3, 5), [2]);
        // EASE's predictions are its per-history scores
        let ease = ease::EaseParams::new().lambda(1.0).fit(&data).expect("fit");
        let p: Array2<f32> = ease.predict(&data);
        let mut s = [0f32; 3];
        ease.score(&[0, 1], &mut s);
        assert_eq!(p.row(0).to_vec(), s);
    }
}
