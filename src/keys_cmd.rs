//! `showrunner keys new`: makes a key, prints it once (stdout) and the
//! configuration lines to add (stderr says where); the key itself is
//! stored nowhere.

use anyhow::{Result, anyhow};
use clap::Subcommand;
use showrunner_web::Role;

/// `keys` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum KeysCommand {
    /// Makes a new key holding the given roles.
    New {
        /// A role it holds: ingest, app, analyst, marketing or admin
        /// (repeat or comma-separate for several).
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<Role>,
        /// Its id, shown in logs and metrics (default: its roles and a
        /// random suffix).
        #[arg(long)]
        id: Option<String>,
    },
}

/// Runs a `keys` subcommand.
pub fn run(command: KeysCommand) -> Result<()> {
    match command {
        KeysCommand::New { roles, id } => {
            let id = id.unwrap_or_else(|| {
                let names: Vec<&str> = roles.iter().map(|r| r.name()).collect();
                let suffix = uuid::Uuid::new_v4().simple().to_string();
                format!("{}-{}", names.join("-"), &suffix[..8])
            });
            let new = showrunner_web::keys::generate(&id, &roles).map_err(|e| anyhow!(e))?;
            println!("{}", new.key);
            eprintln!(
                "\nThe key above is shown once and stored nowhere; give it to its caller \
                 (Authorization: Bearer <key>).\nAdd to the configuration, then reload \
                 (kill -HUP, or POST /v1/admin/keys/reload with an admin key):\n\n{}",
                new.entry.config_lines()
            );
            Ok(())
        }
    }
}
