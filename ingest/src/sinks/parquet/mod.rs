//! The Parquet lake sink: `<lake>/events/<family>/date=YYYY-MM-DD/*.parquet`.
//!
//! Exactly-once in the files: every file records, in its footer, the stream
//! and the JetStream sequences of its rows, and is committed atomically
//! ([`commit`]) before any of them is acked. A message that may already be
//! in the lake — redelivered (`delivered > 1`) or at or below the highest
//! sequence found in the lake at start-up — is looked up in its own
//! partition (its family and date are known once decoded) before writing:
//! files whose name range covers the sequence have their footer read
//! (cached). See `docs/ingest.md` for the full argument.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use showrunner_events::Family;
use showrunner_lake::commit::{self, Pending};
use showrunner_lake::layout::{Layout, part_name, part_span};
use showrunner_lake::{format, seqs::SeqSet};

use crate::error::{Error, Result};

/// A committed lake file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedFile {
    /// Where it is.
    pub path: PathBuf,
    /// Rows in it.
    pub rows: usize,
    /// Bytes.
    pub bytes: usize,
}

/// One partition's rows of a batch, to be committed with the others.
#[derive(Debug)]
pub struct PartitionRows {
    /// Their family.
    pub family: Family,
    /// Their partition's date, `YYYY-MM-DD`.
    pub date: String,
    /// The rows.
    pub batch: RecordBatch,
    /// The stream sequences of the rows.
    pub seqs: Vec<u64>,
}

/// The Parquet sink of one stream.
pub struct ParquetSink {
    lake: Layout,
    stream: String,
    incarnation: String,
    writer: String,
    files_written: u64,
    high_water: u64,
    footers: HashMap<PathBuf, Arc<SeqSet>>,
}

impl ParquetSink {
    /// Opens the lake for the stream `stream`: sweeps temp files older than
    /// `stale_after` and finds the highest sequence already committed.
    pub fn open(
        lake: &Path,
        stream: &str,
        incarnation: &str,
        stale_after: Duration,
    ) -> Result<Self> {
        let layout = Layout::new(lake);
        let events = layout.events();
        std::fs::create_dir_all(&events).map_err(|e| Error::io("create dir", &events, e))?;
        let swept = commit::remove_stale_temps(&events, stale_after)?;
        if swept > 0 {
            tracing::info!(files = swept, "removed temp files of interrupted commits");
        }
        let high_water = highest_committed(&events)?;
        Ok(Self {
            lake: layout,
            stream: stream.to_owned(),
            incarnation: incarnation.to_owned(),
            writer: uuid::Uuid::now_v7().simple().to_string()[20..].to_owned(),
            files_written: 0,
            high_water,
            footers: HashMap::new(),
        })
    }

    /// The highest sequence in any lake file name at start-up.
    pub fn high_water(&self) -> u64 {
        self.high_water
    }

    /// Whether a message needs a lake lookup before being written: a
    /// redelivery, or a sequence at or below the highest one in the lake
    /// when the sink opened or written by it since. The second rule does not
    /// trust the server's delivery count for what this process wrote: under
    /// load the tests saw a message written twice by one process — the last
    /// sequence of one file again in a later file — which only a second
    /// copy counted as a first delivery explains.
    pub fn may_be_committed(&self, seq: u64, delivered: i64) -> bool {
        delivered > 1 || seq <= self.high_water
    }

    /// The sequences among `seqs` already committed in one partition by
    /// this stream.
    pub fn committed_in(&mut self, family: Family, date: &str, seqs: &[u64]) -> Result<Vec<u64>> {
        let dir = self.lake.partition(family, date);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list", &dir, e)),
        };
        let mut found = Vec::new();
        let mut candidates: Vec<(PathBuf, (u64, u64))> = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(span) = name.to_str().and_then(part_span) else {
                continue;
            };
            if seqs.iter().any(|s| (span.0..=span.1).contains(s)) {
                candidates.push((entry.path(), span));
            }
        }
        for (path, _) in candidates {
            let set = match self.footers.get(&path) {
                Some(s) => s.clone(),
                None => {
                    let Some(p) = format::read_provenance(&path)? else {
                        continue;
                    };
                    if p.stream != self.stream || p.incarnation != self.incarnation {
                        continue; // another stream, or an earlier one of the same name
                    }
                    let set = Arc::new(p.seqs);
                    self.footers.insert(path.clone(), set.clone());
                    set
                }
            };
            found.extend(seqs.iter().copied().filter(|s| set.contains(*s)));
        }
        found.sort_unstable();
        found.dedup();
        Ok(found)
    }

    /// Encodes and commits one partition's rows; `seqs` are the stream
    /// sequences of the rows.
    pub fn write(
        &mut self,
        family: Family,
        date: &str,
        batch: &RecordBatch,
        seqs: &[u64],
    ) -> Result<CommittedFile> {
        let mut files = self.write_all(vec![PartitionRows {
            family,
            date: date.to_owned(),
            batch: batch.clone(),
            seqs: seqs.to_vec(),
        }])?;
        files
            .pop()
            .ok_or_else(|| Error::Parquet("nothing committed".into()))
    }

    /// Encodes every partition's rows of a batch and commits the files
    /// together ([`commit::commit_files`]: one wait for all their fsyncs).
    /// Each file is whole or absent after a crash, and carries its own
    /// provenance, so the rows of a batch committed only in part are found
    /// by the lookups of its redelivery.
    pub fn write_all(&mut self, parts: Vec<PartitionRows>) -> Result<Vec<CommittedFile>> {
        let mut encoded = Vec::with_capacity(parts.len());
        for p in &parts {
            let set = SeqSet::from_seqs(&p.seqs);
            let (first, last) = set.bounds().unwrap_or((0, 0));
            let bytes = format::encode(
                &p.batch,
                format::properties(&self.stream, &self.incarnation, &set)?,
            )?;
            self.files_written += 1;
            let name = part_name(first, last, &self.writer, self.files_written);
            let dir = self.lake.partition(p.family, &p.date);
            encoded.push((dir, name, bytes, set, last));
        }
        let pending: Vec<Pending<'_>> = encoded
            .iter()
            .map(|(dir, name, bytes, _, _)| Pending { dir, name, bytes })
            .collect();
        let paths = commit::commit_files(&pending)?;
        let mut out = Vec::with_capacity(paths.len());
        for ((path, (_, _, bytes, set, last)), p) in paths.into_iter().zip(encoded).zip(&parts) {
            self.footers.insert(path.clone(), Arc::new(set));
            // what this process wrote is looked up from now on, whatever the
            // delivery count of a later copy says (see `may_be_committed`)
            self.high_water = self.high_water.max(last);
            out.push(CommittedFile {
                path,
                rows: p.batch.num_rows(),
                bytes: bytes.len(),
            });
        }
        Ok(out)
    }
}

/// The highest sequence named by any committed file under `events`.
fn highest_committed(events: &Path) -> Result<u64> {
    Ok(commit::files_under(events)?
        .iter()
        .filter_map(|(_, name)| part_span(name))
        .map(|(_, hi)| hi)
        .max()
        .unwrap_or(0))
}
