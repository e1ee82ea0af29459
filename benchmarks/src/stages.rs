//! `showrunner-bench stages`: where ingest's CPU goes, per stage (decode,
//! validate, Arrow building, Parquet encoding), single-threaded, no NATS.
//! Prints one JSON object.

use std::time::Instant;

use anyhow::Result;
use showrunner_events::arrow::BatchBuilder;
use showrunner_events::{Family, Validator, WireEvent};

use crate::shared::messages;

/// Arguments of `showrunner-bench stages`.
#[derive(clap::Args, Debug, Clone)]
pub struct StagesArgs {
    /// Events.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
}

/// Runs the benchmark.
pub fn run(a: StagesArgs) -> Result<()> {
    stages(a.events)
}

/// Files a batch of a multi-day stream commits at once in the comparison
/// below (six families × two dates).
const FILES_PER_BATCH: usize = 12;

/// The encoded files committed to a temp lake directory (on the file
/// system of the system temp dir) twice: one by one (`commit_file`, as
/// ingest did per file) and in groups of [`FILES_PER_BATCH`]
/// (`commit_files`, as ingest does per batch). Milliseconds per file.
fn commits(files: &[Vec<u8>]) -> Result<serde_json::Value> {
    use showrunner_lake::commit::{Pending, commit_file, commit_files};
    let dir = tempfile::tempdir()?;
    let (one, together) = (dir.path().join("one"), dir.path().join("together"));
    let t = Instant::now();
    for (i, f) in files.iter().enumerate() {
        commit_file(&one, &format!("{i}.parquet"), f)?;
    }
    let one_s = t.elapsed().as_secs_f64();
    let names: Vec<String> = (0..files.len()).map(|i| format!("{i}.parquet")).collect();
    let t = Instant::now();
    for (group, names) in files
        .chunks(FILES_PER_BATCH)
        .zip(names.chunks(FILES_PER_BATCH))
    {
        let pending: Vec<Pending<'_>> = group
            .iter()
            .zip(names)
            .map(|(bytes, name)| Pending {
                dir: &together,
                name,
                bytes,
            })
            .collect();
        commit_files(&pending)?;
    }
    let together_s = t.elapsed().as_secs_f64();
    let per_file = |s: f64| s * 1e3 / files.len().max(1) as f64;
    Ok(serde_json::json!({
        "files": files.len(),
        "group": FILES_PER_BATCH,
        "one_by_one_ms_per_file": per_file(one_s),
        "together_ms_per_file": per_file(together_s),
    }))
}

/// Times decode, validate, Arrow building and Parquet encoding as ingest
/// does them (one event at a time, nothing kept but the builders); each
/// pass adds one stage, the report gives each stage's cost.
fn stages(n: usize) -> Result<()> {
    let msgs = messages(n);
    let v = Validator::default();
    let pass = |check: bool, build: bool| -> Result<(f64, Vec<arrow_array::RecordBatch>)> {
        let t = Instant::now();
        let mut batches = Vec::new();
        for chunk in msgs.chunks(20_000) {
            let mut builders: Vec<BatchBuilder> = Family::ALL
                .iter()
                .map(|f| BatchBuilder::new(*f, 1_024))
                .collect();
            for m in chunk {
                let w = WireEvent::from_json(&m.payload)?;
                if check {
                    let (family, _) = v.check(&w)?;
                    if build {
                        builders[Family::ALL.iter().position(|f| *f == family).unwrap_or(0)]
                            .append(&w);
                    }
                }
            }
            for b in &mut builders {
                if !b.is_empty() {
                    batches.push(b.finish()?);
                }
            }
        }
        Ok((t.elapsed().as_secs_f64(), batches))
    };
    let (decode, _) = pass(false, false)?;
    let (check, _) = pass(true, false)?;
    let (build, batches) = pass(true, true)?;
    let t = Instant::now();
    let set = showrunner_lake::seqs::SeqSet::from_seqs(&[1]);
    let mut files = Vec::with_capacity(batches.len());
    for b in &batches {
        files.push(showrunner_lake::format::encode(
            b,
            showrunner_lake::format::properties(
                showrunner_bus::subjects::EVENTS_STREAM,
                "0",
                &set,
            )?,
        )?);
    }
    let parquet = t.elapsed().as_secs_f64();
    let bytes: usize = files.iter().map(Vec::len).sum();
    let commit = commits(&files)?;
    let per = |s: f64| (s / n as f64 * 1e9).round();
    println!(
        "{}",
        serde_json::json!({
            "bench": "stages", "events": n,
            "ns_per_event": { "decode": per(decode), "validate": per(check - decode), "arrow": per(build - check), "parquet_encode": per(parquet),
                "total": per(build + parquet) },
            "parquet_bytes": bytes,
            "commit": commit,
        })
    );
    Ok(())
}
