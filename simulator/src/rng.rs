//! Keyed random streams and deterministic event ids.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

/// What a random stream is for (part of its key).
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum Purpose {
    /// The catalog.
    Catalog = 1,
    /// A user's traits.
    User = 2,
    /// A user's day.
    Day = 3,
    /// The platform's day (CDN incidents).
    Platform = 4,
}

/// SplitMix64 step: a well-mixed 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The random stream for (seed, purpose, a, b).
pub fn stream(seed: u64, purpose: Purpose, a: u64, b: u64) -> ChaCha8Rng {
    let k = mix(mix(mix(seed) ^ purpose as u64) ^ a.wrapping_mul(0x100_0000_01B3)) ^ mix(b);
    ChaCha8Rng::seed_from_u64(k)
}

/// A UUIDv7 for an event at `ms`, its random bits drawn from `rng`.
pub fn event_id(rng: &mut impl Rng, ms: i64) -> Uuid {
    let bytes: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(ms.max(0) as u64, &bytes).into_uuid()
}

/// Samples an index from cumulative weights (last = total).
pub fn pick_cumulative(rng: &mut impl Rng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let x = rng.random::<f64>() * total;
    cumulative
        .partition_point(|&c| c <= x)
        .min(cumulative.len().saturating_sub(1))
}

/// Samples an index from weights.
pub fn pick_weighted(rng: &mut impl Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_keyed_and_repeatable() {
        let a: u64 = stream(1, Purpose::Day, 2, 3).random();
        let b: u64 = stream(1, Purpose::Day, 2, 3).random();
        let c: u64 = stream(1, Purpose::Day, 3, 2).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn ids_are_v7_at_the_given_time() {
        let mut r = stream(1, Purpose::Day, 0, 0);
        let id = event_id(&mut r, 1_772_373_600_000);
        assert_eq!(id.get_version_num(), 7);
        let (secs, _) = id.get_timestamp().expect("v7 has a timestamp").to_unix();
        assert_eq!(secs, 1_772_373_600);
    }

    #[test]
    fn cumulative_pick_respects_weights() {
        let mut r = stream(9, Purpose::Day, 0, 0);
        let cum = [1.0, 1.0, 4.0];
        let mut counts = [0; 3];
        for _ in 0..4000 {
            counts[pick_cumulative(&mut r, &cum)] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(counts[2] > counts[0] * 2, "{counts:?}");
    }
}
