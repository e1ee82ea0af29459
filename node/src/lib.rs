//! Process roles: one library runs any set of them in one process —
//! `showrunner serve --roles …` picks some, `standalone` runs them all
//! beside a local nats-server and the first-run simulation.
//!
//! - [`config`] — [`Config`], `showrunner.toml` with every crate's section,
//!   its `SHOWRUNNER_*` environment overrides, checked at start;
//! - [`settings`] — the config and a command's [`Overrides`] composed into
//!   [`NodeSettings`];
//! - [`roles`] — [`Role`] and [`Roles`] (parsed from `collector,api,…`);
//! - [`stop`] — graceful shutdown: one [`stop::Stop`] every task watches,
//!   and the SIGINT/SIGTERM signal;
//! - [`timer`] — the one helper for periodic jobs (materialize, retrain,
//!   compact);
//! - [`jobs`] — those jobs, each one run of it;
//! - [`api`] — the HTTP server of the `collector` and `api` roles;
//! - [`node`] — [`Node`]: starts roles, waits for them;
//! - [`first_run`] — `standalone`'s first run: the simulated audience
//!   published into an empty stream, waited for in the lake, then the
//!   metric tables and a first model, each step reported;
//! - [`banner`] — what `standalone` prints once it runs.
//!
//! Invariant: a role's work is the same whichever process runs it; nothing
//! here is standalone-only.

pub mod api;
pub mod banner;
pub mod config;
pub mod error;
pub mod first_run;
pub mod jobs;
pub mod node;
pub mod roles;
pub mod settings;
pub mod stop;
pub mod timer;

pub use config::Config;
pub use error::{Error, Result};
pub use node::{IngestProgress, Node, NodeSettings};
pub use roles::{Role, Roles};
pub use settings::Overrides;
