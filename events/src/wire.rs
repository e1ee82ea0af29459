//! The flat JSON wire format: [`WireEvent`] has one optional field per column
//! of any family table, named exactly as in the JSON and in the lake.
//!
//! Parsing a body yields `WireEvent`s; [`crate::Event::from_wire`] turns one
//! into a typed event (required fields, enums), and [`crate::Validator`]
//! applies the storage rules. The Arrow tables are built from `WireEvent`s,
//! so every column is defined once, here.

use serde::{Deserialize, Serialize};

use crate::Timestamp;
use crate::error::FieldError;

/// A free-form JSON object (`properties`).
pub type JsonMap = serde_json::Map<String, serde_json::Value>;

/// The kind of value a wire field holds, and so its Arrow type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// UTF-8 string (`Utf8`).
    Str,
    /// 64-bit signed integer (`Int64`); never negative on the wire.
    Int,
    /// Boolean.
    Bool,
    /// Timestamp, milliseconds UTC (`Timestamp(Millisecond, "UTC")`).
    Ts,
    /// List of strings (`List<Utf8>`).
    StrList,
    /// Free-form JSON object, stored as a JSON string (`Utf8`).
    Json,
}

/// A borrowed value of one wire field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldRef<'a> {
    /// A string.
    Str(&'a str),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A timestamp.
    Ts(Timestamp),
    /// A list of strings.
    StrList(&'a [String]),
    /// A JSON object.
    Json(&'a JsonMap),
}

/// An owned value of one wire field (reading the lake back).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A timestamp.
    Ts(Timestamp),
    /// A list of strings.
    StrList(Vec<String>),
    /// A JSON object.
    Json(JsonMap),
}

macro_rules! wire_ty {
    (Str) => { String };
    (Int) => { i64 };
    (Bool) => { bool };
    (Ts) => { Timestamp };
    (StrList) => { Vec<String> };
    (Json) => { JsonMap };
}

macro_rules! field_ref {
    (Str, $v:expr) => {
        FieldRef::Str($v.as_str())
    };
    (Int, $v:expr) => {
        FieldRef::Int(*$v)
    };
    (Bool, $v:expr) => {
        FieldRef::Bool(*$v)
    };
    (Ts, $v:expr) => {
        FieldRef::Ts(*$v)
    };
    (StrList, $v:expr) => {
        FieldRef::StrList($v.as_slice())
    };
    (Json, $v:expr) => {
        FieldRef::Json($v)
    };
}

macro_rules! wire_fields {
    ($( $(#[$m:meta])* $name:ident : $kind:ident ),* $(,)?) => {
        /// One event as it travels in JSON: every column of every family, all
        /// optional; unknown fields are refused.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct WireEvent {
            $(
                $(#[$m])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $name: Option<wire_ty!($kind)>,
            )*
        }

        /// The identity of every wire field (and lake column).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(non_camel_case_types, missing_docs)]
        pub enum FieldId { $($name),* }

        impl FieldId {
            /// The bit of this field in [`WireEvent::present`] masks.
            pub const fn bit(self) -> u128 {
                1u128 << (self as u32)
            }

            /// Every field, in declaration order.
            pub const ALL: &'static [FieldId] = &[$(FieldId::$name),*];

            /// The JSON (and column) name.
            pub fn name(self) -> &'static str {
                match self { $(FieldId::$name => stringify!($name)),* }
            }

            /// The kind of value it holds.
            pub fn kind(self) -> FieldKind {
                match self { $(FieldId::$name => FieldKind::$kind),* }
            }

            /// Looks a field up by its JSON name.
            pub fn from_name(name: &str) -> Option<FieldId> {
                match name { $(stringify!($name) => Some(FieldId::$name),)* _ => None }
            }
        }

        impl WireEvent {
            /// Bit `f as u32` is set for every present field `f`.
            pub fn present(&self) -> u128 {
                let mut m = 0u128;
                $(if self.$name.is_some() { m |= 1u128 << (FieldId::$name as u32); })*
                m
            }

            /// The value of one field, if set.
            pub fn get(&self, f: FieldId) -> Option<FieldRef<'_>> {
                match f { $(FieldId::$name => self.$name.as_ref().map(|v| field_ref!($kind, v)),)* }
            }

            /// Sets one field; the value must be of the field's kind.
            pub fn set(&mut self, f: FieldId, v: FieldValue) -> Result<(), FieldError> {
                match (f, v) {
                    $((FieldId::$name, FieldValue::$kind(v)) => self.$name = Some(v),)*
                    (f, v) => return Err(FieldError::new(f.name(), format!("cannot hold {v:?}"))),
                }
                Ok(())
            }
        }
    };
}

wire_fields! {
    // ---- envelope (every family) ----
    /// UUID of the event (UUIDv7 when assigned by Showrunner).
    event_id: Str,
    /// The event type, e.g. `first_frame`; determines the family.
    event_type: Str,
    /// Version of the event's schema.
    schema_version: Int,
    /// Client clock.
    occurred_at: Ts,
    /// Server clock, assigned by the collector when missing.
    received_at: Ts,
    /// The account (null for anonymous viewers).
    user_id: Str,
    /// The profile within the account.
    profile_id: Str,
    /// The device.
    device_id: Str,
    /// One play attempt (player family).
    view_id: Str,
    /// The title concerned.
    title_id: Str,
    // ---- player ----
    /// Device class: `tv`, `mobile`, `tablet`, `web`, `console`.
    device_type: Str,
    /// Operating system.
    os: Str,
    /// Operating system version.
    os_version: Str,
    /// Device model.
    device_model: Str,
    /// Player software name.
    player_name: Str,
    /// Player software version.
    player_version: Str,
    /// App version.
    app_version: Str,
    /// CDN serving the view.
    cdn: Str,
    /// ISO 3166-1 alpha-2 country.
    country: Str,
    /// Internet service provider.
    isp: Str,
    /// Autonomous system number.
    asn: Int,
    /// `wifi`, `cellular`, `ethernet`, `unknown`.
    network_type: Str,
    /// Rendition label, e.g. `1080p`.
    rendition: Str,
    /// The view was started by autoplay.
    autoplay: Bool,
    /// Bitrate in kbit/s.
    bitrate_kbps: Int,
    /// Seek origin, ms into the title.
    from_ms: Int,
    /// Seek target, ms into the title.
    to_ms: Int,
    /// Playhead position, ms into the title.
    position_ms: Int,
    /// Frames dropped since the previous heartbeat.
    dropped_frames: Int,
    /// Error code.
    code: Str,
    /// Human-readable message.
    message: Str,
    /// The error ended playback.
    fatal: Bool,
    /// Why something ended: view end reason, cancel reason, withdrawal reason.
    reason: Str,
    // ---- watch ----
    /// Duration of the title, ms.
    duration_ms: Int,
    // ---- billing ----
    /// Plan identifier, e.g. `standard`.
    plan: Str,
    /// Previous plan (plan changes).
    previous_plan: Str,
    /// Monthly price, integer minor units.
    price_minor: Int,
    /// ISO 4217 currency.
    currency: Str,
    /// The subscription starts as a free trial.
    trial: Bool,
    /// An amount, integer minor units (refunds, rentals, failed payments).
    amount_minor: Int,
    /// Ad revenue in millionths of the currency unit.
    revenue_micros: Int,
    /// Ad identifier.
    ad_id: Str,
    /// Rental window in hours.
    rental_hours: Int,
    // ---- catalog ----
    /// Display name.
    name: Str,
    /// `movie` or `series`.
    kind: Str,
    /// Genres.
    genres: StrList,
    /// Original language (ISO 639-1).
    language: Str,
    /// Maturity rating: `all`, `7+`, `13+`, `16+`, `18+`.
    maturity_rating: Str,
    /// Release year.
    release_year: Int,
    /// Countries where the title is available (ISO 3166-1 alpha-2).
    countries: StrList,
    /// Start of availability.
    available_from: Ts,
    /// End of availability.
    available_until: Ts,
    /// Parent series of an episode.
    series_id: Str,
    /// Season number.
    season: Int,
    /// Episode number within the season.
    episode: Int,
    // ---- user ----
    /// IANA time zone, e.g. `Europe/Paris`.
    time_zone: Str,
    /// The profile accepts push notifications.
    push_opt_in: Bool,
    /// Highest maturity rating the profile may watch.
    maturity_limit: Str,
    // ---- notification ----
    /// Campaign identifier.
    campaign_id: Str,
    /// The rule that suppressed or deferred a push: `opt_out`, `holdout`,
    /// `control`, `quiet_hours`, `frequency_cap`, `campaign_cap`, `expired`.
    rule: Str,
    /// A campaign's send window: one push per (campaign, user, window).
    window: Str,
    /// The delivery channel (a push gateway's subject token).
    channel: Str,
    /// When a deferred push is due again.
    until: Ts,
    // ---- campaign ----
    /// A campaign's definition (audience, message, rules) as JSON.
    definition: Json,
    /// Who did it: the API key's id.
    actor: Str,
    /// When a launched campaign sends (absent: at once).
    send_at: Ts,
    // ---- custom ----
    /// Free-form custom properties (stored as a JSON string).
    properties: Json,
}

const _: () = assert!(FieldId::ALL.len() <= 128, "presence masks are u128");

/// The fields present in a mask, in declaration order.
pub fn fields_in(mask: u128) -> impl Iterator<Item = FieldId> {
    FieldId::ALL
        .iter()
        .copied()
        .filter(move |f| mask & f.bit() != 0)
}

/// The envelope columns, first in every family table.
pub const ENVELOPE: &[FieldId] = &[
    FieldId::event_id,
    FieldId::event_type,
    FieldId::schema_version,
    FieldId::occurred_at,
    FieldId::received_at,
    FieldId::user_id,
    FieldId::profile_id,
    FieldId::device_id,
    FieldId::view_id,
    FieldId::title_id,
];

impl WireEvent {
    /// Parses one JSON object; a broken field is named in the error.
    pub fn from_json(bytes: &[u8]) -> Result<WireEvent, FieldError> {
        if bytes.trim_ascii_start().first() != Some(&b'{') {
            return Err(FieldError::new("$", "an event must be a JSON object"));
        }
        // fast path; on failure parse again, tracking the path to name the field
        if let Ok(w) = serde_json::from_slice::<WireEvent>(bytes) {
            return Ok(w);
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let parsed: Result<WireEvent, _> = serde_path_to_error::deserialize(&mut de);
        let w = parsed.map_err(|e| {
            let msg = e.inner().to_string();
            if let Some(rest) = msg.strip_prefix("unknown field `") {
                let name = rest.split('`').next().unwrap_or_default();
                return FieldError::new(name, "is not a known field");
            }
            let path = e.path().to_string();
            let field = if path.is_empty() || path == "." {
                "$".to_owned()
            } else {
                path
            };
            let reason = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
            FieldError::new(field, reason)
        })?;
        de.end()
            .map_err(|_| FieldError::new("$", "trailing characters after the event"))?;
        Ok(w)
    }

    /// Serialises to compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain strings, integers and maps cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &f in FieldId::ALL {
            assert_eq!(FieldId::from_name(f.name()), Some(f));
        }
    }

    #[test]
    fn unknown_field_is_named() {
        let e = WireEvent::from_json(br#"{"event_type":"seek","bogus":1}"#).expect_err("refused");
        assert_eq!(e.field, "bogus");
        assert_eq!(e.reason, "is not a known field");
    }

    #[test]
    fn wrong_type_is_named() {
        let e =
            WireEvent::from_json(br#"{"event_type":"seek","from_ms":"ten"}"#).expect_err("refused");
        assert_eq!(e.field, "from_ms");
        assert!(e.reason.contains("invalid type"), "{}", e.reason);
    }

    #[test]
    fn bad_timestamp_is_named() {
        let e = WireEvent::from_json(br#"{"occurred_at":"soon"}"#).expect_err("refused");
        assert_eq!(e.field, "occurred_at");
    }

    #[test]
    fn not_an_object_is_refused() {
        let e = WireEvent::from_json(b"[1,2]").expect_err("refused");
        assert_eq!(e.field, "$");
        assert!(WireEvent::from_json(b"{} {}").is_err());
    }

    #[test]
    fn set_checks_the_kind() {
        let mut w = WireEvent::default();
        assert!(w.set(FieldId::fatal, FieldValue::Bool(true)).is_ok());
        assert_eq!(w.fatal, Some(true));
        assert!(w.set(FieldId::fatal, FieldValue::Int(1)).is_err());
    }
}
