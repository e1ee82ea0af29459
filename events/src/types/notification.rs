//! The `notification` family: push notifications sent, opened, suppressed.

use super::field::{event_family, wire_enum};

wire_enum!(
    /// The rule that suppressed a push.
    SuppressionRule { FrequencyCap = "frequency_cap", QuietHours = "quiet_hours", OptOut = "opt_out" }
);

event_family! {
    /// A notification event (`user_id` is required).
    NotificationEvent {
        /// A push was sent.
        PushSent = "push_sent" {
            /// Campaign.
            campaign_id: String,
            /// Message text.
            message: Option<String>,
        },
        /// A push was opened.
        PushOpened = "push_opened" {
            /// Campaign.
            campaign_id: String,
        },
        /// A push was not sent because of a rule.
        PushSuppressed = "push_suppressed" {
            /// Campaign.
            campaign_id: String,
            /// The rule.
            rule: SuppressionRule,
        },
    }
}
