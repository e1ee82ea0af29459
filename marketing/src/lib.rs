//! Marketing: which message goes to whom, when — the decisions every
//! campaign and trigger goes through before delivery.
//!
//! Module map:
//! - [`zone`] — each user's time zone (profile, else country, else UTC)
//!   and local wall-clock times across DST changes;
//! - [`policy`] — quiet hours, frequency caps (per local day and ISO
//!   week, global and per campaign), a campaign's rules, the [`Rule`]s;
//! - [`assign`] — stable random assignment to the global holdout and
//!   each campaign's control group;
//! - [`decide`] — the decision for one message (send, defer, suppress, or
//!   a duplicate of a key decided before) and the [`Ledger`] caps and
//!   idempotency keys read;
//! - [`template`] — `{{variable}}` templates, a missing variable an error
//!   before anything is sent;
//! - [`campaign`] — a campaign's definition (audience, message, channel,
//!   priority, control share, caps, time to live, conversion), read from
//!   its events' JSON and checked;
//! - [`plan`] — a campaign's decisions for its whole audience: preview,
//!   dry run and the sender's decisions are the same function.
//!
//! docs/marketing.md says what a marketer can rely on.

pub mod assign;
pub mod campaign;
pub mod decide;
pub mod plan;
pub mod policy;
pub mod template;
pub mod zone;

pub use decide::{Decider, Decision, Due, Ledger, idempotency_key};
pub use policy::{CampaignRules, Caps, Policy, QuietHours, Rule};
pub use template::{Template, TemplateError};
pub use zone::{Zone, ZoneSource};
