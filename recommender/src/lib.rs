//! Recommendations: implicit-feedback models written as linfa algorithms,
//! and their offline evaluation.
//!
//! Module map:
//! - [`lake`] — what training reads from the lake: watch aggregates per
//!   user × watched id (a polars scan), and the `projections` catalog and
//!   profiles;
//! - [`catalog`] — the `projections` catalog (titles, episodes,
//!   availability, maturity), re-exported;
//! - [`config`] — the `[recommender]` configuration section;
//! - [`feedback`] — weighted implicit feedback and per-country trending;
//! - [`protocol`] — how every hyper-parameter is chosen, for training and
//!   evaluation alike: the holdout split, the validation folds, every
//!   tuning grid, and the tuning functions (`tune_item_item`, `tune_als`,
//!   `tune_blend`, `tune_clusters`, …);
//! - [`train`] — `recommend train --lake`: holdout, fit, publish;
//! - [`offline`] — `recommend eval`: per model, tune on the training split,
//!   fit, score the holdout, one JSON line;
//! - [`serve`] — the apps' API (rows, similar, continue watching), live
//!   user state from the event stream, hot reload of artifacts;
//! - [`artifact`] — the versioned model artifact under `<lake>/models/`;
//! - [`data`] — [`Interactions`](data::Interactions): users × items with id
//!   maps, read from a RecBole `.inter` file (MovieLens) or a `user<TAB>item`
//!   TSV; the seeded per-user 80/20 split; [`UserItems`](data::UserItems),
//!   the sparse matrix models fit on (a linfa `Records`);
//! - [`models`] — [`Ease`](models::ease::Ease) (closed form, and its
//!   denoising variant), [`Als`](models::als::Als) (implicit ALS, CG),
//!   [`ItemKnn`](models::itemknn::ItemKnn) (cosine neighbours),
//!   [`Popularity`](models::popularity::Popularity),
//!   [`Blend`](models::blend::Blend) (DLAE + ALS) and
//!   [`TasteClusters`](models::clusters::TasteClusters) (k-means from
//!   linfa-clustering over ALS user factors, for cold start); each is
//!   `Params` → `check()` → `ValidParams` → `Fit` on a `DatasetBase`, and
//!   serializes;
//! - [`eval`] — nDCG, recall, precision and coverage at K over a full
//!   ranking that excludes each user's training items, the mean quality of
//!   a grid over validation folds carved from training data, and the
//!   cold-start protocol (a few random training items per user as input);
//! - [`linalg`] — the SPD inverse EASE needs, on every core;
//! - [`error`] — this crate's [`Error`].

pub mod artifact;
pub mod config;
pub mod data;
pub mod error;
pub mod eval;
pub mod feedback;
pub mod lake;
pub mod linalg;
pub mod models;
pub mod offline;
pub mod protocol;
pub mod serve;
pub mod train;

pub use error::{Error, Result};
pub use showrunner_projections::catalog;
