//! The metric suite on an S3 lake: the same files, copied into a real
//! S3-compatible server (SeaweedFS on loopback), give the same rows for
//! every metric as on a directory — DataFusion reads them through the
//! store the lake registers; materialization writes the same metric
//! tables into S3 as into the directory.

mod common;

use showrunner_lake::store::{NewFile, Store};
use showrunner_testkit::s3::LocalS3;
use showrunner_warehouse::lake::LakeOptions;
use showrunner_warehouse::metrics::{self, Bucket, Params};
use showrunner_warehouse::{Lake, materialize, output};

/// Copies the directory lake's event files into the store.
async fn upload(local: &Store, remote: &Store) {
    let mut files = Vec::new();
    for e in local.list_committed("events").await.expect("list") {
        files.push(NewFile {
            bytes: local.get(&e.key).await.expect("read"),
            key: e.key,
        });
    }
    assert!(files.len() >= 2, "{} files", files.len());
    remote.commit(&files).await.expect("upload");
    assert_eq!(
        remote.list_committed("events").await.expect("list").len(),
        files.len()
    );
}

/// Every metric table's month files, by key, as rows.
async fn tables(store: &Store) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut out = std::collections::BTreeMap::new();
    for e in store.list("metrics").await.expect("list") {
        if !e.key.ends_with("/data.parquet") {
            continue;
        }
        let bytes = store.get(&e.key).await.expect("read");
        let batches: Vec<_> =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
                .expect("parquet")
                .build()
                .expect("reader")
                .collect::<Result<_, _>>()
                .expect("batches");
        out.insert(
            e.key,
            serde_json::json!(output::rows(&batches).expect("rows")),
        );
    }
    out
}

async fn all_metrics(lake: &Lake) -> Vec<serde_json::Value> {
    let all: Vec<_> = metrics::METRICS.iter().collect();
    lake.prepare(&all).await.expect("projections");
    let mut out = Vec::new();
    for (bucket, by) in [
        (Bucket::Day, vec![]),
        (Bucket::Month, vec![]),
        (Bucket::Day, vec!["cdn".to_owned(), "device".to_owned()]),
    ] {
        let p = Params {
            bucket,
            by,
            ..Params::default()
        };
        for m in metrics::METRICS.iter().filter(|m| m.accepts(&p.by).is_ok()) {
            let (cols, batches) = metrics::compute(lake, m, &p).await.expect("metric");
            out.push(serde_json::json!({
                "metric": m.name, "columns": cols, "rows": output::rows(&batches).expect("rows")
            }));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn every_metric_is_the_same_on_s3_as_on_a_directory() {
    let s3 = LocalS3::start().unwrap_or_else(|e| panic!("{e}"));
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let dir = common::simulated_lake(120, 45, 9, start, 600);
    let local = Store::dir(dir.path());
    let remote = s3.store("metrics-suite");
    upload(&local, &remote).await;

    let on_dir = all_metrics(&Lake::open(dir.path()).await.expect("dir lake")).await;
    let on_s3 = all_metrics(
        &Lake::open_store(&remote, LakeOptions::default())
            .await
            .expect("s3 lake"),
    )
    .await;
    assert_eq!(on_dir.len(), on_s3.len());
    let rows: usize = on_dir
        .iter()
        .map(|m| m["rows"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(rows > 100, "the suite computes something: {rows} rows");
    for (d, s) in on_dir.iter().zip(&on_s3) {
        assert_eq!((&d["metric"], &d["columns"]), (&s["metric"], &s["columns"]));
        // files may be read in another order: sums to 1e-12 relative
        common::same_rows(&d["rows"], &s["rows"]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn materialized_tables_on_s3_equal_the_directory_ones() {
    let s3 = LocalS3::start().unwrap_or_else(|e| panic!("{e}"));
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 10).expect("date");
    let dir = common::simulated_lake(60, 70, 8, start, 600);
    let local = Store::dir(dir.path());
    let remote = s3.store("materialize");
    upload(&local, &remote).await;

    let on_dir = materialize::run(dir.path()).await.expect("directory");
    let on_s3 = materialize::run_store(&remote).await.expect("s3");
    assert!(on_s3.full && on_s3.files_written > 40, "{on_s3:?}");
    assert_eq!(on_s3.recomputed, on_dir.recomputed);
    assert_eq!(on_s3.files_written, on_dir.files_written);
    let (d, s) = (tables(&local).await, tables(&remote).await);
    assert_eq!(d.keys().collect::<Vec<_>>(), s.keys().collect::<Vec<_>>());
    for (key, rows) in &d {
        common::same_rows(rows, &s[key]);
    }
    // its state is in the store too: nothing new, nothing recomputed
    let again = materialize::run_store(&remote).await.expect("again");
    assert_eq!((again.new_files, again.files_written), (0, 0), "{again:?}");
}
