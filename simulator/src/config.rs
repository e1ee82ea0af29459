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

    /// `days` days whose last is `last` (today, for a first run).
    pub fn ending(users: u32, days: u32, seed: u64, last: NaiveDate) -> Self {
        let start = last - chrono::Days::new(u64::from(days.saturating_sub(1)));
        Self::new(users, days, seed, start)
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

/// `[simulator]` of the configuration: the audience `standalone`
/// simulates on first run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SimulatorConfig {
    /// Users who sign up over the period.
    pub users: u32,
    /// Days simulated, ending today.
    pub days: u32,
    /// Seed.
    pub seed: u64,
    /// Seconds between player heartbeats.
    pub heartbeat_secs: u32,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            users: 2_000,
            days: 90,
            seed: 42,
            heartbeat_secs: 300,
        }
    }
}

impl SimulatorConfig {
    /// The simulation this section describes, `users` and `days` when
    /// given instead of its own, ending on `last`.
    pub fn sim(&self, users: Option<u32>, days: Option<u32>, last: NaiveDate) -> SimConfig {
        let mut c = SimConfig::ending(
            users.unwrap_or(self.users),
            days.unwrap_or(self.days),
            self.seed,
            last,
        );
        c.heartbeat_secs = self.heartbeat_secs;
        c
    }

    /// Checks the fields; the error names the one that is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.heartbeat_secs == 0 {
            return Err("config field `simulator.heartbeat_secs` must be > 0".into());
        }
        Ok(())
    }
}
