//! The frame every page shares: head (style, scripts, the session's CSRF
//! token), navigation, the period bar and the controls form, the footer.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use showrunner_warehouse::metrics::DIMENSIONS;

use super::assets::url;
use super::state::{PageQuery, Period, Span};

/// The pages of the navigation: (path, label).
const NAV: &[(&str, &str)] = &[
    ("/overview", "Overview"),
    ("/qoe", "Quality of experience"),
    ("/engagement", "Engagement"),
    ("/revenue", "Revenue"),
    ("/cohorts", "Cohorts"),
    ("/views", "Views"),
    ("/sql", "SQL"),
    ("/live", "Live"),
];

fn head(title: &str, csrf: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            link rel="icon" href="data:,";
            title { (title) " · Showrunner" }
            @if let Some(c) = csrf { meta name="csrf-token" content=(c); }
            link rel="stylesheet" href=(url("uPlot-1.6.32.min.css"));
            link rel="stylesheet" href=(url("dashboard.css"));
            script defer src=(url("uPlot-1.6.32.min.js")) {}
            script defer src=(url("dashboard.js")) {}
        }
    }
}

fn footer(tz: &str) -> Markup {
    html! {
        footer {
            p {
                "Times in " strong { (tz) } " (buckets are UTC days and hours). Every number is the metrics API's ("
                a href="/api" { "API" } "). Charts: uPlot 1.6.32 ("
                a href=(url("uPlot-1.6.32.LICENSE.txt")) { "MIT licence" } ")."
            }
        }
    }
}

/// A page without navigation (sign-in, refusals).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, None))
            body data-tz="UTC" {
                main id="main" class="narrow" { h1 { (title) } (body) }
            }
        }
    }
}

/// The sign-in page, with a message after a failed attempt.
pub fn signin(next: &str, message: Option<&str>) -> Markup {
    bare(
        "Sign in",
        html! {
            @if let Some(m) = message { p class="error" role="alert" { (m) } }
            form method="post" action="/signin" class="signin" {
                input type="hidden" name="next" value=(next);
                label for="key" { "Analyst key" }
                input id="key" name="key" type="password" autocomplete="current-password"
                    required autofocus;
                button type="submit" { "Sign in" }
            }
            p class="hint" {
                "The browser keeps a session cookie (HttpOnly, SameSite=Strict) for 8 hours, "
                "never the key. API clients send the key as " code { "Authorization: Bearer" } "."
            }
        },
    )
}

/// What a page puts in its frame.
pub struct Frame<'a> {
    /// The page's path (its navigation entry).
    pub path: &'a str,
    /// Its heading.
    pub title: &'a str,
    /// The URL state.
    pub q: &'a PageQuery,
    /// The period shown.
    pub period: Period,
    /// The session's CSRF token (none for a bearer key).
    pub csrf: Option<String>,
    /// Whether the page has a period (the period bar and the controls
    /// form; the SQL and Live pages have neither).
    pub periodic: bool,
}

fn period_label(p: Period) -> String {
    match p.span {
        Span::Month => p.from.format("%B %Y").to_string(),
        Span::Week => format!("Week of {}", p.from.format("%Y-%m-%d")),
        Span::Day => p.from.format("%A %Y-%m-%d").to_string(),
    }
}

/// A page: navigation, heading, the period bar, `controls` (inside the
/// page's one GET form, with the period, the time zone and the filters),
/// then `body`.
pub fn page(f: &Frame<'_>, controls: Markup, body: Markup) -> Markup {
    let q = f.q;
    let prev = f.period.previous().from.to_string();
    let next = f.period.next().from.to_string();
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(f.title, f.csrf.as_deref()))
            body data-tz=(q.tz()) {
                a class="skip" href="#main" { "Skip to content" }
                header {
                    nav aria-label="Pages" {
                        span class="brand" { "Showrunner" }
                        ul {
                            @for (path, label) in NAV {
                                li {
                                    @if *path == f.path {
                                        a href=(q.link(path, &[])) aria-current="page" { (label) }
                                    } @else {
                                        a href=(q.link(path, &[])) { (label) }
                                    }
                                }
                            }
                        }
                        @if let Some(c) = &f.csrf {
                            form method="post" action="/signout" class="signout" {
                                input type="hidden" name="csrf" value=(c);
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main id="main" {
                    h1 { (f.title) }
                    @if f.periodic {
                    div class="period" {
                        a href=(q.link(f.path, &[("start", Some(&prev))])) rel="prev" { "← Previous" }
                        strong class="period-label" { (period_label(f.period)) }
                        span class="range" { (f.period.from) " – " (f.period.to) " (exclusive)" }
                        @if f.period.running() {
                            span class="running" {
                                "running: data through " (f.period.until().pred_opt().unwrap_or(f.period.until()))
                                ", compared with as many days before"
                            }
                        }
                        a href=(q.link(f.path, &[("start", Some(&next))])) rel="next" { "Next →" }
                    }
                    form method="get" action=(f.path) class="controls" {
                        label { "Period "
                            select name="period" {
                                @for s in [Span::Month, Span::Week, Span::Day] {
                                    option value=(s.name()) selected[s == f.period.span] { (s.name()) }
                                }
                            }
                        }
                        label { "Starting " input type="date" name="start" value=(f.period.from); }
                        label { "Time zone " input type="text" name="tz" value=(q.tz()) size="14"; }
                        (controls)
                        details class="filters" open[!q.filters().is_empty()] {
                            summary { "Filters (" (q.filters().len()) ")" }
                            p class="hint" { "Comma-separate several values: " code { "FR,DE" } "." }
                            div class="filter-grid" {
                                @for (dim, _) in DIMENSIONS {
                                    label {
                                        (dim) " "
                                        input type="text" name=(dim) size="10"
                                            value=(q.filters().iter().find(|(d, _)| d == dim).map_or("", |(_, v)| *v));
                                    }
                                }
                            }
                        }
                        button type="submit" { "Apply" }
                    }
                    }
                    (body)
                }
                (footer(q.tz()))
            }
        }
    }
}

/// A CSV download link for the API request `src`.
pub fn csv_link(src: &str) -> Markup {
    let sep = if src.contains('?') { '&' } else { '?' };
    html! { a class="csv" href=(format!("{src}{sep}format=csv")) download { "CSV" } }
}

/// `<noscript>` for the parts the script fills.
pub fn needs_script() -> Markup {
    html! { noscript { p { "The numbers here are fetched from the API by the page's script; "
    "the API itself (" a href="/api" { "/api" } ") serves them as JSON and CSV." } } }
}

/// Raw HTML of the old endpoint list, for `/api`.
pub fn api_index() -> Markup {
    bare(
        "The API",
        PreEscaped(include_str!("../index.html").to_owned()),
    )
}
