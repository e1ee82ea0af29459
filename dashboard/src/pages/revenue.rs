//! Subscriptions and revenue, over the twelve months ending with the
//! period's month, per currency: MRR and paying subscribers, the month's
//! movements as a waterfall (MRR at the start, new, expansion,
//! reactivation, contraction, churn, MRR at the end), customer and MRR
//! churn, ARPU, LTV, and SVOD next to TVOD and AVOD revenue.
//!
//! The billing metrics take no view filters; MRR and ARPU break down by
//! plan (`by=plan`). Filtering revenue by the viewer's country is not in
//! the metrics API yet.

use axum::response::Response;
use maud::{Markup, html};

use super::layout;
use super::{Ctx, bad_request, metric_src, page};

fn chart(src: &str, cols: &str, unit: &str, caption: &str) -> Markup {
    html! {
        figure class="chart" data-src=(src) data-cols=(cols) data-unit=(unit) data-bucket="month" {
            figcaption { (caption) " " (layout::csv_link(src)) }
            div class="plot" {}
        }
    }
}

/// `GET /revenue`.
pub async fn show(c: Ctx) -> Response {
    let (q, period) = (&c.q, c.period);
    let by = q.get(&q.by);
    if by.is_some_and(|b| b != "plan") {
        return bad_request("`by` is `plan` here (or absent)");
    }
    let year = period.year_to();
    // the period's month; while it runs (it holds the lake's latest
    // day), its data so far
    let month = super::state::Period {
        from: year
            .to
            .checked_sub_months(chrono::Months::new(1))
            .unwrap_or(year.to),
        ..year
    };
    let by_plan: Vec<(&str, &str)> = by.map(|b| ("by", b)).into_iter().collect();
    let mrr = metric_src("mrr", year, "month", q, &by_plan);
    let arpu = metric_src("arpu", year, "month", q, &by_plan);
    let movements = metric_src("mrr_movements", year, "month", q, &[]);
    let customer_churn = metric_src("customer_churn", year, "month", q, &[]);
    let mrr_churn = metric_src("mrr_churn", year, "month", q, &[]);
    let ltv = metric_src("ltv", year, "month", q, &[]);
    let svod = metric_src("mrr", month, "month", q, &[("compare", "previous")]);
    let tvod = metric_src(
        "transactional_revenue",
        month,
        "month",
        q,
        &[("compare", "previous")],
    );
    let avod = metric_src("ad_revenue", month, "month", q, &[("compare", "previous")]);
    let waterfall = metric_src("mrr_movements", month, "month", q, &[]);
    let start_mrr = metric_src("mrr", month.previous(), "month", q, &[]);
    let frame = c.frame("/revenue", "Subscriptions and revenue");
    let label = month.from.format("%B %Y").to_string();
    page(layout::page(
        &frame,
        html! {
            label { "MRR and ARPU by "
                select name="by" {
                    option value="" selected[by.is_none()] { "currency only" }
                    option value="plan" selected[by == Some("plan")] { "plan" }
                }
            }
        },
        html! {
            (layout::needs_script())
            p class="hint" { "Twelve months to " (label) ", per currency. Billing metrics take no view filters." }
            section class="tiles" aria-label="Revenue by model" {
                div class="tile" data-src=(svod) data-col="mrr_minor" data-unit="money" data-better="higher" {
                    h2 { "SVOD: MRR at the end of " (label) }
                    output class="value" { "…" } p class="previous" {} p class="change" {}
                }
                div class="tile" data-src=(tvod) data-col="revenue_minor" data-unit="money" data-better="higher" {
                    h2 { "TVOD: rentals in " (label) }
                    output class="value" { "…" } p class="previous" {} p class="change" {}
                }
                div class="tile" data-src=(avod) data-col="revenue_micros" data-unit="money_micros" data-better="higher" {
                    h2 { "AVOD: ad revenue in " (label) }
                    output class="value" { "…" } p class="previous" {} p class="change" {}
                }
                div class="tile" data-src=(svod) data-col="paying_users" data-unit="count" data-better="higher" {
                    h2 { "Paying subscribers, end of " (label) }
                    output class="value" { "…" } p class="previous" {} p class="change" {}
                }
            }
            section {
                h2 { "MRR movements in " (label) " " (layout::csv_link(&waterfall)) }
                div class="waterfall" data-src=(waterfall) data-start=(start_mrr) {}
            }
            (chart(&mrr, "mrr_minor", "money", "MRR at each month end"))
            (chart(&mrr, "paying_users", "count", "Paying subscribers at each month end"))
            section {
                h2 { "MRR movements by month " (layout::csv_link(&movements)) }
                table class="rows" data-src=(movements)
                    data-columns="bucket,currency,new,expansion,reactivation,contraction,churn,net_new"
                    data-units="text,text,money,money,money,money,money,money" {
                    caption { "New, expansion, reactivation, contraction, churn and net new MRR" }
                    thead {} tbody {}
                }
            }
            (chart(&customer_churn, "rate", "percent", "Customer churn by month"))
            (chart(&mrr_churn, "gross,net", "percent", "MRR churn by month, gross and net"))
            (chart(&arpu, "arpu_minor", "money", "ARPU at each month end"))
            (chart(&ltv, "ltv_minor", "money", "LTV (ARPU ÷ mean customer churn of three months)"))
        },
    ))
}
