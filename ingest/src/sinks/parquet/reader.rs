//! Reading the lake back: every committed file of every family, as wire
//! events (tests, checks, tools). Temp files are never read.

use std::fs::File;
use std::path::{Path, PathBuf};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use showrunner_events::WireEvent;
use showrunner_events::arrow::read_batch;

use super::commit::files_under;
use crate::error::{Error, Result};

/// Committed Parquet files under `<lake>/events`, sorted by path.
pub fn lake_files(lake: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = files_under(&lake.join("events"))?
        .into_iter()
        .filter(|(_, name)| name.ends_with(".parquet") && !name.starts_with('.'))
        .map(|(p, _)| p)
        .collect();
    out.sort();
    Ok(out)
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
