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
    let mut lake_cfg = cfg.lake.clone();
    if let Some(d) = closed_after_days {
        lake_cfg.closed_after_days = d;
    }
    let root = lake.unwrap_or(lake_cfg.path.clone());
    let report = compact(&root, &lake_cfg)?;
    println!("{report}");
    Ok(())
}

/// Compacts the lake at `root` with `lake`'s options; the report as JSON.
pub fn compact(
    root: &std::path::Path,
    lake: &crate::config::LakeConfig,
) -> Result<serde_json::Value> {
    let opts = lake.compact_options();
    let t = std::time::Instant::now();
    let r = showrunner_lake::compact::compact(&showrunner_lake::Layout::new(root), &opts)?;
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
