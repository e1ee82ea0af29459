//! The overview: one tile per headline figure over the period, each with
//! the previous period's value and the change.

use axum::response::Response;
use maud::html;

use super::layout;
use super::{Ctx, metric_src, page};

/// One tile: a column of a metric.
pub struct Tile {
    /// The metric.
    pub metric: &'static str,
    /// Its column shown.
    pub column: &'static str,
    /// The tile's label.
    pub label: &'static str,
    /// How the value reads: `count`, `hours`, `ms`, `percent`, `money`.
    pub unit: &'static str,
    /// Which way is good: `higher` or `lower`.
    pub better: &'static str,
}

const fn tile(
    metric: &'static str,
    column: &'static str,
    label: &'static str,
    unit: &'static str,
    better: &'static str,
) -> Tile {
    Tile {
        metric,
        column,
        label,
        unit,
        better,
    }
}

/// The overview's tiles, in order.
pub const TILES: &[Tile] = &[
    tile(
        "exits_before_video_start",
        "views",
        "Views",
        "count",
        "higher",
    ),
    tile("active_users", "users", "Unique viewers", "count", "higher"),
    tile("watch_hours", "hours", "Watch hours", "hours", "higher"),
    tile(
        "video_startup_time",
        "p50_ms",
        "Startup time p50",
        "ms",
        "lower",
    ),
    tile(
        "video_startup_time",
        "p95_ms",
        "Startup time p95",
        "ms",
        "lower",
    ),
    tile(
        "rebuffering_ratio",
        "ratio",
        "Rebuffering ratio",
        "percent",
        "lower",
    ),
    tile(
        "video_start_failures",
        "vsf_rate",
        "Video start failures",
        "percent",
        "lower",
    ),
    tile(
        "playback_failures",
        "failure_rate",
        "Playback failures",
        "percent",
        "lower",
    ),
    tile(
        "exits_before_video_start",
        "ebvs_rate",
        "Exits before start",
        "percent",
        "lower",
    ),
    tile(
        "concurrent_viewers",
        "peak",
        "Peak concurrent viewers",
        "count",
        "higher",
    ),
    tile("mrr", "mrr_minor", "MRR (month end)", "money", "higher"),
    tile(
        "mrr",
        "paying_users",
        "Paying subscribers (month end)",
        "count",
        "higher",
    ),
    tile(
        "customer_churn",
        "rate",
        "Customer churn (month)",
        "percent",
        "lower",
    ),
];

/// `GET /overview`.
pub async fn show(c: Ctx) -> Response {
    let (q, period) = (&c.q, c.period);
    let frame = c.frame("/overview", "Overview");
    let bucket = period.span.name();
    page(layout::page(
        &frame,
        html! {},
        html! {
            (layout::needs_script())
            section class="tiles" aria-label="Headline figures" {
                @for t in TILES {
                    @let src = metric_src(t.metric, period, bucket, q, &[("compare", "previous")]);
                    div class="tile" data-src=(src) data-col=(t.column) data-unit=(t.unit)
                        data-better=(t.better) data-metric=(t.metric) {
                        h2 { (t.label) }
                        output class="value" { "…" }
                        p class="previous" {}
                        p class="change" {}
                    }
                }
            }
        },
    ))
}
