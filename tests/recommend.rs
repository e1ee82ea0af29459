//! `showrunner recommend eval` as a user runs it: one JSON line per model on
//! MovieLens-100K (fetched from the recbole wheel at test time), and the
//! same numbers from `--train/--test` files holding the very split, so that
//! other tools can be compared on identical data.

mod common;

use std::io::Write;

use common::bin;
use serde_json::Value;
use showrunner_recommender::data::Interactions;

fn movielens() -> std::path::PathBuf {
    let out = std::process::Command::new("bash")
        .arg("scripts/fetch-movielens.sh")
        .output()
        .expect("run fetch-movielens.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().into()
}

fn eval(args: &[&str]) -> Vec<Value> {
    let out = bin()
        .args(["recommend", "eval"])
        .args(args)
        .output()
        .expect("run");
    common::json_lines(&out)
}

#[test]
fn eval_prints_one_line_per_model_and_reads_outside_splits() {
    let data = movielens();
    let path = data.to_string_lossy().into_owned();
    let lines = eval(&[
        "--interactions",
        &path,
        "--format",
        "movielens",
        "--model",
        "popularity",
        "--k",
        "10",
        "--seed",
        "42",
    ]);
    assert_eq!(lines.len(), 1);
    let pop = &lines[0];
    for key in [
        "ndcg@10",
        "recall@10",
        "precision@10",
        "coverage@10",
        "users",
        "train_seconds",
    ] {
        assert!(pop.get(key).is_some(), "{key} in {pop}");
    }
    assert_eq!(pop["model"], "popularity");
    assert_eq!(pop["users"], 943);
    let ndcg = pop["ndcg@10"].as_f64().expect("ndcg");
    assert!((0.15..0.30).contains(&ndcg), "popularity nDCG@10 {ndcg}");

    // the same split written as TSV files gives the same numbers
    let all = Interactions::from_recbole(&data).expect("read");
    let (train, test) = Interactions::split(&all.matrix, 0.2, 42);
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, m) in [("train.tsv", &train), ("test.tsv", &test)] {
        let mut f = std::fs::File::create(dir.path().join(name)).expect("create");
        for (u, row) in m.rows.iter().enumerate() {
            for i in row {
                writeln!(f, "{}\t{}", all.users[u], all.items[*i as usize]).expect("write");
            }
        }
    }
    let tr = dir.path().join("train.tsv").to_string_lossy().into_owned();
    let te = dir.path().join("test.tsv").to_string_lossy().into_owned();
    let again = eval(&["--train", &tr, "--test", &te, "--model", "popularity"]);
    assert_eq!(again[0]["ndcg@10"], pop["ndcg@10"]);
    assert_eq!(again[0]["recall@10"], pop["recall@10"]);

    let bad = bin()
        .args(["recommend", "eval", "--interactions", "/nonexistent.inter"])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent.inter"));
}
