//! [`Rows`]: the warehouse's feature rows (`churn_features.sql`) as the
//! models' matrix. The encoding is the only thing decided here: plans one
//! hot, a missing value (no view in 28 days: no completion, no startup) as
//! 0 beside the counts that say so, days since the last play capped at
//! [`NEVER_PLAYED_DAYS`] (the same for "never").

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use ndarray::Array2;

use crate::error::{Error, Result};

/// Days since the last play of a subscriber who never played, and the cap
/// of everyone's.
pub const NEVER_PLAYED_DAYS: f64 = 90.0;

/// The plans encoded one hot (any other, e.g. a plan the catalogue added
/// later, is all zeros).
pub const PLANS: &[&str] = &["basic", "standard", "premium"];

/// The numeric columns of `churn_features.sql` the models read, in order.
pub const NUMERIC: &[&str] = &[
    "days_since_play",
    "active_days_7",
    "active_days_28",
    "views_28",
    "watch_hours_7",
    "watch_trend",
    "completion_28",
    "titles_28",
    "top_series_share",
    "rebuffering_28",
    "failures_28",
    "exits_before_start_28",
    "startup_p90_28",
    "trial",
    "tenure_days",
    "payment_failures_90",
    "plan_changes_90",
    "pushes_28",
    "push_opens_28",
    "push_opt_out",
];

/// Every feature's name, in the matrix's column order.
pub fn feature_names() -> Vec<String> {
    NUMERIC
        .iter()
        .map(|s| (*s).to_string())
        .chain(PLANS.iter().map(|p| format!("plan_{p}")))
        .collect()
}

/// Feature rows: one per (snapshot, subscriber).
#[derive(Debug, Clone, Default)]
pub struct Rows {
    /// Features, one row per subscriber and snapshot, columns
    /// [`feature_names`].
    pub x: Array2<f64>,
    /// Canceled within the horizon; `None` where not known yet.
    pub label: Vec<Option<bool>>,
    /// The snapshot instant (epoch ms).
    pub snap_ms: Vec<i64>,
    /// The subscriber.
    pub user_id: Vec<String>,
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.snap_ms.len()
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.snap_ms.is_empty()
    }

    /// The rows whose indices `idx` lists, in that order.
    pub fn select(&self, idx: &[usize]) -> Rows {
        Rows {
            x: self.x.select(ndarray::Axis(0), idx),
            label: idx.iter().map(|&i| self.label[i]).collect(),
            snap_ms: idx.iter().map(|&i| self.snap_ms[i]).collect(),
            user_id: idx.iter().map(|&i| self.user_id[i].clone()).collect(),
        }
    }

    /// The labels of labelled rows (panics on an unlabelled one: select
    /// labelled rows first).
    pub fn labels(&self) -> Vec<bool> {
        self.label
            .iter()
            .map(|l| l.expect("a labelled row"))
            .collect()
    }

    /// The rows of `batches`, encoded.
    pub fn from_batches(batches: &[RecordBatch]) -> Result<Rows> {
        let n: usize = batches.iter().map(|b| b.num_rows()).sum();
        let names = feature_names();
        let mut x = Array2::<f64>::zeros((n, names.len()));
        let mut out = Rows {
            label: Vec::with_capacity(n),
            snap_ms: Vec::with_capacity(n),
            user_id: Vec::with_capacity(n),
            ..Rows::default()
        };
        let mut row = 0;
        for b in batches {
            let snap = column(b, "snap_ms")?;
            let users = strings(b, "user_id")?;
            let churned = b
                .column_by_name("churned")
                .ok_or_else(|| Error::Features("no column `churned`".into()))?
                .as_boolean_opt()
                .ok_or_else(|| Error::Features("`churned` is not boolean".into()))?;
            let numeric: Vec<Vec<Option<f64>>> = NUMERIC
                .iter()
                .map(|c| column(b, c))
                .collect::<Result<_>>()?;
            let plan = strings(b, "plan")?;
            for i in 0..b.num_rows() {
                for (j, col) in numeric.iter().enumerate() {
                    x[[row, j]] = match (NUMERIC[j], col[i]) {
                        ("days_since_play", v) => {
                            v.unwrap_or(NEVER_PLAYED_DAYS).min(NEVER_PLAYED_DAYS)
                        }
                        (_, v) => v.unwrap_or(0.0),
                    };
                }
                if let Some(k) = plan[i]
                    .as_deref()
                    .and_then(|v| PLANS.iter().position(|p| *p == v))
                {
                    x[[row, NUMERIC.len() + k]] = 1.0;
                }
                out.snap_ms.push(
                    snap[i].ok_or_else(|| Error::Features("a null `snap_ms`".into()))? as i64,
                );
                out.user_id.push(
                    users[i]
                        .clone()
                        .ok_or_else(|| Error::Features("a null `user_id`".into()))?,
                );
                out.label
                    .push((!churned.is_null(i)).then(|| churned.value(i)));
                row += 1;
            }
        }
        out.x = x;
        Ok(out)
    }
}

/// Column `name` of `b` as f64 values (integers, floats and booleans).
fn column(b: &RecordBatch, name: &str) -> Result<Vec<Option<f64>>> {
    let c = b
        .column_by_name(name)
        .ok_or_else(|| Error::Features(format!("no column `{name}`")))?;
    Ok(match c.data_type() {
        DataType::Boolean => c
            .as_boolean()
            .iter()
            .map(|v| v.map(|v| if v { 1.0 } else { 0.0 }))
            .collect(),
        DataType::Int64 => c
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v as f64))
            .collect(),
        DataType::Int32 => c
            .as_primitive::<Int32Type>()
            .iter()
            .map(|v| v.map(f64::from))
            .collect(),
        DataType::UInt64 => c
            .as_primitive::<UInt64Type>()
            .iter()
            .map(|v| v.map(|v| v as f64))
            .collect(),
        DataType::Float32 => c
            .as_primitive::<Float32Type>()
            .iter()
            .map(|v| v.map(f64::from))
            .collect(),
        DataType::Float64 => c.as_primitive::<Float64Type>().iter().collect(),
        other => {
            return Err(Error::Features(format!(
                "column `{name}` is {other}, not a number"
            )));
        }
    })
}

/// Column `name` of `b` as strings.
fn strings(b: &RecordBatch, name: &str) -> Result<Vec<Option<String>>> {
    let c = b
        .column_by_name(name)
        .ok_or_else(|| Error::Features(format!("no column `{name}`")))?;
    let own = |v: Option<&str>| v.map(str::to_string);
    Ok(match c.data_type() {
        DataType::Utf8 => c.as_string::<i32>().iter().map(own).collect(),
        DataType::LargeUtf8 => c.as_string::<i64>().iter().map(own).collect(),
        DataType::Utf8View => c.as_string_view().iter().map(own).collect(),
        DataType::Null => vec![None; c.len()],
        other => {
            return Err(Error::Features(format!(
                "column `{name}` is {other}, not a string"
            )));
        }
    })
}
