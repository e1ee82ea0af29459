//! The `campaign` family: marketing's campaigns as facts — created,
//! updated, launched, paused, archived — each with the key that did it.
//! A campaign's state is the fold of these (`projections::campaigns`).

use super::field::event_family;
use crate::Timestamp;
use crate::wire::JsonMap;

event_family! {
    /// A campaign event (`campaign_id` and `actor` are required).
    CampaignEvent {
        /// A campaign was created (a draft).
        CampaignCreated = "campaign_created" {
            /// The campaign.
            campaign_id: String,
            /// Its name.
            name: String,
            /// Its definition: audience, message, rules.
            definition: JsonMap,
            /// Who created it.
            actor: String,
        },
        /// A campaign's definition was replaced.
        CampaignUpdated = "campaign_updated" {
            /// The campaign.
            campaign_id: String,
            /// Its new name.
            name: Option<String>,
            /// Its new definition.
            definition: JsonMap,
            /// Who changed it.
            actor: String,
        },
        /// A campaign was launched (or resumed after a pause).
        CampaignLaunched = "campaign_launched" {
            /// The campaign.
            campaign_id: String,
            /// When it sends (absent: at once).
            send_at: Option<Timestamp>,
            /// Who launched it.
            actor: String,
        },
        /// A campaign was paused: nothing more is sent until it is launched again.
        CampaignPaused = "campaign_paused" {
            /// The campaign.
            campaign_id: String,
            /// Who paused it.
            actor: String,
        },
        /// A campaign was archived: it never sends again.
        CampaignArchived = "campaign_archived" {
            /// The campaign.
            campaign_id: String,
            /// Who archived it.
            actor: String,
        },
    }
}
