//! Stable random assignment to the global holdout and to each campaign's
//! control group: a user's place is a pure function of (salt, user id), so
//! it is the same in every process, after every restart and in every
//! replay, and needs no stored table.
//!
//! The place is `u = h / 2⁶⁴` where `h` is the 64-bit FNV-1a hash of the
//! salt's bytes, one `0xFF` byte (never in UTF-8, so no two (salt, user)
//! pairs share an input) and the user id's bytes, mixed by SplitMix64's
//! finaliser; a user is in a group of share `s` when `u < s`. The global
//! holdout's salt is [`HOLDOUT_SALT`]; a campaign's control group is salted
//! by the campaign id, so the two are independent and each campaign draws
//! its own control users. `tests/assign.rs` checks these values against an
//! independent implementation and the shares over 200,000 users.

/// The global holdout's salt.
pub const HOLDOUT_SALT: &str = "showrunner/global-holdout";

/// A user's place in `[0, 1)` under `salt`.
pub fn unit(salt: &str, user: &str) -> f64 {
    (hash(salt, user) >> 11) as f64 / (1u64 << 53) as f64
}

/// The 64-bit hash behind [`unit`] (also what derives deterministic ids).
pub fn hash(salt: &str, user: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for &b in salt.as_bytes().iter().chain(&[0xFF]).chain(user.as_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    // SplitMix64's finaliser: FNV's low bits are weak on short inputs
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    h
}

/// Whether `user` is in the global holdout of `share` (no marketing
/// message ever reaches them: the baseline every campaign's lift is
/// also measured against).
pub fn in_holdout(user: &str, share: f64) -> bool {
    unit(HOLDOUT_SALT, user) < share
}

/// Whether `user` is in `campaign`'s control group of `share`.
pub fn in_control(campaign: &str, user: &str, share: f64) -> bool {
    unit(campaign, user) < share
}
