//! The rules an event must pass to be stored: [`Limits`] and [`Validator`].
//!
//! Structure (required fields, enums, no foreign fields) is checked by
//! [`Event::from_wire`]; on top of it the validator enforces sizes, ranges
//! and clock bounds. Every rule names the field it refuses.

use crate::error::FieldError;
use crate::time::DAY_MS;
use crate::wire::{FieldId, FieldKind, FieldRef, WireEvent};
use crate::{Event, Family, SCHEMA_VERSION, Timestamp};

/// Size and clock limits. Defaults are documented in `docs/events.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest serialized event, bytes.
    pub max_event_bytes: usize,
    /// Most events in one batch.
    pub max_batch_events: usize,
    /// Largest batch body, bytes.
    pub max_batch_bytes: usize,
    /// Longest id (`*_id` fields), bytes.
    pub max_id_bytes: usize,
    /// Longest other string, bytes.
    pub max_string_bytes: usize,
    /// Most items in a string list.
    pub max_list_items: usize,
    /// How far `occurred_at` may lie before `received_at` (offline viewing), ms.
    pub max_age_ms: i64,
    /// How far `occurred_at` may lie after `received_at` (clock skew), ms.
    pub max_skew_ms: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_event_bytes: 64 * 1024,
            max_batch_events: 1_000,
            max_batch_bytes: 1024 * 1024,
            max_id_bytes: 128,
            max_string_bytes: 4_096,
            max_list_items: 256,
            max_age_ms: 45 * DAY_MS,
            max_skew_ms: 5 * 60_000,
        }
    }
}

/// Earliest accepted timestamp: 2000-01-01T00:00:00Z.
pub const MIN_TIMESTAMP: Timestamp = Timestamp(946_684_800_000);
/// Latest accepted timestamp: 2100-01-01T00:00:00Z.
pub const MAX_TIMESTAMP: Timestamp = Timestamp(4_102_444_800_000);

/// Applies [`Limits`] and the storage rules.
#[derive(Debug, Clone, Default)]
pub struct Validator {
    /// The limits in force.
    pub limits: Limits,
}

impl Validator {
    /// A validator with these limits.
    pub fn new(limits: Limits) -> Self {
        Self { limits }
    }

    /// Checks a wire event whose `event_id` and `received_at` are set and
    /// returns the typed event.
    pub fn validate(&self, w: &WireEvent) -> Result<Event, FieldError> {
        self.check(w)?;
        Event::from_wire(w)
    }

    /// Applies every rule of [`validate`](Self::validate) without building
    /// the typed event (the ingest hot path); returns the family and type.
    pub fn check(&self, w: &WireEvent) -> Result<(Family, &'static str), FieldError> {
        self.check_values(w)?;
        let kind = Event::check_wire(w)?;
        if let (Some(occurred), Some(received)) = (w.occurred_at, w.received_at) {
            self.check_clocks(occurred, received)?;
        }
        Ok(kind)
    }

    /// Checks the serialized size of one event.
    pub fn check_size(&self, bytes: usize) -> Result<(), FieldError> {
        if bytes > self.limits.max_event_bytes {
            return Err(FieldError::new(
                "$",
                format!(
                    "event is {bytes} bytes, over the limit of {}",
                    self.limits.max_event_bytes
                ),
            ));
        }
        Ok(())
    }

    fn check_values(&self, w: &WireEvent) -> Result<(), FieldError> {
        let l = &self.limits;
        let mut present = w.present();
        while present != 0 {
            let f = FieldId::ALL[present.trailing_zeros() as usize];
            present &= present - 1;
            let Some(v) = w.get(f) else { continue };
            match v {
                FieldRef::Str(s) => {
                    let max = if f.name().ends_with("_id") {
                        l.max_id_bytes
                    } else {
                        l.max_string_bytes
                    };
                    if s.len() > max {
                        return Err(too_long(f, s.len(), max));
                    }
                    if s.is_empty() {
                        return Err(FieldError::new(f.name(), "must not be empty"));
                    }
                }
                FieldRef::Int(i) if i < 0 => {
                    return Err(FieldError::new(
                        f.name(),
                        format!("must not be negative, got {i}"),
                    ));
                }
                FieldRef::StrList(items) => {
                    if items.len() > l.max_list_items {
                        return Err(FieldError::new(
                            f.name(),
                            format!(
                                "has {} items, over the limit of {}",
                                items.len(),
                                l.max_list_items
                            ),
                        ));
                    }
                    if let Some(s) = items.iter().find(|s| s.len() > l.max_string_bytes) {
                        return Err(too_long(f, s.len(), l.max_string_bytes));
                    }
                    if items.iter().any(String::is_empty) {
                        return Err(FieldError::new(f.name(), "must not contain empty strings"));
                    }
                    let country =
                        |c: &String| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase());
                    if f == FieldId::countries
                        && let Some(c) = items.iter().find(|c| !country(c))
                    {
                        return Err(FieldError::new(
                            f.name(),
                            format!("must hold ISO 3166-1 alpha-2 country codes, got `{c}`"),
                        ));
                    }
                }
                FieldRef::Ts(t) if t < MIN_TIMESTAMP || t >= MAX_TIMESTAMP => {
                    return Err(FieldError::new(
                        f.name(),
                        format!("is {t}, outside 2000-01-01..2100-01-01"),
                    ));
                }
                _ => {}
            }
        }
        // JSON fields (`properties`, a campaign's `definition`) are bounded
        // by the event's size limit alone; a new kind of field needs a rule
        debug_assert!(FieldId::ALL.iter().all(|f| f.kind() != FieldKind::Json
            || matches!(f, FieldId::properties | FieldId::definition)));
        match w.schema_version {
            Some(v) if !(1..=SCHEMA_VERSION).contains(&v) => Err(FieldError::new(
                "schema_version",
                format!("is {v}, this build reads 1..={SCHEMA_VERSION}"),
            )),
            _ => Ok(()),
        }
    }

    fn check_clocks(&self, occurred: Timestamp, received: Timestamp) -> Result<(), FieldError> {
        let age = received.0 - occurred.0;
        if age > self.limits.max_age_ms {
            return Err(FieldError::new(
                "occurred_at",
                format!(
                    "is {} days before received_at, over the limit of {} days",
                    age / DAY_MS,
                    self.limits.max_age_ms / DAY_MS
                ),
            ));
        }
        if -age > self.limits.max_skew_ms {
            return Err(FieldError::new(
                "occurred_at",
                format!(
                    "is {} s after received_at, over the allowed clock skew of {} s",
                    -age / 1000,
                    self.limits.max_skew_ms / 1000
                ),
            ));
        }
        Ok(())
    }
}

fn too_long(f: FieldId, len: usize, max: usize) -> FieldError {
    FieldError::new(f.name(), format!("is {len} bytes, over the limit of {max}"))
}
