//! Result tables as JSON values, CSV or aligned text.

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, UInt64Type};
use arrow_schema::DataType;
use serde_json::Value;

use crate::error::{Error, Result};

/// Every row of the batches as JSON values (numbers stay numbers; NaN and
/// infinities become null).
pub fn rows(batches: &[RecordBatch]) -> Result<Vec<Vec<Value>>> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            let mut row = Vec::with_capacity(b.num_columns());
            for c in b.columns() {
                row.push(value(c.as_ref(), r)?);
            }
            out.push(row);
        }
    }
    Ok(out)
}

fn value(a: &dyn arrow_array::Array, r: usize) -> Result<Value> {
    if a.is_null(r) {
        return Ok(Value::Null);
    }
    Ok(match a.data_type() {
        DataType::Int64 => Value::from(a.as_primitive::<Int64Type>().value(r)),
        DataType::Int32 => Value::from(a.as_primitive::<Int32Type>().value(r)),
        DataType::UInt64 => Value::from(a.as_primitive::<UInt64Type>().value(r)),
        DataType::Float64 => serde_json::Number::from_f64(a.as_primitive::<Float64Type>().value(r))
            .map_or(Value::Null, Value::Number),
        DataType::Boolean => Value::from(a.as_boolean().value(r)),
        DataType::Utf8 => Value::from(a.as_string::<i32>().value(r)),
        DataType::LargeUtf8 => Value::from(a.as_string::<i64>().value(r)),
        DataType::Utf8View => Value::from(a.as_string_view().value(r)),
        _ => {
            let f = arrow_cast_display(a, r)?;
            Value::from(f)
        }
    })
}

fn arrow_cast_display(a: &dyn arrow_array::Array, r: usize) -> Result<String> {
    let opts = datafusion::arrow::util::display::FormatOptions::default();
    let f = datafusion::arrow::util::display::ArrayFormatter::try_new(a, &opts)
        .map_err(|e| Error::Output(e.to_string()))?;
    Ok(f.value(r).to_string())
}

/// CSV with a header line (RFC 4180 quoting).
pub fn csv(columns: &[String], rows: &[Vec<Value>]) -> String {
    let cell = |v: &Value| -> String {
        let s = match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    let mut out = columns
        .iter()
        .map(|c| cell(&Value::from(c.as_str())))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&r.iter().map(cell).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// An aligned text table.
pub fn table(columns: &[String], rows: &[Vec<Value>]) -> String {
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => format!("{:.6}", n.as_f64().unwrap_or_default()),
        other => other.to_string(),
    };
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(text).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].len())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |vals: Vec<&str>| -> String {
        vals.iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = line(columns.iter().map(String::as_str).collect());
    out.push('\n');
    for r in &cells {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}
