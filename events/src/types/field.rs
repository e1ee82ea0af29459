//! How typed payload fields are read from and written to [`WireEvent`] slots:
//! [`Scalar`] converts one value, [`Field`] adds required/optional handling,
//! and the `wire_enum!` / `event_family!` macros generate the per-type code.

use crate::Timestamp;
use crate::error::FieldError;

/// A value with a wire representation.
pub trait Scalar: Sized {
    /// The type of the [`crate::WireEvent`] slot.
    type Wire;
    /// Converts from the wire, or explains why the value is refused.
    fn decode(w: &Self::Wire) -> Result<Self, String>;
    /// Converts to the wire.
    fn encode(&self) -> Self::Wire;
    /// Checks a wire value without building the typed one.
    fn check(w: &Self::Wire) -> Result<(), String> {
        Self::decode(w).map(drop)
    }
}

/// A typed field: a [`Scalar`] (required) or an `Option` of one (optional).
pub trait Field: Sized {
    /// The type of the wire slot.
    type Wire;
    /// Reads the field from its slot.
    fn read(slot: &Option<Self::Wire>, name: &str) -> Result<Self, FieldError>;
    /// The slot's value.
    fn write(&self) -> Option<Self::Wire>;
    /// Checks the slot without building the typed value.
    fn check(slot: &Option<Self::Wire>, name: &str) -> Result<(), FieldError>;
}

macro_rules! impl_field {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::types::field::Field for $t {
            type Wire = <$t as $crate::types::field::Scalar>::Wire;
            fn read(slot: &Option<Self::Wire>, name: &str) -> Result<Self, $crate::FieldError> {
                let w = slot.as_ref().ok_or_else(|| $crate::FieldError::missing(name))?;
                <$t as $crate::types::field::Scalar>::decode(w).map_err(|r| $crate::FieldError::new(name, r))
            }
            fn write(&self) -> Option<Self::Wire> {
                Some($crate::types::field::Scalar::encode(self))
            }
            fn check(slot: &Option<Self::Wire>, name: &str) -> Result<(), $crate::FieldError> {
                let w = slot.as_ref().ok_or_else(|| $crate::FieldError::missing(name))?;
                <$t as $crate::types::field::Scalar>::check(w).map_err(|r| $crate::FieldError::new(name, r))
            }
        }
        impl $crate::types::field::Field for Option<$t> {
            type Wire = <$t as $crate::types::field::Scalar>::Wire;
            fn read(slot: &Option<Self::Wire>, name: &str) -> Result<Self, $crate::FieldError> {
                slot.as_ref()
                    .map(|w| <$t as $crate::types::field::Scalar>::decode(w).map_err(|r| $crate::FieldError::new(name, r)))
                    .transpose()
            }
            fn write(&self) -> Option<Self::Wire> {
                self.as_ref().map($crate::types::field::Scalar::encode)
            }
            fn check(slot: &Option<Self::Wire>, name: &str) -> Result<(), $crate::FieldError> {
                match slot {
                    Some(w) => <$t as $crate::types::field::Scalar>::check(w).map_err(|r| $crate::FieldError::new(name, r)),
                    None => Ok(()),
                }
            }
        }
    )*};
}
pub(crate) use impl_field;

macro_rules! identity_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            type Wire = $t;
            fn decode(w: &$t) -> Result<Self, String> { Ok(w.clone()) }
            fn encode(&self) -> $t { self.clone() }
            fn check(_: &$t) -> Result<(), String> { Ok(()) }
        }
    )*};
}
identity_scalar!(
    String,
    i64,
    bool,
    Timestamp,
    Vec<String>,
    crate::wire::JsonMap
);
impl_field!(
    String,
    i64,
    bool,
    Timestamp,
    Vec<String>,
    crate::wire::JsonMap
);

/// A string enum on the wire: generates the enum, `as_str`, `ALL`, and its
/// [`Scalar`]/[`Field`] impls refusing unknown values with the list of valid ones.
macro_rules! wire_enum {
    ($(#[$m:meta])* $Name:ident { $($(#[$vm:meta])* $V:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $Name { $($(#[$vm])* #[doc = $s] $V),* }

        impl $Name {
            /// Every value, in order.
            pub const ALL: &'static [Self] = &[$(Self::$V),*];
            /// The wire string.
            pub fn as_str(self) -> &'static str { match self { $(Self::$V => $s),* } }
        }

        impl $crate::types::field::Scalar for $Name {
            type Wire = String;
            fn decode(w: &String) -> Result<Self, String> {
                match w.as_str() {
                    $($s => Ok(Self::$V),)*
                    other => Err(format!("has unknown value `{other}` (expected one of: {})", [$($s),*].join(", "))),
                }
            }
            fn encode(&self) -> String { self.as_str().to_owned() }
        }
        $crate::types::field::impl_field!($Name);

        impl serde::Serialize for $Name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $Name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let w = String::deserialize(d)?;
                <Self as $crate::types::field::Scalar>::decode(&w).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use wire_enum;

/// A string newtype checked by a predicate (currency and country codes).
macro_rules! checked_code {
    ($(#[$m:meta])* $Name:ident, $len:literal, $what:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $Name(pub String);

        impl $crate::types::field::Scalar for $Name {
            type Wire = String;
            fn decode(w: &String) -> Result<Self, String> {
                <Self as $crate::types::field::Scalar>::check(w).map(|()| Self(w.clone()))
            }
            fn check(w: &String) -> Result<(), String> {
                if w.len() == $len && w.bytes().all(|b| b.is_ascii_uppercase()) {
                    Ok(())
                } else {
                    Err(format!("must be {} ({} uppercase letters), got `{}`", $what, $len, w))
                }
            }
            fn encode(&self) -> String { self.0.clone() }
        }
        $crate::types::field::impl_field!($Name);
    };
}

checked_code!(
    /// ISO 4217 currency code, e.g. `EUR`.
    Currency, 3, "an ISO 4217 currency code"
);
checked_code!(
    /// ISO 3166-1 alpha-2 country code, e.g. `FR`.
    Country, 2, "an ISO 3166-1 alpha-2 country code"
);

impl Currency {
    /// A currency from a code the caller knows is valid.
    pub fn new(code: &str) -> Self {
        Self(code.to_owned())
    }
}

impl Country {
    /// A country from a code the caller knows is valid.
    pub fn new(code: &str) -> Self {
        Self(code.to_owned())
    }
}

/// Declares one event family: a struct per event type (fields named as on
/// the wire), the family enum, and the wire conversions.
macro_rules! event_family {
    (
        $(#[$fm:meta])* $Family:ident {
            $( $(#[$vm:meta])* $Variant:ident = $tname:literal { $( $(#[$fdm:meta])* $field:ident : $fty:ty ),* $(,)? } ),* $(,)?
        }
    ) => {
        $(
            $(#[$vm])*
            #[derive(Debug, Clone, PartialEq)]
            pub struct $Variant { $( $(#[$fdm])* pub $field: $fty, )* }

            impl $Variant {
                #[allow(unused_variables)]
                fn read(w: &$crate::WireEvent) -> Result<Self, $crate::FieldError> {
                    Ok($Variant { $( $field: $crate::types::field::Field::read(&w.$field, stringify!($field))?, )* })
                }

                #[allow(unused_variables)]
                fn check(w: &$crate::WireEvent) -> Result<(), $crate::FieldError> {
                    $( <$fty as $crate::types::field::Field>::check(&w.$field, stringify!($field))?; )*
                    Ok(())
                }
            }
        )*

        $(#[$fm])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $Family { $( #[allow(missing_docs)] $Variant($Variant) ),* }

        impl $Family {
            /// The event types of this family.
            pub const TYPES: &'static [&'static str] = &[$($tname),*];

            /// The payload columns of this family (union over its types, with repeats).
            pub const COLUMNS: &'static [$crate::FieldId] = &[$($($crate::FieldId::$field,)*)*];

            /// The wire name of this event's type.
            pub fn event_type(&self) -> &'static str {
                match self { $(Self::$Variant(_) => $tname),* }
            }

            /// The payload fields a given type may carry.
            pub fn fields_of(event_type: &str) -> Option<&'static [$crate::FieldId]> {
                match event_type { $($tname => Some(&[$($crate::FieldId::$field),*]),)* _ => None }
            }

            /// Reads the payload of type `event_type` from a wire event.
            pub(crate) fn from_wire(event_type: &str, w: &$crate::WireEvent) -> Option<Result<Self, $crate::FieldError>> {
                match event_type {
                    $($tname => Some($Variant::read(w).map(Self::$Variant)),)*
                    _ => None,
                }
            }

            /// Checks the payload of type `event_type` without building it.
            pub(crate) fn check_wire(event_type: &str, w: &$crate::WireEvent) -> Option<Result<(), $crate::FieldError>> {
                match event_type {
                    $($tname => Some($Variant::check(w)),)*
                    _ => None,
                }
            }

            /// Writes the payload into a wire event.
            #[allow(unused_variables)]
            pub(crate) fn to_wire(&self, w: &mut $crate::WireEvent) {
                use $crate::types::field::Field;
                match self { $(Self::$Variant(p) => { $( w.$field = p.$field.write(); )* })* }
            }
        }
    };
}
pub(crate) use event_family;
