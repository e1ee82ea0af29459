//! `showrunner lake compact`: rewrites each closed partition's small files
//! as one (`showrunner_lake::compact`); prints one JSON object.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use crate::config::Config;

/// `lake` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum LakeCommand {
    /// Rewrites every closed partition's files of one stream into one file,
    /// keeping the union of their provenance (exactly-once still holds,
    /// through a crash at any point).
    Compact {
        /// The lake (default: `lake.path` of the config).
        #[arg(long)]
        lake: Option<PathBuf>,
        /// Partitions dated this many days before today (UTC) or earlier
        /// are closed (default: `lake.closed_after_days`).
        #[arg(long)]
        closed_after_days: Option<u32>,
    },
}

/// Runs a `lake` subcommand.
pub fn run(cfg: &Config, c: LakeCommand) -> Result<()> {
    let LakeCommand::Compact {
        lake,
        closed_after_days,
    } = c;
    let days = closed_after_days.unwrap_or(cfg.lake.closed_after_days);
    let root = lake.unwrap_or(cfg.lake.path.clone());
    let report = compact(&root, days)?;
    println!("{report}");
    Ok(())
}

/// Compacts the lake at `root`; the report as JSON.
pub fn compact(root: &std::path::Path, closed_after_days: u32) -> Result<serde_json::Value> {
    let t = std::time::Instant::now();
    let (opts, r) = showrunner_node::jobs::compact(root, closed_after_days)?;
    let parts: Vec<serde_json::Value> = r
        .compacted
        .iter()
        .map(|p| {
            json!({
                "family": p.family, "date": p.date, "files_in": p.files_in, "rows": p.rows,
                "bytes_in": p.bytes_in, "bytes_out": p.bytes_out,
                "redundant_removed": p.redundant_removed,
            })
        })
        .collect();
    Ok(json!({
        "closed_before": opts.closed_before,
        "partitions_seen": r.partitions_seen,
        "partitions_compacted": parts.len(),
        "files_in": r.compacted.iter().map(|p| p.files_in).sum::<usize>(),
        "seconds": t.elapsed().as_secs_f64(),
        "compacted": parts,
    }))
}
