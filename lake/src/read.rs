//! Reading the lake back: every committed file of every family, as wire
//! events (tests, checks, tools). Temp files are never read.

use std::fs::File;
use std::path::{Path, PathBuf};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use showrunner_events::WireEvent;
use showrunner_events::arrow::read_batch;

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::listing::event_files;

/// Committed Parquet files under `<lake>/events`, sorted by path.
pub fn lake_files(lake: &Path) -> Result<Vec<PathBuf>> {
    Ok(event_files(&Layout::new(lake))?
        .into_iter()
        .map(|f| f.path)
        .collect())
}

/// Reads one lake file.
pub fn read_file(path: &Path) -> Result<Vec<WireEvent>> {
    let f = File::open(path).map_err(|e| Error::io("open", path, e))?;
    read_events(f)
}

/// Reads one lake file's bytes (from any [`crate::Store`]).
pub fn read_bytes(bytes: bytes::Bytes) -> Result<Vec<WireEvent>> {
    read_events(bytes)
}

/// Reads every committed event of a lake on any store, file by file in key
/// order.
pub async fn read_store(store: &crate::Store) -> Result<Vec<WireEvent>> {
    let mut out = Vec::new();
    for e in store.list_committed(crate::layout::EVENTS).await? {
        out.extend(read_bytes(store.get(&e.key).await?)?);
    }
    Ok(out)
}

fn read_events<R: parquet::file::reader::ChunkReader + 'static>(file: R) -> Result<Vec<WireEvent>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| Error::Parquet(e.to_string()))?;
        out.extend(read_batch(&batch)?);
    }
    Ok(out)
}

/// Reads every committed event of the lake.
pub fn read_lake(lake: &Path) -> Result<Vec<WireEvent>> {
    let mut out = Vec::new();
    for f in lake_files(lake)? {
        out.extend(read_file(&f)?);
    }
    Ok(out)
}
