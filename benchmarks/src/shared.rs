//! What several benchmarks share: the simulated message fixtures
//! (`messages`, used by ingest, stages and clickhouse; `testkit`'s
//! `fixtures` serialized) and the one row comparator (`testkit`'s, at the
//! tolerance the engines are held to).

use serde_json::Value;
use showrunner_ingest::publish::Outgoing;
use showrunner_testkit::{fixtures, rows};

/// Simulated events of the few busy days of a large audience, serialized.
pub fn messages(n: usize) -> Vec<Outgoing> {
    fixtures::busy(n, Outgoing::event)
}

/// `n` simulated events spanning `days` days, serialized, and the number
/// of distinct event dates among them.
pub fn messages_over_days(n: usize, days: u32) -> (Vec<Outgoing>, usize) {
    fixtures::over_days(n, days, Outgoing::event)
}

/// Where the rows of two engines differ first, if they do (order-free;
/// numbers to 1e-9 relative).
pub fn disagreement(a: &[Vec<Value>], b: &[Vec<Value>]) -> Option<String> {
    rows::disagreement(a, b, 1e-9)
}
