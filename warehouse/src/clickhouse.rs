//! The second metric engine: the same metric definitions computed by a
//! ClickHouse server over the tables the ingest sink feeds
//! (`showrunner_ingest::sinks::clickhouse`).
//!
//! Each metric and projection has its ClickHouse SQL beside the DataFusion
//! one (`sql/<name>.clickhouse.sql`, `sql/metrics/<name>.clickhouse.sql`).
//! The SQL runs on 18.16 (no window functions, no subquery CTEs, one join
//! per SELECT) and on current releases, so projections are inlined as
//! subqueries: `{{views}}`, `{{subscription_changes}}`, … stand for them;
//! `{{v}}` for the views of the window with their `bucket`. Rows are
//! deduplicated in the queries by the lake's rule (`{{dedup}}`: `ORDER BY
//! event_id, received_at, occurred_at LIMIT 1 BY event_id`, from
//! `showrunner_lake::dedup`): a redelivered event may sit in a part that
//! has not merged yet.
//!
//! Results come back as `JSONCompact` and are turned into one Arrow batch
//! (integers `Int64`, floats `Float64`, the rest `Utf8`), the shape the
//! DataFusion engine returns, so both feed the same outputs.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::metrics::{
    Bucket, Metric, Params, Source, Window, by_plan, dim_columns, filter_conditions,
};

/// The projections, ClickHouse flavour: (placeholder name, SQL). Each may
/// use the ones before it.
pub const PROJECTIONS: &[(&str, &str)] = &[
    ("views", include_str!("../sql/views.clickhouse.sql")),
    (
        "billing_months",
        include_str!("../sql/billing_months.clickhouse.sql"),
    ),
    (
        "subscription_changes",
        include_str!("../sql/subscription_changes.clickhouse.sql"),
    ),
    (
        "subscriptions",
        include_str!("../sql/subscriptions.clickhouse.sql"),
    ),
    (
        "subscription_movements",
        include_str!("../sql/subscription_movements.clickhouse.sql"),
    ),
    (
        "monthly_churn",
        include_str!("../sql/monthly_churn.clickhouse.sql"),
    ),
];

/// Month index (year · 12 + month − 1) of the first or last billing event.
fn billing_month(agg: &str) -> String {
    format!(
        "(SELECT {agg}(toInt64(toYear(d)) * 12 + toMonth(d) - 1) FROM \
         (SELECT toDateTime(intDiv(occurred_at, 1000), 'UTC') AS d FROM {{{{db}}}}.billing))"
    )
}

/// An Int64 literal both servers read; the unbounded low end is
/// `i64::MIN + 1` (`-9223372036854775808` does not parse as one literal).
fn int(v: i64) -> String {
    format!("toInt64({})", v.max(i64::MIN + 1))
}

/// `t` (epoch ms) as a UTC `DateTime`.
fn datetime(t: &str) -> String {
    format!("toDateTime(intDiv({t}, 1000), 'UTC')")
}

/// The bucket label of instant `t` (epoch ms), as the DataFusion engine
/// writes it.
fn bucket_label(b: Bucket, t: &str) -> String {
    let dt = datetime(t);
    match b {
        Bucket::Hour => format!("formatDateTime(toStartOfHour({dt}), '%Y-%m-%dT%H:00:00Z', 'UTC')"),
        Bucket::Day => format!("formatDateTime({dt}, '%Y-%m-%d', 'UTC')"),
        Bucket::Week => format!("toString(toMonday({dt}))"),
        Bucket::Month => format!("toString(toStartOfMonth({dt}))"),
    }
}

/// Epoch ms of the start (`next` false) or end of the bucket holding `t`.
fn bucket_bound(b: Bucket, t: &str, next: bool) -> String {
    let dt = datetime(t);
    let day_ms = |date: String| format!("toInt64(toUInt16({date})) * 86400000");
    let n = i64::from(next);
    match b {
        Bucket::Hour => format!("(intDiv({t}, 3600000) + {n}) * 3600000"),
        Bucket::Day => format!("(intDiv({t}, 86400000) + {n}) * 86400000"),
        Bucket::Week => format!(
            "{} + {} * 86400000",
            day_ms(format!("toMonday({dt})")),
            7 * n
        ),
        Bucket::Month => day_ms(format!("addMonths(toStartOfMonth({dt}), {n})")),
    }
}

/// A database name safe to splice into SQL.
fn check_database(db: &str) -> Result<()> {
    if !db.is_empty() && db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "database name `{db}`: letters, digits and _ only"
        )))
    }
}

/// The ClickHouse SQL of a metric for these parameters, over `database`,
/// every projection inlined.
pub fn render(m: &Metric, p: &Params, database: &str) -> Result<String> {
    render_with(m, p, database, &[])
}

/// The temporary table holding a cached projection.
fn cached_table(name: &str) -> String {
    format!("sr_{name}")
}

/// Expands the projections (`{{name}}`: the temporary table when `cached`
/// holds it, else the subquery), the billing month bounds, the lake's
/// dedup rule (`{{dedup}}`) and the database.
fn expand(mut sql: String, database: &str, cached: &[&str]) -> String {
    // later projections first: they use earlier ones
    for (name, body) in PROJECTIONS.iter().rev() {
        let with = if cached.contains(name) {
            cached_table(name)
        } else {
            format!("(\n{body}\n)")
        };
        sql = sql.replace(&format!("{{{{{name}}}}}"), &with);
    }
    sql.replace("{{lo_mi}}", &billing_month("min"))
        .replace("{{hi_mi}}", &billing_month("max"))
        .replace("{{dedup}}", &showrunner_lake::dedup::clickhouse_clause())
        .replace("{{db}}", &format!("`{database}`"))
}

/// [`render`], reading the projections in `cached` from their temporary
/// tables.
fn render_with(m: &Metric, p: &Params, database: &str, cached: &[&str]) -> Result<String> {
    check_database(database)?;
    m.accepts(&p.by)?;
    m.accepts_filters(&p.filters)?;
    let p = m.effective(p);
    let dims = dim_columns(m, &p)?;
    let w = Window::of(&p);
    let (from, to) = (int(w.from), int(w.to));
    let views = if by_plan(&p) {
        // the plan of a view: the viewer's subscription state at its start
        // (DISTINCT, which removes nothing, keeps the captured start_ms on
        // 18.16: see sql/views.clickhouse.sql)
        "(SELECT DISTINCT *, arrayCount(x -> x <= start_ms, plan_ts) AS pidx, \
         if(pidx = 0, NULL, plans[pidx]) AS plan FROM \
         (SELECT *, ifNull(user_id, '') AS ukey FROM {{views}}) \
         ALL LEFT JOIN (SELECT user_id AS ukey, ts AS plan_ts, plans FROM {{subscription_changes}}) \
         USING ukey)"
            .to_owned()
    } else {
        "{{views}}".to_owned()
    };
    let filters = filter_conditions(&p)?;
    let views = if filters.is_empty() {
        views
    } else {
        format!("(SELECT * FROM {views} WHERE 1{filters})")
    };
    let v = format!(
        "(SELECT {} AS bucket, * FROM {views} WHERE start_ms >= {from} AND start_ms < {to})",
        bucket_label(p.bucket, "start_ms")
    );
    let sql = m
        .clickhouse_sql
        .replace("{{v}}", &v)
        .replace("{{views}}", &views)
        .replace("{{dims}}", &dims)
        .replace("{{bucket}}", &bucket_label(p.bucket, "t"))
        .replace("{{bucket_start}}", &bucket_bound(p.bucket, "t", false))
        .replace("{{bucket_end}}", &bucket_bound(p.bucket, "t", true))
        .replace("{{from_ms}}", &from)
        .replace("{{to_ms}}", &to)
        .replace("{{from_mi}}", &int(w.from_mi))
        .replace("{{to_mi}}", &int(w.to_mi));
    let sql = expand(sql, database, cached);
    debug_assert!(!sql.contains("{{"), "unexpanded placeholder in {}", m.name);
    Ok(sql)
}

/// The projections the metrics read with these parameters, in
/// [`PROJECTIONS`] order.
fn projections_needed(ms: &[&Metric], p: &Params) -> Vec<&'static str> {
    let views = ms.iter().any(|m| m.over_views());
    let monthly = ms.iter().any(|m| m.source == Source::Monthly);
    let changes = monthly || (views && by_plan(p));
    PROJECTIONS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| match *n {
            "views" => views,
            "subscription_changes" => changes,
            _ => monthly,
        })
        .collect()
}

/// A ClickHouse server holding the sink's tables.
#[derive(Clone)]
pub struct ClickHouseEngine {
    client: ::clickhouse::Client,
    database: String,
}

impl std::fmt::Debug for ClickHouseEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseEngine")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl ClickHouseEngine {
    /// The server at `url` (HTTP), with credentials, reading `database`.
    pub fn new(url: &str, user: &str, password: &str, database: &str) -> Result<Self> {
        check_database(database)?;
        let client = ::clickhouse::Client::default()
            .with_url(url)
            .with_user(user)
            .with_password(password)
            .with_validation(false);
        Ok(Self {
            client,
            database: database.to_owned(),
        })
    }

    /// The database read.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Computes a metric: column names and rows, as the DataFusion engine.
    pub async fn compute(&self, m: &Metric, p: &Params) -> Result<(Vec<String>, Vec<RecordBatch>)> {
        let sql = render(m, p, &self.database)?;
        self.run(&sql).await
    }

    /// Computes several metrics with the same parameters in one session:
    /// the projections they share are computed once into temporary tables
    /// (`sr_views`, …, gone with the session) instead of once per metric.
    /// The answers are those of [`compute`](Self::compute).
    pub async fn compute_all(
        &self,
        ms: &[&Metric],
        p: &Params,
    ) -> Result<Vec<(Vec<String>, Vec<RecordBatch>)>> {
        for m in ms {
            render(m, p, &self.database)?; // refuse bad parameters first
        }
        let session = self.client.clone().with_setting(
            "session_id",
            format!(
                "showrunner-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos())
            ),
        );
        let needed = projections_needed(ms, p);
        let mut cached: Vec<&str> = Vec::new();
        for name in &needed {
            let body = PROJECTIONS
                .iter()
                .find(|(n, _)| n == name)
                .map_or("", |(_, b)| *b);
            let sql = format!(
                "CREATE TEMPORARY TABLE {} ENGINE = Memory AS\n{}",
                cached_table(name),
                expand(body.to_owned(), &self.database, &cached)
            );
            session
                .query(&sql)
                .execute()
                .await
                .map_err(|e| Error::ClickHouse(e.to_string()))?;
            cached.push(name);
        }
        let mut out = Vec::with_capacity(ms.len());
        for m in ms {
            let sql = render_with(m, p, &self.database, &cached)?;
            out.push(run_on(&session, &sql).await?);
        }
        for name in cached {
            let _ = session
                .query(&format!(
                    "DROP TEMPORARY TABLE IF EXISTS {}",
                    cached_table(name)
                ))
                .execute()
                .await;
        }
        Ok(out)
    }

    /// Runs a query and converts its `JSONCompact` answer.
    pub async fn run(&self, sql: &str) -> Result<(Vec<String>, Vec<RecordBatch>)> {
        run_on(&self.client, sql).await
    }
}

async fn run_on(
    client: &::clickhouse::Client,
    sql: &str,
) -> Result<(Vec<String>, Vec<RecordBatch>)> {
    let bytes = client
        .query(sql)
        .fetch_bytes("JSONCompact")
        .map_err(|e| Error::ClickHouse(e.to_string()))?
        .collect()
        .await
        .map_err(|e| Error::ClickHouse(e.to_string()))?;
    from_json_compact(&bytes)
}

/// One Arrow batch from a `JSONCompact` answer.
pub fn from_json_compact(bytes: &[u8]) -> Result<(Vec<String>, Vec<RecordBatch>)> {
    let bad = |what: &str| Error::Output(format!("ClickHouse answer: {what}"));
    let v: Value = serde_json::from_slice(bytes).map_err(|e| bad(&e.to_string()))?;
    let meta = v["meta"].as_array().ok_or_else(|| bad("no meta"))?;
    let data = v["data"].as_array().ok_or_else(|| bad("no data"))?;
    let mut names = Vec::new();
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (i, col) in meta.iter().enumerate() {
        let name = col["name"].as_str().ok_or_else(|| bad("column name"))?;
        let ty = col["type"].as_str().ok_or_else(|| bad("column type"))?;
        let ty = ty
            .strip_prefix("Nullable(")
            .and_then(|t| t.strip_suffix(')'))
            .unwrap_or(ty);
        let cells = data.iter().map(|row| &row[i]);
        let (dt, array): (DataType, ArrayRef) = if ty.starts_with("Int") || ty.starts_with("UInt") {
            let vals = cells
                .map(|c| match c {
                    Value::Null => Ok(None),
                    Value::Number(n) => n.as_i64().map(Some).ok_or_else(|| bad("integer")),
                    Value::String(s) => s.parse().map(Some).map_err(|_| bad("integer")),
                    _ => Err(bad("integer")),
                })
                .collect::<Result<Vec<Option<i64>>>>()?;
            (DataType::Int64, Arc::new(Int64Array::from(vals)))
        } else if ty.starts_with("Float") {
            let vals = cells
                .map(|c| match c {
                    Value::Null => Ok(None),
                    Value::Number(n) => n.as_f64().map(Some).ok_or_else(|| bad("float")),
                    // inf and nan are quoted or null depending on settings
                    Value::String(s) => Ok(s.parse().ok()),
                    _ => Err(bad("float")),
                })
                .collect::<Result<Vec<Option<f64>>>>()?;
            (DataType::Float64, Arc::new(Float64Array::from(vals)))
        } else {
            let vals: Vec<Option<String>> = cells
                .map(|c| match c {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
                .collect();
            (DataType::Utf8, Arc::new(StringArray::from(vals)))
        };
        names.push(name.to_owned());
        fields.push(Field::new(name, dt, true));
        columns.push(array);
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| Error::Output(e.to_string()))?;
    Ok((names, vec![batch]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::METRICS;

    #[test]
    fn every_metric_renders_without_placeholders() {
        for m in METRICS {
            for bucket in [Bucket::Hour, Bucket::Day, Bucket::Week, Bucket::Month] {
                let by: Vec<String> = m.dims.iter().take(2).map(|d| (*d).to_owned()).collect();
                let p = Params {
                    bucket,
                    by,
                    ..Params::default()
                };
                let sql = render(m, &p, "sr").expect("renders");
                assert!(!sql.contains("{{"), "{}: {sql}", m.name);
                assert!(sql.contains("`sr`."), "{}", m.name);
            }
        }
        assert!(render(&METRICS[0], &Params::default(), "a;DROP").is_err());
    }

    #[test]
    fn json_compact_converts_types_and_nulls() {
        let answer = br#"{"meta":[{"name":"bucket","type":"String"},{"name":"n","type":"UInt64"},
            {"name":"r","type":"Nullable(Float64)"},{"name":"c","type":"Nullable(String)"}],
            "data":[["2026-03-01","7",0.5,null],["2026-03-02","9",null,"FR"]],"rows":2}"#;
        let (names, batches) = from_json_compact(answer).expect("converts");
        assert_eq!(names, ["bucket", "n", "r", "c"]);
        let rows = crate::output::rows(&batches).expect("rows");
        assert_eq!(
            serde_json::json!(rows),
            serde_json::json!([["2026-03-01", 7, 0.5, null], ["2026-03-02", 9, null, "FR"]])
        );
    }
}
