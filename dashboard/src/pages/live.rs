//! Live: the last minutes, refreshed every 2 s from the stream (server-sent
//! events from `/v1/live`): viewers playing now, plays and fatal failures
//! per minute, startup time and rebuffering by CDN. Nothing here waits for
//! the lake.

use axum::response::Response;
use maud::html;

use super::layout;
use super::{Ctx, page};

/// `GET /live`.
pub async fn show(c: Ctx) -> Response {
    let frame = layout::Frame {
        periodic: false,
        ..c.frame("/live", "Live")
    };
    page(layout::page(
        &frame,
        html! {},
        html! {
            (layout::needs_script())
            div class="live" data-stream="/v1/live?minutes=15" {
                p class="hint live-status" role="status" { "Connecting…" }
                section class="tiles" aria-label="Now" {
                    div class="tile" { h2 { "Viewers playing now" } output class="value" data-live="concurrent" { "…" } }
                    div class="tile" { h2 { "Plays, last full minute" } output class="value" data-live="plays" { "…" } }
                    div class="tile" { h2 { "Fatal failures, last full minute" } output class="value" data-live="failures" { "…" } }
                    div class="tile" { h2 { "Views followed" } output class="value" data-live="views" { "…" } }
                }
                figure class="chart live-chart" data-live-cols="concurrent" {
                    figcaption { "Concurrent viewers at each minute, last 15 minutes" }
                    div class="plot" {}
                }
                figure class="chart live-chart" data-live-cols="plays,failures" {
                    figcaption { "Plays and fatal failures per minute" }
                    div class="plot" {}
                }
                section {
                    h2 { "By CDN, last 15 minutes" }
                    table class="live-cdns" {
                        caption { "Live estimates from the stream; the other pages hold the warehouse's exact figures" }
                        thead { tr {
                            th scope="col" { "CDN" }
                            th scope="col" class="num" { "Plays" }
                            th scope="col" class="num" { "Started" }
                            th scope="col" class="num" { "Startup p50" }
                            th scope="col" class="num" { "Startup p95" }
                            th scope="col" class="num" { "Rebuffering" }
                        } }
                        tbody {}
                    }
                }
            }
        },
    ))
}
