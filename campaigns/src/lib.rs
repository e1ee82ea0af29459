//! Marketing's campaigns service: campaigns are events, their state a
//! projection, and every send decision goes through `showrunner_marketing`.
//!
//! Module map:
//! - [`config`] — the `[marketing]` section: the sender's period, the
//!   gateway stream's duplicate window, webhook endpoints;
//! - [`state`] — the [`state::Book`] fold (campaigns, profiles, pushes)
//!   loaded from the lake and followed from the bus, and the decision
//!   ledger rebuilt from the pushes;
//! - [`segment`] — a campaign's audience: read-only SQL over the
//!   warehouse in a session of its own, under limits;
//! - [`api`] — `/v1/campaigns…` (marketing role): create, read, update,
//!   preview, dry run, launch, pause, archive;
//! - [`sender`] — launched campaigns planned each period and carried out:
//!   pushes delivered to `notifications.push.<channel>` (`Nats-Msg-Id` =
//!   the idempotency key), every decision logged as a `notification`
//!   event;
//! - [`webhook`] — delivery to webhook endpoints signed per Standard
//!   Webhooks, retried with backoff and jitter, logged, endpoints disabled
//!   after repeated failures.
//!
//! docs/marketing.md says what a marketer can rely on.

pub mod api;
pub mod config;
pub mod segment;
pub mod sender;
pub mod state;
pub mod webhook;

use std::sync::Arc;

use showrunner_lake::Store;
use showrunner_projections::live::Live;

pub use api::{CampaignsApi, CampaignsState, router};
pub use state::{Book, SharedBook};

/// The book of the lake in `store` (every committed user, notification and
/// campaign event), ready to be followed from the bus.
pub async fn load(store: &Store) -> showrunner_projections::Result<SharedBook> {
    let mut book = Book::default();
    let stats = showrunner_projections::load::from_store(store, &mut book).await?;
    tracing::info!(
        events = stats.events,
        files = stats.files,
        seconds = stats.seconds,
        "campaigns: book loaded from the lake"
    );
    Ok(Arc::new(Live::new(book)))
}
