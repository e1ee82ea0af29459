//! A campaign's audience: its segment, read-only SQL over the warehouse
//! (events, projections, metrics, `churn_scores`), run in a session of
//! its own with the query limits; column `user_id` names the users, the
//! others are the message's variables.

use std::collections::BTreeMap;
use std::time::Duration;

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use showrunner_lake::Store;
use showrunner_marketing::plan::Recipient;
use showrunner_warehouse::Lake;
use showrunner_warehouse::lake::LakeOptions;

/// A segment that cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    /// The query failed or was refused.
    #[error("the segment query failed: {0}")]
    Query(#[from] showrunner_warehouse::Error),
    /// No `user_id` column.
    #[error("the segment returns no `user_id` column (it returns: {0})")]
    NoUserId(String),
    /// Over the time limit.
    #[error("the segment query took more than {0:?}")]
    Timeout(Duration),
    /// Over the row limit.
    #[error("the segment returns more than {0} rows")]
    TooLarge(usize),
}

/// Limits of a segment query.
#[derive(Debug, Clone, Copy)]
pub struct SegmentLimits {
    /// Memory it may use, bytes.
    pub memory_bytes: usize,
    /// Time it may take.
    pub timeout: Duration,
    /// Rows it may return.
    pub max_rows: usize,
}

impl Default for SegmentLimits {
    fn default() -> Self {
        SegmentLimits {
            memory_bytes: 2 << 30,
            timeout: Duration::from_secs(60),
            max_rows: 5_000_000,
        }
    }
}

/// Runs `sql` over the lake in `store`: one recipient per row with a
/// non-null `user_id`, in the query's order.
pub async fn evaluate(
    store: &Store,
    sql: &str,
    limits: SegmentLimits,
) -> Result<Vec<Recipient>, SegmentError> {
    let lake = Lake::open_store(
        store,
        LakeOptions {
            memory_bytes: Some(limits.memory_bytes),
            ..LakeOptions::default()
        },
    )
    .await?;
    let run = showrunner_warehouse::query::run_capped(&lake, sql, limits.max_rows);
    let (columns, batches, truncated) = tokio::time::timeout(limits.timeout, run)
        .await
        .map_err(|_| SegmentError::Timeout(limits.timeout))??;
    if truncated {
        return Err(SegmentError::TooLarge(limits.max_rows));
    }
    let Some(uid) = columns.iter().position(|c| c == "user_id") else {
        return Err(SegmentError::NoUserId(columns.join(", ")));
    };
    let opts = FormatOptions::default();
    let mut out = Vec::new();
    for b in &batches {
        let fmt: Vec<ArrayFormatter<'_>> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
            .collect::<Result<_, _>>()
            .map_err(|e| {
                SegmentError::Query(showrunner_warehouse::Error::from(
                    datafusion::error::DataFusionError::from(e),
                ))
            })?;
        for row in 0..b.num_rows() {
            if b.column(uid).is_null(row) {
                continue;
            }
            let mut vars = BTreeMap::new();
            for (i, name) in columns.iter().enumerate() {
                if i != uid && !b.column(i).is_null(row) {
                    vars.insert(name.clone(), fmt[i].value(row).to_string());
                }
            }
            out.push(Recipient {
                user_id: fmt[uid].value(row).to_string(),
                vars,
            });
        }
    }
    Ok(out)
}
