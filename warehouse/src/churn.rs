//! The churn-risk model's rows: one per (snapshot instant, subscriber
//! trialing or paying then), features from events at or before the instant
//! and the label from the 30 days after, by `sql/churn_features.sql` over
//! the lake's projections (`views`, `subscription_changes`, the families).
//! The model crate reads them from here: features have one definition, in
//! SQL, like the metrics.
//!
//! Snapshots are weekly instants counted back from the end of the lake's
//! latest day ([`snapshot_times`]); the caller may pass its own.

use std::sync::Arc;

use arrow_array::{Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use datafusion::datasource::MemTable;

use crate::error::Result;
use crate::lake::Lake;

/// The feature query (`churn_snapshot_times` registered by [`features`]).
pub const FEATURES_SQL: &str = include_str!("../sql/churn_features.sql");

/// The label's horizon: a cancel within this many days after a snapshot.
pub const HORIZON_DAYS: i64 = 30;

/// One day in ms.
pub const DAY_MS: i64 = 86_400_000;

/// Weekly snapshot instants (epoch ms, ascending): the end of the lake's
/// latest UTC day (the midnight after its latest event or view start) and
/// every `every_days` before it, back to `every_days` after the first
/// billing event. Empty when the lake has no billing events.
pub async fn snapshot_times(lake: &Lake, every_days: i64) -> Result<Vec<i64>> {
    let every = every_days.max(1) * DAY_MS;
    let batches = lake
        .ctx()
        .sql(
            "SELECT CAST(min(occurred_at) AS BIGINT) AS lo, CAST(max(occurred_at) AS BIGINT) AS hi \
             FROM billing",
        )
        .await?
        .collect()
        .await?;
    let (lo, hi) = match batches.first() {
        Some(b) if b.num_rows() == 1 => {
            let col = |i: usize| {
                b.column(i)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .filter(|a| !a.is_null(0))
                    .map(|a| a.value(0))
            };
            match (col(0), col(1)) {
                (Some(lo), Some(hi)) => (lo, hi),
                _ => return Ok(Vec::new()),
            }
        }
        _ => return Ok(Vec::new()),
    };
    let last = hi.div_euclid(DAY_MS) * DAY_MS + DAY_MS;
    let mut out = Vec::new();
    let mut t = last;
    while t >= lo + every {
        out.push(t);
        t -= every;
    }
    out.reverse();
    Ok(out)
}

/// The feature rows at `snapshots` (epoch ms), as `sql/churn_features.sql`
/// defines them, ordered by (snapshot, user). Computes the projections it
/// reads and keeps them in the session.
pub async fn features(lake: &Lake, snapshots: &[i64]) -> Result<Vec<RecordBatch>> {
    lake.cache_projections(&["player_events", "views", "billing", "subscription_changes"])
        .await?;
    let schema = Arc::new(Schema::new(vec![Field::new(
        "snap_ms",
        DataType::Int64,
        false,
    )]));
    let times = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(snapshots.to_vec()))],
    )
    .map_err(datafusion::error::DataFusionError::from)?;
    lake.replace_table(
        "churn_snapshot_times",
        Arc::new(MemTable::try_new(schema, vec![vec![times]])?),
    )?;
    Ok(lake.ctx().sql(FEATURES_SQL).await?.collect().await?)
}
