//! Read-only SQL: queries only; DDL, DML, `COPY` and `SET`-like statements
//! are refused before planning completes.

use arrow_array::RecordBatch;
use datafusion::execution::context::SQLOptions;

use crate::Lake;
use crate::error::{Error, Result};

/// Runs a read-only query.
pub async fn run(lake: &Lake, sql: &str) -> Result<(Vec<String>, Vec<RecordBatch>)> {
    collect(plan(lake, sql).await?).await
}

/// Runs a read-only query for at most `max_rows` rows; also says whether
/// it had more (it is planned with a limit of one more, so the rest is
/// never computed).
pub async fn run_capped(
    lake: &Lake,
    sql: &str,
    max_rows: usize,
) -> Result<(Vec<String>, Vec<RecordBatch>, bool)> {
    let df = plan(lake, sql)
        .await?
        .limit(0, Some(max_rows.saturating_add(1)))?;
    let (columns, batches) = collect(df).await?;
    let (mut kept, mut left) = (Vec::with_capacity(batches.len()), max_rows);
    let mut truncated = false;
    for b in batches {
        if b.num_rows() > left {
            truncated = true;
            if left > 0 {
                kept.push(b.slice(0, left));
            }
            left = 0;
        } else {
            left -= b.num_rows();
            kept.push(b);
        }
    }
    Ok((columns, kept, truncated))
}

/// Plans a read-only query: DDL, DML and statements are refused.
async fn plan(lake: &Lake, sql: &str) -> Result<datafusion::dataframe::DataFrame> {
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
    Ok(df)
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
