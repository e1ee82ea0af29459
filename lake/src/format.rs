//! The Parquet encoding of event files (zstd), with the stream name, its
//! incarnation and the set of stream sequences the file holds in the footer.

use std::fs::File;
use std::path::Path;

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnPath;

use crate::error::{Error, Result};
use crate::seqs::SeqSet;

/// Footer key: the JetStream stream the rows came from.
pub const META_STREAM: &str = "showrunner.stream";
/// Footer key: the stream's creation time (ns since the epoch), which tells
/// it from an earlier stream of the same name.
pub const META_INCARNATION: &str = "showrunner.stream_created";
/// Footer key: the stream sequences of the rows ([`SeqSet::encode`]).
pub const META_SEQS: &str = "showrunner.seqs";

/// Writer properties of lake files: zstd level 1, statistics, and the
/// provenance metadata.
pub fn properties(stream: &str, incarnation: &str, seqs: &SeqSet) -> Result<WriterProperties> {
    let level = ZstdLevel::try_new(1).map_err(|e| Error::Parquet(e.to_string()))?;
    let mut b = WriterProperties::builder();
    // unique per row: a dictionary is built and thrown away, pure cost
    for col in ["event_id", "occurred_at", "received_at"] {
        b = b.set_column_dictionary_enabled(ColumnPath::from(col), false);
    }
    Ok(b.set_compression(Compression::ZSTD(level))
        .set_created_by(format!("showrunner {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(META_STREAM.into(), stream.to_owned()),
            KeyValue::new(META_INCARNATION.into(), incarnation.to_owned()),
            KeyValue::new(META_SEQS.into(), seqs.encode()),
        ]))
        .build())
}

/// Encodes `batch` as a complete Parquet file in memory.
pub fn encode(batch: &RecordBatch, props: WriterProperties) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(batch.get_array_memory_size() / 4 + 4096);
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props))?;
    w.write(batch)?;
    w.close()?;
    Ok(buf)
}

/// Encodes `batches` (non-empty, one schema: the first's) as one Parquet
/// file in memory.
pub fn encode_batches(batches: &[RecordBatch], props: WriterProperties) -> Result<Vec<u8>> {
    let schema = batches
        .first()
        .ok_or_else(|| Error::Parquet("no batches to encode".into()))?
        .schema();
    let size: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
    let mut buf = Vec::with_capacity(size / 4 + 4096);
    let mut w = ArrowWriter::try_new(&mut buf, schema, Some(props))?;
    for b in batches {
        w.write(b)?;
    }
    w.close()?;
    Ok(buf)
}

/// Where a lake file's rows came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// Stream name.
    pub stream: String,
    /// Stream creation time, ns since the epoch.
    pub incarnation: String,
    /// Stream sequences of the rows.
    pub seqs: SeqSet,
}

/// Reads the provenance of a lake file from its footer.
pub fn read_provenance(path: &Path) -> Result<Option<Provenance>> {
    let f = File::open(path).map_err(|e| Error::io("open", path, e))?;
    provenance_of(f, &path.display().to_string())
}

/// [`read_provenance`] of a file's bytes (an object store's `key`).
pub fn read_provenance_bytes(bytes: bytes::Bytes, key: &str) -> Result<Option<Provenance>> {
    provenance_of(bytes, key)
}

/// [`read_provenance`] of a file's Parquet metadata alone (the footer's
/// bytes before its last eight: what a ranged read of an object fetches).
pub fn provenance_from_footer(metadata: &[u8], what: &str) -> Result<Option<Provenance>> {
    let meta = parquet::file::metadata::ParquetMetaDataReader::decode_metadata(metadata)?;
    provenance_in(&meta, what)
}

fn provenance_of<R: parquet::file::reader::ChunkReader + 'static>(
    file: R,
    what: &str,
) -> Result<Option<Provenance>> {
    let reader = SerializedFileReader::new(file)?;
    provenance_in(reader.metadata(), what)
}

fn provenance_in(
    meta: &parquet::file::metadata::ParquetMetaData,
    what: &str,
) -> Result<Option<Provenance>> {
    let kv = meta.file_metadata().key_value_metadata();
    let get = |k: &str| {
        kv.and_then(|kv| kv.iter().find(|x| x.key == k))
            .and_then(|x| x.value.clone())
    };
    match (get(META_STREAM), get(META_INCARNATION), get(META_SEQS)) {
        (Some(stream), Some(incarnation), Some(seqs)) => {
            let seqs = SeqSet::decode(&seqs)
                .ok_or_else(|| Error::Parquet(format!("{what}: bad {META_SEQS}")))?;
            Ok(Some(Provenance {
                stream,
                incarnation,
                seqs,
            }))
        }
        _ => Ok(None),
    }
}
