//! The same events, split into different files and batches (and with some
//! rows written twice, as a redelivery would), give identical metrics.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use showrunner_events::arrow::BatchBuilder;
use showrunner_events::{Family, WireEvent};
use showrunner_ingest::sinks::parquet::seqs::SeqSet;
use showrunner_ingest::sinks::parquet::{commit, partition_dir, writer};
use showrunner_simulator::{SimConfig, Simulator};
use showrunner_warehouse::metrics::{self, Bucket, Params};
use showrunner_warehouse::{Lake, output};

fn events() -> Vec<WireEvent> {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).expect("date");
    let mut c = SimConfig::new(60, 5, 77, start);
    c.heartbeat_secs = 120;
    Simulator::new(c)
        .flatten()
        .filter(|e| e.family() == Family::Player)
        .map(|e| e.to_wire())
        .collect()
}

/// Writes `chunks` as files: one file per (chunk, date).
fn write(lake: &std::path::Path, chunks: &[Vec<WireEvent>]) {
    for (n, chunk) in chunks.iter().enumerate() {
        let mut by_date: BTreeMap<String, BatchBuilder> = BTreeMap::new();
        for w in chunk {
            let date = w.occurred_at.expect("time").date_string();
            by_date
                .entry(date)
                .or_insert_with(|| BatchBuilder::new(Family::Player, 64))
                .append(w);
        }
        for (date, mut b) in by_date {
            let batch = b.finish().expect("batch");
            let props =
                writer::properties("EVENTS", "0", &SeqSet::from_seqs(&[n as u64])).expect("props");
            let bytes = writer::encode(&batch, props).expect("encode");
            commit::commit_file(
                &partition_dir(lake, Family::Player, &date),
                &format!("part-{n}-{n}-x.parquet"),
                &bytes,
            )
            .expect("commit");
        }
    }
}

async fn all_metrics(lake: &std::path::Path) -> Vec<serde_json::Value> {
    let lake = Lake::open(lake).await.expect("lake");
    let mut out = Vec::new();
    for by in [vec![], vec!["cdn".to_owned(), "device".to_owned()]] {
        let p = Params {
            bucket: Bucket::Day,
            by,
            ..Params::default()
        };
        for m in metrics::METRICS {
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
        let dupes: Vec<WireEvent> = (0..50)
            .map(|_| all[rng.random_range(0..all.len())].clone())
            .collect();
        shuffled.extend(dupes);
        let parts = rng.random_range(2..12);
        let size = shuffled.len().div_ceil(parts);
        let chunks: Vec<Vec<WireEvent>> = shuffled.chunks(size).map(<[_]>::to_vec).collect();
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), &chunks);
        let got = all_metrics(dir.path()).await;
        for (a, b) in baseline.iter().zip(&got) {
            assert_eq!(a, b, "seed {seed}: {} differs", a["metric"]);
        }
    }
}
