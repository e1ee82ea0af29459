//! Engagement: active users (calendar: daily, weekly, monthly; rolling 7
//! and 28 days), watch hours, sessions, QoE against engagement (plays and
//! average play time by startup and rebuffering band), and the period's
//! top titles with their starts and completion.

use axum::response::Response;
use maud::html;

use super::layout;
use super::{Ctx, metric_src, page};

/// `GET /engagement`.
pub async fn show(c: Ctx) -> Response {
    let (q, period) = (&c.q, c.period);
    let span = period.span.name();
    let series = period.span.series_bucket();
    let tiles = [
        ("Active users, daily (DAU)", "day"),
        ("Active users, weekly (WAU)", "week"),
        ("Active users, monthly (MAU)", "month"),
    ];
    let rolling = metric_src("rolling_active_users", period, "day", q, &[]);
    let hours = metric_src("watch_hours", period, series, q, &[("compare", "previous")]);
    let titles = metric_src("title_engagement", period, span, q, &[]);
    let sessions = metric_src("sessions", period, span, q, &[("compare", "previous")]);
    let sessions_series = metric_src("sessions", period, series, q, &[]);
    // (label, column of `sessions`, unit, how the period's buckets reduce)
    let session_tiles = [
        ("Sessions", "sessions", "count", "sum"),
        (
            "Play time per session",
            "avg_playing_ms",
            "duration",
            "mean",
        ),
        ("Views per session", "views_per_session", "number", "mean"),
    ];
    let bands = [
        (
            "startup",
            "Startup time",
            "startup_band",
            "under_1s,1_2s,2_4s,4_8s,over_8s,not_started",
            "under 1 s|1–2 s|2–4 s|4–8 s|8 s or more|never started",
        ),
        (
            "rebuffering",
            "Rebuffering",
            "rebuffering_band",
            "none,under_1pct,1_2pct,2_5pct,over_5pct,not_started",
            "no stall|under 1 %|1–2 %|2–5 %|5 % or more|never started",
        ),
    ];
    let frame = c.frame("/engagement", "Engagement");
    page(layout::page(
        &frame,
        html! {},
        html! {
            (layout::needs_script())
            section class="tiles" aria-label="Active users" {
                @for (label, bucket) in tiles {
                    @let src = metric_src("active_users", period, bucket, q, &[]);
                    div class="tile" data-src=(src) data-col="users" data-unit="count"
                        data-better="higher" data-reduce="mean" {
                        h2 { (label) }
                        output class="value" { "…" }
                        p class="previous" { "mean over the period's " (bucket) "s" }
                        p class="change" {}
                    }
                }
                div class="tile" data-src=(hours) data-col="hours" data-unit="hours"
                    data-better="higher" data-reduce="sum" {
                    h2 { "Watch hours" }
                    output class="value" { "…" }
                    p class="previous" {}
                    p class="change" {}
                }
            }
            section class="tiles" aria-label="Sessions" {
                @for (label, col, unit, reduce) in session_tiles {
                    div class="tile" data-src=(sessions) data-col=(col) data-unit=(unit)
                        data-better="higher" data-reduce=(reduce) {
                        h2 { (label) }
                        output class="value" { "…" }
                        p class="previous" {}
                        p class="change" {}
                    }
                }
            }
            figure class="chart" data-src=(rolling) data-cols="dau,wau_7d,mau_28d" data-unit="count" data-bucket="day" {
                figcaption { "Active users: daily, rolling 7 days, rolling 28 days " (layout::csv_link(&rolling)) }
                div class="plot" {}
            }
            figure class="chart" data-src=(hours) data-cols="hours" data-unit="hours" data-bucket=(series) {
                figcaption { "Watch hours by " (series) ", with the previous period dashed " (layout::csv_link(&hours)) }
                div class="plot" {}
            }
            figure class="chart" data-src=(sessions_series) data-cols="sessions,users" data-unit="count" data-bucket=(series) {
                figcaption { "Sessions and the users who had them, by " (series) " " (layout::csv_link(&sessions_series)) }
                div class="plot" {}
            }
            section class="qoe-engagement" {
                h2 { "Quality of experience against engagement" }
                p class="hint" {
                    "Plays and how long the started ones lasted, by the view's startup time and by its rebuffering "
                    "(stalled share of playing and stalled time), " (period.from) " – " (period.to) "."
                }
                div class="band-tables" {
                    @for (dim, name, column, order, labels) in bands {
                        @let src = metric_src("play_time", period, span, q, &[("by", dim)]);
                        table class="bands" data-src=(src) data-band-col=(column) data-order=(order) data-labels=(labels) {
                            caption { (name) " " (layout::csv_link(&src)) }
                            thead { tr {
                                th scope="col" { (name) }
                                th scope="col" class="num" { "Plays" }
                                th scope="col" { span class="sr-only" { "Plays, as a bar" } }
                                th scope="col" class="num" { "Average play time" }
                                th scope="col" { span class="sr-only" { "Average play time, as a bar" } }
                            } }
                            tbody {}
                        }
                    }
                }
            }
            section {
                h2 { "Top titles " (layout::csv_link(&titles)) }
                table class="rows" data-src=(titles) data-sort-col="starts" data-limit="20"
                    data-columns="title_id,starts,completions,completion_rate,watch_hours"
                    data-units="text,count,count,percent,hours" data-link-col="title_id"
                    data-link=(q.link("/titles/{}", &[])) {
                    caption { "The 20 titles with the most starts, " (period.from) " – " (period.to) }
                    thead { tr {
                        th scope="col" { "Title" }
                        th scope="col" class="num" { "Starts" }
                        th scope="col" class="num" { "Completions" }
                        th scope="col" class="num" { "Completion" }
                        th scope="col" class="num" { "Watch hours" }
                    } }
                    tbody {}
                }
            }
        },
    ))
}
