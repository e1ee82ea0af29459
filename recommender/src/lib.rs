//! Recommendations: implicit-feedback models written as linfa algorithms,
//! and their offline evaluation.
//!
//! Module map:
//! - [`data`] — [`Interactions`](data::Interactions): users × items with id
//!   maps, read from a RecBole `.inter` file (MovieLens) or a `user<TAB>item`
//!   TSV; the seeded per-user 80/20 split; [`UserItems`](data::UserItems),
//!   the sparse matrix models fit on (a linfa `Records`);
//! - [`models`] — [`Ease`](models::ease::Ease) (closed form, and its
//!   denoising variant), [`Als`](models::als::Als) (implicit ALS, CG),
//!   [`ItemKnn`](models::itemknn::ItemKnn) (cosine neighbours),
//!   [`Popularity`](models::popularity::Popularity); each is
//!   `Params` → `check()` → `ValidParams` → `Fit` on a `DatasetBase`, and
//!   serializes;
//! - [`eval`] — nDCG, recall, precision and coverage at K over a full
//!   ranking that excludes each user's training items, and hyper-parameter
//!   tuning on a validation split carved from training data;
//! - [`linalg`] — the SPD inverse EASE needs, on every core;
//! - [`error`] — this crate's [`Error`].

pub mod data;
pub mod error;
pub mod eval;
pub mod linalg;
pub mod models;

pub use error::{Error, Result};
