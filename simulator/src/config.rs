//! Simulation parameters.

use chrono::NaiveDate;

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Number of users who sign up over the period.
    pub users: u32,
    /// Days simulated.
    pub days: u32,
    /// Seed of every random draw.
    pub seed: u64,
    /// First simulated day (UTC).
    pub start: NaiveDate,
    /// Seconds between player heartbeats while playing.
    pub heartbeat_secs: u32,
    /// Titles in the catalog (0 = derived from `users`).
    pub titles: u32,
}

impl SimConfig {
    /// A configuration with the given size and defaults for the rest.
    pub fn new(users: u32, days: u32, seed: u64, start: NaiveDate) -> Self {
        Self {
            users,
            days,
            seed,
            start,
            heartbeat_secs: 60,
            titles: 0,
        }
    }

    /// Titles in the catalog.
    pub fn catalog_size(&self) -> u32 {
        if self.titles > 0 {
            self.titles
        } else {
            (self.users / 8).clamp(120, 2_000)
        }
    }
}
