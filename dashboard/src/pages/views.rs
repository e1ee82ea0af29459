//! The views behind a cell (the period, the filters, the outcomes), and
//! one view's timeline: play request → first frame → stalls → bitrate
//! switches → errors → end.

use axum::response::Response;
use maud::html;
use showrunner_web::Path;

use super::layout;
use super::state::encode;
use super::{Ctx, bad_request, page};

/// The list's orders (`GET /v1/views`'s `sort`).
const SORTS: &[(&str, &str)] = &[
    ("start", "latest start"),
    ("startup", "slowest startup"),
    ("stall", "most stalling"),
    ("playing", "longest playing"),
];

/// The outcomes a list can keep.
const OUTCOMES: &[&str] = &[
    "start_failure",
    "exit_before_start",
    "playback_failure",
    "completed",
    "played",
];

/// Views per page of the list.
const PAGE: usize = 100;

/// `GET /views`.
pub async fn list(c: Ctx) -> Response {
    let (q, period) = (&c.q, c.period);
    let sort = q.get(&q.sort).unwrap_or("start");
    if !SORTS.iter().any(|(s, _)| *s == sort) {
        return bad_request("`sort` is start, startup, stall or playing");
    }
    let outcome = q.get(&q.outcome);
    let offset: usize = match q.get(&q.offset).map(str::parse).transpose() {
        Ok(o) => o.unwrap_or(0),
        Err(_) => return bad_request("`offset` is a whole number"),
    };
    let (from, to) = (period.from.to_string(), period.until().to_string());
    let (limit, off) = (PAGE.to_string(), offset.to_string());
    let mut pairs = vec![
        ("from", from.as_str()),
        ("to", to.as_str()),
        ("sort", sort),
        ("limit", limit.as_str()),
        ("offset", off.as_str()),
    ];
    if let Some(o) = outcome {
        pairs.push(("outcome", o));
    }
    pairs.extend(q.filters());
    let src = format!("/v1/views?{}", encode(pairs));
    let tz = q.tz();
    let frame = c.frame("/views", "Views");
    let more = (offset + PAGE).to_string();
    let back = offset.saturating_sub(PAGE).to_string();
    page(layout::page(
        &frame,
        html! {
            label { "Outcome "
                select name="outcome" {
                    option value="" selected[outcome.is_none()] { "any" }
                    @for o in OUTCOMES { option value=(o) selected[outcome == Some(*o)] { (o) } }
                }
            }
            label { "Order "
                select name="sort" {
                    @for (s, label) in SORTS { option value=(s) selected[*s == sort] { (label) } }
                }
            }
        },
        html! {
            (layout::needs_script())
            section {
                h2 { "Views " (offset + 1) "–" (offset + PAGE) " " (layout::csv_link(&src)) }
                table class="rows" data-src=(src) data-link-col="view_id"
                    data-link=(format!("/views/{{}}?{}", encode([("tz", tz)]))) {
                    caption { "Views starting " (period.from) " – " (period.to) ", by " (sort) }
                    thead {}
                    tbody {}
                }
                nav class="pager" aria-label="Pages of views" {
                    @if offset > 0 { a href=(q.link("/views", &[("offset", Some(&back))])) rel="prev" { "← Previous views" } }
                    a href=(q.link("/views", &[("offset", Some(&more))])) rel="next" data-more-of="rows" hidden { "Next views →" }
                }
            }
        },
    ))
}

/// `GET /views/{view}`.
pub async fn timeline(Path(view): Path<String>, c: Ctx) -> Response {
    if view.is_empty() || view.len() > 128 || view.chars().any(char::is_control) {
        return bad_request("not a view id");
    }
    let id: String = form_urlencoded::byte_serialize(view.as_bytes()).collect();
    let src = format!("/v1/views/{id}/timeline");
    let title = format!("View {view}");
    let frame = c.frame("/views", &title);
    page(layout::page(
        &frame,
        html! {},
        html! {
            (layout::needs_script())
            section class="timeline" data-src=(src) {
                h2 { "The view" }
                dl class="view-summary" {}
                h2 { "Its events" }
                table class="events" {
                    caption { "Player events in order; offsets from the play request" }
                    thead { tr {
                        th scope="col" { "Time" }
                        th scope="col" class="num" { "Offset" }
                        th scope="col" { "Event" }
                        th scope="col" { "Fields" }
                    } }
                    tbody {}
                }
            }
        },
    ))
}
