//! The `user` family: accounts and profiles.

use super::catalog::Maturity;
use super::field::{Country, event_family};

event_family! {
    /// A user event (`user_id` is required).
    UserEvent {
        /// An account was created.
        SignedUp = "signed_up" {
            /// Country.
            country: Country,
            /// Preferred language.
            language: Option<String>,
            /// IANA time zone.
            time_zone: Option<String>,
        },
        /// A profile's settings changed (absent fields are unchanged).
        ProfileUpdated = "profile_updated" {
            /// IANA time zone.
            time_zone: Option<String>,
            /// Preferred language.
            language: Option<String>,
            /// Accepts push notifications.
            push_opt_in: Option<bool>,
            /// Highest maturity rating allowed.
            maturity_limit: Option<Maturity>,
        },
    }
}
