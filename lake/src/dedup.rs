//! The one "one row per `event_id`" rule of every reader of the lake.
//!
//! The lake may hold an event more than once: a client that re-posted it
//! after the stream's duplicate window, or copies in two streams. Every
//! engine keeps the same copy: **the earliest `received_at`, then the
//! earliest `occurred_at`** (nulls last). DataFusion's views, ClickHouse's
//! queries and the recommender's polars scans are all built from the
//! constants and renderings below, and `tests/dedup.rs` checks on one lake
//! that the three keep the same copy.

/// The column that identifies an event.
pub const KEY: &str = "event_id";

/// The columns that order an event's copies; the first copy is kept.
pub const ORDER: [&str; 2] = ["received_at", "occurred_at"];

/// The column [`window_sql`] adds (always 1).
pub const RANK: &str = "dedup_rank";

/// SQL (DataFusion, DuckDB, any engine with window functions): the rows of
/// `table`, one per event, with every column of `table` and [`RANK`]
/// (always 1).
pub fn window_sql(table: &str) -> String {
    format!(
        "SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY {KEY} ORDER BY {} NULLS LAST) AS {RANK} FROM {table}) WHERE {RANK} = 1",
        ORDER.join(" NULLS LAST, ")
    )
}

/// ClickHouse (18.16 on, no window functions): the clause ending a SELECT
/// over a family table that keeps one row per event, the same as
/// [`window_sql`]'s.
pub fn limit_by_clause() -> String {
    format!(
        "ORDER BY {KEY}, {} NULLS LAST LIMIT 1 BY {KEY}",
        ORDER.join(" NULLS LAST, ")
    )
}

/// [`limit_by_clause`] as the warehouse's ClickHouse SQL spells it:
/// ClickHouse sorts nulls last by default, as the rule says, so the
/// modifier is left out (the SQL keeps to what 18.16 is known to run).
pub fn clickhouse_clause() -> String {
    format!("ORDER BY {KEY}, {} LIMIT 1 BY {KEY}", ORDER.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renderings_name_the_rule() {
        assert_eq!(
            limit_by_clause(),
            "ORDER BY event_id, received_at NULLS LAST, occurred_at NULLS LAST LIMIT 1 BY event_id"
        );
        assert_eq!(
            clickhouse_clause(),
            "ORDER BY event_id, received_at, occurred_at LIMIT 1 BY event_id"
        );
        assert!(window_sql("watch_raw").contains(
            "PARTITION BY event_id ORDER BY received_at NULLS LAST, occurred_at NULLS LAST"
        ));
    }
}
