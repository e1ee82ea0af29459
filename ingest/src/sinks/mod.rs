//! Where ingested events are written: the Parquet lake; ClickHouse's
//! schema (the ClickHouse sink itself is not built yet).

pub mod clickhouse;
pub mod parquet;
