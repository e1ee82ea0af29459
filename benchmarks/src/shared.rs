//! What several benchmarks share: the simulated message fixture
//! (`messages`, used by ingest, stages and clickhouse) and the one row
//! comparator (`disagreement`, used by metrics and clickhouse).

use serde_json::Value;
use showrunner_ingest::publish::Outgoing;
use showrunner_simulator::{SimConfig, Simulator};

/// Simulated events, serialized, at least `n` (truncated to `n`).
pub fn messages(n: usize) -> Vec<Outgoing> {
    let users = (n / 1_200).max(200) as u32;
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let mut cfg = SimConfig::new(users, 60, 7, start);
    cfg.heartbeat_secs = 60;
    let mut out = Vec::with_capacity(n);
    for day in Simulator::new(cfg) {
        out.extend(day.iter().map(Outgoing::event));
        if out.len() >= n {
            break;
        }
    }
    out.truncate(n);
    out
}

/// `n` simulated events spanning `days` days of an audience (a backfill,
/// or a standalone first run), serialized, and the number of distinct
/// event dates among them. The audience is sized from a pilot of 100 users
/// over the same days, so that the `days` days hold about `n` events.
pub fn messages_over_days(n: usize, days: u32) -> (Vec<Outgoing>, usize) {
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
            out.push(Outgoing::event(e));
        }
    }
    (out, dates.len())
}

/// Cells equal: numbers to 1e-9 relative, the rest exactly.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => {
                let (x, y) = (
                    x.as_f64().unwrap_or(f64::NAN),
                    y.as_f64().unwrap_or(f64::NAN),
                );
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-300)
            }
        },
        _ => a == b,
    }
}

fn sorted(rows: &[Vec<Value>]) -> Vec<Vec<Value>> {
    let mut r = rows.to_vec();
    r.sort_by_cached_key(|row| {
        row.iter()
            .map(|v| match v {
                Value::Number(n) => format!("{:>30.6}", n.as_f64().unwrap_or(0.0)),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
    });
    r
}

/// Where the rows of two engines differ first, if they do.
pub fn disagreement(a: &[Vec<Value>], b: &[Vec<Value>]) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!("{} rows vs {}", a.len(), b.len()));
    }
    let (a, b) = (sorted(a), sorted(b));
    a.iter().zip(&b).find_map(|(x, y)| {
        (x.len() != y.len() || x.iter().zip(y).any(|(p, q)| !same(p, q)))
            .then(|| format!("{} vs {}", Value::Array(x.clone()), Value::Array(y.clone())))
    })
}
