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
    let mut bytes = 0;
    let set = showrunner_lake::seqs::SeqSet::from_seqs(&[1]);
    for b in &batches {
        bytes += showrunner_lake::format::encode(
            b,
            showrunner_lake::format::properties("EVENTS", "0", &set)?,
        )?
        .len();
    }
    let parquet = t.elapsed().as_secs_f64();
    let per = |s: f64| (s / n as f64 * 1e9).round();
    println!(
        "{}",
        serde_json::json!({
            "bench": "stages", "events": n,
            "ns_per_event": { "decode": per(decode), "validate": per(check - decode), "arrow": per(build - check), "parquet_encode": per(parquet),
                "total": per(build + parquet) },
            "parquet_bytes": bytes,
        })
    );
    Ok(())
}
