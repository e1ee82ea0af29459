//! Internal consistency of the whole suite over a simulated audience
//! (300 users, four months): relations that must hold between metrics
//! whatever the data, checked on every row.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{monthly, run};
use serde_json::Value;
use showrunner_warehouse::Lake;
use showrunner_warehouse::metrics::{Bucket, Params};

async fn lake() -> (tempfile::TempDir, Lake) {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let dir = common::simulated_lake(300, 120, 5, start, 600);
    let lake = Lake::open(dir.path()).await.expect("lake");
    (dir, lake)
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("integer, got {v}"))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("number, got {v}"))
}

/// Rows keyed by their first `n` columns.
fn keyed(rows: &[Vec<Value>], n: usize) -> BTreeMap<String, Vec<Value>> {
    rows.iter()
        .map(|r| (Value::Array(r[..n].to_vec()).to_string(), r.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_metrics_agree_with_each_other() {
    let (_d, lake) = lake().await;
    let all: Vec<_> = showrunner_warehouse::metrics::METRICS.iter().collect();
    lake.prepare(&all).await.expect("projections");
    let (_, mrr) = run(&lake, "mrr", &monthly()).await;
    let (_, mov) = run(&lake, "mrr_movements", &monthly()).await;
    let (_, churn) = run(&lake, "customer_churn", &monthly()).await;
    let (_, mrr_churn) = run(&lake, "mrr_churn", &monthly()).await;
    let (_, arpu) = run(&lake, "arpu", &monthly()).await;
    let (_, cohorts) = run(&lake, "cohort_retention", &monthly()).await;
    assert!(mrr.len() >= 8, "four months, several currencies: {mrr:?}");
    assert!(churn.len() >= 4, "{churn:?}");

    // Σ movements = MRR(m) − MRR(m − 1), per currency
    let mut months: Vec<String> = churn.iter().map(|r| r[0].to_string()).collect();
    months.dedup();
    let mrr_at: HashMap<(String, String), i64> = mrr
        .iter()
        .map(|r| ((r[0].to_string(), r[1].to_string()), int(&r[2])))
        .collect();
    let mut moved = 0;
    for r in &mov {
        let (month, cur) = (r[0].to_string(), r[1].to_string());
        let i = months.iter().position(|m| *m == month).expect("month");
        let now = mrr_at.get(&(month, cur.clone())).copied().unwrap_or(0);
        let before = if i == 0 {
            0
        } else {
            mrr_at
                .get(&(months[i - 1].clone(), cur))
                .copied()
                .unwrap_or(0)
        };
        let [new, exp, con, ch, react, net] = [2, 3, 4, 5, 6, 7].map(|c| int(&r[c]));
        assert!(
            new >= 0 && exp >= 0 && con >= 0 && ch >= 0 && react >= 0,
            "{r:?}"
        );
        assert_eq!(net, new + exp + react - con - ch, "{r:?}");
        assert_eq!(net, now - before, "net new = ΔMRR: {r:?}");
        moved += new + exp + con + ch + react;
    }
    assert!(moved > 0);
    // every (month, currency) with MRR has a movements row
    let mov_keys = keyed(&mov, 2);
    for r in &mrr {
        assert!(
            mov_keys.contains_key(&Value::Array(r[..2].to_vec()).to_string()),
            "{r:?}"
        );
    }

    // customers: churned ≤ active at start = paying users at the end of m − 1
    let paying: BTreeMap<String, i64> = mrr.iter().fold(BTreeMap::new(), |mut acc, r| {
        *acc.entry(r[0].to_string()).or_insert(0) += int(&r[3]);
        acc
    });
    for (i, r) in churn.iter().enumerate() {
        let (churned, active) = (int(&r[1]), int(&r[2]));
        assert!(churned <= active, "{r:?}");
        let before = if i == 0 {
            0
        } else {
            paying.get(&months[i - 1]).copied().unwrap_or(0)
        };
        assert_eq!(
            active, before,
            "active at start of {} = paying at the end of the month before",
            r[0]
        );
        if active > 0 {
            assert!((num(&r[3]) - churned as f64 / active as f64).abs() < 1e-12);
        } else {
            assert_eq!(r[3], Value::Null);
        }
    }

    // MRR churn: gross ≥ net, gross ∈ [0, 1]
    for r in mrr_churn.iter().filter(|r| !r[2].is_null()) {
        let (gross, net) = (num(&r[2]), num(&r[3]));
        assert!(
            (0.0..=1.0).contains(&gross) && net <= gross + 1e-12,
            "{r:?}"
        );
    }

    // ARPU × paying users = MRR
    let arpu = keyed(&arpu, 2);
    for r in &mrr {
        let a = num(&arpu[&Value::Array(r[..2].to_vec()).to_string()][2]);
        assert!(
            (a * int(&r[3]) as f64 - int(&r[2]) as f64).abs() < 1e-6,
            "{r:?}"
        );
    }

    // cohorts: offset 0 keeps everyone; the cohorts of months ≤ m, retained
    // at m, are exactly the users paying at the end of m
    let mut retained_at: BTreeMap<usize, i64> = BTreeMap::new();
    for r in &cohorts {
        let (k, size, kept) = (int(&r[1]), int(&r[2]), int(&r[3]));
        assert!(kept <= size, "{r:?}");
        if k == 0 {
            assert_eq!(kept, size, "{r:?}");
        }
        let cohort = r[0].to_string();
        let c = months.iter().position(|m| *m == cohort).expect("month");
        *retained_at.entry(c + k as usize).or_insert(0) += kept;
    }
    for (i, m) in months.iter().enumerate() {
        assert_eq!(
            retained_at.get(&i).copied().unwrap_or(0),
            paying.get(m).copied().unwrap_or(0),
            "{m}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn qoe_and_engagement_agree_with_each_other() {
    let (_d, lake) = lake().await;
    let all: Vec<_> = showrunner_warehouse::metrics::METRICS.iter().collect();
    lake.prepare(&all).await.expect("projections");
    let day = Params::default();
    let (_, ebvs) = run(&lake, "exits_before_video_start", &day).await;
    let (_, vsf) = run(&lake, "video_start_failures", &day).await;
    let (_, failed) = run(&lake, "playback_failures", &day).await;
    let (_, startup) = run(&lake, "video_startup_time", &day).await;
    let (_, hours) = run(&lake, "watch_hours", &day).await;
    let (_, titles) = run(&lake, "title_engagement", &day).await;
    let (_, conc) = run(&lake, "concurrent_viewers", &day).await;
    let (_, users) = run(
        &lake,
        "active_users",
        &Params {
            bucket: Bucket::Month,
            ..day.clone()
        },
    )
    .await;
    assert!(ebvs.len() > 100);
    let (vsf, failed, startup) = (keyed(&vsf, 1), keyed(&failed, 1), keyed(&startup, 1));
    for r in &ebvs {
        let k = Value::Array(r[..1].to_vec()).to_string();
        let views = int(&r[2]);
        let (f, any) = (int(&vsf[&k][1]), int(&failed[&k][1]));
        assert!(f <= any, "fatal before first frame ⊂ any fatal: {r:?}");
        // a view has a first frame, or failed before it, or exited before it
        let started = startup.get(&k).map_or(0, |s| int(&s[5]));
        assert_eq!(started + f + int(&r[1]), views, "{k}");
        for (rate, n) in [(&r[3], int(&r[1])), (&vsf[&k][3], f), (&failed[&k][3], any)] {
            assert!((num(rate) - n as f64 / views as f64).abs() < 1e-12);
        }
    }
    for s in startup.values() {
        let [p50, p90, p95, p99] = [1, 2, 3, 4].map(|c| int(&s[c]));
        assert!(0 <= p50 && p50 <= p90 && p90 <= p95 && p95 <= p99, "{s:?}");
    }
    // watch hours per day = Σ over titles
    let mut by_day: BTreeMap<String, f64> = BTreeMap::new();
    for t in &titles {
        *by_day.entry(t[0].to_string()).or_insert(0.0) += num(&t[5]);
        assert!(
            int(&t[3]) <= int(&t[2]) || int(&t[2]) == 0,
            "completions ≤ starts: {t:?}"
        );
    }
    for h in &hours {
        let sum = by_day[&h[0].to_string()];
        assert!((num(&h[1]) - sum).abs() < 1e-9 * sum.max(1.0), "{h:?}");
    }
    // average ≤ peak; a view with a first frame adds at least its playing
    // minutes, less one, to the viewer-minutes
    for c in &conc {
        let (peak, avg) = (int(&c[1]), num(&c[2]));
        assert!(peak >= 1 && avg <= peak as f64 && avg > 0.0, "{c:?}");
    }
    let viewer_minutes: f64 = conc.iter().map(|c| num(&c[2]) * 1440.0).sum();
    let playing_minutes: f64 = hours.iter().map(|h| num(&h[1]) * 60.0).sum();
    let started: i64 = startup.values().map(|s| int(&s[4])).sum();
    assert!(
        viewer_minutes + 1e-6 >= playing_minutes - started as f64,
        "{viewer_minutes} viewer-minutes, {playing_minutes} playing minutes, {started} views"
    );
    assert!(users.iter().all(|u| int(&u[1]) <= 300));
}

#[tokio::test(flavor = "multi_thread")]
async fn startup_percentiles_are_the_nearest_ranks_of_the_views() {
    let (_d, lake) = lake().await;
    // each day's startup times, sorted here, not in SQL
    let (_, b) = showrunner_warehouse::query::run(
        &lake,
        "SELECT to_char(date_trunc('day', to_timestamp_millis(start_ms)), '%Y-%m-%d') AS d, \
         startup_ms FROM views WHERE ff_ms IS NOT NULL",
    )
    .await
    .expect("views");
    let mut by_day: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in showrunner_warehouse::output::rows(&b).expect("rows") {
        by_day
            .entry(r[0].as_str().expect("day").to_owned())
            .or_default()
            .push(int(&r[1]));
    }
    let (_, startup) = run(&lake, "video_startup_time", &Params::default()).await;
    assert_eq!(startup.len(), by_day.len());
    let mut p95_below_p99 = 0;
    for r in &startup {
        let v = by_day
            .get_mut(r[0].as_str().expect("day"))
            .expect("a day with views");
        v.sort_unstable();
        let n = v.len();
        // nearest rank: v[⌈q·n/100⌉], 1-based
        let rank = |q: usize| v[(q * n).div_ceil(100) - 1];
        let want = [rank(50), rank(90), rank(95), rank(99)];
        let got = [1, 2, 3, 4].map(|c| int(&r[c]));
        assert_eq!(got, want, "{r:?}");
        assert_eq!(int(&r[5]), n as i64);
        p95_below_p99 += usize::from(want[2] < want[3]);
    }
    assert!(p95_below_p99 > 0, "some day tells p95 and p99 apart");
}

#[tokio::test(flavor = "multi_thread")]
async fn rolling_active_users_agree_with_daily_active_users() {
    let (_d, lake) = lake().await;
    let (_, daily) = run(&lake, "active_users", &Params::default()).await;
    let (_, rolling) = run(&lake, "rolling_active_users", &Params::default()).await;
    assert!(rolling.len() > 10);
    // the same days, the same daily count, and windows that only grow
    assert_eq!(
        rolling.iter().map(|r| &r[..2]).collect::<Vec<_>>(),
        daily.iter().map(|r| &r[..2]).collect::<Vec<_>>()
    );
    for r in &rolling {
        let [dau, wau, mau] = [1, 2, 3].map(|c| int(&r[c]));
        assert!(0 < dau && dau <= wau && wau <= mau, "{r:?}");
    }
    // a calendar week (Monday to Sunday) is its Sunday's rolling 7 days
    let (_, weekly) = run(
        &lake,
        "active_users",
        &Params {
            bucket: Bucket::Week,
            ..Params::default()
        },
    )
    .await;
    let by_day: BTreeMap<String, i64> = rolling
        .iter()
        .map(|r| (r[0].as_str().expect("day").to_owned(), int(&r[2])))
        .collect();
    let mut checked = 0;
    for w in &weekly {
        let monday = chrono::NaiveDate::parse_from_str(w[0].as_str().expect("week"), "%Y-%m-%d")
            .expect("date");
        let sunday = (monday + chrono::Duration::days(6)).to_string();
        if let Some(wau_7d) = by_day.get(&sunday) {
            assert_eq!(
                int(&w[1]),
                *wau_7d,
                "the week of {monday} is Sunday's 7 days"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}
