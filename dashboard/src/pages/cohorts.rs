//! Cohorts: subscriber retention by the month of a user's first payment,
//! as a heat-map (rows: cohorts of the twelve months ending with the
//! period's month; columns: months since), in percent of the cohort or
//! in subscribers. Each cell says its number; the shade only repeats it.
//!
//! MRR retention by cohort is not in the metrics API yet (the contract's
//! `cohort_retention` counts subscribers).

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
    let frame = c.frame("/cohorts", "Cohorts");
    page(layout::page(
        &frame,
        html! {
            label { "Cells "
                select name="show" {
                    option value="percent" selected[shown == "percent"] { "percent of the cohort" }
                    option value="absolute" selected[shown == "absolute"] { "subscribers" }
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
        },
    ))
}
