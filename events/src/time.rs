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

    /// Parses an RFC 3339 string.
    pub fn parse(s: &str) -> Result<Self, String> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| Self(d.timestamp_millis()))
            .map_err(|e| format!("is not an RFC 3339 timestamp ({e})"))
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
