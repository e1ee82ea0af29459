//! The analysts' notebooks (`notebooks/`), executed top to bottom against
//! `showrunner serve` over a simulated lake with a trained model: 150
//! viewers over 100 days from 2026-03-01 (four billing months, whole ISO
//! weeks). Each notebook reads the lake with polars and asserts that its
//! own numbers equal the API's for the same question; any exception or
//! failed assertion in a cell fails this test. Then the lake's events are
//! copied to an S3 server (SeaweedFS, `testkit::s3`) and every notebook
//! runs again reading them there (`SR_LAKE=s3://…`); over a copy
//! missing April's billing, the revenue notebook must fail its check (the
//! checks bite). The executed
//! copies go to `artefacts/notebooks/` and `artefacts/notebooks-s3/` (or
//! under `$SHOWRUNNER_ARTEFACTS`).
//!
//! Needs the notebooks' Python environment (`scripts/notebooks-env.sh`,
//! which the test command runs): `$NOTEBOOK_PYTHON`, else
//! `~/.cache/showrunner-notebooks/bin/python`. Missing, the test fails.
//!
//! Also checks that the committed notebooks hold no outputs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use showrunner_testkit::s3::LocalS3;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn notebooks() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root().join("notebooks"))
        .expect("notebooks/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ipynb"))
        .collect();
    found.sort();
    found
}

fn python() -> PathBuf {
    let path = std::env::var_os("NOTEBOOK_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/showrunner-notebooks/bin/python"))
        })
        .expect("HOME or NOTEBOOK_PYTHON");
    assert!(
        path.exists(),
        "no notebook environment at {} (run scripts/notebooks-env.sh)",
        path.display()
    );
    path
}

/// What a committed notebook must not hold: a code cell's outputs or
/// execution count.
fn unstripped(path: &Path) -> Vec<String> {
    let nb: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("read")).expect("a notebook is JSON");
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut found = Vec::new();
    for (i, cell) in nb["cells"].as_array().expect("cells").iter().enumerate() {
        if cell["cell_type"] != "code" {
            continue;
        }
        if cell["outputs"].as_array().is_some_and(|o| !o.is_empty()) {
            found.push(format!("{name}: cell {i} has outputs"));
        }
        if !cell["execution_count"].is_null() {
            found.push(format!("{name}: cell {i} has an execution count"));
        }
    }
    found
}

#[test]
fn committed_notebooks_hold_no_outputs() {
    let found = notebooks();
    assert!(found.len() >= 4, "notebooks: {found:?}");
    let problems: Vec<String> = found.iter().flat_map(|p| unstripped(p)).collect();
    assert!(
        problems.is_empty(),
        "strip them (Jupyter: Clear All Outputs): {problems:#?}"
    );
}

#[test]
fn the_check_sees_an_output() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("x.ipynb");
    let nb = serde_json::json!({"cells": [
        {"cell_type": "markdown", "source": "# q", "metadata": {}},
        {"cell_type": "code", "source": "1", "metadata": {}, "execution_count": 1,
         "outputs": [{"output_type": "execute_result", "data": {"text/plain": "1"}}]}
    ]});
    std::fs::write(&path, nb.to_string()).expect("write");
    assert_eq!(unstripped(&path).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_notebook_runs_and_agrees_with_the_api() {
    let python = python();
    let h = Harness::new();
    let (_client, js) = h.js().await;
    publish(&js, &sim_events(150, 100, 5)).await;
    ingest_drain(&h.url(), &h.lake(), &[]);
    train(&h.lake());
    let server = serve_process(&h.url(), &h.lake(), &[]).await;
    let env = [
        ("SR_LAKE", h.lake().display().to_string()),
        ("SR_URL", server.base.clone()),
    ];
    assert_all_ran(&run(&python, &env, &artefacts("notebooks"), &[]));

    // the same lake's events copied to S3 (SeaweedFS): the notebooks read
    // them there, the server still reads the directory, the answers agree
    // (a plain copy of the files, as `aws s3 sync` would make one)
    let s3 = LocalS3::start().unwrap_or_else(|e| panic!("{e}"));
    let (full, partial) = (s3.store("nb"), s3.store("partial"));
    let mut copied = 0;
    for file in walk(&h.lake().join("events")) {
        let key = file.strip_prefix(h.lake()).expect("under the lake");
        let key = key.to_string_lossy();
        let bytes = bytes::Bytes::from(std::fs::read(&file).expect("read"));
        full.replace(&key, bytes.clone()).await.expect("put");
        // and without April's billing: its MRR is not the server's
        if !key.starts_with("events/billing/date=2026-04") {
            partial.replace(&key, bytes).await.expect("put");
        }
        copied += 1;
    }
    assert!(copied > 100, "{copied} files");
    let c = s3.config();
    let mut env = vec![
        ("SR_LAKE", s3.url("nb")),
        ("SR_URL", server.base.clone()),
        ("AWS_ACCESS_KEY_ID", c.access_key_id),
        ("AWS_SECRET_ACCESS_KEY", c.secret_access_key),
        ("AWS_REGION", c.region),
        ("AWS_ENDPOINT_URL", c.endpoint),
    ];
    assert_all_ran(&run(&python, &env, &artefacts("notebooks-s3"), &[]));

    // the checks bite: over a lake that is not the server's, the revenue
    // notebook fails at its check
    env[0].1 = s3.url("partial");
    let out = run(
        &python,
        &env,
        &artefacts("notebooks-mismatch"),
        &["3_revenue.ipynb"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the check passed on another lake");
    assert!(stderr.contains("from the API"), "{stderr}");
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let path = e.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// `notebooks/run.py` over these notebooks (every one when empty) with
/// this environment, the executed copies in `out_dir`.
fn run(python: &Path, env: &[(&str, String)], out_dir: &Path, names: &[&str]) -> Output {
    Command::new(python)
        .arg(root().join("notebooks/run.py"))
        .arg("--out")
        .arg(out_dir)
        .args(names)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("SR_ANALYST_KEY", "dev-analyst-key")
        .env("SR_APP_KEY", "dev-app-key")
        .output()
        .expect("run notebooks/run.py")
}

/// Fails unless every notebook ran without an error.
fn assert_all_ran(out: &Output) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "a notebook failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v.get("notebook").is_some())
        .collect();
    assert_eq!(results.len(), notebooks().len(), "{stdout}");
    for r in &results {
        assert_eq!(r["ok"], true, "{r}");
    }
}
