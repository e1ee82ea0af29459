//! What a page shows, all of it in the URL so that any view can be
//! shared: the period, the time zone, the filters, and each page's own
//! choices (metric, breakdown, comparison, sort, floor). [`PageQuery`] is
//! the query string, strictly typed; [`Period`] the window it names.

use chrono::{Datelike, Duration, Months, NaiveDate};
use serde::Deserialize;
use showrunner_warehouse::metrics::DIMENSIONS;
use showrunner_web::QueryFields;

/// A page's query string. Empty values (a blank form field) count as
/// absent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageQuery {
    /// `month` (default), `week` or `day`.
    pub period: Option<String>,
    /// The period's first day (`YYYY-MM-DD`); default: the period holding
    /// the lake's latest day. Moved back to the period's start.
    pub start: Option<String>,
    /// IANA time zone the times are shown in (default `UTC`).
    pub tz: Option<String>,
    /// The QoE page's metric.
    pub metric: Option<String>,
    /// The breakdown dimension.
    pub by: Option<String>,
    /// `previous` (default) or `week`.
    pub compare: Option<String>,
    /// The breakdown's order: `impact` (default) or `volume`.
    pub sort: Option<String>,
    /// Segments with less volume are left out of the breakdown.
    pub min_volume: Option<String>,
    /// The views list's outcomes.
    pub outcome: Option<String>,
    /// The views list's offset.
    pub offset: Option<String>,
    /// The cohorts' cells: `percent` (default) or `absolute`.
    pub show: Option<String>,
    /// Filters, one per dimension (`country=FR,DE`).
    pub device: Option<String>,
    /// Filter.
    pub os: Option<String>,
    /// Filter.
    pub player: Option<String>,
    /// Filter.
    pub player_version: Option<String>,
    /// Filter.
    pub app_version: Option<String>,
    /// Filter.
    pub cdn: Option<String>,
    /// Filter.
    pub country: Option<String>,
    /// Filter.
    pub isp: Option<String>,
    /// Filter.
    pub network: Option<String>,
    /// Filter.
    pub title: Option<String>,
    /// Filter.
    pub plan: Option<String>,
    /// Filter (a startup band).
    pub startup: Option<String>,
    /// Filter (a rebuffering band).
    pub rebuffering: Option<String>,
}

impl QueryFields for PageQuery {
    const FIELDS: &'static [&'static str] = &[
        "period",
        "start",
        "tz",
        "metric",
        "by",
        "compare",
        "sort",
        "min_volume",
        "outcome",
        "offset",
        "show",
        "device",
        "os",
        "player",
        "player_version",
        "app_version",
        "cdn",
        "country",
        "isp",
        "network",
        "title",
        "plan",
        "startup",
        "rebuffering",
    ];
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl PageQuery {
    /// The filters given, as (dimension, value) in [`DIMENSIONS`] order.
    pub fn filters(&self) -> Vec<(&'static str, &str)> {
        // one per dimension, in its order (a missing one fails to compile)
        let values: [&Option<String>; DIMENSIONS.len()] = [
            &self.device,
            &self.os,
            &self.player,
            &self.player_version,
            &self.app_version,
            &self.cdn,
            &self.country,
            &self.isp,
            &self.network,
            &self.title,
            &self.plan,
            &self.startup,
            &self.rebuffering,
        ];
        DIMENSIONS
            .iter()
            .map(|(d, _)| *d)
            .zip(values)
            .filter_map(|(d, v)| given(v).map(|v| (d, v)))
            .collect()
    }

    /// Every parameter given (not blank), in [`PageQuery::FIELDS`] order.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let values = [
            &self.period,
            &self.start,
            &self.tz,
            &self.metric,
            &self.by,
            &self.compare,
            &self.sort,
            &self.min_volume,
            &self.outcome,
            &self.offset,
            &self.show,
        ];
        let mut out: Vec<(&'static str, &str)> = Self::FIELDS
            .iter()
            .copied()
            .zip(values)
            .filter_map(|(k, v)| given(v).map(|v| (k, v)))
            .collect();
        out.extend(self.filters());
        out
    }

    /// This page's URL at `path` with `changes` (a `None` removes the
    /// parameter).
    pub fn link(&self, path: &str, changes: &[(&str, Option<&str>)]) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .pairs()
            .into_iter()
            .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
            .collect();
        pairs.extend(changes.iter().filter_map(|(k, v)| v.map(|v| (*k, v))));
        let qs = encode(pairs);
        if qs.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{qs}")
        }
    }

    /// A parameter's value, when given and not blank.
    pub fn get<'a>(&self, v: &'a Option<String>) -> Option<&'a str> {
        given(v)
    }

    /// The time zone (`UTC` unless a plausible IANA name is given; the
    /// browser checks it against its own list).
    pub fn tz(&self) -> &str {
        given(&self.tz)
            .filter(|t| {
                t.len() <= 64
                    && t.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c))
            })
            .unwrap_or("UTC")
    }
}

/// The length of a page's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// A calendar month.
    Month,
    /// An ISO week (Monday first).
    Week,
    /// A UTC day.
    Day,
}

impl Span {
    /// Its name in the URL and the API's `bucket`.
    pub fn name(self) -> &'static str {
        match self {
            Span::Month => "month",
            Span::Week => "week",
            Span::Day => "day",
        }
    }

    /// The bucket of its time series: days in a month or a week, hours in
    /// a day.
    pub fn series_bucket(self) -> &'static str {
        match self {
            Span::Month | Span::Week => "day",
            Span::Day => "hour",
        }
    }

    fn parse(s: Option<&str>) -> Result<Span, String> {
        match s {
            None | Some("month") => Ok(Span::Month),
            Some("week") => Ok(Span::Week),
            Some("day") => Ok(Span::Day),
            Some(other) => Err(format!("unknown period `{other}` (month, week or day)")),
        }
    }

    /// The start of the period holding `d`.
    fn floor(self, d: NaiveDate) -> NaiveDate {
        match self {
            Span::Month => d.with_day(1).unwrap_or(d),
            Span::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
            Span::Day => d,
        }
    }

    /// The start of the period after the one starting at `d`.
    fn next(self, d: NaiveDate) -> NaiveDate {
        match self {
            Span::Month => d.checked_add_months(Months::new(1)).unwrap_or(d),
            Span::Week => d + Duration::days(7),
            Span::Day => d + Duration::days(1),
        }
    }

    /// The start of the period before the one starting at `d`.
    fn previous(self, d: NaiveDate) -> NaiveDate {
        match self {
            Span::Month => d.checked_sub_months(Months::new(1)).unwrap_or(d),
            Span::Week => d - Duration::days(7),
            Span::Day => d - Duration::days(1),
        }
    }
}

/// The window a page shows: `[from, to)`, one [`Span`] long; its data
/// requests ask for `[from, until())`, `until()` being `to`, or the day
/// after the lake's latest day when the period holds it (still running) — so that a
/// comparison with the previous period weighs the same number of days
/// (fourteen days of April against the fourteen before, not against the
/// whole of March).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Its length.
    pub span: Span,
    /// First day.
    pub from: NaiveDate,
    /// The day after the last.
    pub to: NaiveDate,
    /// The lake's latest day (whatever period this is).
    pub latest: NaiveDate,
}

impl Period {
    /// The period the query names, else the one holding `latest` (the
    /// lake's latest day).
    pub fn of(q: &PageQuery, latest: NaiveDate) -> Result<Period, String> {
        let span = Span::parse(given(&q.period))?;
        let day = match given(&q.start) {
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| format!("`start` must be a date YYYY-MM-DD, got `{s}`"))?,
            None => latest,
        };
        let from = span.floor(day);
        let to = span.next(from);
        Ok(Period {
            span,
            from,
            to,
            latest,
        })
    }

    /// The day after the last with data asked for: `to`, or the day after
    /// the lake's latest day when the period holds it.
    pub fn until(self) -> NaiveDate {
        if (self.from..self.to).contains(&self.latest) {
            self.latest + Duration::days(1)
        } else {
            self.to
        }
    }

    /// Whether the period is still running (its data stops before `to`).
    pub fn running(self) -> bool {
        self.until() < self.to
    }

    /// The period before.
    pub fn previous(self) -> Period {
        let from = self.span.previous(self.from);
        Period {
            from,
            to: self.from,
            ..self
        }
    }

    /// The twelve months ending with the month of the period's start
    /// (what the revenue and cohort pages show).
    pub fn year_to(self) -> Period {
        let month = Span::Month.floor(self.from);
        let to = Span::Month.next(month);
        Period {
            span: Span::Month,
            from: month.checked_sub_months(Months::new(11)).unwrap_or(month),
            to,
            latest: self.latest,
        }
    }

    /// The period after.
    pub fn next(self) -> Period {
        let to = self.span.next(self.to);
        Period {
            from: self.to,
            to,
            ..self
        }
    }
}

/// A query string: `pairs` URL-encoded.
pub fn encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(period: &str, start: &str) -> PageQuery {
        PageQuery {
            period: Some(period.into()),
            start: Some(start.into()),
            ..PageQuery::default()
        }
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn periods_start_on_their_boundary() {
        let latest = d("2026-03-18");
        let p = Period::of(&q("month", "2026-03-18"), latest).expect("p");
        assert_eq!((p.from, p.to), (d("2026-03-01"), d("2026-04-01")));
        assert_eq!(p.previous().from, d("2026-02-01"));
        assert_eq!(p.previous().to, d("2026-03-01"));
        assert_eq!(p.next().from, d("2026-04-01"));
        let y = p.year_to();
        assert_eq!((y.from, y.to), (d("2025-04-01"), d("2026-04-01")));
        // 2026-03-18 is a Wednesday; its ISO week starts on Monday the 16th
        let p = Period::of(&q("week", "2026-03-18"), latest).expect("p");
        assert_eq!((p.from, p.to), (d("2026-03-16"), d("2026-03-23")));
        let p = Period::of(&q("day", "2026-03-18"), latest).expect("p");
        assert_eq!((p.from, p.to), (d("2026-03-18"), d("2026-03-19")));
        // blank: the month of the lake's latest day, its data so far
        let p = Period::of(&q("", ""), latest).expect("p");
        assert_eq!((p.from, p.to), (d("2026-03-01"), d("2026-04-01")));
        assert_eq!(p.until(), d("2026-03-19"));
        assert!(p.running());
        assert!(!p.previous().running(), "February is over");
        // the year's last month holds the latest day: it runs too
        let y = p.year_to();
        assert!(y.running());
        assert_eq!(y.until(), d("2026-03-19"));
        // a period over: all of it
        let p = Period::of(&q("month", "2026-02-10"), latest).expect("p");
        assert_eq!(p.until(), d("2026-03-01"));
        assert!(!p.running());
        // the period after a past one can be the running one
        assert_eq!(p.next().until(), d("2026-03-19"));
        assert!(Period::of(&q("year", ""), latest).is_err());
        assert!(Period::of(&q("month", "18/03/2026"), latest).is_err());
    }

    #[test]
    fn filters_skip_blanks_and_keep_the_contract_order() {
        let q = PageQuery {
            country: Some("FR,DE".into()),
            device: Some("tv".into()),
            cdn: Some(" ".into()),
            tz: Some("Europe/Paris".into()),
            ..PageQuery::default()
        };
        assert_eq!(q.filters(), vec![("device", "tv"), ("country", "FR,DE")]);
        assert_eq!(q.tz(), "Europe/Paris");
        let bad = PageQuery {
            tz: Some("\"><script>".into()),
            ..PageQuery::default()
        };
        assert_eq!(bad.tz(), "UTC");
    }
}
