//! A title's page: its audience (views, viewers, watch hours), its
//! completion, and the QoE of its views, over the period with the
//! previous one — every figure the metrics API's, filtered by the title.

use axum::response::Response;
use maud::html;
use showrunner_web::Path;

use super::layout;
use super::{Ctx, bad_request, metric_src, page};

/// (metric, column, label, unit, better) of the title's tiles.
const TILES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "exits_before_video_start",
        "views",
        "Views",
        "count",
        "higher",
    ),
    ("active_users", "users", "Viewers", "count", "higher"),
    ("watch_hours", "hours", "Watch hours", "hours", "higher"),
    ("title_engagement", "starts", "Starts", "count", "higher"),
    (
        "title_engagement",
        "completion_rate",
        "Completion",
        "percent",
        "higher",
    ),
    (
        "video_startup_time",
        "p50_ms",
        "Startup time p50",
        "ms",
        "lower",
    ),
    (
        "rebuffering_ratio",
        "ratio",
        "Rebuffering ratio",
        "percent",
        "lower",
    ),
    (
        "video_start_failures",
        "vsf_rate",
        "Video start failures",
        "percent",
        "lower",
    ),
    (
        "playback_failures",
        "failure_rate",
        "Playback failures",
        "percent",
        "lower",
    ),
];

/// `GET /titles/{title}`.
pub async fn show(Path(title): Path<String>, mut c: Ctx) -> Response {
    if title.is_empty() || title.len() > 128 || title.contains(['"', '\'', '\\', ',']) {
        return bad_request("not a title id");
    }
    // the title is a filter of every request, next to the page's own
    c.q.title = Some(title.clone());
    let (q, period) = (&c.q, c.period);
    let span = period.span.name();
    let starts = metric_src(
        "title_engagement",
        period,
        period.span.series_bucket(),
        q,
        &[("compare", "previous")],
    );
    let by_device = metric_src(
        "video_startup_time",
        period,
        span,
        q,
        &[
            ("by", "device"),
            ("compare", "previous"),
            ("impact", "true"),
        ],
    );
    let heading = format!("Title {title}");
    let path = format!(
        "/titles/{}",
        form_urlencoded::byte_serialize(title.as_bytes()).collect::<String>()
    );
    let frame = c.frame(&path, &heading);
    let drill = q.link("/views", &[]);
    page(layout::page(
        &frame,
        html! {},
        html! {
            (layout::needs_script())
            section class="tiles" aria-label="The title's figures" {
                @for (metric, col, label, unit, better) in TILES {
                    @let src = metric_src(metric, period, span, q, &[("compare", "previous")]);
                    div class="tile" data-src=(src) data-col=(col) data-unit=(unit) data-better=(better) {
                        h2 { (label) }
                        output class="value" { "…" } p class="previous" {} p class="change" {}
                    }
                }
            }
            figure class="chart" data-src=(starts) data-cols="starts,completions" data-unit="count"
                data-bucket=(period.span.series_bucket()) {
                figcaption { "Starts and completions, with the previous period dashed " (layout::csv_link(&starts)) }
                div class="plot" {}
            }
            section {
                h2 { "Startup time of its views by device " (layout::csv_link(&by_device)) }
                p class="hint" { a href=(drill) { "The title's views" } "." }
                table class="breakdown" data-src=(by_device) data-dim="device" data-dim-col="device_type"
                    data-value="p50_ms" data-unit="ms" data-volume="views" data-volume-unit="count"
                    data-sort="impact" data-min-volume="0" data-drill=(drill) data-better="lower" {
                    caption { "Startup time p50 by device" }
                    thead { tr {
                        th scope="col" { "device" }
                        th scope="col" class="num" { "Views" }
                        th scope="col" class="num" { "Value" }
                        th scope="col" class="num" { "Previous" }
                        th scope="col" class="num" { "Change" }
                        th scope="col" class="num" { "Negative impact" }
                    } }
                    tbody {}
                }
            }
        },
    ))
}
