//! The SQL console: an editor, the results table, a CSV download, and the
//! schema of every table and projection beside it (read from
//! `information_schema` through the same `POST /v1/sql`). The page's
//! script posts with the session's CSRF token; an error shows the API's
//! reason.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;
use showrunner_web::Query;

use super::layout::{self, Frame};
use super::state::PageQuery;
use super::{Pages, csrf_of, page, period_of};

/// What the editor holds first.
const EXAMPLE: &str =
    "SELECT device_type, count(*) AS views\nFROM views\nGROUP BY device_type\nORDER BY views DESC";

/// `GET /sql`.
pub async fn show(
    State(p): State<Pages>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let q = &q;
    let period = match period_of(&p, q).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let frame = Frame {
        path: "/sql",
        title: "SQL",
        q,
        period,
        csrf: csrf_of(&p.gate, &headers),
        periodic: false,
    };
    page(layout::page(
        &frame,
        html! {},
        html! {
            (layout::needs_script())
            div class="sql" {
                section class="console" {
                    form class="sql-form" {
                        label for="sql" { "One read-only statement (SELECT, WITH, SHOW, DESCRIBE)" }
                        textarea id="sql" name="sql" rows="10" spellcheck="false" { (EXAMPLE) }
                        div class="buttons" {
                            button type="submit" { "Run" }
                            button type="button" class="sql-csv" { "Download CSV" }
                            span class="hint" { "Ctrl+Enter runs. Rows are capped at "
                                code { "warehouse.query_max_rows" } "." }
                        }
                    }
                    div class="sql-status" role="status" {}
                    table class="sql-result" { thead {} tbody {} }
                }
                aside class="schema" aria-label="Tables and columns" {
                    h2 { "Tables" }
                    div class="schema-list" data-state="" {}
                }
            }
        },
    ))
}
