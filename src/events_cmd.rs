//! `showrunner events examples|schema`: the contract, printed.

use anyhow::Result;
use clap::Subcommand;
use showrunner_events::Family;
use showrunner_events::arrow::schema;
use showrunner_events::examples::examples;

/// `events` subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum EventsCommand {
    /// One valid example of every event type, as NDJSON.
    Examples,
    /// The lake's columns per family: name, Arrow type, nullability.
    Schema,
}

/// Runs `events`.
pub fn run(c: EventsCommand) -> Result<()> {
    match c {
        EventsCommand::Examples => {
            for e in examples() {
                println!("{}", serde_json::to_string(&e)?);
            }
        }
        EventsCommand::Schema => {
            for f in Family::ALL {
                println!("{f}:");
                for field in schema(*f).fields() {
                    let null = if field.is_nullable() { "" } else { " not null" };
                    println!("  {:<18} {}{null}", field.name(), field.data_type());
                }
            }
        }
    }
    Ok(())
}
