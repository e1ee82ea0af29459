//! The models. Each scores every item for a user's history; the caller
//! ranks, excluding what the user already has.

pub mod als;
pub mod blend;
pub mod clusters;
pub mod ease;
pub mod itemknn;
pub mod popularity;

/// A fitted model that scores items for a history of items.
pub trait Scorer {
    /// Writes a score per item into `out` (length: the number of items).
    fn score(&self, history: &[u32], out: &mut [f32]);
}

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
