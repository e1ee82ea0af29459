//! The `notification` family: what marketing decided for each push — sent,
//! deferred or suppressed, and by which rule — and what apps report back.

use super::field::{event_family, wire_enum};
use crate::Timestamp;

wire_enum!(
    /// The rule that suppressed or deferred a push.
    SuppressionRule {
        OptOut = "opt_out",
        Holdout = "holdout",
        Control = "control",
        QuietHours = "quiet_hours",
        FrequencyCap = "frequency_cap",
        CampaignCap = "campaign_cap",
        Expired = "expired",
    }
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
            /// The campaign's send window (with the campaign and the user,
            /// the push's idempotency key).
            window: Option<String>,
            /// The delivery channel.
            channel: Option<String>,
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
            /// The campaign's send window.
            window: Option<String>,
        },
        /// A push was held back by a rule until a later instant.
        PushDeferred = "push_deferred" {
            /// Campaign.
            campaign_id: String,
            /// The rule.
            rule: SuppressionRule,
            /// When it is due again.
            until: Timestamp,
            /// The campaign's send window.
            window: Option<String>,
        },
    }
}
