//! Engagement: active users (calendar: daily, weekly, monthly; rolling 7
//! and 28 days), watch hours, and the period's top titles with their
//! starts and completion.

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
            figure class="chart" data-src=(rolling) data-cols="dau,wau_7d,mau_28d" data-unit="count" data-bucket="day" {
                figcaption { "Active users: daily, rolling 7 days, rolling 28 days " (layout::csv_link(&rolling)) }
                div class="plot" {}
            }
            figure class="chart" data-src=(hours) data-cols="hours" data-unit="hours" data-bucket=(series) {
                figcaption { "Watch hours by " (series) ", with the previous period dashed " (layout::csv_link(&hours)) }
                div class="plot" {}
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
