//! `metrics materialize`: the tables equal the metrics computed directly,
//! a second run with no new events changes nothing, and a late event
//! recomputes only the months it can touch.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use showrunner_events::Family;
use showrunner_warehouse::metrics::{self, Bucket, Params, Source};
use showrunner_warehouse::{Lake, materialize, output};

/// Every materialized table, as sorted JSON rows per metric.
async fn tables(root: &Path) -> BTreeMap<String, Vec<Vec<Value>>> {
    let ctx = datafusion::prelude::SessionContext::new();
    let mut out = BTreeMap::new();
    for m in metrics::METRICS {
        let dir = showrunner_lake::Layout::new(root).metric(m.name);
        let mut rows = Vec::new();
        for part in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let f = part.path().join("data.parquet");
            let batches = ctx
                .read_parquet(f.to_string_lossy().as_ref(), Default::default())
                .await
                .expect("read")
                .collect()
                .await
                .expect("collect");
            rows.extend(output::rows(&batches).expect("rows"));
        }
        rows.sort_by_key(|r| Value::Array(r.clone()).to_string());
        out.insert(m.name.to_owned(), rows);
    }
    out
}

/// Every metric computed directly with the materialized parameters.
async fn direct(root: &Path) -> BTreeMap<String, Vec<Vec<Value>>> {
    let lake = Lake::open(root).await.expect("lake");
    let all: Vec<_> = metrics::METRICS.iter().collect();
    lake.prepare(&all).await.expect("prepare");
    let mut out = BTreeMap::new();
    for m in metrics::METRICS {
        let p = Params {
            bucket: if m.source == Source::Monthly {
                Bucket::Month
            } else {
                Bucket::Day
            },
            ..Params::default()
        };
        let (_, batches) = metrics::compute(&lake, m, &p).await.expect("metric");
        let mut rows = output::rows(&batches).expect("rows");
        rows.sort_by_key(|r| Value::Array(r.clone()).to_string());
        out.insert(m.name.to_owned(), rows);
    }
    out
}

fn mtimes(root: &Path) -> BTreeMap<String, std::time::SystemTime> {
    let mut out = BTreeMap::new();
    for m in metrics::METRICS {
        for part in std::fs::read_dir(showrunner_lake::Layout::new(root).metric(m.name))
            .into_iter()
            .flatten()
            .flatten()
        {
            let f = part.path().join("data.parquet");
            if let Ok(md) = std::fs::metadata(&f) {
                out.insert(f.display().to_string(), md.modified().expect("mtime"));
            }
        }
    }
    out
}

fn same(a: &BTreeMap<String, Vec<Vec<Value>>>, b: &BTreeMap<String, Vec<Vec<Value>>>) {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, rows) in a {
        common::same_rows(&json!(rows), &json!(b[k]));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_tables_equal_the_metrics() {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 10).expect("date");
    let dir = common::simulated_lake(60, 70, 8, start, 600);
    let root = dir.path();

    let first = materialize::run(root).await.expect("materialize");
    assert!(first.full && first.new_files > 0, "{first:?}");
    assert_eq!(first.recomputed.len(), metrics::METRICS.len());
    assert_eq!(first.recomputed["mrr"], ["2026-01", "2026-02", "2026-03"]);
    same(&tables(root).await, &direct(root).await);

    // nothing new: nothing recomputed, no file touched
    let before = mtimes(root);
    assert!(before.len() > 40, "{} files", before.len());
    let again = materialize::run(root).await.expect("materialize");
    assert_eq!(again.new_files, 0);
    assert!(
        again.recomputed.is_empty() && again.files_written == 0,
        "{again:?}"
    );
    assert_eq!(mtimes(root), before);

    // a late view on January 20th and a late rental on February 3rd
    let view = common::play_requested(
        "0195b000-0000-7000-8000-0000000000a1",
        "late-view",
        "late-viewer",
        "2026-01-20T12:00:00.000Z",
        "2026-02-25T12:00:00.000Z",
    );
    let rental = common::event(&json!({
        "event_id": "0195b000-0000-7000-8000-0000000000a2", "event_type": "rental_purchased",
        "schema_version": 1, "occurred_at": "2026-02-03T20:00:00.000Z",
        "received_at": "2026-03-01T20:00:00.000Z", "user_id": "late-renter",
        "title_id": "t9", "amount_minor": 499, "currency": "EUR"
    }));
    common::write(root, Family::Player, &[view], 90);
    common::write(root, Family::Billing, &[rental], 91);
    let late = materialize::run(root).await.expect("materialize");
    assert_eq!(late.new_files, 2);
    assert!(!late.full);
    assert_eq!(late.recomputed["active_users"], ["2026-01"], "{late:?}");
    // the late viewer counts in the rolling windows of January 20th to
    // February 16th: the February table changes too (checked below)
    assert_eq!(
        late.recomputed["rolling_active_users"],
        ["2026-01", "2026-02"],
        "{late:?}"
    );
    assert_eq!(late.recomputed["transactional_revenue"], ["2026-02"]);
    assert_eq!(
        late.recomputed["mrr"],
        ["2026-02", "2026-03"],
        "from the late billing month on"
    );
    let after = mtimes(root);
    let touched: Vec<&String> = after.keys().filter(|k| after[*k] != before[*k]).collect();
    assert!(
        touched
            .iter()
            .all(|k| !k.contains("month=2026-03") || !k.contains("active_users")),
        "{touched:?}"
    );
    same(&tables(root).await, &direct(root).await);
}
