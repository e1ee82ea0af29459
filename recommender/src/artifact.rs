//! The versioned model artifact under `<lake>/models/`:
//!
//! ```text
//! models/CURRENT                 the served version's name
//! models/<version>/manifest.json model kind, parameters, data window, holdout quality
//! models/<version>/catalog.json  the catalog it was trained on
//! models/<version>/trending.json per-country trending
//! models/<version>/weights.f32   EASE's item × item weights, little-endian f32, row-major
//! ```
//!
//! A version is written into a temp directory, fsynced and renamed into
//! place; `CURRENT` is then replaced atomically (temp file, fsync, rename),
//! so a reader sees the old artifact or the new one, never a mix. Versions
//! are named by their UTC creation time, so they sort in creation order.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::eval::Quality;
use crate::feedback::{FeedbackParams, Trending};
use crate::models::ease::{Ease, EaseValidParams};

/// Format of the artifact's files; bumped on incompatible changes.
pub const FORMAT: u32 = 1;

/// The lake's data a model was trained on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataWindow {
    /// Earliest watch event, ms since the epoch.
    pub from_ms: i64,
    /// Latest watch event, ms since the epoch (the "now" of weights' decay).
    pub to_ms: i64,
    /// Users with at least one interaction.
    pub users: usize,
    /// Titles in the catalog (the model's items).
    pub titles: usize,
    /// User × title interactions.
    pub interactions: usize,
}

/// Offline quality on a holdout of the lake's own interactions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Holdout {
    /// K of the metrics.
    pub k: usize,
    /// Seed of the 80/20 split.
    pub seed: u64,
    /// The served model, trained on the 80 %.
    pub model: Quality,
    /// Popularity on the same split, for comparison.
    pub popularity: Quality,
}

/// What a version is, in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// Version name.
    pub version: String,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
    /// Model kind (`ease`).
    pub model: String,
    /// The model's parameters (λ chosen on validation folds).
    pub params: EaseValidParams,
    /// How feedback was weighted.
    pub feedback: FeedbackParams,
    /// The data.
    pub data: DataWindow,
    /// Holdout quality.
    pub holdout: Holdout,
    /// Seconds spent tuning, evaluating and fitting.
    pub train_seconds: f64,
}

/// A trained model with everything serving needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    /// The manifest.
    pub manifest: Manifest,
    /// The catalog (item index = title index).
    pub catalog: Catalog,
    /// Per-country trending.
    pub trending: Trending,
    /// The model.
    pub model: Ease,
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io(path.display().to_string(), e)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = BufWriter::new(File::create(path).map_err(|e| io(path, e))?);
    f.write_all(bytes).map_err(|e| io(path, e))?;
    let f = f.into_inner().map_err(|e| io(path, e.into_error()))?;
    f.sync_all().map_err(|e| io(path, e))
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::Artifact(e.to_string()))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let f = File::open(path).map_err(|e| io(path, e))?;
    serde_json::from_reader(BufReader::new(f))
        .map_err(|e| Error::Artifact(format!("{}: {e}", path.display())))
}

/// A version name for a creation time: `20261125T143000123Z`.
pub fn version_name(created_at_ms: i64) -> String {
    let secs = created_at_ms.div_euclid(1000);
    let ms = created_at_ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}{ms:03}Z",
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    )
}

/// (year, month, day) of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl Artifact {
    /// Writes this version under `models_dir` and makes it current; keeps
    /// the `keep` newest versions and removes older ones. Returns its
    /// directory.
    pub fn publish(&self, models_dir: &Path, keep: usize) -> Result<PathBuf> {
        let version = &self.manifest.version;
        fs::create_dir_all(models_dir).map_err(|e| io(models_dir, e))?;
        let tmp = models_dir.join(format!(".tmp-{version}"));
        let dir = models_dir.join(version);
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        write_synced(&tmp.join("manifest.json"), &json(&self.manifest)?)?;
        write_synced(&tmp.join("catalog.json"), &json(&self.catalog)?)?;
        write_synced(&tmp.join("trending.json"), &json(&self.trending)?)?;
        let w = &self.model.weights;
        let mut bytes = Vec::with_capacity(w.len() * 4);
        for x in w.iter() {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
        write_synced(&tmp.join("weights.f32"), &bytes)?;
        File::open(&tmp)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(&tmp, e))?;
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| io(&dir, e))?;
        }
        fs::rename(&tmp, &dir).map_err(|e| io(&dir, e))?;
        let cur_tmp = models_dir.join(".tmp-CURRENT");
        write_synced(&cur_tmp, version.as_bytes())?;
        fs::rename(&cur_tmp, models_dir.join("CURRENT")).map_err(|e| io(models_dir, e))?;
        File::open(models_dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(models_dir, e))?;
        let mut versions = versions(models_dir)?;
        versions.retain(|v| v != version);
        let excess = versions.len().saturating_sub(keep.saturating_sub(1));
        for old in &versions[..excess] {
            // a reader that still holds it loaded keeps its copy in memory
            let _ = fs::remove_dir_all(models_dir.join(old));
        }
        Ok(dir)
    }

    /// Reads the version in `dir`.
    pub fn load(dir: &Path) -> Result<Artifact> {
        let manifest: Manifest = read_json(&dir.join("manifest.json"))?;
        if manifest.format != FORMAT {
            return Err(Error::Artifact(format!(
                "{}: format {} (this build reads {FORMAT})",
                dir.display(),
                manifest.format
            )));
        }
        let mut catalog: Catalog = read_json(&dir.join("catalog.json"))?;
        catalog.reindex();
        let trending: Trending = read_json(&dir.join("trending.json"))?;
        let n = catalog.titles.len();
        let path = dir.join("weights.f32");
        let mut bytes = Vec::with_capacity(n * n * 4);
        File::open(&path)
            .and_then(|f| BufReader::new(f).read_to_end(&mut bytes))
            .map_err(|e| io(&path, e))?;
        if bytes.len() != n * n * 4 {
            return Err(Error::Artifact(format!(
                "{}: {} bytes, expected {n}×{n} f32",
                path.display(),
                bytes.len()
            )));
        }
        let w: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let weights =
            Array2::from_shape_vec((n, n), w).map_err(|e| Error::Artifact(e.to_string()))?;
        Ok(Artifact {
            model: Ease {
                weights,
                params: manifest.params,
            },
            manifest,
            catalog,
            trending,
        })
    }
}

/// The current version's name, if any.
pub fn current(models_dir: &Path) -> Result<Option<String>> {
    let path = models_dir.join("CURRENT");
    match fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&path, e)),
    }
}

/// The published versions, oldest first.
pub fn versions(models_dir: &Path) -> Result<Vec<String>> {
    let mut v: Vec<String> = match fs::read_dir(models_dir) {
        Ok(d) => d
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io(models_dir, e)),
    };
    v.sort();
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Title;

    fn artifact(version: &str, w: f32) -> Artifact {
        let t = |id: &str| Title {
            genres: vec!["drama".into()],
            language: "en".into(),
            available_from: Some(1),
            ..Title::new(id, &["US"], &[])
        };
        Artifact {
            manifest: Manifest {
                format: FORMAT,
                version: version.into(),
                created_at_ms: 0,
                model: "ease".into(),
                params: crate::models::ease::EaseParams::new()
                    .check()
                    .expect("default params"),
                feedback: FeedbackParams::default(),
                data: DataWindow::default(),
                holdout: Holdout::default(),
                train_seconds: 0.0,
            },
            catalog: Catalog::from_titles(vec![t("a"), t("b")]),
            trending: [("US".to_string(), vec![(1, 2.0)])].into(),
            model: Ease {
                weights: Array2::from_shape_vec((2, 2), vec![0.0, w, -w, 0.0]).expect("2×2"),
                params: crate::models::ease::EaseParams::new().check().expect("ok"),
            },
        }
    }

    use linfa::ParamGuard;

    #[test]
    fn publish_load_and_keep() {
        let dir = tempfile::tempdir().expect("tmp");
        for (k, v) in ["v1", "v2", "v3"].iter().enumerate() {
            artifact(v, k as f32 + 0.5)
                .publish(dir.path(), 2)
                .expect("publish");
        }
        assert_eq!(current(dir.path()).expect("read").as_deref(), Some("v3"));
        assert_eq!(versions(dir.path()).expect("list"), ["v2", "v3"]);
        let back = Artifact::load(&dir.path().join("v3")).expect("load");
        assert_eq!(back, artifact("v3", 2.5));
    }

    #[test]
    fn truncated_weights_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let d = artifact("v1", 1.0).publish(dir.path(), 1).expect("publish");
        fs::write(d.join("weights.f32"), [0u8; 7]).expect("write");
        assert!(matches!(Artifact::load(&d), Err(Error::Artifact(_))));
    }

    #[test]
    fn version_names_sort_by_time() {
        assert_eq!(version_name(0), "19700101T000000000Z");
        assert_eq!(version_name(1_795_616_400_123), "20261125T142000123Z");
        assert!(version_name(1_795_616_400_123) < version_name(1_795_616_400_124));
    }
}
