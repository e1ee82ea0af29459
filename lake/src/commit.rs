//! Atomic, durable file commits: write a hidden temp file, fsync it, rename
//! it into place, fsync the directory. A reader sees a file whole or not at
//! all; a crash leaves at most a hidden temp file, removed at the next start.
//! [`commit_files`] commits many files at once (their fsyncs overlap, each
//! directory is fsynced once); [`publish_dir`] does the same for a whole
//! directory written under a temp name (model versions).

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

/// One file of a [`commit_files`] call.
#[derive(Debug, Clone, Copy)]
pub struct Pending<'a> {
    /// Its directory (created when missing).
    pub dir: &'a Path,
    /// Its name there.
    pub name: &'a str,
    /// Its content.
    pub bytes: &'a [u8],
}

/// Commits several files, each atomically and all durably before this
/// returns: every temp file is written, the temps are fsynced together
/// (one thread each, so the file system can fold their journal commits),
/// renamed into place, and each directory is fsynced once. A crash part way
/// leaves each file whole or absent (a temp), never partial: a caller that
/// acks only after this returns keeps exactly-once, as with
/// [`commit_file`]. Returns the committed paths, in order.
pub fn commit_files(files: &[Pending<'_>]) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<&Path> = files.iter().map(|f| f.dir).collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        create_dir_durably(d)?;
    }
    let mut temps = Vec::with_capacity(files.len());
    for f in files {
        let tmp = f.dir.join(format!("{TEMP_PREFIX}{}{TEMP_SUFFIX}", f.name));
        let mut file = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        file.write_all(f.bytes)
            .map_err(|e| Error::io("write", &tmp, e))?;
        temps.push((tmp, file));
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = temps
            .iter()
            .map(|(tmp, file)| {
                s.spawn(move || file.sync_all().map_err(|e| Error::io("fsync", tmp, e)))
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })?;
    let mut out = Vec::with_capacity(files.len());
    for ((tmp, file), f) in temps.into_iter().zip(files) {
        drop(file);
        let dest = f.dir.join(f.name);
        fs::rename(&tmp, &dest).map_err(|e| Error::io("rename", &tmp, e))?;
        out.push(dest);
    }
    for d in &dirs {
        sync_dir(d)?;
    }
    Ok(out)
}

/// Writes `bytes` to `path` and fsyncs it (no rename: for files inside a
/// temp directory that [`publish_dir`] renames as a whole).
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io("create", path, e))?;
    f.write_all(bytes)
        .map_err(|e| Error::io("write", path, e))?;
    f.sync_all().map_err(|e| Error::io("fsync", path, e))
}

/// A fresh temp directory for a whole-directory commit of `name` under
/// `parent` (an older one of the same name is removed first).
pub fn temp_dir(parent: &Path, name: &str) -> Result<PathBuf> {
    create_dir_durably(parent)?;
    let tmp = parent.join(format!("{TEMP_PREFIX}{name}"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| Error::io("remove", &tmp, e))?;
    }
    fs::create_dir_all(&tmp).map_err(|e| Error::io("create dir", &tmp, e))?;
    Ok(tmp)
}

/// Renames a directory written with [`temp_dir`] and [`write_synced`]
/// into place as `parent/name`, durably (an existing one is replaced).
pub fn publish_dir(tmp: &Path, parent: &Path, name: &str) -> Result<PathBuf> {
    sync_dir(tmp)?;
    let dest = parent.join(name);
    if dest.exists() {
        fs::remove_dir_all(&dest).map_err(|e| Error::io("remove", &dest, e))?;
    }
    fs::rename(tmp, &dest).map_err(|e| Error::io("rename", tmp, e))?;
    sync_dir(parent)?;
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

    #[test]
    fn many_files_commit_together() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b/c"));
        let files = [
            Pending {
                dir: &a,
                name: "1.parquet",
                bytes: b"one",
            },
            Pending {
                dir: &b,
                name: "2.parquet",
                bytes: b"two",
            },
            Pending {
                dir: &a,
                name: "3.parquet",
                bytes: b"three",
            },
        ];
        let paths = commit_files(&files).expect("commit");
        assert_eq!(
            paths,
            vec![
                a.join("1.parquet"),
                b.join("2.parquet"),
                a.join("3.parquet")
            ]
        );
        assert_eq!(fs::read(&paths[2]).expect("read"), b"three");
        let left: Vec<_> = files_under(dir.path())
            .expect("ls")
            .into_iter()
            .filter(|(_, n)| is_temp(n))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_directory_is_published_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tmp = temp_dir(dir.path(), "v1").expect("tmp");
        write_synced(&tmp.join("m.json"), b"{}").expect("write");
        let v = publish_dir(&tmp, dir.path(), "v1").expect("publish");
        assert_eq!(fs::read(v.join("m.json")).expect("read"), b"{}");
        assert!(!tmp.exists());
    }
}
