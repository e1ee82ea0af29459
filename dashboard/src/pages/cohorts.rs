//! Cohorts: retention by the month of a user's first payment, as
//! heat-maps (rows: cohorts of the twelve months ending with the period's
//! month; columns: months since): subscribers (`cohort_retention`), and
//! MRR per currency (`cohort_mrr_retention`, expansion counting), each in
//! percent of the cohort's start or in absolute numbers. Each cell says
//! its number; the shade only repeats it.

use axum::response::Response;
use maud::html;

use super::layout;
use super::{Ctx, bad_request, metric_src, page};

/// `GET /cohorts`.
pub async fn show(c: Ctx) -> Response {
    let (q, period) = (&c.q, c.period);
    let shown = q.get(&q.show).unwrap_or("percent");
    if !["percent", "absolute"].contains(&shown) {
        return bad_request("`show` is `percent` or `absolute`");
    }
    let year = period.year_to();
    let src = metric_src("cohort_retention", year, "month", q, &[]);
    let mrr = metric_src("cohort_mrr_retention", year, "month", q, &[]);
    let frame = c.frame("/cohorts", "Cohorts");
    page(layout::page(
        &frame,
        html! {
            label { "Cells "
                select name="show" {
                    option value="percent" selected[shown == "percent"] { "percent of the cohort" }
                    option value="absolute" selected[shown == "absolute"] { "subscribers and MRR" }
                }
            }
        },
        html! {
            (layout::needs_script())
            section {
                h2 { "Retention by first-payment month " (layout::csv_link(&src)) }
                table class="heatmap" data-src=(src) data-show=(shown) {
                    caption {
                        "Subscribers still paying k months after their first paid month end, cohorts "
                        (year.from) " – " (year.to)
                    }
                    thead {} tbody {}
                }
            }
            section {
                h2 { "MRR retention by first-payment month " (layout::csv_link(&mrr)) }
                p class="hint" {
                    "The MRR a cohort's subscribers still pay k months on, in each currency, against what they paid "
                    "at the end of their first paid month; upgrades count, so a cohort can keep more than 100 %."
                }
                div class="heatmaps" data-src=(mrr) data-show=(shown) {}
            }
        },
    ))
}
