//! [`Timestamp`]: milliseconds since the Unix epoch, UTC.
//!
//! On the JSON wire a timestamp is an RFC 3339 string (`2026-03-01T14:00:00.123Z`);
//! any offset is accepted and normalised to UTC, sub-millisecond digits are
//! truncated. Non-human-readable serializers see the integer milliseconds.

use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        Self(Utc::now().timestamp_millis())
    }

    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 string. The canonical UTC form
    /// (`2026-03-01T14:00:00.123Z`) takes a fast path; anything else goes
    /// through chrono.
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(t) = Self::parse_canonical(s.as_bytes()) {
            return Ok(t);
        }
        DateTime::parse_from_rfc3339(s)
            .map(|d| Self(d.timestamp_millis()))
            .map_err(|e| format!("is not an RFC 3339 timestamp ({e})"))
    }

    fn parse_canonical(b: &[u8]) -> Option<Self> {
        if b.len() != 24
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'.'
            || b[23] != b'Z'
        {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            b[r].iter().try_fold(0i64, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
            })
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, sec, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
        if !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || sec > 59
        {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        Some(Self(
            ((days * 24 + h) * 60 + mi) * 60_000 + sec * 1_000 + ms,
        ))
    }

    /// The UTC date-time.
    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The UTC calendar date, `YYYY-MM-DD` (the lake's partition value).
    pub fn date_string(self) -> String {
        self.to_datetime().format("%Y-%m-%d").to_string()
    }

    /// Days since the epoch (floor), the lake's partition key.
    pub fn epoch_day(self) -> i64 {
        self.0.div_euclid(DAY_MS)
    }

    /// This instant plus `ms` milliseconds.
    pub fn plus_ms(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            &self
                .to_datetime()
                .to_rfc3339_opts(SecondsFormat::Millis, true),
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Timestamp::parse(&s).map_err(serde::de::Error::custom)
        } else {
            i64::deserialize(d).map(Timestamp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc3339_and_normalises_offsets() {
        let t = Timestamp::parse("2026-03-01T15:00:00.123456+01:00").expect("valid");
        assert_eq!(t.to_string(), "2026-03-01T14:00:00.123Z");
        assert_eq!(Timestamp::parse(&t.to_string()), Ok(t));
        assert_eq!(t.date_string(), "2026-03-01");
    }

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in [
            "1970-01-01T00:00:00.000Z",
            "2000-02-29T23:59:59.999Z",
            "2026-12-31T00:00:00.001Z",
            "2100-03-01T12:30:45.500Z",
            "1969-12-31T23:59:59.999Z",
        ] {
            let slow = DateTime::parse_from_rfc3339(s)
                .expect("valid")
                .timestamp_millis();
            assert_eq!(
                Timestamp::parse_canonical(s.as_bytes()),
                Some(Timestamp(slow)),
                "{s}"
            );
        }
        for s in [
            "2026-02-29T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z",
            "2026-01-01T24:00:00.000Z",
            "2026-01-01T00:00:00.000+",
            "2026-01-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_canonical(s.as_bytes()), None, "{s}");
        }
        assert!(Timestamp::parse("2026-02-29T00:00:00.000Z").is_err());
    }

    #[test]
    fn rejects_non_rfc3339() {
        assert!(Timestamp::parse("2026-03-01 14:00").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn epoch_day_floors_before_1970() {
        assert_eq!(Timestamp(-1).epoch_day(), -1);
        assert_eq!(Timestamp(DAY_MS).epoch_day(), 1);
    }
}

/// Configuration durations spelled as whole units in TOML (`…_ms`,
/// `…_secs`, `…_minutes` keys), read into [`std::time::Duration`] once:
/// `#[serde(rename = "batch_wait_ms", with = "showrunner_events::time::millis")]`.
macro_rules! duration_unit {
    ($name:ident, $doc:literal, $to:ident, $from:ident, $mul:expr) => {
        #[doc = $doc]
        pub mod $name {
            use std::time::Duration;

            use serde::{Deserialize, Deserializer, Serializer};

            /// Writes the duration as a whole number of units.
            pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u64((d.$to() / $mul) as u64)
            }

            /// Reads a whole number of units.
            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
                let n = u64::deserialize(d)?;
                Ok(Duration::$from(n.saturating_mul($mul)))
            }
        }
    };
}

duration_unit!(
    millis,
    "Durations as milliseconds.",
    as_millis,
    from_millis,
    1
);
duration_unit!(secs, "Durations as seconds.", as_secs, from_secs, 1);
duration_unit!(minutes, "Durations as minutes.", as_secs, from_secs, 60);
