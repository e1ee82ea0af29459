//! The `billing` family: subscriptions (SVOD), rentals (TVOD), ads (AVOD).
//! Money is integer minor units plus an ISO 4217 currency.

use super::field::{Currency, event_family};

event_family! {
    /// A billing event.
    BillingEvent {
        /// A subscription began (paid, or as a free trial).
        SubscriptionStarted = "subscription_started" {
            /// Plan.
            plan: String,
            /// Monthly price, minor units.
            price_minor: i64,
            /// Currency.
            currency: Currency,
            /// Starts as a free trial.
            trial: bool,
        },
        /// The subscription renewed for another month (also converts a trial).
        Renewed = "renewed" {
            /// Plan.
            plan: String,
            /// Monthly price, minor units.
            price_minor: i64,
            /// Currency.
            currency: Currency,
        },
        /// The plan changed.
        PlanChanged = "plan_changed" {
            /// New plan.
            plan: String,
            /// Previous plan.
            previous_plan: Option<String>,
            /// New monthly price, minor units.
            price_minor: i64,
            /// Currency.
            currency: Currency,
        },
        /// The subscription was canceled.
        Canceled = "canceled" {
            /// Why.
            reason: Option<String>,
        },
        /// A payment failed (the price does not change).
        PaymentFailed = "payment_failed" {
            /// Amount attempted, minor units.
            amount_minor: Option<i64>,
            /// Currency.
            currency: Option<Currency>,
            /// Why.
            reason: Option<String>,
        },
        /// Money was refunded.
        Refunded = "refunded" {
            /// Amount, minor units.
            amount_minor: i64,
            /// Currency.
            currency: Currency,
        },
        /// A title was rented (TVOD); `title_id` is required.
        RentalPurchased = "rental_purchased" {
            /// Amount, minor units.
            amount_minor: i64,
            /// Currency.
            currency: Currency,
            /// Rental window, hours.
            rental_hours: Option<i64>,
        },
        /// An ad was shown (AVOD).
        AdImpression = "ad_impression" {
            /// Revenue in millionths of the currency unit.
            revenue_micros: i64,
            /// Currency.
            currency: Currency,
            /// Ad identifier.
            ad_id: Option<String>,
        },
    }
}
