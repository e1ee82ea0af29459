//! `showrunner deadletter list | replay`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Subcommand;
use showrunner_bus as nats;
use showrunner_events::Validator;
use showrunner_ingest::deadletter::{self, DeadLetter};

use showrunner_node::Config;

/// `deadletter` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum DeadletterCommand {
    /// Print dead letters as NDJSON (seq, source subject, field, reason, payload).
    List {
        /// NATS URL (default: config `nats.url`).
        #[arg(long)]
        nats: Option<String>,
        /// Write to this file instead of stdout (edit it, then `replay --file`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-validate dead letters and re-publish those that pass; those the
    /// ClickHouse sink's server refused are inserted into ClickHouse again
    /// instead (the lake has them).
    Replay {
        /// NATS URL (default: config `nats.url`).
        #[arg(long)]
        nats: Option<String>,
        /// ClickHouse HTTP URL for the letters its server refused (default:
        /// config `clickhouse.url` when `clickhouse.enabled`).
        #[arg(long)]
        clickhouse: Option<String>,
        /// NDJSON of dead letters as printed by `list`, with fixed payloads
        /// (default: every dead letter as stored).
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

/// Runs `deadletter`.
pub async fn run(cfg: &Config, c: DeadletterCommand) -> Result<()> {
    let url = match &c {
        DeadletterCommand::List { nats, .. } | DeadletterCommand::Replay { nats, .. } => {
            nats.clone().unwrap_or_else(|| cfg.nats.url.clone())
        }
    };
    let client = nats::connect(&url, Duration::from_secs(10)).await?;
    let js = nats::context(client, Duration::from_secs(10), 1_024);
    let streams = cfg.streams();
    nats::ensure_streams(&js, &streams).await?;
    match c {
        DeadletterCommand::List { out, .. } => {
            let letters = deadletter::list(&js, &streams.deadletter).await?;
            let mut w: Box<dyn Write> = match out {
                Some(p) => Box::new(
                    std::fs::File::create(&p)
                        .with_context(|| format!("creating {}", p.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            for l in &letters {
                writeln!(w, "{}", serde_json::to_string(l)?)?;
            }
            eprintln!("{} dead letters", letters.len());
        }
        DeadletterCommand::Replay {
            file, clickhouse, ..
        } => {
            let letters: Vec<DeadLetter> = match file {
                Some(p) => {
                    let f = std::fs::File::open(&p)
                        .with_context(|| format!("opening {}", p.display()))?;
                    deadletter::read_letters(std::io::BufReader::new(f))
                        .with_context(|| p.display().to_string())?
                }
                None => deadletter::list(&js, &streams.deadletter).await?,
            };
            let ch = clickhouse
                .or_else(|| cfg.clickhouse.enabled.then(|| cfg.clickhouse.url.clone()))
                .map(|url| cfg.clickhouse.settings(url));
            let results = deadletter::replay(
                &js,
                &streams.deadletter,
                letters,
                &Validator::new(cfg.limits()),
                ch.as_ref(),
            )
            .await?;
            for r in &results {
                println!("{}", serde_json::to_string(r)?);
            }
            eprintln!("{}", deadletter::summary(&results));
        }
    }
    Ok(())
}
