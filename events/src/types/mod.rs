//! The typed event: an [`Envelope`] and a [`Payload`] of one [`Family`].
//!
//! One module per family declares its event types with `event_family!`; the
//! JSON of an [`Event`] is its flat [`WireEvent`].

pub mod billing;
pub mod campaign;
pub mod catalog;
pub(crate) mod field;
pub mod notification;
pub mod player;
pub mod user;
pub mod watch;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

pub use billing::BillingEvent;
pub use campaign::CampaignEvent;
pub use catalog::CatalogEvent;
pub use field::{Country, Currency};
pub use notification::NotificationEvent;
pub use player::PlayerEvent;
pub use user::UserEvent;
pub use watch::WatchEvent;

use crate::error::FieldError;
use crate::wire::{FieldId, JsonMap, WireEvent};
use crate::{SCHEMA_VERSION, Timestamp};

/// An event family: one NATS subject prefix and one lake table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Player QoE events.
    Player,
    /// Watch progress and completions.
    Watch,
    /// Subscriptions, rentals, ads.
    Billing,
    /// Titles and episodes.
    Catalog,
    /// Accounts and profiles.
    User,
    /// Push notifications.
    Notification,
    /// Marketing campaigns.
    Campaign,
}

impl Family {
    /// Every family.
    pub const ALL: &'static [Family] = &[
        Family::Player,
        Family::Watch,
        Family::Billing,
        Family::Catalog,
        Family::User,
        Family::Notification,
        Family::Campaign,
    ];

    /// The family's name (subject token, lake directory).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Player => "player",
            Family::Watch => "watch",
            Family::Billing => "billing",
            Family::Catalog => "catalog",
            Family::User => "user",
            Family::Notification => "notification",
            Family::Campaign => "campaign",
        }
    }

    /// The event types of the family.
    pub fn types(self) -> &'static [&'static str] {
        match self {
            Family::Player => PlayerEvent::TYPES,
            Family::Watch => WatchEvent::TYPES,
            Family::Billing => BillingEvent::TYPES,
            Family::Catalog => CatalogEvent::TYPES,
            Family::User => UserEvent::TYPES,
            Family::Notification => NotificationEvent::TYPES,
            Family::Campaign => CampaignEvent::TYPES,
        }
    }

    /// The family of an event type name.
    pub fn of_type(event_type: &str) -> Option<Family> {
        Family::ALL
            .iter()
            .copied()
            .find(|f| f.types().contains(&event_type))
    }

    /// Payload columns of the family's table, in order, without repeats.
    pub fn payload_columns(self) -> Vec<FieldId> {
        let all = match self {
            Family::Player => PlayerEvent::COLUMNS,
            Family::Watch => WatchEvent::COLUMNS,
            Family::Billing => BillingEvent::COLUMNS,
            Family::Catalog => CatalogEvent::COLUMNS,
            Family::User => UserEvent::COLUMNS,
            Family::Notification => NotificationEvent::COLUMNS,
            Family::Campaign => CampaignEvent::COLUMNS,
        };
        let mut out: Vec<FieldId> = Vec::with_capacity(all.len());
        for f in all {
            if !out.contains(f) {
                out.push(*f);
            }
        }
        out
    }

    /// The payload fields an event type may carry.
    pub fn fields_of(event_type: &str) -> Option<&'static [FieldId]> {
        PlayerEvent::fields_of(event_type)
            .or_else(|| WatchEvent::fields_of(event_type))
            .or_else(|| BillingEvent::fields_of(event_type))
            .or_else(|| CatalogEvent::fields_of(event_type))
            .or_else(|| UserEvent::fields_of(event_type))
            .or_else(|| NotificationEvent::fields_of(event_type))
            .or_else(|| CampaignEvent::fields_of(event_type))
    }

    /// Envelope ids every event of the family must carry.
    pub fn required_ids(self) -> &'static [FieldId] {
        match self {
            Family::Player => &[FieldId::view_id],
            Family::Watch => &[FieldId::title_id],
            Family::Catalog => &[FieldId::title_id],
            Family::Billing | Family::User | Family::Notification => &[FieldId::user_id],
            // the campaign is a payload field; events concern no one user
            Family::Campaign => &[],
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Family::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown event family `{s}`"))
    }
}

/// The fields every event carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Unique id (UUIDv7 when assigned by Showrunner).
    pub event_id: Uuid,
    /// Schema version of the event.
    pub schema_version: i64,
    /// Client clock.
    pub occurred_at: Timestamp,
    /// Server clock.
    pub received_at: Timestamp,
    /// Account (null for anonymous viewers).
    pub user_id: Option<String>,
    /// Profile.
    pub profile_id: Option<String>,
    /// Device.
    pub device_id: Option<String>,
    /// Play attempt.
    pub view_id: Option<String>,
    /// Title.
    pub title_id: Option<String>,
    /// Free-form custom properties.
    pub properties: Option<JsonMap>,
}

impl Envelope {
    /// An envelope with a fresh UUIDv7 and the current schema version.
    pub fn new(occurred_at: Timestamp, received_at: Timestamp) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            schema_version: SCHEMA_VERSION,
            occurred_at,
            received_at,
            user_id: None,
            profile_id: None,
            device_id: None,
            view_id: None,
            title_id: None,
            properties: None,
        }
    }
}

/// The typed payload of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Player family.
    Player(PlayerEvent),
    /// Watch family.
    Watch(WatchEvent),
    /// Billing family.
    Billing(BillingEvent),
    /// Catalog family.
    Catalog(CatalogEvent),
    /// User family.
    User(UserEvent),
    /// Notification family.
    Notification(NotificationEvent),
    /// Campaign family.
    Campaign(CampaignEvent),
}

impl Payload {
    /// The family.
    pub fn family(&self) -> Family {
        match self {
            Payload::Player(_) => Family::Player,
            Payload::Watch(_) => Family::Watch,
            Payload::Billing(_) => Family::Billing,
            Payload::Catalog(_) => Family::Catalog,
            Payload::User(_) => Family::User,
            Payload::Notification(_) => Family::Notification,
            Payload::Campaign(_) => Family::Campaign,
        }
    }

    /// The event type name.
    pub fn event_type(&self) -> &'static str {
        match self {
            Payload::Player(p) => p.event_type(),
            Payload::Watch(p) => p.event_type(),
            Payload::Billing(p) => p.event_type(),
            Payload::Catalog(p) => p.event_type(),
            Payload::User(p) => p.event_type(),
            Payload::Notification(p) => p.event_type(),
            Payload::Campaign(p) => p.event_type(),
        }
    }

    fn from_wire(event_type: &str, w: &WireEvent) -> Option<Result<Payload, FieldError>> {
        PlayerEvent::from_wire(event_type, w)
            .map(|r| r.map(Payload::Player))
            .or_else(|| WatchEvent::from_wire(event_type, w).map(|r| r.map(Payload::Watch)))
            .or_else(|| BillingEvent::from_wire(event_type, w).map(|r| r.map(Payload::Billing)))
            .or_else(|| CatalogEvent::from_wire(event_type, w).map(|r| r.map(Payload::Catalog)))
            .or_else(|| UserEvent::from_wire(event_type, w).map(|r| r.map(Payload::User)))
            .or_else(|| {
                NotificationEvent::from_wire(event_type, w).map(|r| r.map(Payload::Notification))
            })
            .or_else(|| CampaignEvent::from_wire(event_type, w).map(|r| r.map(Payload::Campaign)))
    }

    fn to_wire(&self, w: &mut WireEvent) {
        match self {
            Payload::Player(p) => p.to_wire(w),
            Payload::Watch(p) => p.to_wire(w),
            Payload::Billing(p) => p.to_wire(w),
            Payload::Catalog(p) => p.to_wire(w),
            Payload::User(p) => p.to_wire(w),
            Payload::Notification(p) => p.to_wire(w),
            Payload::Campaign(p) => p.to_wire(w),
        }
    }
}

/// One immutable fact.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Identity, clocks and the ids the event concerns.
    pub envelope: Envelope,
    /// What happened.
    pub payload: Payload,
}

impl Event {
    /// An event with a fresh envelope at `occurred_at` (received at the same instant).
    pub fn new(occurred_at: Timestamp, payload: Payload) -> Self {
        Self {
            envelope: Envelope::new(occurred_at, occurred_at),
            payload,
        }
    }

    /// The family.
    pub fn family(&self) -> Family {
        self.payload.family()
    }

    /// The event type name.
    pub fn event_type(&self) -> &'static str {
        self.payload.event_type()
    }

    /// Checks a wire event's structure without building it: every required
    /// field present, values of the right kind and enum, no field foreign to
    /// the type, the envelope ids its family needs. Returns the family and
    /// the type's static name.
    pub fn check_wire(w: &WireEvent) -> Result<(Family, &'static str), FieldError> {
        let event_type = w
            .event_type
            .as_deref()
            .ok_or_else(|| FieldError::missing("event_type"))?;
        let unknown = || FieldError::new("event_type", format!("has unknown value `{event_type}`"));
        let family = Family::of_type(event_type).ok_or_else(unknown)?;
        let name = family
            .types()
            .iter()
            .copied()
            .find(|t| *t == event_type)
            .ok_or_else(unknown)?;
        let checked = match family {
            Family::Player => PlayerEvent::check_wire(name, w),
            Family::Watch => WatchEvent::check_wire(name, w),
            Family::Billing => BillingEvent::check_wire(name, w),
            Family::Catalog => CatalogEvent::check_wire(name, w),
            Family::User => UserEvent::check_wire(name, w),
            Family::Notification => NotificationEvent::check_wire(name, w),
            Family::Campaign => CampaignEvent::check_wire(name, w),
        };
        checked.ok_or_else(unknown)??;
        let allowed = Family::fields_of(name)
            .unwrap_or(&[])
            .iter()
            .chain(crate::wire::ENVELOPE)
            .fold(FieldId::properties.bit(), |m, f| m | f.bit());
        if let Some(f) = crate::wire::fields_in(w.present() & !allowed).next() {
            return Err(FieldError::new(
                f.name(),
                format!("is not a field of `{name}`"),
            ));
        }
        let event_id = w
            .event_id
            .as_deref()
            .ok_or_else(|| FieldError::missing("event_id"))?;
        Uuid::try_parse(event_id).map_err(|_| FieldError::new("event_id", "is not a UUID"))?;
        for (f, present) in [
            (FieldId::schema_version, w.schema_version.is_some()),
            (FieldId::occurred_at, w.occurred_at.is_some()),
            (FieldId::received_at, w.received_at.is_some()),
        ] {
            if !present {
                return Err(FieldError::missing(f.name()));
            }
        }
        let extra: &[FieldId] = match name {
            "play_requested" | "rental_purchased" => &[FieldId::title_id],
            _ => &[],
        };
        for &f in family.required_ids().iter().chain(extra) {
            if w.get(f).is_none() {
                return Err(FieldError::new(
                    f.name(),
                    format!("is required for `{name}`"),
                ));
            }
        }
        Ok((family, name))
    }

    /// Reads a typed event from its wire form, after [`Event::check_wire`].
    /// Storage rules live in [`crate::Validator`].
    pub fn from_wire(w: &WireEvent) -> Result<Event, FieldError> {
        let (_, name) = Event::check_wire(w)?;
        let payload = Payload::from_wire(name, w).ok_or_else(|| {
            FieldError::new("event_type", format!("has unknown value `{name}`"))
        })??;
        let missing = |f: FieldId| FieldError::missing(f.name());
        let envelope = Envelope {
            event_id: w
                .event_id
                .as_deref()
                .and_then(|s| Uuid::try_parse(s).ok())
                .ok_or_else(|| missing(FieldId::event_id))?,
            schema_version: w
                .schema_version
                .ok_or_else(|| missing(FieldId::schema_version))?,
            occurred_at: w.occurred_at.ok_or_else(|| missing(FieldId::occurred_at))?,
            received_at: w.received_at.ok_or_else(|| missing(FieldId::received_at))?,
            user_id: w.user_id.clone(),
            profile_id: w.profile_id.clone(),
            device_id: w.device_id.clone(),
            view_id: w.view_id.clone(),
            title_id: w.title_id.clone(),
            properties: w.properties.clone(),
        };
        Ok(Event { envelope, payload })
    }

    /// The flat wire form.
    pub fn to_wire(&self) -> WireEvent {
        let e = &self.envelope;
        let mut w = WireEvent {
            event_id: Some(e.event_id.to_string()),
            event_type: Some(self.event_type().to_owned()),
            schema_version: Some(e.schema_version),
            occurred_at: Some(e.occurred_at),
            received_at: Some(e.received_at),
            user_id: e.user_id.clone(),
            profile_id: e.profile_id.clone(),
            device_id: e.device_id.clone(),
            view_id: e.view_id.clone(),
            title_id: e.title_id.clone(),
            properties: e.properties.clone(),
            ..WireEvent::default()
        };
        self.payload.to_wire(&mut w);
        w
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_wire().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = WireEvent::deserialize(d)?;
        Event::from_wire(&w).map_err(serde::de::Error::custom)
    }
}
