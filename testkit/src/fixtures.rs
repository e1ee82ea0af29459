//! Simulated events the tests and benchmarks share: valid and
//! deterministic (the simulator's seeded streams).

use showrunner_events::Event;
use showrunner_simulator::{SimConfig, Simulator};

/// Every event of `users` users over `days` days from 2026-03-01,
/// heartbeats every two minutes (the end-to-end tests' audience).
pub fn audience(users: u32, days: u32, seed: u64) -> Vec<Event> {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
    let mut c = SimConfig::new(users, days, seed, start);
    c.heartbeat_secs = 120;
    Simulator::new(c).flatten().collect()
}

/// The first `n` events of a large audience over 60 days from 2026-01-01
/// (a user per 1,200 events, at least 200; heartbeats every minute): the
/// few busy days of a large audience; each as `f` makes it (the events of
/// a day at a time are kept, not all of them).
pub fn busy<T>(n: usize, mut f: impl FnMut(&Event) -> T) -> Vec<T> {
    let users = (n / 1_200).max(200) as u32;
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let mut cfg = SimConfig::new(users, 60, 7, start);
    cfg.heartbeat_secs = 60;
    let mut out = Vec::with_capacity(n);
    for day in Simulator::new(cfg) {
        out.extend(day.iter().map(&mut f));
        if out.len() >= n {
            break;
        }
    }
    out.truncate(n);
    out
}

/// `n` events spanning `days` days of an audience (a backfill, or a
/// standalone first run), and the number of distinct event dates among
/// them. The audience is sized from a pilot of 100 users over the same
/// days, so that the `days` days hold about `n` events. Each event as `f`
/// makes it.
pub fn over_days<T>(n: usize, days: u32, mut f: impl FnMut(&Event) -> T) -> (Vec<T>, usize) {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let config = |users: u32| {
        let mut cfg = SimConfig::new(users, days.max(1), 7, start);
        cfg.heartbeat_secs = 60;
        cfg
    };
    let pilot: usize = Simulator::new(config(100)).map(|d| d.len()).sum();
    let per_user = (pilot as f64 / 100.0).max(1.0);
    let users = ((n as f64 / per_user) * 1.05).ceil().max(1.0) as u32;
    let mut out = Vec::with_capacity(n);
    let mut dates = std::collections::BTreeSet::new();
    'days: for day in Simulator::new(config(users)) {
        for e in &day {
            if out.len() == n {
                break 'days;
            }
            dates.insert(e.envelope.occurred_at.epoch_day());
            out.push(f(e));
        }
    }
    (out, dates.len())
}
