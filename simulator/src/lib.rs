//! A deterministic simulated OTT audience: a catalog, users who sign up,
//! subscribe, watch, stall, churn and come back — as contract events.
//!
//! Same [`SimConfig`] (seed included) → the same events, byte for byte:
//! every random draw comes from a ChaCha stream keyed by (seed, purpose,
//! user, day), so the output does not depend on iteration order.
//!
//! Module map:
//! - [`config`] — [`SimConfig`];
//! - [`rng`] — keyed RNG streams and deterministic UUIDv7 event ids;
//! - [`catalog`] — titles, series and episodes, genres, availability;
//! - [`audience`] — users: country, devices, tastes, activity, plan;
//! - [`billing`] — the subscription life cycle (trials, renewals, churn, returns);
//! - [`viewing`] — play attempts: QoE (startup, stalls, errors, bitrate),
//!   heartbeats, watch progress, ads;
//! - [`sim`] — the day loop tying them together ([`Simulator`]).
//!
//! The model and its numbers are documented in `docs/simulator.md`.

pub mod audience;
pub mod billing;
pub mod catalog;
pub mod config;
pub mod rng;
pub mod sim;
pub mod viewing;

pub use config::{SimConfig, SimulatorConfig};
pub use sim::Simulator;
