//! The same events, split into different files and batches (and with some
//! rows written twice, as a redelivery would), give identical metrics.

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
    let mut c = SimConfig::new(40, 35, 77, start);
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
    let mut out = Vec::new();
    for by in [vec![], vec!["cdn".to_owned(), "device".to_owned()]] {
        let p = Params {
            bucket: Bucket::Day,
            by,
            ..Params::default()
        };
        for m in metrics::METRICS.iter().filter(|m| m.accepts(&p.by).is_ok()) {
            let (cols, batches) = metrics::compute(&lake, m, &p).await.expect("metric");
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
    assert!(
        baseline
            .iter()
            .all(|m| !m["rows"].as_array().expect("rows").is_empty())
    );

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
