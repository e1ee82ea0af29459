//! The versioned model artifact under `<lake>/models/`:
//!
//! ```text
//! models/CURRENT                 the served version's name
//! models/<version>/manifest.json model kind, parameters, data window, holdout quality
//! models/<version>/catalog.json  the catalog it was trained on
//! models/<version>/trending.json per-country trending
//! models/<version>/weights.f32   EASE's item × item weights, little-endian f32, row-major
//! models/<version>/clusters.json  taste clusters for short histories (when they measured better)
//! models/<version>/als.json       implicit-ALS item factors blended into `for_you` (when that measured better)
//! ```
//!
//! A version is written into a temp directory, fsynced and renamed into
//! place; `CURRENT` is then replaced atomically (temp file, fsync, rename:
//! the lake's commit, `showrunner_lake::commit`),
//! so a reader sees the old artifact or the new one, never a mix. Versions
//! are named by their UTC creation time, so they sort in creation order.

use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use showrunner_lake::commit;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::eval::Quality;
use crate::feedback::{FeedbackParams, Trending};
use crate::models::als::{Als, AlsValidParams};
use crate::models::clusters::{TasteClusters, TasteClustersValidParams};
use crate::models::ease::{Ease, EaseValidParams};

/// Format of the artifact's files; bumped on incompatible changes. 2 adds
/// the blend (`als.json`) and the cold start (`clusters.json`): a build
/// that reads only 1 must not serve such a version as EASE alone. 3: the
/// catalog is the `projections` one (maturity spelled as its rating, not a
/// rank).
pub const FORMAT: u32 = 3;

/// The oldest format this build reads (older catalogs rank maturity by
/// number; retrain to replace them).
pub const OLDEST_FORMAT: u32 = 3;

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

/// Cold-start quality with a history of `history` titles: the served
/// model's and the taste clusters' (the cold-start protocol of
/// [`evaluate_thin`](crate::eval::evaluate_thin)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ThinQuality {
    /// Titles of history the models were given.
    pub history: usize,
    /// The served full-history model (the blend; EASE when w = 1).
    pub model: Quality,
    /// The taste clusters.
    pub clusters: Quality,
}

/// A blend weight tried on validation folds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightTried {
    /// EASE's weight w (1: EASE alone, 0: ALS alone).
    pub weight: f64,
    /// Mean validation nDCG.
    pub ndcg: f64,
}

/// How `for_you` mixes EASE with implicit ALS, in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlendInfo {
    /// EASE's weight w in `w · z(EASE) + (1 − w) · z(ALS)`, chosen on
    /// validation folds; 1: EASE alone, and no `als.json`.
    pub weight: f64,
    /// The factor model's parameters (tuned alone on validation folds).
    pub als: AlsValidParams,
    /// Each weight tried.
    pub tried: Vec<WeightTried>,
    /// EASE alone on the holdout.
    pub ease_holdout: Quality,
    /// ALS alone on the holdout.
    pub als_holdout: Quality,
}

impl BlendInfo {
    /// Whether ALS takes part (w < 1).
    pub fn blends(&self) -> bool {
        self.weight < 1.0
    }
}

/// A cluster count tried on validation folds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ClustersTried {
    /// k.
    pub clusters: usize,
    /// Mean nDCG over histories of one to three titles.
    pub ndcg: f64,
}

/// The taste clusters and when they are served, in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColdStart {
    /// `for_you` rows of users with at least one and fewer than `below`
    /// titles come from the clusters (the first history length at which
    /// the model measured at least as well on validation folds); ≤ 1:
    /// never.
    pub below: usize,
    /// Every user with a history gets the cold-start row: the clusters
    /// measured better than the blend at every length tried and on whole
    /// histories (an audience too small for a personal model).
    #[serde(default)]
    pub everyone: bool,
    /// The clusters' parameters (k, the factor model's). One cluster is
    /// popularity: then short histories get the trending row.
    pub params: TasteClustersValidParams,
    /// Each k tried: mean validation nDCG over histories of 1–3 titles.
    pub tried: Vec<ClustersTried>,
    /// Mean nDCG per history length over validation folds of the training
    /// split: what `below` was chosen on.
    pub validation: Vec<ThinQuality>,
    /// Per history length on the holdout.
    pub holdout: Vec<ThinQuality>,
    /// Whole histories on validation folds (`history` 0): what
    /// `everyone` was chosen on.
    #[serde(default)]
    pub validation_whole: ThinQuality,
    /// Whole histories on the holdout (`history` 0).
    #[serde(default)]
    pub holdout_whole: ThinQuality,
}

impl ColdStart {
    /// Whether short histories get a cold-start row at all.
    pub fn served(&self) -> bool {
        self.below > 1 || self.everyone
    }

    /// Whether a history of `len` titles gets the cold-start row.
    pub fn serves(&self, len: usize) -> bool {
        len >= 1 && (self.everyone || len < self.below)
    }

    /// Whether that row comes from `clusters.json` (more than one
    /// cluster); else it is trending.
    pub fn has_clusters(&self) -> bool {
        self.served() && self.params.clusters() > 1
    }
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
    /// Model kind: `ease`, or `blend` (EASE and implicit ALS, see `blend`).
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
    /// The cold-start model (absent from versions trained without one).
    #[serde(default)]
    pub cold_start: Option<ColdStart>,
    /// The blend of `for_you` (absent from versions trained without one:
    /// EASE alone).
    #[serde(default)]
    pub blend: Option<BlendInfo>,
}

impl Manifest {
    /// One line on the version: model, data, holdout nDCG against
    /// popularity, and the cold start it serves.
    pub fn summary(&self) -> String {
        let cold = self.cold_start.as_ref().map_or_else(
            || "none".to_string(),
            |c| {
                let whom = match c.everyone {
                    true => "for everyone".to_string(),
                    false => format!("below {} titles", c.below),
                };
                match (c.served(), c.params.clusters()) {
                    (false, _) => "none".into(),
                    (true, 1) => format!("trending {whom}"),
                    (true, k) => format!("{k} taste clusters {whom}"),
                }
            },
        );
        format!(
            "{} ({}) on {} users × {} titles (holdout nDCG@10 {:.3}, popularity {:.3}; cold start: {cold})",
            self.version,
            self.model,
            self.data.users,
            self.data.titles,
            self.holdout.model.ndcg,
            self.holdout.popularity.ndcg
        )
    }
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
    /// Taste clusters for short histories, without the training users'
    /// factors; present exactly when the manifest's cold start has them.
    pub clusters: Option<TasteClusters>,
    /// Implicit ALS blended into `for_you`, without the training users'
    /// factors; present exactly when the manifest's blend has w < 1.
    pub als: Option<Als>,
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io(path.display().to_string(), e)
}

fn lake(e: showrunner_lake::Error) -> Error {
    Error::Lake(e.to_string())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    commit::write_synced(path, bytes).map_err(lake)
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
        let clusters = self.served_clusters()?;
        let als = self.blended_als()?;
        let tmp = commit::temp_dir(models_dir, version).map_err(lake)?;
        write_synced(&tmp.join("manifest.json"), &json(&self.manifest)?)?;
        write_synced(&tmp.join("catalog.json"), &json(&self.catalog)?)?;
        write_synced(&tmp.join("trending.json"), &json(&self.trending)?)?;
        let w = &self.model.weights;
        let mut bytes = Vec::with_capacity(w.len() * 4);
        for x in w.iter() {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
        write_synced(&tmp.join("weights.f32"), &bytes)?;
        if let Some(c) = clusters {
            write_synced(&tmp.join("clusters.json"), &json(c)?)?;
        }
        if let Some(a) = als {
            write_synced(&tmp.join("als.json"), &json(a)?)?;
        }
        let dir = commit::publish_dir(&tmp, models_dir, version).map_err(lake)?;
        commit::commit_file(models_dir, CURRENT, version.as_bytes()).map_err(lake)?;
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
        if !(OLDEST_FORMAT..=FORMAT).contains(&manifest.format) {
            return Err(Error::Artifact(format!(
                "{}: format {} (this build reads {OLDEST_FORMAT} to {FORMAT})",
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
        let clusters = match &manifest.cold_start {
            Some(c) if c.has_clusters() => {
                let path = dir.join("clusters.json");
                let m: TasteClusters = read_json(&path)?;
                let k = m.len();
                let fits = check_factors(&m.als, n)
                    && k > 0
                    && m.shares.dim() == (k, n)
                    && m.centroids.ncols() == m.als.items.ncols();
                if !fits {
                    return Err(Error::Artifact(format!(
                        "{}: {k} centroids of {} factors, shares {:?}, factors {:?}: not {k} clusters over the catalog's {n} titles",
                        path.display(),
                        m.centroids.ncols(),
                        m.shares.dim(),
                        m.als.items.dim()
                    )));
                }
                Some(m)
            }
            _ => None,
        };
        let als = match &manifest.blend {
            Some(b) if b.blends() => {
                let path = dir.join("als.json");
                let a: Als = read_json(&path)?;
                if !check_factors(&a, n) {
                    return Err(Error::Artifact(format!(
                        "{}: factors {:?} and their Gram matrix {:?}, the catalog has {n} titles",
                        path.display(),
                        a.items.dim(),
                        a.gram.dim()
                    )));
                }
                Some(a)
            }
            _ => None,
        };
        Ok(Artifact {
            model: Ease {
                weights,
                params: manifest.params,
            },
            manifest,
            catalog,
            trending,
            clusters,
            als,
        })
    }

    /// The factor model to write: the manifest and the model must agree on
    /// whether there is one.
    fn blended_als(&self) -> Result<Option<&Als>> {
        let blends = self.manifest.blend.as_ref().is_some_and(BlendInfo::blends);
        agreeing(self.als.as_ref(), blends, "a blended ALS")
    }

    /// The clusters to write: the manifest and the model must agree on
    /// whether there are any.
    fn served_clusters(&self) -> Result<Option<&TasteClusters>> {
        let served = self
            .manifest
            .cold_start
            .as_ref()
            .is_some_and(ColdStart::has_clusters);
        agreeing(self.clusters.as_ref(), served, "cold-start clusters")
    }
}

/// Whether a factor model fits a catalog of `n` titles: a row of factors
/// per title and the factors' Gram matrix.
fn check_factors(a: &Als, n: usize) -> bool {
    let f = a.items.ncols();
    a.items.nrows() == n && a.gram.dim() == (f, f) && f > 0
}

/// `part` when the manifest `wants` it and it is there, nothing when
/// neither; an error when they disagree.
fn agreeing<'a, T>(part: Option<&'a T>, wants: bool, what: &str) -> Result<Option<&'a T>> {
    match (part, wants) {
        (Some(p), true) => Ok(Some(p)),
        (None, false) => Ok(None),
        (p, _) => Err(Error::Artifact(format!(
            "the manifest {} {what} and the artifact {} it",
            if wants { "has" } else { "has no" },
            if p.is_some() { "has" } else { "lacks" }
        ))),
    }
}

/// The file naming the served version.
const CURRENT: &str = "CURRENT";

/// The current version's name, if any.
pub fn current(models_dir: &Path) -> Result<Option<String>> {
    let path = models_dir.join(CURRENT);
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
                cold_start: None,
                blend: None,
            },
            catalog: Catalog::from_titles(vec![t("a"), t("b")]),
            trending: [("US".to_string(), vec![(1, 2.0)])].into(),
            model: Ease {
                weights: Array2::from_shape_vec((2, 2), vec![0.0, w, -w, 0.0]).expect("2×2"),
                params: crate::models::ease::EaseParams::new().check().expect("ok"),
            },
            clusters: None,
            als: None,
        }
    }

    /// The artifact with two taste clusters over its two titles.
    fn with_clusters(version: &str, below: usize) -> Artifact {
        use crate::models::als::AlsParams;
        use crate::models::clusters::TasteClustersParams;
        let rows = vec![vec![0], vec![1], vec![0], vec![1]];
        let d = linfa::DatasetBase::new(crate::data::UserItems::binary(rows, 2), ());
        let params = TasteClustersParams::new(AlsParams::new().factors(2).check().expect("als"))
            .clusters(2)
            .check()
            .expect("clusters");
        let clusters = linfa::traits::Fit::fit(&params, &d).expect("fit");
        let mut a = artifact(version, 1.0);
        a.manifest.cold_start = Some(ColdStart {
            below,
            params,
            tried: vec![ClustersTried {
                clusters: 2,
                ndcg: 0.5,
            }],
            validation: vec![ThinQuality {
                history: 1,
                ..ThinQuality::default()
            }],
            holdout: Vec::new(),
            everyone: false,
            validation_whole: ThinQuality::default(),
            holdout_whole: ThinQuality::default(),
        });
        a.clusters = Some(clusters.without_user_factors());
        a
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
    fn clusters_round_trip_and_must_match_the_manifest() {
        let dir = tempfile::tempdir().expect("tmp");
        let a = with_clusters("v1", 3);
        let d = a.publish(dir.path(), 1).expect("publish");
        assert!(d.join("clusters.json").is_file());
        let mut back = Artifact::load(&d).expect("load");
        // JSON brings f64 factors back within an ulp, not always bit-exact
        let (b, c) = (
            back.clusters.take().expect("clusters"),
            a.clusters.as_ref().expect("clusters"),
        );
        let close = |x: &Array2<f64>, y: &Array2<f64>| {
            x.dim() == y.dim()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| (p - q).abs() <= 1e-12 * q.abs())
        };
        assert!(close(&b.als.items, &c.als.items) && close(&b.centroids, &c.centroids));
        assert_eq!((&b.shares, b.als.params), (&c.shares, c.als.params));
        assert_eq!(
            (b.cluster_of(&[0]), b.cluster_of(&[1])),
            (c.cluster_of(&[0]), c.cluster_of(&[1]))
        );
        assert_eq!(
            back,
            Artifact {
                clusters: None,
                ..a.clone()
            }
        );
        // clusters the manifest does not serve, or served ones missing
        let mut unserved = with_clusters("v2", 1);
        assert!(matches!(
            unserved.publish(dir.path(), 1),
            Err(Error::Artifact(_))
        ));
        assert!(!dir.path().join(".tmp-v2").exists(), "nothing written");
        unserved.clusters = None;
        let d2 = unserved.publish(dir.path(), 2).expect("publish");
        assert!(!d2.join("clusters.json").exists());
        assert_eq!(Artifact::load(&d2).expect("load"), unserved);
        fs::remove_file(d.join("clusters.json")).expect("rm");
        assert!(matches!(Artifact::load(&d), Err(Error::Io(..))));
        // one cluster served (trending): no clusters.json, and it loads
        let mut one = with_clusters("v4", 3);
        let c = one.manifest.cold_start.as_mut().expect("cold start");
        c.params = crate::models::clusters::TasteClustersParams::new(c.params.als())
            .clusters(1)
            .check()
            .expect("one");
        assert!(matches!(
            one.publish(dir.path(), 3),
            Err(Error::Artifact(_))
        ));
        one.clusters = None;
        let d4 = one.publish(dir.path(), 3).expect("publish");
        assert!(!d4.join("clusters.json").exists());
        assert_eq!(Artifact::load(&d4).expect("load"), one);
        // clusters whose shares do not cover the catalog are refused
        let mut bad = with_clusters("v5", 3);
        if let Some(c) = bad.clusters.as_mut() {
            c.shares = Array2::zeros((2, 3));
        }
        let d5 = bad.publish(dir.path(), 3).expect("publish");
        assert!(matches!(Artifact::load(&d5), Err(Error::Artifact(_))));
        // a blend needs its factor model, and the factors come back
        let mut b = with_clusters("v3", 3);
        let factors = b.clusters.as_ref().map(|c| c.als.clone()).expect("als");
        b.manifest.blend = Some(BlendInfo {
            weight: 0.5,
            als: factors.params,
            tried: Vec::new(),
            ease_holdout: Quality::default(),
            als_holdout: Quality::default(),
        });
        assert!(matches!(b.publish(dir.path(), 3), Err(Error::Artifact(_))));
        b.als = Some(factors);
        let d3 = b.publish(dir.path(), 3).expect("publish");
        let back = Artifact::load(&d3).expect("load");
        assert_eq!(back.als.map(|a| a.items.dim()), Some((2, 2)));
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
