//! Which files of the lake are committed, with the one temp rule: a data
//! file is committed when its name ends in `.parquet` and does not start
//! with a dot ([`is_committed_name`]); the commit's temp files
//! (`.tmp-<name>.tmp`) never match, so no reader — DataFusion, polars,
//! DuckDB's globs — ever sees a file being written.

use std::path::PathBuf;
use std::time::SystemTime;

use showrunner_events::Family;

use crate::error::{Error, Result};
use crate::layout::{DATA_EXTENSION, Layout, partition_date};

/// Whether a file name is that of a committed data file.
pub fn is_committed_name(name: &str) -> bool {
    name.ends_with(DATA_EXTENSION) && !name.starts_with('.')
}

/// A committed event file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its family.
    pub family: Family,
    /// Its partition's date, `YYYY-MM-DD`.
    pub date: String,
    /// Its file name.
    pub name: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Last modification (its commit), when the file system tells.
    pub modified: Option<SystemTime>,
}

impl LakeFile {
    /// `family/date=…/name`: the file's key relative to `<lake>/events`.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}",
            self.family,
            crate::layout::partition_name(&self.date),
            self.name
        )
    }
}

/// The committed files of one family, sorted by path. A missing family
/// directory is empty.
pub fn family_files(layout: &Layout, family: Family) -> Result<Vec<LakeFile>> {
    let dir = layout.family(family);
    let mut out = Vec::new();
    for part in read_dir(&dir)? {
        let pname = part.file_name().to_string_lossy().into_owned();
        let Some(date) = partition_date(&pname) else {
            continue;
        };
        if !part.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        for f in read_dir(&part.path())? {
            let name = f.file_name().to_string_lossy().into_owned();
            if !is_committed_name(&name) {
                continue;
            }
            let meta = f.metadata().ok();
            out.push(LakeFile {
                path: f.path(),
                family,
                date: date.to_owned(),
                name,
                bytes: meta.as_ref().map_or(0, |m| m.len()),
                modified: meta.and_then(|m| m.modified().ok()),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The committed files of every family, sorted by path.
pub fn event_files(layout: &Layout) -> Result<Vec<LakeFile>> {
    let mut out = Vec::new();
    for family in Family::ALL {
        out.extend(family_files(layout, *family)?);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// What some families' committed files look like: how many, their bytes,
/// the newest commit. Equal signatures mean nothing was added (files are
/// never modified once committed; compaction changes the count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signature {
    /// Committed files.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
    /// The newest modification time.
    pub newest: Option<SystemTime>,
}

/// The [`Signature`] of `families`.
pub fn signature(layout: &Layout, families: &[Family]) -> Result<Signature> {
    let mut sig = Signature::default();
    for family in families {
        for f in family_files(layout, *family)? {
            sig.files += 1;
            sig.bytes += f.bytes;
            sig.newest = sig.newest.max(f.modified);
        }
    }
    Ok(sig)
}

/// The [`Signature`] of `families` on any store (a directory, or an
/// object store's listing).
pub async fn signature_store(store: &crate::Store, families: &[Family]) -> Result<Signature> {
    if let Some(root) = store.local_root() {
        return signature(&Layout::new(root), families);
    }
    let mut sig = Signature::default();
    for family in families {
        for e in store
            .list_committed(&crate::layout::keys::family(*family))
            .await?
        {
            sig.files += 1;
            sig.bytes += e.bytes;
            sig.newest = sig.newest.max(e.modified);
        }
    }
    Ok(sig)
}

/// The entries of a directory; a missing one is empty.
fn read_dir(dir: &std::path::Path) -> Result<Vec<std::fs::DirEntry>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries.flatten().collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("list", dir, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit::{TEMP_PREFIX, TEMP_SUFFIX, commit_file};

    #[test]
    fn temp_files_and_other_names_are_never_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let l = Layout::new(dir.path());
        let p = l.partition(Family::Watch, "2026-03-01");
        commit_file(&p, "part-1-2-a0001.parquet", b"x").expect("commit");
        std::fs::write(
            p.join(format!("{TEMP_PREFIX}part-3-4-a0002.parquet{TEMP_SUFFIX}")),
            b"y",
        )
        .expect("temp");
        std::fs::write(p.join(".hidden.parquet"), b"z").expect("hidden");
        std::fs::create_dir_all(l.family(Family::Watch).join("not-a-partition")).expect("dir");
        let files = family_files(&l, Family::Watch).expect("list");
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(files[0].date, "2026-03-01");
        assert_eq!(
            files[0].key(),
            "watch/date=2026-03-01/part-1-2-a0001.parquet"
        );
        assert_eq!(files[0].bytes, 1);
        assert!(family_files(&l, Family::Player).expect("empty").is_empty());
        let sig = signature(&l, &[Family::Watch, Family::Player]).expect("sig");
        assert_eq!((sig.files, sig.bytes), (1, 1));
        assert_eq!(event_files(&l).expect("all").len(), 1);
    }
}
