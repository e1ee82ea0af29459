//! The SQL console: an editor, the results table, a CSV download, and the
//! schema of every table and projection beside it (read from
//! `information_schema` through the same `POST /v1/sql`). The page's
//! script posts with the session's CSRF token; an error shows the API's
//! reason.

use axum::response::Response;
use maud::html;

use super::layout;
use super::{Ctx, page};

/// What the editor holds first.
const EXAMPLE: &str =
    "SELECT device_type, count(*) AS views\nFROM views\nGROUP BY device_type\nORDER BY views DESC";

/// `GET /sql`.
pub async fn show(c: Ctx) -> Response {
    let frame = layout::Frame {
        periodic: false,
        ..c.frame("/sql", "SQL")
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
