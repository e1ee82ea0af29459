//! Quality of experience: one QoE metric over the period with a
//! comparison overlay, and its breakdown by any dimension — volume, value,
//! previous value, change and negative impact, sorted by impact or volume
//! above a volume floor — each segment drilling down to its views.

use axum::response::Response;
use maud::html;
use showrunner_warehouse::metrics::DIMENSIONS;

use super::layout;
use super::{Ctx, bad_request, metric_src, page};

/// A QoE metric as the page shows it.
pub struct Qoe {
    /// The metric.
    pub metric: &'static str,
    /// Its label.
    pub label: &'static str,
    /// The columns drawn (the first is the breakdown's value).
    pub columns: &'static [&'static str],
    /// `ms`, `percent`, `per_minute` or `kbps`.
    pub unit: &'static str,
    /// The breakdown's volume columns (summed), and how they read.
    pub volume: &'static [&'static str],
    /// `count` (views) or `ms` (shown as hours).
    pub volume_unit: &'static str,
    /// Whether the API ranks its segments (`impact=true`).
    pub impact: bool,
}

/// The page's metrics, in the menu's order.
pub const METRICS: &[Qoe] = &[
    Qoe {
        metric: "video_startup_time",
        label: "Video startup time",
        columns: &["p50_ms", "p95_ms", "p99_ms"],
        unit: "ms",
        volume: &["views"],
        volume_unit: "count",
        impact: true,
    },
    Qoe {
        metric: "rebuffering_ratio",
        label: "Rebuffering ratio",
        columns: &["ratio"],
        unit: "percent",
        volume: &["stall_ms", "playing_ms"],
        volume_unit: "ms",
        impact: true,
    },
    Qoe {
        metric: "rebuffer_frequency",
        label: "Rebuffer frequency",
        columns: &["per_minute"],
        unit: "per_minute",
        volume: &["playing_ms"],
        volume_unit: "ms",
        impact: true,
    },
    Qoe {
        metric: "video_start_failures",
        label: "Video start failures",
        columns: &["vsf_rate"],
        unit: "percent",
        volume: &["views"],
        volume_unit: "count",
        impact: true,
    },
    Qoe {
        metric: "playback_failures",
        label: "Playback failures",
        columns: &["failure_rate"],
        unit: "percent",
        volume: &["views"],
        volume_unit: "count",
        impact: true,
    },
    Qoe {
        metric: "exits_before_video_start",
        label: "Exits before video start",
        columns: &["ebvs_rate"],
        unit: "percent",
        volume: &["views"],
        volume_unit: "count",
        impact: true,
    },
    Qoe {
        metric: "average_bitrate",
        label: "Average bitrate",
        columns: &["kbps"],
        unit: "kbps",
        volume: &[],
        volume_unit: "count",
        impact: false,
    },
];

/// `GET /qoe`.
pub async fn show(c: Ctx) -> Response {
    let (q, period) = (&c.q, c.period);
    let name = q.get(&q.metric).unwrap_or("video_startup_time");
    let Some(m) = METRICS.iter().find(|m| m.metric == name) else {
        return bad_request(&format!(
            "`metric`: `{name}` is not a QoE metric of this page"
        ));
    };
    let by = q.get(&q.by).unwrap_or("cdn");
    let Some((_, by_column)) = DIMENSIONS.iter().find(|(d, _)| *d == by) else {
        return bad_request(&format!("`by`: unknown dimension `{by}`"));
    };
    let compare = q.get(&q.compare).unwrap_or("previous");
    if !["previous", "week"].contains(&compare) {
        return bad_request("`compare` is `previous` or `week`");
    }
    let sort = q
        .get(&q.sort)
        .unwrap_or(if m.impact { "impact" } else { "volume" });
    if !["impact", "volume"].contains(&sort) {
        return bad_request("`sort` is `impact` or `volume`");
    }
    let floor = q.get(&q.min_volume).unwrap_or("0");
    if floor
        .parse::<f64>()
        .map_or(true, |f| !f.is_finite() || f < 0.0)
    {
        return bad_request("`min_volume` is a number ≥ 0");
    }
    let series = metric_src(
        m.metric,
        period,
        period.span.series_bucket(),
        q,
        &[("compare", compare)],
    );
    let mut extra = vec![("by", by), ("compare", compare)];
    if m.impact {
        extra.push(("impact", "true"));
    }
    let breakdown = metric_src(m.metric, period, period.span.name(), q, &extra);
    let from = period.from.to_string();
    let drill = q.link(
        "/views",
        &[
            ("start", Some(&from)),
            ("metric", None),
            ("by", None),
            ("compare", None),
            ("sort", None),
            ("min_volume", None),
        ],
    );
    let frame = c.frame("/qoe", "Quality of experience");
    let controls = html! {
        label { "Metric "
            select name="metric" {
                @for x in METRICS { option value=(x.metric) selected[x.metric == m.metric] { (x.label) } }
            }
        }
        label { "Breakdown "
            select name="by" {
                @for (d, _) in DIMENSIONS { option value=(d) selected[*d == by] { (d) } }
            }
        }
        label { "Compare with "
            select name="compare" {
                option value="previous" selected[compare == "previous"] { "previous period" }
                option value="week" selected[compare == "week"] { "same days a week earlier" }
            }
        }
        label { "Sort by "
            select name="sort" {
                @if m.impact { option value="impact" selected[sort == "impact"] { "negative impact" } }
                option value="volume" selected[sort == "volume"] { "volume" }
            }
        }
        label { "Minimum volume "
            input type="number" name="min_volume" min="0" step="any" value=(floor) size="6";
        }
    };
    let volume_label = if m.volume_unit == "ms" {
        "Hours"
    } else {
        "Views"
    };
    page(layout::page(
        &frame,
        controls,
        html! {
            (layout::needs_script())
            figure class="chart" data-src=(series) data-cols=(m.columns.join(",")) data-unit=(m.unit)
                data-bucket=(period.span.series_bucket()) {
                figcaption { (m.label) " by " (period.span.series_bucket()) ", with the comparison dashed " (layout::csv_link(&series)) }
                div class="plot" {}
            }
            section {
                h2 { (m.label) " by " (by) " " (layout::csv_link(&breakdown)) }
                p class="hint" {
                    "Negative impact: how much a segment moves the total — (segment value − total) × segment volume ÷ total volume; positive is worse. "
                    a href=(drill) { "All the period's views" } "."
                }
                table class="breakdown" data-src=(breakdown) data-dim=(by) data-dim-col=(by_column) data-value=(m.columns[0])
                    data-unit=(m.unit) data-volume=(m.volume.join(",")) data-volume-unit=(m.volume_unit)
                    data-sort=(sort) data-min-volume=(floor) data-drill=(drill)
                    data-better=(if m.impact { "lower" } else { "higher" }) {
                    caption { (m.label) " by " (by) ", " (period.from) " – " (period.to) }
                    thead { tr {
                        th scope="col" { (by) }
                        th scope="col" class="num" { (volume_label) }
                        th scope="col" class="num" { "Value" }
                        th scope="col" class="num" { "Previous" }
                        th scope="col" class="num" { "Change" }
                        @if m.impact { th scope="col" class="num" { "Negative impact" } }
                    } }
                    tbody {}
                }
            }
        },
    ))
}
