//! `showrunner lake compact`: rewrites each closed partition's small files
//! as one (`showrunner_lake::compact`); prints one JSON object.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use showrunner_node::Config;

/// `lake` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum LakeCommand {
    /// Rewrites every closed partition's files of one stream into one file,
    /// keeping the union of their provenance (exactly-once still holds,
    /// through a crash at any point).
    Compact {
        /// The lake: a directory or `s3://bucket/prefix` (default: `lake.path`
        /// of the config).
        #[arg(long)]
        lake: Option<PathBuf>,
        /// Partitions dated this many days before today (UTC) or earlier
        /// are closed (default: `lake.closed_after_days`).
        #[arg(long)]
        closed_after_days: Option<u32>,
    },
}

/// Runs a `lake` subcommand.
pub async fn run(cfg: &Config, c: LakeCommand) -> Result<()> {
    let LakeCommand::Compact {
        lake,
        closed_after_days,
    } = c;
    let days = closed_after_days.unwrap_or(cfg.lake.closed_after_days);
    let store = cfg.lake_store(lake)?;
    let t = std::time::Instant::now();
    let (opts, r) =
        tokio::task::spawn_blocking(move || showrunner_node::jobs::compact(&store, days)).await??;
    let mut out = serde_json::to_value(&r)?;
    out["closed_before"] = json!(opts.closed_before);
    out["partitions_compacted"] = json!(r.compacted.len());
    out["files_in"] = json!(r.files_in());
    out["seconds"] = json!(t.elapsed().as_secs_f64());
    println!("{out}");
    Ok(())
}
