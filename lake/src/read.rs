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
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)?.build()?;
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
