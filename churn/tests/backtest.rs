//! The churn model predicts the future on the simulated audience. It is
//! trained and scored on a lake that ends on day 110 (the past); its
//! written scores are then judged against what the full lake (150 days)
//! says happened in the 30 days after. The figures are computed twice:
//! by `showrunner_churn::eval` and by scikit-learn from the same written
//! scores and labels (the notebooks' Python environment, which the test
//! command builds: `$NOTEBOOK_PYTHON`, else ~/.cache/showrunner-notebooks).

use std::collections::HashMap;
use std::process::Command;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use showrunner_churn::eval::evaluate;
use showrunner_churn::models::Kind;
use showrunner_churn::{ServedModel, TrainOptions, score_lake, train_lake};
use showrunner_events::Event;
use showrunner_lake::{Layout, Store};
use showrunner_simulator::{SimConfig, Simulator};
use showrunner_testkit::lake::write_lake;
use showrunner_testkit::python::python;
use showrunner_warehouse::Lake;

const DAY_MS: i64 = 86_400_000;

/// (user → score, snapshot) of the written scores table.
fn written_scores(lake: &std::path::Path) -> (HashMap<String, f64>, i64) {
    let path = lake.join(showrunner_lake::layout::keys::churn_scores());
    let file = std::fs::File::open(&path).expect("scores written");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let (mut out, mut snapshot) = (HashMap::new(), None);
    for batch in reader {
        let b = batch.expect("batch");
        let users = b
            .column_by_name("user_id")
            .expect("user_id")
            .as_string::<i32>();
        let scores = b
            .column_by_name("score")
            .expect("score")
            .as_primitive::<Float64Type>();
        let snaps = b
            .column_by_name("snapshot")
            .expect("snapshot")
            .as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            out.insert(users.value(i).to_string(), scores.value(i));
            assert_eq!(*snapshot.get_or_insert(snaps.value(i)), snaps.value(i));
        }
    }
    (out, snapshot.expect("a score"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_written_on_the_past_predict_the_next_30_days() {
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let mut cfg = SimConfig::new(1_500, 150, 11, start);
    cfg.heartbeat_secs = 1_800;
    let events: Vec<Event> = Simulator::new(cfg).flatten().collect();
    let t0 = start
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_millis();
    let cut = t0 + 110 * DAY_MS;
    let (past, full) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    write_lake(
        past.path(),
        events
            .iter()
            .filter(|e| e.envelope.occurred_at.0 < cut)
            .cloned(),
    );
    write_lake(full.path(), events);

    // train and score on the past
    let store = Store::dir(past.path());
    let served = train_lake(&store, &TrainOptions::default())
        .await
        .expect("trains");
    let r = &served.report;
    eprintln!("{}", serde_json::to_string(r).expect("json"));
    assert!(r.train_rows > 1_000 && r.test_rows > 500, "{r:?}");
    // the kept model is the one that won, by the stated rule
    let trees_won = r.gbdt.pr_auc > r.baseline.pr_auc && r.gbdt.lift_at_10 > r.baseline.lift_at_10;
    assert_eq!(
        r.model,
        if trees_won {
            Kind::Gbdt
        } else {
            Kind::Logistic
        }
    );
    assert_eq!(served.model.kind(), r.model);
    // the stored model reads back the same
    let stored = ServedModel::load(&store)
        .await
        .expect("load")
        .expect("stored");
    assert_eq!(stored.report.kept, r.kept);
    assert!(
        Layout::new(past.path())
            .scores()
            .join("churn/model.json")
            .is_file()
    );

    let summary = score_lake(&store).await.expect("scores");
    let (scores, snapshot) = written_scores(past.path());
    assert_eq!(snapshot, cut, "scored at the end of the past's latest day");
    assert_eq!(summary.subscribers, scores.len());
    // and the warehouse serves them as the SQL table `churn_scores`
    let past_lake = Lake::open(past.path()).await.expect("lake");
    let counted = past_lake
        .ctx()
        .sql("SELECT count(*) AS n, count(reason_1) AS with_reason FROM churn_scores")
        .await
        .expect("table")
        .collect()
        .await
        .expect("rows");
    let n = counted[0].column(0).as_primitive::<Int64Type>().value(0);
    assert_eq!(n as usize, scores.len());
    let with_reason = counted[0].column(1).as_primitive::<Int64Type>().value(0);
    assert!(
        with_reason as usize > scores.len() / 2,
        "{with_reason} with a reason"
    );

    // what happened next, from the full lake at the same instant
    let lake = Lake::open(full.path()).await.expect("lake");
    let truth = showrunner_churn::rows(&lake, &[snapshot])
        .await
        .expect("rows");
    let mut pairs: Vec<(f64, bool)> = Vec::new();
    for (i, user) in truth.user_id.iter().enumerate() {
        let score = scores
            .get(user)
            .unwrap_or_else(|| panic!("{user} was a subscriber at the snapshot but has no score"));
        pairs.push((*score, truth.label[i].expect("known 30 days later")));
    }
    assert_eq!(pairs.len(), scores.len(), "the same subscribers");
    let (s, l): (Vec<f64>, Vec<bool>) = pairs.iter().copied().unzip();
    let ours = evaluate(&s, &l);
    eprintln!("backtest: {}", serde_json::to_string(&ours).expect("json"));
    assert!(ours.prevalence > 0.03, "{ours:?}");
    assert!(
        ours.roc_auc > 0.65,
        "the scores barely rank who cancels: {ours:?}"
    );
    assert!(ours.lift_at_10 > 2.0, "{ours:?}");

    // scikit-learn on the same scores and labels
    let csv: String = pairs
        .iter()
        .map(|(s, l)| format!("{s:.17e},{}\n", u8::from(*l)))
        .collect();
    let file = past.path().join("backtest.csv");
    std::fs::write(&file, csv).expect("csv");
    let out = Command::new(python())
        .arg("-c")
        .arg(
            "import json, sys, numpy as np\n\
             from sklearn.metrics import roc_auc_score, average_precision_score, brier_score_loss\n\
             d = np.loadtxt(sys.argv[1], delimiter=',')\n\
             s, y = d[:, 0], d[:, 1].astype(int)\n\
             print(json.dumps({'roc_auc': roc_auc_score(y, s), 'pr_auc': average_precision_score(y, s), 'brier': brier_score_loss(y, s)}))",
        )
        .arg(&file)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sk: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for (name, ours) in [
        ("roc_auc", ours.roc_auc),
        ("pr_auc", ours.pr_auc),
        ("brier", ours.brier),
    ] {
        let theirs = sk[name].as_f64().expect(name);
        assert!(
            (theirs - ours).abs() < 1e-9,
            "{name}: ours {ours}, scikit-learn {theirs}"
        );
    }
}
