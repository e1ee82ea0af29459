//! Negative impact, as Mux ranks a breakdown's segments: how much each
//! segment moves its bucket's total. For a segment s of a bucket whose
//! total is value V over volume N, with value v_s over volume n_s:
//! impact = (v_s − V) · n_s ÷ N, in the value's unit. Every metric that
//! has an impact is worse when higher, so a positive impact worsens the
//! total; for a metric whose value is a volume-weighted mean (the rates,
//! the rebuffering ratio and frequency), the impacts of a bucket's
//! segments sum to 0, and a segment's impact is how much the total would
//! fall if the segment performed like the total.

use serde_json::Value;

use super::Metric;
use crate::error::{Error, Result};

/// Which columns of a metric weigh its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Impact {
    /// The value compared with the total's.
    pub value: &'static str,
    /// The columns whose sum is a row's volume (the value's weight).
    pub volume: &'static [&'static str],
}

impl Metric {
    /// How its segments are weighed, for the metrics that rank them.
    pub fn impact(&self) -> Option<Impact> {
        let (value, volume): (&'static str, &'static [&'static str]) = match self.name {
            // the median start, over the started views
            "video_startup_time" => ("p50_ms", &["views"]),
            "exits_before_video_start" => ("ebvs_rate", &["views"]),
            "video_start_failures" => ("vsf_rate", &["views"]),
            "playback_failures" => ("failure_rate", &["views"]),
            "rebuffering_ratio" => ("ratio", &["stall_ms", "playing_ms"]),
            "rebuffer_frequency" => ("per_minute", &["playing_ms"]),
            _ => return None,
        };
        Some(Impact { value, volume })
    }
}

fn column(columns: &[String], name: &str) -> Result<usize> {
    columns
        .iter()
        .position(|c| c == name)
        .ok_or_else(|| Error::Output(format!("no column `{name}` to weigh the impact with")))
}

/// The impact of each row of a breakdown (`columns`, `rows`, bucket first),
/// against its bucket's row of the same metric without the breakdown
/// (`total_columns`, `totals`); null where a value or volume is missing.
pub fn impacts(
    imp: Impact,
    columns: &[String],
    rows: &[Vec<Value>],
    total_columns: &[String],
    totals: &[Vec<Value>],
) -> Result<Vec<Value>> {
    let (v, tv) = (
        column(columns, imp.value)?,
        column(total_columns, imp.value)?,
    );
    let n_at: Vec<usize> = imp
        .volume
        .iter()
        .map(|c| column(columns, c))
        .collect::<Result<_>>()?;
    let tn_at: Vec<usize> = imp
        .volume
        .iter()
        .map(|c| column(total_columns, c))
        .collect::<Result<_>>()?;
    let volume = |row: &[Value], at: &[usize]| -> Option<f64> {
        at.iter().map(|&i| row[i].as_f64()).sum::<Option<f64>>()
    };
    Ok(rows
        .iter()
        .map(|row| {
            let total = totals.iter().find(|t| t[0] == row[0])?;
            let (big_v, big_n) = (total[tv].as_f64()?, volume(total, &tn_at)?);
            let (value, n) = (row[v].as_f64()?, volume(row, &n_at)?);
            (big_n > 0.0).then(|| Value::from((value - big_v) * n / big_n))
        })
        .map(|x| x.unwrap_or(Value::Null))
        .collect())
}
