//! Read-only SQL: queries only; DDL, DML, `COPY` and `SET`-like statements
//! are refused before planning completes.

use arrow_array::RecordBatch;
use datafusion::execution::context::SQLOptions;

use crate::Lake;
use crate::error::{Error, Result};

/// Runs a read-only query.
pub async fn run(lake: &Lake, sql: &str) -> Result<(Vec<String>, Vec<RecordBatch>)> {
    let opts = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let df = lake
        .ctx()
        .sql_with_options(sql, opts)
        .await
        .map_err(|e| match e {
            datafusion::error::DataFusionError::Plan(m) if m.contains("not supported") => {
                Error::Refused(m)
            }
            other => Error::from(other),
        })?;
    collect(df).await
}

/// Runs a planned query: its column names and result batches.
pub async fn collect(
    df: datafusion::dataframe::DataFrame,
) -> Result<(Vec<String>, Vec<RecordBatch>)> {
    let columns = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    Ok((columns, df.collect().await?))
}
