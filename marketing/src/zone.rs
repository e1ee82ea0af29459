//! Each user's time zone, and local wall-clock times turned into instants.
//!
//! The zone is, in order: the profile's IANA zone (`signed_up` or
//! `profile_updated` `time_zone`); when it is missing or not a zone the
//! time-zone database knows, the zone where most people of the profile's
//! country live ([`country_zone`]); else UTC. Which one was used is kept
//! ([`ZoneSource`]) so a preview can say how many recipients were placed by
//! a guess.
//!
//! Local times that do not exist or exist twice (DST changes) resolve as
//! RFC 5545 and java.time do: a time in a gap moves forward by the gap's
//! length (02:30 on a spring-forward night to 03:30), a time in an overlap
//! takes the earlier instant.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;

/// Where a user's zone came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneSource {
    /// The profile's own zone.
    Profile,
    /// The profile's country's most populous zone.
    Country,
    /// Neither is known: UTC.
    Default,
}

/// A user's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    /// The zone.
    pub tz: Tz,
    /// Where it came from.
    pub source: ZoneSource,
}

impl Zone {
    /// UTC, for want of anything better.
    pub const DEFAULT: Zone = Zone {
        tz: Tz::UTC,
        source: ZoneSource::Default,
    };

    /// The zone of a profile with `time_zone` and `country`.
    pub fn resolve(time_zone: Option<&str>, country: Option<&str>) -> Zone {
        if let Some(tz) = time_zone.and_then(|z| z.parse::<Tz>().ok()) {
            return Zone {
                tz,
                source: ZoneSource::Profile,
            };
        }
        match country.and_then(country_zone) {
            Some(tz) => Zone {
                tz,
                source: ZoneSource::Country,
            },
            None => Zone::DEFAULT,
        }
    }

    /// The local date and time at `at`.
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&self.tz).naive_local()
    }

    /// The local calendar date at `at`.
    pub fn date(&self, at: DateTime<Utc>) -> NaiveDate {
        self.local(at).date()
    }

    /// The Monday of the local ISO week containing `at`.
    pub fn week(&self, at: DateTime<Utc>) -> NaiveDate {
        let d = self.date(at);
        d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
    }

    /// The instant of the local wall-clock time `local` (a gap moves it
    /// forward by the gap's length; an overlap takes the earlier instant).
    pub fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(early, _) => early.with_timezone(&Utc),
            LocalResult::None => {
                // the offset in force before the gap, applied to `local`:
                // the instant a clock that had not jumped would show
                let offset = (1..=48)
                    .map(|h| local - Duration::hours(h))
                    .find_map(|l| self.tz.from_local_datetime(&l).earliest())
                    .map_or(0, |t| t.offset().fix().local_minus_utc());
                (local - Duration::seconds(i64::from(offset))).and_utc()
            }
        }
    }

    /// The instant the local day after `at`'s begins.
    pub fn next_day(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let d = self.date(at) + Duration::days(1);
        self.instant(d.and_hms_opt(0, 0, 0).expect("midnight"))
    }

    /// The instant the local ISO week after `at`'s begins (Monday 00:00).
    pub fn next_week(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        let d = self.week(at) + Duration::days(7);
        self.instant(d.and_hms_opt(0, 0, 0).expect("midnight"))
    }
}

/// The zone where most people of the country `code` (ISO 3166-1 alpha-2)
/// live; `None` for a country not in the table.
pub fn country_zone(code: &str) -> Option<Tz> {
    use chrono_tz::{Africa, America, Asia, Australia, Europe, Pacific};
    let tz = match code.to_ascii_uppercase().as_str() {
        "US" => America::New_York,
        "CA" => America::Toronto,
        "MX" => America::Mexico_City,
        "BR" => America::Sao_Paulo,
        "AR" => America::Argentina::Buenos_Aires,
        "CL" => America::Santiago,
        "CO" => America::Bogota,
        "PE" => America::Lima,
        "GB" => Europe::London,
        "IE" => Europe::Dublin,
        "FR" => Europe::Paris,
        "DE" => Europe::Berlin,
        "ES" => Europe::Madrid,
        "PT" => Europe::Lisbon,
        "IT" => Europe::Rome,
        "NL" => Europe::Amsterdam,
        "BE" => Europe::Brussels,
        "CH" => Europe::Zurich,
        "AT" => Europe::Vienna,
        "SE" => Europe::Stockholm,
        "NO" => Europe::Oslo,
        "DK" => Europe::Copenhagen,
        "FI" => Europe::Helsinki,
        "PL" => Europe::Warsaw,
        "CZ" => Europe::Prague,
        "GR" => Europe::Athens,
        "RO" => Europe::Bucharest,
        "TR" => Europe::Istanbul,
        "UA" => Europe::Kyiv,
        "IN" => Asia::Kolkata,
        "JP" => Asia::Tokyo,
        "KR" => Asia::Seoul,
        "CN" => Asia::Shanghai,
        "SG" => Asia::Singapore,
        "ID" => Asia::Jakarta,
        "PH" => Asia::Manila,
        "TH" => Asia::Bangkok,
        "AE" => Asia::Dubai,
        "IL" => Asia::Jerusalem,
        "AU" => Australia::Sydney,
        "NZ" => Pacific::Auckland,
        "ZA" => Africa::Johannesburg,
        "NG" => Africa::Lagos,
        "EG" => Africa::Cairo,
        _ => return None,
    };
    Some(tz)
}
