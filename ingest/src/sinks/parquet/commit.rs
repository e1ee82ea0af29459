//! Atomic, durable file commits: write a hidden temp file, fsync it, rename
//! it into place, fsync the directory. A reader sees a file whole or not at
//! all; a crash leaves at most a hidden temp file, removed at the next start.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};

/// Prefix of temp files: hidden (Spark and Hive skip dot files).
pub const TEMP_PREFIX: &str = ".tmp-";
/// Suffix of temp files: not `.parquet`, so `*.parquet` globs (DuckDB,
/// polars) never match a file being written — DuckDB's globs do match
/// hidden files.
pub const TEMP_SUFFIX: &str = ".tmp";

/// Writes `bytes` to `dir/name` atomically and durably.
pub fn commit_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    create_dir_durably(dir)?;
    let tmp = dir.join(format!("{TEMP_PREFIX}{name}{TEMP_SUFFIX}"));
    let dest = dir.join(name);
    let mut f = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    f.write_all(bytes)
        .map_err(|e| Error::io("write", &tmp, e))?;
    f.sync_all().map_err(|e| Error::io("fsync", &tmp, e))?;
    drop(f);
    fs::rename(&tmp, &dest).map_err(|e| Error::io("rename", &tmp, e))?;
    sync_dir(dir)?;
    Ok(dest)
}

/// Creates `dir` and any missing parents, fsyncing each new directory's
/// parent so the new entries survive a power loss.
pub fn create_dir_durably(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut d = dir;
    while !d.exists() {
        missing.push(d.to_path_buf());
        match d.parent() {
            Some(p) => d = p,
            None => break,
        }
    }
    fs::create_dir_all(dir).map_err(|e| Error::io("create dir", dir, e))?;
    for created in missing.iter().rev() {
        if let Some(parent) = created.parent() {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

/// Fsyncs a directory so a rename in it is durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync dir", dir, e))
}

/// Whether a file name is one of our temp files.
pub fn is_temp(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// Every file below `root` (recursively), with its name; a missing root
/// is empty.
pub fn files_under(root: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("list", &dir, e)),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            } else {
                out.push((path, entry.file_name().to_string_lossy().into_owned()));
            }
        }
    }
    Ok(out)
}

/// Removes temp files under `root` older than `min_age` (left by crashed
/// writers; younger ones may belong to a live writer). Returns how many.
pub fn remove_stale_temps(root: &Path, min_age: Duration) -> Result<usize> {
    let now = SystemTime::now();
    let mut removed = 0;
    for (path, name) in files_under(root)? {
        if !is_temp(&name) {
            continue;
        }
        let age = fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok());
        if age.is_none_or(|a| a >= min_age) {
            fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_is_visible_whole_and_temps_are_swept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = commit_file(dir.path(), "a.parquet", b"hello").expect("commit");
        assert_eq!(fs::read(&p).expect("read"), b"hello");
        fs::write(
            dir.path()
                .join(format!("{TEMP_PREFIX}b.parquet{TEMP_SUFFIX}")),
            b"x",
        )
        .expect("write");
        let names: Vec<String> = fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names.iter().filter(|n| n.ends_with(".parquet")).count(),
            1,
            "{names:?}"
        );
        assert_eq!(
            remove_stale_temps(dir.path(), Duration::from_secs(3600)).expect("sweep"),
            0
        );
        assert_eq!(
            remove_stale_temps(dir.path(), Duration::ZERO).expect("sweep"),
            1
        );
        assert!(p.exists());
    }
}
