//! Where the lake's bytes live: a local directory, or an object store
//! (`s3://bucket/prefix`, any S3-compatible server). [`Store`] is the one
//! place that reads, lists and commits event files on either, by key — a
//! `/`-separated path relative to the lake root, as [`crate::layout`]
//! spells it (`events/watch/date=2026-03-01/part-….parquet`).
//!
//! The commit keeps its invariant on both: a file is visible whole or not
//! at all, and a name is never written twice.
//!
//! - directory: temp file, fsync, rename, fsync of the directory
//!   ([`crate::commit::commit_files`]);
//! - object store: a conditional create (`PutMode::Create`, sent as
//!   `If-None-Match: *`): an object appears whole when its PUT completes,
//!   and a second PUT of the same key fails instead of replacing it. There
//!   are no temp files to sweep.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use parquet::file::metadata::FooterTail;
use serde::{Deserialize, Serialize};
use url::Url;

/// Bytes of a Parquet file's tail: metadata length and magic.
const FOOTER_SIZE: u64 = 8;

use crate::commit::{self, Pending};
use crate::error::{Error, Result};
use crate::format::{self, Provenance};
use crate::listing::is_committed_name;

/// Connection settings of an S3-compatible store (`[lake.s3]`). Empty
/// fields fall back to the usual `AWS_*` environment variables.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// Endpoint URL (e.g. `http://127.0.0.1:8333`); empty: AWS itself.
    pub endpoint: String,
    /// Region; empty: `AWS_REGION`, else `us-east-1`.
    pub region: String,
    /// Access key id; empty: `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// Secret access key; empty: `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// Allow plain `http://` endpoints (local servers).
    pub allow_http: bool,
}

/// A committed (or any) object of the lake, by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its key, relative to the lake root.
    pub key: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Last modification (its commit).
    pub modified: Option<SystemTime>,
}

impl Entry {
    /// The last segment of the key.
    pub fn name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or(&self.key)
    }
}

/// One file of a [`Store::commit`].
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Its key, relative to the lake root.
    pub key: String,
    /// Its content.
    pub bytes: Bytes,
}

#[derive(Clone)]
enum Backend {
    Dir(PathBuf),
    Object {
        store: Arc<dyn ObjectStore>,
        /// `s3://bucket` — what a query engine registers the store under.
        base: Url,
        /// The lake root inside the bucket.
        prefix: ObjectPath,
    },
}

/// A lake's storage: a directory or an object store.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Store({self})")
    }
}

impl fmt::Display for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            Backend::Dir(p) => write!(f, "{}", p.display()),
            Backend::Object { base, prefix, .. } => write!(f, "{base}/{prefix}"),
        }
    }
}

impl From<PathBuf> for Store {
    fn from(p: PathBuf) -> Self {
        Store::dir(p)
    }
}

impl From<&Path> for Store {
    fn from(p: &Path) -> Self {
        Store::dir(p)
    }
}

/// Whether a configured lake path is a URL (`<scheme>://…`) rather than a
/// directory; [`Store::open`] takes `s3://` and `file://` and refuses the
/// other schemes.
pub fn is_url(path: &str) -> bool {
    path.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+')
    })
}

impl Store {
    /// A directory lake.
    pub fn dir(root: impl Into<PathBuf>) -> Self {
        Store {
            backend: Backend::Dir(root.into()),
        }
    }

    /// The lake at `path`: a directory, `file:///abs/dir`, or
    /// `s3://bucket/prefix` reached with `s3`.
    pub fn open(path: &str, s3: &S3Config) -> Result<Self> {
        if !is_url(path) {
            return Ok(Store::dir(path));
        }
        let url =
            Url::parse(path).map_err(|e| Error::Config(format!("lake.path `{path}`: {e}")))?;
        match url.scheme() {
            "file" => url
                .to_file_path()
                .map(Store::dir)
                .map_err(|()| Error::Config(format!("lake.path `{path}`: not a local path"))),
            "s3" => Self::s3(&url, s3),
            other => Err(Error::Config(format!(
                "lake.path `{path}`: unsupported scheme `{other}` (a directory, file:// or s3://)"
            ))),
        }
    }

    fn s3(url: &Url, s3: &S3Config) -> Result<Self> {
        let bucket = url
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| Error::Config(format!("lake.path `{url}`: no bucket")))?;
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let set = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        if let Some(v) = set(&s3.endpoint) {
            b = b.with_endpoint(v);
        }
        if let Some(v) = set(&s3.region) {
            b = b.with_region(v);
        }
        if let Some(v) = set(&s3.access_key_id) {
            b = b.with_access_key_id(v);
        }
        if let Some(v) = set(&s3.secret_access_key) {
            b = b.with_secret_access_key(v);
        }
        if s3.allow_http {
            b = b.with_allow_http(true);
        }
        let store = b
            .build()
            .map_err(|e| Error::Config(format!("lake.path `{url}`: {e}")))?;
        let base = Url::parse(&format!("s3://{bucket}"))
            .map_err(|e| Error::Config(format!("lake.path `{url}`: {e}")))?;
        Ok(Store {
            backend: Backend::Object {
                store: Arc::new(store),
                base,
                prefix: ObjectPath::from(url.path().trim_matches('/')),
            },
        })
    }

    /// Runs one of this store's operations from synchronous code: at once
    /// on a directory (its operations never wait), on the current tokio
    /// runtime for an object store — from a blocking thread
    /// (`spawn_blocking`), never from inside a task.
    pub fn blocking<T>(&self, op: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        match &self.backend {
            Backend::Dir(_) => futures::executor::block_on(op),
            Backend::Object { .. } => match tokio::runtime::Handle::try_current() {
                Ok(rt) => rt.block_on(op),
                Err(_) => Err(Error::Config(format!(
                    "the object-store lake {self} is used outside a tokio runtime"
                ))),
            },
        }
    }

    /// The root directory of a directory lake; `None` on an object store.
    pub fn local_root(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Dir(p) => Some(p),
            Backend::Object { .. } => None,
        }
    }

    /// The object store and the URL a query engine registers it under
    /// (`s3://bucket`); `None` for a directory lake.
    pub fn object_store(&self) -> Option<(&Url, Arc<dyn ObjectStore>)> {
        match &self.backend {
            Backend::Dir(_) => None,
            Backend::Object { store, base, .. } => Some((base, store.clone())),
        }
    }

    /// Where a query engine finds `key` (a directory of the lake): a local
    /// path, or `s3://bucket/prefix/key/`.
    pub fn table_url(&self, key: &str) -> String {
        match &self.backend {
            Backend::Dir(p) => p.join(key).to_string_lossy().into_owned(),
            Backend::Object { base, prefix, .. } => {
                format!("{base}/{}/", self.object_path(prefix, key))
            }
        }
    }

    fn object_path(&self, prefix: &ObjectPath, key: &str) -> ObjectPath {
        let mut p = prefix.clone();
        for part in key.split('/').filter(|s| !s.is_empty()) {
            p = p.clone().join(part);
        }
        p
    }

    /// Every object under `under` (a key prefix ending at a `/` boundary),
    /// recursively, sorted by key. Directory lakes list files only (temp
    /// files included: filter with [`is_committed_name`]). A missing prefix
    /// is empty.
    pub async fn list(&self, under: &str) -> Result<Vec<Entry>> {
        let mut out = match &self.backend {
            Backend::Dir(root) => commit::files_under(&root.join(under))?
                .into_iter()
                .filter_map(|(path, _)| {
                    let rel = path.strip_prefix(root).ok()?;
                    let key = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    let meta = std::fs::metadata(&path).ok();
                    Some(Entry {
                        key,
                        bytes: meta.as_ref().map_or(0, |m| m.len()),
                        modified: meta.and_then(|m| m.modified().ok()),
                    })
                })
                .collect(),
            Backend::Object { store, prefix, .. } => {
                let at = self.object_path(prefix, under);
                let skip = if prefix.as_ref().is_empty() {
                    0
                } else {
                    prefix.as_ref().len() + 1
                };
                store
                    .list(Some(&at))
                    .map_err(|e| Error::object("list", &at, e))
                    .map_ok(|m| Entry {
                        key: m.location.as_ref()[skip..].to_owned(),
                        bytes: m.size,
                        modified: u64::try_from(m.last_modified.timestamp_millis())
                            .ok()
                            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
                    })
                    .try_collect::<Vec<_>>()
                    .await?
            }
        };
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// The committed data files under `under` ([`is_committed_name`]).
    pub async fn list_committed(&self, under: &str) -> Result<Vec<Entry>> {
        let mut all = self.list(under).await?;
        all.retain(|e| is_committed_name(e.name()));
        Ok(all)
    }

    /// The bytes of `key`.
    pub async fn get(&self, key: &str) -> Result<Bytes> {
        match &self.backend {
            Backend::Dir(root) => {
                let path = root.join(key);
                std::fs::read(&path)
                    .map(Bytes::from)
                    .map_err(|e| Error::io("read", &path, e))
            }
            Backend::Object { store, prefix, .. } => {
                let at = self.object_path(prefix, key);
                let got = store
                    .get(&at)
                    .await
                    .map_err(|e| Error::object("get", &at, e))?;
                got.bytes().await.map_err(|e| Error::object("get", &at, e))
            }
        }
    }

    /// The provenance footer of a listed file, reading the footer only: on
    /// a directory by seeking, on an object store with two ranged GETs
    /// (the 8-byte tail, then the metadata it sizes) instead of the whole
    /// object.
    pub async fn provenance(&self, entry: &Entry) -> Result<Option<Provenance>> {
        match &self.backend {
            Backend::Dir(root) => format::read_provenance(&root.join(&entry.key)),
            Backend::Object { store, prefix, .. } => {
                let at = self.object_path(prefix, &entry.key);
                let size = entry.bytes;
                let tail_at = size
                    .checked_sub(FOOTER_SIZE)
                    .ok_or_else(|| Error::Parquet(format!("{}: too short", entry.key)))?;
                let tail = store
                    .get_range(&at, tail_at..size)
                    .await
                    .map_err(|e| Error::object("get", &at, e))?;
                let len = FooterTail::try_from(&tail[..])?.metadata_length() as u64;
                let meta_at = tail_at
                    .checked_sub(len)
                    .ok_or_else(|| Error::Parquet(format!("{}: bad footer", entry.key)))?;
                let meta = store
                    .get_range(&at, meta_at..tail_at)
                    .await
                    .map_err(|e| Error::object("get", &at, e))?;
                format::provenance_from_footer(&meta, &entry.key)
            }
        }
    }

    /// Removes `key` (compaction's superseded inputs).
    pub async fn delete(&self, key: &str) -> Result<()> {
        match &self.backend {
            Backend::Dir(root) => {
                let path = root.join(key);
                std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))
            }
            Backend::Object { store, prefix, .. } => {
                let at = self.object_path(prefix, key);
                store
                    .delete(&at)
                    .await
                    .map_err(|e| Error::object("delete", &at, e))
            }
        }
    }

    /// The size and modification time of `key`, `None` when there is no
    /// such file (one `stat` or one HEAD): how a server notices that
    /// derived data it serves was replaced.
    pub async fn head(&self, key: &str) -> Result<Option<Entry>> {
        match &self.backend {
            Backend::Dir(root) => {
                let path = root.join(key);
                match std::fs::metadata(&path) {
                    Ok(m) => Ok(Some(Entry {
                        key: key.to_owned(),
                        bytes: m.len(),
                        modified: m.modified().ok(),
                    })),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Error::io("stat", &path, e)),
                }
            }
            Backend::Object { store, prefix, .. } => {
                let at = self.object_path(prefix, key);
                match store.head(&at).await {
                    Ok(m) => Ok(Some(Entry {
                        key: key.to_owned(),
                        bytes: m.size,
                        modified: u64::try_from(m.last_modified.timestamp_millis())
                            .ok()
                            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
                    })),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(Error::object("head", &at, e)),
                }
            }
        }
    }

    /// The bytes of `key`, `None` when there is no such file.
    pub async fn get_opt(&self, key: &str) -> Result<Option<Bytes>> {
        match &self.backend {
            Backend::Dir(root) => {
                let path = root.join(key);
                match std::fs::read(&path) {
                    Ok(b) => Ok(Some(Bytes::from(b))),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Error::io("read", &path, e)),
                }
            }
            Backend::Object { store, prefix, .. } => {
                let at = self.object_path(prefix, key);
                match store.get(&at).await {
                    Ok(got) => Ok(Some(
                        got.bytes()
                            .await
                            .map_err(|e| Error::object("get", &at, e))?,
                    )),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(Error::object("get", &at, e)),
                }
            }
        }
    }

    /// Writes derived data (a metric table's month, a state file) at
    /// `key`, replacing what is there, whole or not at all: on a directory
    /// temp, fsync, rename, fsync dir; on an object store one PUT. Event
    /// files are never replaced: they are [`commit`](Self::commit)ted.
    pub async fn replace(&self, key: &str, bytes: Bytes) -> Result<()> {
        match &self.backend {
            Backend::Dir(root) => {
                let (dir, name) = key.rsplit_once('/').unwrap_or(("", key));
                commit::commit_file(&root.join(dir), name, &bytes).map(|_| ())
            }
            Backend::Object { store, prefix, .. } => {
                let at = self.object_path(prefix, key);
                store
                    .put(&at, PutPayload::from_bytes(bytes))
                    .await
                    .map(|_| ())
                    .map_err(|e| Error::object("put", &at, e))
            }
        }
    }

    /// Removes `key` if it is there; whether it was (an object store is
    /// asked with a HEAD first: its DELETE succeeds either way).
    pub async fn delete_if_exists(&self, key: &str) -> Result<bool> {
        match &self.backend {
            Backend::Dir(root) => {
                let path = root.join(key);
                match std::fs::remove_file(&path) {
                    Ok(()) => Ok(true),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                    Err(e) => Err(Error::io("remove", &path, e)),
                }
            }
            Backend::Object { store, prefix, .. } => {
                let at = self.object_path(prefix, key);
                match store.head(&at).await {
                    Ok(_) => self.delete(key).await.map(|()| true),
                    Err(object_store::Error::NotFound { .. }) => Ok(false),
                    Err(e) => Err(Error::object("head", &at, e)),
                }
            }
        }
    }

    /// Makes the removals under `under` durable: fsyncs that directory of
    /// a directory lake (a missing one has nothing to sync); an object
    /// store's deletes are durable when they return.
    pub async fn sync(&self, under: &str) -> Result<()> {
        match &self.backend {
            Backend::Dir(root) => {
                let dir = root.join(under);
                match dir.is_dir() {
                    true => commit::sync_dir(&dir),
                    false => Ok(()),
                }
            }
            Backend::Object { .. } => Ok(()),
        }
    }

    /// Commits new files, each whole or absent after a crash, all durable
    /// before this returns (see the module header). Names are never
    /// reused: an object store refuses a second create of a key
    /// ([`Error::Exists`]); a directory lake relies on the names carrying
    /// the writer's id and count, so that two never meet.
    pub async fn commit(&self, files: &[NewFile]) -> Result<Vec<String>> {
        match &self.backend {
            Backend::Dir(root) => {
                let split: Vec<(PathBuf, &str, &[u8])> = files
                    .iter()
                    .map(|f| {
                        let (dir, name) = f.key.rsplit_once('/').unwrap_or(("", &f.key));
                        (root.join(dir), name, f.bytes.as_ref())
                    })
                    .collect();
                let pending: Vec<Pending<'_>> = split
                    .iter()
                    .map(|(dir, name, bytes)| Pending { dir, name, bytes })
                    .collect();
                commit::commit_files(&pending)?;
            }
            Backend::Object { store, prefix, .. } => {
                let puts = files.iter().map(|f| {
                    let at = self.object_path(prefix, &f.key);
                    let store = store.clone();
                    let payload = PutPayload::from_bytes(f.bytes.clone());
                    async move {
                        let opts = PutOptions {
                            mode: PutMode::Create,
                            ..PutOptions::default()
                        };
                        match store.put_opts(&at, payload, opts).await {
                            Ok(_) => Ok(()),
                            Err(object_store::Error::AlreadyExists { .. }) => {
                                Err(Error::Exists(at.to_string()))
                            }
                            Err(e) => Err(Error::object("put", &at, e)),
                        }
                    }
                });
                futures::stream::iter(puts)
                    .buffer_unordered(16)
                    .try_collect::<Vec<()>>()
                    .await?;
            }
        }
        Ok(files.iter().map(|f| f.key.clone()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls_pick_the_backend() {
        let s3 = S3Config::default();
        let d = Store::open("some/dir", &s3).expect("dir");
        assert_eq!(d.local_root(), Some(Path::new("some/dir")));
        let f = Store::open("file:///tmp/lake", &s3).expect("file url");
        assert_eq!(f.local_root(), Some(Path::new("/tmp/lake")));
        assert!(Store::open("gs://b/p", &s3).is_err());
        let o = Store::open(
            "s3://bucket/a/lake",
            &S3Config {
                endpoint: "http://127.0.0.1:1".into(),
                region: "us-east-1".into(),
                access_key_id: "k".into(),
                secret_access_key: "s".into(),
                allow_http: true,
            },
        )
        .expect("s3");
        assert!(o.local_root().is_none());
        assert_eq!(
            o.table_url("events/watch"),
            "s3://bucket/a/lake/events/watch/"
        );
        assert_eq!(o.to_string(), "s3://bucket/a/lake");
    }

    #[tokio::test]
    async fn a_directory_store_commits_lists_and_reads_by_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = Store::dir(dir.path());
        let keys = s
            .commit(&[
                NewFile {
                    key: "events/watch/date=2026-03-01/part-1-2-a0001.parquet".into(),
                    bytes: Bytes::from_static(b"one"),
                },
                NewFile {
                    key: "events/player/date=2026-03-02/part-3-3-a0002.parquet".into(),
                    bytes: Bytes::from_static(b"two"),
                },
            ])
            .await
            .expect("commit");
        assert_eq!(keys.len(), 2);
        let listed = s.list_committed("events").await.expect("list");
        assert_eq!(
            listed.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            [
                "events/player/date=2026-03-02/part-3-3-a0002.parquet",
                "events/watch/date=2026-03-01/part-1-2-a0001.parquet"
            ]
        );
        assert_eq!(listed[0].bytes, 3);
        assert_eq!(listed[1].name(), "part-1-2-a0001.parquet");
        assert_eq!(&s.get(&listed[1].key).await.expect("get")[..], b"one");
        s.delete(&listed[1].key).await.expect("delete");
        assert_eq!(s.list_committed("events").await.expect("list").len(), 1);
        assert!(s.list("nothing/here").await.expect("missing").is_empty());
    }
}
