//! Metric results for people and scripts (`showrunner metrics`, `sql`):
//! which metrics a request names, computed on either engine, rendered as
//! a text table, CSV or JSON.

use std::str::FromStr;

use arrow_array::RecordBatch;
use serde_json::Value;

use crate::clickhouse::{self, ClickHouseEngine};
use crate::metrics::{self, Metric, Params};
use crate::{Error, Lake, Result, output};

/// How results are rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// Aligned text, one table per metric under `# <name>`.
    #[default]
    Table,
    /// One JSON object per metric: metric, params, columns, rows.
    Json,
    /// CSV with a header.
    Csv,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            _ => Err(format!("`{s}` is not a format: table, json or csv")),
        }
    }
}

/// The engine that computes the metrics.
pub enum Engine<'a> {
    /// DataFusion over the Parquet lake.
    DataFusion(&'a Lake),
    /// ClickHouse over the sink's tables.
    ClickHouse(&'a ClickHouseEngine),
}

impl Engine<'_> {
    /// One metric: its columns and batches.
    pub async fn compute_one(
        &self,
        m: &Metric,
        p: &Params,
    ) -> Result<(Vec<String>, Vec<RecordBatch>)> {
        match self {
            Engine::DataFusion(lake) => metrics::compute(lake, m, p).await,
            Engine::ClickHouse(ch) => ch.compute(m, p).await,
        }
    }
}

/// The metrics `names` names (checked against `by`), or, with no names,
/// every metric that has the breakdowns `by`; the second list says why each
/// metric left out was.
pub fn choose(names: &[String], p: &Params) -> Result<(Vec<&'static Metric>, Vec<Error>)> {
    let mut chosen = Vec::new();
    let mut skipped = Vec::new();
    if names.is_empty() {
        for m in metrics::METRICS {
            match m
                .accepts(&p.by)
                .and_then(|()| m.accepts_filters(&p.filters))
            {
                Err(e @ (Error::UnsupportedDimension(..) | Error::UnsupportedFilter(..))) => {
                    skipped.push(e)
                }
                _ => chosen.push(m),
            }
        }
    } else {
        for n in names {
            chosen.push(metrics::find(n)?);
        }
    }
    for m in &chosen {
        metrics::render(m, p)?; // bad dimensions refused before any engine runs
    }
    Ok((chosen, skipped))
}

/// Each metric's SQL as `engine` would run it (`database`: ClickHouse's).
pub fn sql(chosen: &[&Metric], p: &Params, clickhouse_database: Option<&str>) -> Result<String> {
    let mut out = String::new();
    for m in chosen {
        let sql = match clickhouse_database {
            None => metrics::render(m, p)?,
            Some(db) => clickhouse::render(m, p, db)?,
        };
        out.push_str(&format!("-- {}\n{sql};\n\n", m.name));
    }
    Ok(out)
}

/// Computes the chosen metrics; (columns, batches) of each, in order.
pub async fn compute(
    engine: Engine<'_>,
    chosen: &[&Metric],
    p: &Params,
) -> Result<Vec<(Vec<String>, Vec<RecordBatch>)>> {
    match engine {
        // one session: the shared projections are computed once
        Engine::ClickHouse(ch) => ch.compute_all(chosen, p).await,
        Engine::DataFusion(lake) => {
            lake.prepare(chosen).await?;
            let mut out = Vec::with_capacity(chosen.len());
            for m in chosen {
                out.push(metrics::compute(lake, m, p).await?);
            }
            Ok(out)
        }
    }
}

/// One result rendered: `metric` names it (with the parameters it was
/// computed with) in the table and JSON forms.
pub fn render(
    metric: Option<(&str, &Params)>,
    columns: &[String],
    batches: &[RecordBatch],
    f: Format,
) -> Result<String> {
    let rows = output::rows(batches)?;
    Ok(match f {
        Format::Table => {
            let title = metric.map_or_else(String::new, |(n, _)| format!("# {n}\n"));
            format!("{title}{}", output::table(columns, &rows))
        }
        Format::Csv => output::csv(columns, &rows),
        Format::Json => {
            let mut v = serde_json::json!({ "columns": columns, "rows": rows });
            if let Some((n, p)) = metric {
                v["metric"] = Value::from(n);
                v["params"] = serde_json::to_value(p).map_err(|e| Error::Output(e.to_string()))?;
            }
            format!("{v}\n")
        }
    })
}
