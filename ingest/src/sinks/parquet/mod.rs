//! The Parquet lake sink: `<lake>/events/<family>/date=YYYY-MM-DD/*.parquet`,
//! on a directory or an object store ([`Store`]).
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
use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use bytes::Bytes;
use showrunner_events::Family;
use showrunner_lake::layout::{EVENTS, keys, part_name, part_span};
use showrunner_lake::store::{NewFile, Store};
use showrunner_lake::{commit, format, seqs::SeqSet};

use crate::error::{Error, Result};

/// A committed lake file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedFile {
    /// Its key, relative to the lake root.
    pub key: String,
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

/// The Parquet sink of one stream. Its methods block: call them from a
/// blocking thread (an object-store lake runs its requests on the current
/// tokio runtime, [`Store::blocking`]).
pub struct ParquetSink {
    lake: Store,
    stream: String,
    incarnation: String,
    writer: String,
    files_written: u64,
    high_water: u64,
    footers: HashMap<String, Arc<SeqSet>>,
}

impl ParquetSink {
    /// Opens the lake for the stream `stream`: on a directory, sweeps temp
    /// files older than `stale_after` (an object store has none: its
    /// commit is one conditional PUT); finds the highest sequence already
    /// committed.
    pub fn open(
        lake: impl Into<Store>,
        stream: &str,
        incarnation: &str,
        stale_after: Duration,
    ) -> Result<Self> {
        let lake = lake.into();
        if let Some(root) = lake.local_root() {
            let events = root.join(EVENTS);
            std::fs::create_dir_all(&events).map_err(|e| Error::io("create dir", &events, e))?;
            let swept = commit::remove_stale_temps(&events, stale_after)?;
            if swept > 0 {
                tracing::info!(files = swept, "removed temp files of interrupted commits");
            }
        }
        let high_water = lake
            .blocking(lake.list(EVENTS))?
            .iter()
            .filter_map(|e| part_span(e.name()))
            .map(|(_, hi)| hi)
            .max()
            .unwrap_or(0);
        Ok(Self {
            lake,
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
        let lake = self.lake.clone();
        let entries = lake.blocking(lake.list_committed(&keys::partition(family, date)))?;
        let mut found = Vec::new();
        for entry in entries {
            let Some(span) = part_span(entry.name()) else {
                continue;
            };
            if !seqs.iter().any(|s| (span.0..=span.1).contains(s)) {
                continue;
            }
            let set = match self.footers.get(&entry.key) {
                Some(s) => s.clone(),
                None => {
                    let Some(p) = lake.blocking(lake.provenance(&entry))? else {
                        continue;
                    };
                    if p.stream != self.stream || p.incarnation != self.incarnation {
                        continue; // another stream, or an earlier one of the same name
                    }
                    let set = Arc::new(p.seqs);
                    self.footers.insert(entry.key.clone(), set.clone());
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
    /// together ([`Store::commit`]: on a directory one wait for all their
    /// fsyncs, on an object store concurrent conditional PUTs). Each file
    /// is whole or absent after a crash, and carries its own provenance, so
    /// the rows of a batch committed only in part are found by the lookups
    /// of its redelivery — or of its retry: a failed commit raises the high
    /// water mark over the batch's sequences.
    pub fn write_all(&mut self, parts: Vec<PartitionRows>) -> Result<Vec<CommittedFile>> {
        let mut files = Vec::with_capacity(parts.len());
        let mut sets = Vec::with_capacity(parts.len());
        for p in &parts {
            let set = SeqSet::from_seqs(&p.seqs);
            let (first, last) = set.bounds().unwrap_or((0, 0));
            let bytes = format::encode(
                &p.batch,
                format::properties(&self.stream, &self.incarnation, &set)?,
            )?;
            self.files_written += 1;
            let name = part_name(first, last, &self.writer, self.files_written);
            files.push(NewFile {
                key: keys::file(p.family, &p.date, &name),
                bytes: Bytes::from(bytes),
            });
            sets.push((set, last));
        }
        let lake = self.lake.clone();
        if let Err(e) = lake.blocking(lake.commit(&files)) {
            // some of the files may be committed: a retry of the batch (the
            // run loop's, on a lake error) must look its rows up first
            for (_, last) in &sets {
                self.high_water = self.high_water.max(*last);
            }
            return Err(e.into());
        }
        let mut out = Vec::with_capacity(files.len());
        for ((file, (set, last)), p) in files.into_iter().zip(sets).zip(&parts) {
            self.footers.insert(file.key.clone(), Arc::new(set));
            // what this process wrote is looked up from now on, whatever the
            // delivery count of a later copy says (see `may_be_committed`)
            self.high_water = self.high_water.max(last);
            out.push(CommittedFile {
                key: file.key,
                rows: p.batch.num_rows(),
                bytes: file.bytes.len(),
            });
        }
        Ok(out)
    }
}
