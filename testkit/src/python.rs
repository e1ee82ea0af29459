//! The pinned Python environment the test command builds
//! (`scripts/notebooks-env.sh`: notebooks/requirements.txt — polars,
//! scikit-learn, standardwebhooks, …), for tests that check a figure or a
//! signature with an independent implementation.

use std::path::PathBuf;

/// Its interpreter: `$NOTEBOOK_PYTHON`, else
/// `~/.cache/showrunner-notebooks/bin/python`.
pub fn python() -> PathBuf {
    std::env::var_os("NOTEBOOK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME or NOTEBOOK_PYTHON"))
                .join(".cache/showrunner-notebooks/bin/python")
        })
}
