//! The same events, split into different files and batches (and with some
//! rows written twice, as a redelivery would), give identical metrics —
//! and so do projections updated file by file (`warehouse::update`) and
//! projections computed from every file.

mod common;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use showrunner_events::{Family, WireEvent};
use showrunner_simulator::{SimConfig, Simulator};
use showrunner_warehouse::metrics::{self, Bucket, Params};
use showrunner_warehouse::{Lake, output};

fn events() -> Vec<(Family, WireEvent)> {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).expect("date");
    // 35 days over two months, so that the monthly metrics have movements
    let mut c = SimConfig::new(40, 35, 78, start);
    c.heartbeat_secs = 300;
    Simulator::new(c)
        .flatten()
        .filter(|e| matches!(e.family(), Family::Player | Family::Billing))
        .map(|e| (e.family(), e.to_wire()))
        .collect()
}

/// Writes `chunks` as files: one file per (chunk, family, date).
fn write(lake: &std::path::Path, chunks: &[Vec<(Family, WireEvent)>]) {
    for (n, chunk) in chunks.iter().enumerate() {
        for family in [Family::Player, Family::Billing] {
            let rows: Vec<WireEvent> = chunk
                .iter()
                .filter(|(f, _)| *f == family)
                .map(|(_, w)| w.clone())
                .collect();
            common::write(lake, family, &rows, n as u64);
        }
    }
}

async fn all_metrics(lake: &std::path::Path) -> Vec<serde_json::Value> {
    let lake = Lake::open(lake).await.expect("lake");
    let all: Vec<_> = metrics::METRICS.iter().collect();
    lake.prepare(&all).await.expect("projections");
    metrics_of(&lake).await
}

/// Every metric over `lake`, whole and by CDN and device, and the views
/// list of the first days (what the drill-down reads).
async fn metrics_of(lake: &Lake) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for by in [vec![], vec!["cdn".to_owned(), "device".to_owned()]] {
        let p = Params {
            bucket: Bucket::Day,
            by,
            ..Params::default()
        };
        for m in metrics::METRICS.iter().filter(|m| m.accepts(&p.by).is_ok()) {
            let (cols, batches) = metrics::compute(lake, m, &p).await.expect("metric");
            out.push(serde_json::json!({ "metric": m.name, "columns": cols, "rows": output::rows(&batches).expect("rows") }));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn splitting_and_redelivery_do_not_change_any_metric() {
    let all = events();
    assert!(all.len() > 2_000, "{} events", all.len());
    let one = tempfile::tempdir().expect("tempdir");
    write(one.path(), std::slice::from_ref(&all));
    let baseline = all_metrics(one.path()).await;
    let empty: Vec<&serde_json::Value> = baseline
        .iter()
        .filter(|m| m["rows"].as_array().expect("rows").is_empty())
        .map(|m| &m["metric"])
        .collect();
    assert!(empty.is_empty(), "metrics without rows: {empty:?}");

    for seed in 0..4u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut shuffled = all.clone();
        shuffled.shuffle(&mut rng);
        // a few rows redelivered into other files
        let dupes: Vec<(Family, WireEvent)> = (0..50)
            .map(|_| all[rng.random_range(0..all.len())].clone())
            .collect();
        shuffled.extend(dupes);
        let parts = rng.random_range(2..12);
        let size = shuffled.len().div_ceil(parts);
        let chunks: Vec<Vec<(Family, WireEvent)>> =
            shuffled.chunks(size).map(<[_]>::to_vec).collect();
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), &chunks);
        let got = all_metrics(dir.path()).await;
        for (a, b) in baseline.iter().zip(&got) {
            assert_eq!(a, b, "seed {seed}: {} differs", a["metric"]);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn projections_updated_file_by_file_equal_those_of_every_file() {
    use showrunner_lake::Store;
    use showrunner_warehouse::update::Inputs;
    let mut all = events();
    // in time order, so that views straddle files: a view's first events
    // in one file, its last in a later one
    all.sort_by_key(|(_, w)| w.occurred_at.map(|t| t.0));
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let dupes: Vec<(Family, WireEvent)> = (0..40)
        .map(|_| all[rng.random_range(0..all.len())].clone())
        .collect();
    all.extend(dupes); // copies of earlier events, in the last file
    let size = all.len().div_ceil(6);
    let chunks: Vec<Vec<(Family, WireEvent)>> = all.chunks(size).map(<[_]>::to_vec).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::dir(dir.path());
    let of = |chunk: &[(Family, WireEvent)], family: Family| -> Vec<WireEvent> {
        chunk
            .iter()
            .filter(|(f, _)| *f == family)
            .map(|(_, w)| w.clone())
            .collect()
    };
    let write_step = |step: usize, families: &[Family], chunk: &[(Family, WireEvent)]| {
        for family in families {
            common::write(dir.path(), *family, &of(chunk, *family), 100 + step as u64);
        }
    };
    write_step(0, &[Family::Player, Family::Billing], &chunks[0]);
    let mut lake = Lake::open(dir.path()).await.expect("lake");
    let every: Vec<_> = metrics::METRICS.iter().collect();
    lake.prepare(&every).await.expect("projections");
    let mut before = Inputs::of(&store).await.expect("inputs");
    // step 2 adds player files only, step 3 billing files only (each the
    // rest of its chunk comes a step later)
    let mut late_billing = Vec::new();
    for (step, chunk) in chunks.iter().enumerate().skip(1) {
        let mut chunk = chunk.clone();
        chunk.extend(std::mem::take(&mut late_billing));
        let families: &[Family] = match step {
            2 => {
                late_billing = chunk
                    .iter()
                    .filter(|(f, _)| *f == Family::Billing)
                    .cloned()
                    .collect();
                &[Family::Player]
            }
            3 => {
                write_step(step, &[Family::Billing], &chunk);
                let now = Inputs::of(&store).await.expect("inputs");
                let (next, done) = lake.update(&before, &now).await.expect("update");
                assert_eq!(
                    done.views_recomputed,
                    Some(0),
                    "no player file: no view computed"
                );
                assert!(done.billing_recomputed);
                (lake, before) = (next, now);
                // its player rows come with a step of their own
                write_step(30, &[Family::Player], &chunk);
                let now = Inputs::of(&store).await.expect("inputs");
                let (next, done) = lake.update(&before, &now).await.expect("update");
                assert!(!done.billing_recomputed, "billing unchanged: kept");
                assert!(done.views_recomputed.is_some_and(|n| n > 0), "{done:?}");
                (lake, before) = (next, now);
                continue;
            }
            _ => &[Family::Player, Family::Billing],
        };
        write_step(step, families, &chunk);
        let now = Inputs::of(&store).await.expect("inputs");
        let (next, done) = lake.update(&before, &now).await.expect("update");
        assert!(done.added_files > 0, "{done:?}");
        assert!(done.views_recomputed.is_some_and(|n| n > 0), "{done:?}");
        assert_eq!(
            done.billing_recomputed,
            families.contains(&Family::Billing),
            "step {step}"
        );
        (lake, before) = (next, now);
    }
    assert!(late_billing.is_empty());
    let updated = metrics_of(&lake).await;
    let full = all_metrics(dir.path()).await;
    assert_eq!(updated.len(), full.len());
    for (a, b) in full.iter().zip(&updated) {
        assert_eq!(a, b, "{} differs once updated", a["metric"]);
    }
    // and the events written are the baseline's (the split test's answer)
    let one = tempfile::tempdir().expect("tempdir");
    write(one.path(), std::slice::from_ref(&events()));
    assert_eq!(all_metrics(one.path()).await, full);
}
