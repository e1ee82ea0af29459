//! The Rust entitlements fold (`showrunner_projections::Entitlements`) and
//! the warehouse's `subscriptions` SQL replay the same billing rule: on a
//! simulated lake, every user's status, plan, currency and MRR at the end of
//! every month agree, and each side has a row exactly where the other does.

mod common;

use std::collections::BTreeMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use showrunner_projections::{Entitlements, load};
use showrunner_warehouse::Lake;

type Row = (String, Option<String>, Option<String>, i64);

#[tokio::test]
async fn rust_entitlements_agree_with_the_subscriptions_sql() {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let dir = common::simulated_lake(300, 120, 11, start, 600);
    let lake = Lake::open(dir.path()).await.expect("lake");
    let months = lake
        .ctx()
        .sql("SELECT mi, end_ms FROM billing_months ORDER BY mi")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("months");
    let mut ends: Vec<(i64, i64)> = Vec::new();
    for b in &months {
        let (mi, end) = (
            b.column(0).as_primitive::<Int64Type>(),
            b.column(1).as_primitive::<Int64Type>(),
        );
        ends.extend((0..b.num_rows()).map(|k| (mi.value(k), end.value(k))));
    }
    let batches = lake
        .ctx()
        .sql("SELECT user_id, mi, status, plan, currency, mrr_minor FROM subscriptions")
        .await
        .expect("plan")
        .collect()
        .await
        .expect("subscriptions");
    let mut sql: BTreeMap<(String, i64), Row> = BTreeMap::new();
    for b in &batches {
        let s = |c: usize| {
            b.column(c).as_string_view_opt().map(|_| ()).map_or_else(
                || {
                    b.column(c)
                        .as_string::<i32>()
                        .iter()
                        .map(|x| x.map(str::to_owned))
                        .collect::<Vec<_>>()
                },
                |()| {
                    b.column(c)
                        .as_string_view()
                        .iter()
                        .map(|x| x.map(str::to_owned))
                        .collect()
                },
            )
        };
        let (user, status, plan, currency) = (s(0), s(2), s(3), s(4));
        let mi = b.column(1).as_primitive::<Int64Type>();
        let mrr = b.column(5).as_primitive::<Int64Type>();
        for k in 0..b.num_rows() {
            let key = (user[k].clone().expect("user"), mi.value(k));
            let row = (
                status[k].clone().expect("status"),
                plan[k].clone(),
                currency[k].clone(),
                if mrr.is_null(k) { 0 } else { mrr.value(k) },
            );
            assert!(
                sql.insert(key.clone(), row).is_none(),
                "one row per user and month: {key:?}"
            );
        }
    }
    let mut ent = Entitlements::default();
    let stats = load::from_lake(dir.path(), &mut ent).expect("load");
    assert_eq!(stats.invalid, 0);
    let mut rust: BTreeMap<(String, i64), Row> = BTreeMap::new();
    for user in ent.users() {
        for &(mi, end) in &ends {
            if let Some(s) = ent.subscription_at(user, end - 1) {
                rust.insert(
                    (user.to_owned(), mi),
                    (
                        s.status.as_str().to_owned(),
                        s.plan,
                        s.currency,
                        s.price_minor,
                    ),
                );
            }
        }
    }
    // the audience exercises every status, or the comparison says little
    for status in ["trial", "active", "canceled"] {
        assert!(
            sql.values().any(|r| r.0 == status),
            "no `{status}` month in the simulated lake"
        );
    }
    assert!(sql.len() > 500, "only {} user-months", sql.len());
    let only_sql: Vec<_> = sql
        .iter()
        .filter(|(k, _)| !rust.contains_key(*k))
        .take(5)
        .collect();
    let only_rust: Vec<_> = rust
        .iter()
        .filter(|(k, _)| !sql.contains_key(*k))
        .take(5)
        .collect();
    assert!(
        only_sql.is_empty() && only_rust.is_empty(),
        "SQL only: {only_sql:?}; Rust only: {only_rust:?}"
    );
    let differ: Vec<_> = sql
        .iter()
        .filter(|(k, v)| rust[*k] != **v)
        .take(5)
        .map(|(k, v)| (k, v, &rust[k]))
        .collect();
    assert!(differ.is_empty(), "(key, SQL, Rust): {differ:?}");
}
