//! `showrunner clickhouse migrate`: creates or upgrades the ClickHouse
//! schema (tables per event family, schema version), idempotently.

use anyhow::Result;
use clap::Subcommand;
use showrunner_ingest::sinks::clickhouse::migrate;

use showrunner_node::Config;

/// `clickhouse` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum ClickhouseCommand {
    /// Creates the database and the event tables, adds missing columns,
    /// records the schema version; prints a JSON report.
    Migrate {
        /// HTTP URL (default: config `clickhouse.url`).
        #[arg(long)]
        clickhouse: Option<String>,
        /// User (default: config `clickhouse.user`).
        #[arg(long)]
        user: Option<String>,
        /// Password (default: config `clickhouse.password`).
        #[arg(long)]
        password: Option<String>,
        /// Database (default: config `clickhouse.database`).
        #[arg(long)]
        database: Option<String>,
    },
}

/// Runs `clickhouse`.
pub async fn run(cfg: &Config, c: ClickhouseCommand) -> Result<()> {
    let ClickhouseCommand::Migrate {
        clickhouse,
        user,
        password,
        database,
    } = c;
    let s = cfg
        .clickhouse
        .overridden(user, password, database)
        .settings(clickhouse.unwrap_or_else(|| cfg.clickhouse.url.clone()));
    let report = migrate(&s).await?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
