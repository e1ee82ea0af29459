//! The one row comparator of the workspace's tests and benchmarks. Rows
//! are JSON values (what `warehouse::output::rows` gives for DataFusion,
//! and what DuckDB and ClickHouse answer as JSON).

use serde_json::Value;

/// Cells equal: two integers exactly; two numbers otherwise to `tolerance`
/// relative to the larger (absolute below 1); anything else exactly.
pub fn same_cell(a: &Value, b: &Value, tolerance: f64) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => {
                let (x, y) = (
                    x.as_f64().unwrap_or(f64::NAN),
                    y.as_f64().unwrap_or(f64::NAN),
                );
                (x - y).abs() <= tolerance * x.abs().max(y.abs()).max(1.0)
            }
        },
        _ => a == b,
    }
}

/// The first row where two row sets differ, in the order given (or their
/// row counts), if they do.
pub fn first_difference(a: &[Vec<Value>], b: &[Vec<Value>], tolerance: f64) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!("{} rows vs {}", a.len(), b.len()));
    }
    a.iter().zip(b).find_map(|(x, y)| {
        let same = x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_cell(p, q, tolerance));
        (!same).then(|| format!("{} vs {}", Value::Array(x.clone()), Value::Array(y.clone())))
    })
}

/// [`first_difference`] of the rows sorted (engines need not agree on the
/// order of rows a query does not sort).
pub fn disagreement(a: &[Vec<Value>], b: &[Vec<Value>], tolerance: f64) -> Option<String> {
    first_difference(&sorted(a), &sorted(b), tolerance)
}

/// The rows of a JSON array of arrays (panics on anything else: a test
/// helper).
pub fn of_json(v: &Value) -> Vec<Vec<Value>> {
    v.as_array()
        .unwrap_or_else(|| panic!("rows: {v}"))
        .iter()
        .map(|r| r.as_array().unwrap_or_else(|| panic!("row: {r}")).clone())
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_exactly_floats_within_tolerance() {
        assert!(same_cell(&json!(3), &json!(3), 1e-9));
        assert!(!same_cell(&json!(3), &json!(4), 1e-9));
        assert!(same_cell(&json!(1e6), &json!(1e6 + 1e-4), 1e-9));
        assert!(!same_cell(&json!(1e6), &json!(1e6 + 1e-2), 1e-9));
        assert!(
            same_cell(&json!(0.0), &json!(1e-13), 1e-12),
            "absolute below 1"
        );
        assert!(same_cell(&json!(2), &json!(2.0), 1e-12));
        assert!(!same_cell(&json!("a"), &json!("b"), 1.0));
    }

    #[test]
    fn differences_are_found_in_order_or_sorted() {
        let a = vec![vec![json!("x"), json!(1)], vec![json!("y"), json!(2.5)]];
        let b = vec![vec![json!("y"), json!(2.5)], vec![json!("x"), json!(1)]];
        assert!(first_difference(&a, &b, 1e-9).is_some());
        assert_eq!(disagreement(&a, &b, 1e-9), None);
        assert_eq!(
            disagreement(&a, &b[..1], 1e-9).as_deref(),
            Some("2 rows vs 1")
        );
        let c = vec![vec![json!("x"), json!(1)], vec![json!("y"), json!(2.6)]];
        assert!(disagreement(&a, &c, 1e-9).is_some());
    }
}
