//! Compaction: a closed partition's small files rewritten as one, keeping
//! exactly-once, on a directory or an object store ([`Store`]).
//!
//! A live collector makes ingest commit one small file per family and date
//! per batch; readers pay for every file. `compact` rewrites the files of
//! each closed partition (date before `closed_before`) that came from one
//! stream incarnation into one file whose footer holds the **union of
//! their provenance**, so ingest's redelivery lookups find every sequence
//! in it exactly as they found it in the inputs.
//!
//! The steps, each durable before the next: (1) the compacted file is
//! committed ([`Store::commit`]: temp, fsync, rename, fsync dir — or one
//! conditional PUT); (2) each input is removed; (3) on a directory, the
//! directory is fsynced. At every instant each committed sequence is in at
//! least one file, so ingest never writes a row again. A crash after (1)
//! leaves rows in two files for a moment — readers keep one row per
//! `event_id` ([`crate::dedup`]) — and the next run finishes the job first:
//! a file whose sequences are all in a compacted file of the same stream
//! incarnation is redundant and is removed before anything else.
//! Failpoints for the crash tests (`SHOWRUNNER_FAILPOINT`):
//! `compact-after-commit` aborts after (1), `compact-after-remove:N` after
//! the N-th removal.
//!
//! Blocking: call it from a blocking thread ([`Store::blocking`]).

use std::collections::BTreeMap;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;
use showrunner_events::Family;

use crate::error::{Error, Result};
use crate::format::{self, Provenance};
use crate::layout::{COMPACTED_WRITER, is_compacted, keys, part_name};
use crate::store::{Entry, NewFile, Store};

/// What to compact.
#[derive(Debug, Clone, Serialize)]
pub struct CompactOptions {
    /// Partitions with a date before this one (`YYYY-MM-DD`) are closed.
    pub closed_before: String,
    /// A partition is rewritten when it holds at least this many files of
    /// one stream incarnation.
    pub min_files: usize,
}

/// What happened to one partition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PartitionReport {
    /// Family.
    pub family: String,
    /// Date.
    pub date: String,
    /// Files rewritten into one.
    pub files_in: usize,
    /// Rows in them (and in the compacted file).
    pub rows: usize,
    /// Their bytes.
    pub bytes_in: u64,
    /// The compacted file's bytes.
    pub bytes_out: u64,
    /// Files of an interrupted compaction removed first (all their rows
    /// were already in a compacted file).
    pub redundant_removed: usize,
}

/// A compaction run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Closed partitions looked at.
    pub partitions_seen: usize,
    /// The partitions changed.
    pub compacted: Vec<PartitionReport>,
}

impl Report {
    /// Files rewritten, over every partition.
    pub fn files_in(&self) -> usize {
        self.compacted.iter().map(|p| p.files_in).sum()
    }
}

/// Compacts every closed partition of every family.
pub fn compact(store: &Store, opts: &CompactOptions) -> Result<Report> {
    let mut report = Report::default();
    for family in Family::ALL {
        let entries = store.blocking(store.list_committed(&keys::family(*family)))?;
        let mut by_date: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
        for e in &entries {
            if let Some((_, date, _)) = keys::parse(&e.key) {
                by_date.entry(date).or_default().push(e);
            }
        }
        for (date, in_partition) in by_date {
            if date >= opts.closed_before.as_str() {
                continue;
            }
            report.partitions_seen += 1;
            if let Some(p) = compact_partition(store, *family, date, &in_partition, opts)? {
                report.compacted.push(p);
            }
        }
    }
    Ok(report)
}

/// One file with its provenance.
struct Input<'a> {
    entry: &'a Entry,
    prov: Provenance,
}

fn compact_partition(
    store: &Store,
    family: Family,
    date: &str,
    files: &[&Entry],
    opts: &CompactOptions,
) -> Result<Option<PartitionReport>> {
    let mut inputs = Vec::with_capacity(files.len());
    for f in files {
        // a file without provenance is not ours to rewrite
        if let Some(prov) = store.blocking(store.provenance(f))? {
            inputs.push(Input { entry: f, prov });
        }
    }
    let mut report = PartitionReport {
        family: family.as_str().to_owned(),
        date: date.to_owned(),
        ..PartitionReport::default()
    };
    let partition = keys::partition(family, date);
    report.redundant_removed = remove_redundant(store, &mut inputs)?;
    if report.redundant_removed > 0 {
        store.blocking(store.sync(&partition))?;
    }
    // one compacted file per stream incarnation
    let mut groups: Vec<Vec<Input<'_>>> = Vec::new();
    for i in inputs {
        match groups.iter_mut().find(|g| {
            g[0].prov.stream == i.prov.stream && g[0].prov.incarnation == i.prov.incarnation
        }) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    let mut removed = 0;
    for mut group in groups
        .into_iter()
        .filter(|g| g.len() >= opts.min_files.max(2))
    {
        group.sort_by_key(|i| i.prov.seqs.bounds());
        rewrite(store, family, date, &group, &mut report, &mut removed)?;
    }
    Ok((report.files_in > 0 || report.redundant_removed > 0).then_some(report))
}

/// Removes the inputs whose sequences a compacted file of the same stream
/// incarnation already holds (left by a compaction interrupted after its
/// commit); they leave `inputs`. Returns how many.
fn remove_redundant(store: &Store, inputs: &mut Vec<Input<'_>>) -> Result<usize> {
    let mut redundant = Vec::new();
    for (k, i) in inputs.iter().enumerate() {
        let covered = inputs.iter().enumerate().any(|(j, c)| {
            j != k
                && is_compacted(c.entry.name())
                && c.prov.stream == i.prov.stream
                && c.prov.incarnation == i.prov.incarnation
                && i.prov.seqs.is_subset(&c.prov.seqs)
                && (!is_compacted(i.entry.name()) || i.prov.seqs.len() < c.prov.seqs.len())
        });
        if covered {
            redundant.push(k);
        }
    }
    for k in redundant.iter().rev() {
        let i = inputs.remove(*k);
        store.blocking(store.delete(&i.entry.key))?;
    }
    Ok(redundant.len())
}

/// Rewrites one group of inputs as one compacted file, then removes them.
fn rewrite(
    store: &Store,
    family: Family,
    date: &str,
    group: &[Input<'_>],
    report: &mut PartitionReport,
    removed: &mut usize,
) -> Result<()> {
    let mut batches = Vec::new();
    let mut seqs = crate::seqs::SeqSet::default();
    let mut rows = 0;
    for i in group {
        let bytes = store.blocking(store.get(&i.entry.key))?;
        for b in ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()? {
            let b = b.map_err(|e| Error::Parquet(e.to_string()))?;
            rows += b.num_rows();
            batches.push(b);
        }
        seqs = seqs.union(&i.prov.seqs);
        report.bytes_in += i.entry.bytes;
    }
    let first = &group[0].prov;
    let (lo, hi) = seqs.bounds().unwrap_or((0, 0));
    let bytes = format::encode_batches(
        &batches,
        format::properties(&first.stream, &first.incarnation, &seqs)?,
    )?;
    // named by the count too: a later compaction of the same span (late
    // files inside it) holds more sequences, so never takes an input's name
    let name = part_name(lo, hi, COMPACTED_WRITER, seqs.len());
    let bytes_out = bytes.len() as u64;
    let file = NewFile {
        key: keys::file(family, date, &name),
        bytes: bytes.into(),
    };
    store.blocking(store.commit(std::slice::from_ref(&file)))?;
    failpoint("compact-after-commit", 0);
    for i in group {
        store.blocking(store.delete(&i.entry.key))?;
        *removed += 1;
        failpoint("compact-after-remove", *removed);
    }
    store.blocking(store.sync(&keys::partition(family, date)))?;
    report.files_in += group.len();
    report.rows += rows;
    report.bytes_out += bytes_out;
    tracing::info!(
        partition = %keys::partition(family, date),
        files = group.len(),
        rows,
        "compacted"
    );
    Ok(())
}

/// Aborts the process at a named point when `SHOWRUNNER_FAILPOINT` says so
/// (`name`, or `name:N` to abort at the N-th time `count` reaches N).
fn failpoint(name: &str, count: usize) {
    let Ok(fp) = std::env::var("SHOWRUNNER_FAILPOINT") else {
        return;
    };
    let hit = match fp.strip_prefix(name) {
        Some("") => true,
        Some(rest) => rest.strip_prefix(':').and_then(|n| n.parse::<usize>().ok()) == Some(count),
        None => false,
    };
    if hit {
        tracing::error!(failpoint = %fp, "failpoint {name}: aborting");
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Layout;
    use crate::commit::commit_file;
    use crate::listing::family_files;
    use crate::seqs::SeqSet;
    use showrunner_events::arrow::BatchBuilder;

    /// Commits one watch file of `n` example-shaped rows with these
    /// sequences, as ingest would.
    fn ingest_file(layout: &Layout, date: &str, seqs: &[u64], writer: &str, k: u64) {
        let mut b = BatchBuilder::new(Family::Watch, 8);
        let example = showrunner_events::examples::examples()
            .into_iter()
            .find(|e| e.family() == Family::Watch)
            .expect("watch example");
        for s in seqs {
            let mut e = example.clone();
            e.envelope.event_id = uuid_of(*s);
            b.append(&e.to_wire());
        }
        let batch = b.finish().expect("batch");
        let set = SeqSet::from_seqs(seqs);
        let (lo, hi) = set.bounds().expect("seqs");
        let bytes = format::encode(
            &batch,
            format::properties("EVENTS", "1", &set).expect("props"),
        )
        .expect("encode");
        commit_file(
            &layout.partition(Family::Watch, date),
            &part_name(lo, hi, writer, k),
            &bytes,
        )
        .expect("commit");
    }

    fn uuid_of(s: u64) -> uuid::Uuid {
        uuid::Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0000 | u128::from(s))
    }

    fn opts() -> CompactOptions {
        CompactOptions {
            closed_before: "2026-03-02".into(),
            min_files: 2,
        }
    }

    #[test]
    fn a_closed_partition_becomes_one_file_with_the_union_of_provenance() {
        let dir = tempfile::tempdir().expect("tmp");
        let l = Layout::new(dir.path());
        ingest_file(&l, "2026-03-01", &[1, 2, 3], "aaaa", 1);
        ingest_file(&l, "2026-03-01", &[7, 9], "aaaa", 2);
        ingest_file(&l, "2026-03-01", &[4], "bbbb", 1);
        // open: left alone
        ingest_file(&l, "2026-03-02", &[5], "aaaa", 3);
        ingest_file(&l, "2026-03-02", &[6], "aaaa", 4);
        let r = compact(&Store::dir(l.root()), &opts()).expect("compact");
        assert_eq!(r.partitions_seen, 1);
        assert_eq!(r.compacted.len(), 1);
        assert_eq!((r.compacted[0].files_in, r.compacted[0].rows), (3, 6));
        let files = family_files(&l, Family::Watch).expect("ls");
        let closed: Vec<_> = files.iter().filter(|f| f.date == "2026-03-01").collect();
        assert_eq!(closed.len(), 1, "{closed:?}");
        assert!(is_compacted(&closed[0].name));
        let p = format::read_provenance(&closed[0].path)
            .expect("footer")
            .expect("provenance");
        assert_eq!(p.seqs.encode(), "1-4,7,9");
        assert_eq!(
            crate::read::read_file(&closed[0].path).expect("rows").len(),
            6
        );
        assert_eq!(files.iter().filter(|f| f.date == "2026-03-02").count(), 2);
        // a second run has nothing to do
        assert!(
            compact(&Store::dir(l.root()), &opts())
                .expect("again")
                .compacted
                .is_empty()
        );
        // late files join the compacted one; the old compacted file goes
        ingest_file(&l, "2026-03-01", &[8], "cccc", 1);
        ingest_file(&l, "2026-03-01", &[10], "cccc", 2);
        let r = compact(&Store::dir(l.root()), &opts()).expect("late");
        assert_eq!(r.compacted[0].files_in, 3);
        let closed: Vec<_> = family_files(&l, Family::Watch)
            .expect("ls")
            .into_iter()
            .filter(|f| f.date == "2026-03-01")
            .collect();
        assert_eq!(closed.len(), 1);
        let p = format::read_provenance(&closed[0].path)
            .expect("footer")
            .expect("provenance");
        assert_eq!(p.seqs.encode(), "1-4,7-10");
    }

    #[test]
    fn files_already_in_a_compacted_file_are_removed_first() {
        let dir = tempfile::tempdir().expect("tmp");
        let l = Layout::new(dir.path());
        ingest_file(&l, "2026-03-01", &[1, 2], "aaaa", 1);
        ingest_file(&l, "2026-03-01", &[3], "aaaa", 2);
        // what a compaction interrupted after its commit leaves: the
        // compacted file beside its inputs
        ingest_file(&l, "2026-03-01", &[1, 2, 3], COMPACTED_WRITER, 3);
        let r = compact(&Store::dir(l.root()), &opts()).expect("compact");
        assert_eq!(r.compacted[0].redundant_removed, 2);
        assert_eq!(r.compacted[0].files_in, 0);
        let files = family_files(&l, Family::Watch).expect("ls");
        assert_eq!(files.len(), 1);
        assert!(is_compacted(&files[0].name));
    }
}
