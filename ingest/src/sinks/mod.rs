//! Where ingested events are written. Today: the Parquet lake.

pub mod parquet;
