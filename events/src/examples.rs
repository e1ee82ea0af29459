//! One example event per event type: used by the docs (`docs/events.md` is
//! checked against them), by tests, and as a reference for client authors.

use uuid::Uuid;

use crate::types::billing::*;
use crate::types::campaign::*;
use crate::types::catalog::*;
use crate::types::notification::*;
use crate::types::player::*;
use crate::types::user::*;
use crate::types::watch::*;
use crate::types::{Country, Currency};
use crate::{Envelope, Event, Payload, SCHEMA_VERSION, Timestamp};

const T0: i64 = 1_772_373_600_000; // 2026-03-01T14:00:00Z

fn env(n: u128, ms: i64) -> Envelope {
    Envelope {
        event_id: Uuid::from_u128(0x0195_4a1c_0000_7000_8000_0000_0000_0000 | n),
        schema_version: SCHEMA_VERSION,
        occurred_at: Timestamp(T0 + ms),
        received_at: Timestamp(T0 + ms + 250),
        user_id: Some("u-1042".into()),
        profile_id: Some("p-1042-1".into()),
        device_id: Some("d-77".into()),
        view_id: None,
        title_id: None,
        properties: None,
    }
}

fn player(n: u128, ms: i64, p: PlayerEvent) -> Event {
    let mut e = env(n, ms);
    e.view_id = Some("v-5f2c".into());
    e.title_id = Some("t-0001".into());
    Event {
        envelope: e,
        payload: Payload::Player(p),
    }
}

fn other(n: u128, ms: i64, title: Option<&str>, p: Payload) -> Event {
    let mut e = env(n, ms);
    e.title_id = title.map(str::to_owned);
    Event {
        envelope: e,
        payload: p,
    }
}

/// A campaign event: about no one user.
fn campaign(n: u128, p: CampaignEvent) -> Event {
    let mut e = env(n, 0);
    e.user_id = None;
    e.profile_id = None;
    e.device_id = None;
    Event {
        envelope: e,
        payload: Payload::Campaign(p),
    }
}

/// The example campaign's definition.
fn spring_definition() -> crate::wire::JsonMap {
    let serde_json::Value::Object(m) = serde_json::json!({
        "audience": {"segment": "SELECT user_id FROM churn_scores WHERE score > 0.3"},
        "message": {"title": "{{first_name}}, it's back", "body": "A new season of {{title}}", "deep_link": "showrunner://title/{{title_id}}"},
        "priority": 5,
        "control_share": 0.1,
        "caps": {"per_day": 1},
        "conversion": {"event": "play_started", "within_hours": 48}
    }) else {
        unreachable!("an object")
    };
    m
}

/// One valid event of every type, in family order.
pub fn examples() -> Vec<Event> {
    let eur = || Currency::new("EUR");
    let mut with_props = other(
        30,
        0,
        None,
        Payload::User(UserEvent::SignedUp(SignedUp {
            country: Country::new("FR"),
            language: Some("fr".into()),
            time_zone: Some("Europe/Paris".into()),
        })),
    );
    let mut props = serde_json::Map::new();
    props.insert("campaign".into(), serde_json::json!("spring"));
    with_props.envelope.properties = Some(props);
    vec![
        player(
            1,
            0,
            PlayerEvent::PlayRequested(PlayRequested {
                device_type: DeviceType::Tv,
                os: "tizen".into(),
                os_version: Some("7.0".into()),
                device_model: Some("QE55".into()),
                player_name: "shaka".into(),
                player_version: "4.7.1".into(),
                app_version: "5.12.0".into(),
                cdn: "akamai".into(),
                country: Country::new("FR"),
                isp: "Orange".into(),
                asn: Some(3215),
                network_type: NetworkType::Wifi,
                autoplay: Some(false),
            }),
        ),
        player(2, 1_180, PlayerEvent::FirstFrame(FirstFrame {})),
        player(3, 61_000, PlayerEvent::RebufferStart(RebufferStart {})),
        player(4, 62_500, PlayerEvent::RebufferEnd(RebufferEnd {})),
        player(
            5,
            1_180,
            PlayerEvent::BitrateChanged(BitrateChanged {
                bitrate_kbps: 4_500,
                rendition: Some("1080p".into()),
            }),
        ),
        player(
            6,
            90_000,
            PlayerEvent::Seek(Seek {
                from_ms: 88_000,
                to_ms: 300_000,
            }),
        ),
        player(7, 120_000, PlayerEvent::Pause(Pause {})),
        player(8, 150_000, PlayerEvent::Resume(Resume {})),
        player(
            9,
            180_000,
            PlayerEvent::Heartbeat(Heartbeat {
                position_ms: 390_000,
                bitrate_kbps: 4_500,
                dropped_frames: Some(3),
            }),
        ),
        player(
            10,
            200_000,
            PlayerEvent::PlaybackError(PlaybackError {
                code: "DRM_LICENSE_EXPIRED".into(),
                message: Some("license expired".into()),
                fatal: true,
            }),
        ),
        player(
            11,
            200_100,
            PlayerEvent::ViewEnded(ViewEnded {
                reason: EndReason::Error,
                position_ms: Some(410_000),
            }),
        ),
        other(
            12,
            200_000,
            Some("t-0001"),
            Payload::Watch(WatchEvent::Progress(Progress {
                position_ms: 410_000,
                duration_ms: 6_300_000,
            })),
        ),
        other(
            13,
            300_000,
            Some("t-0001"),
            Payload::Watch(WatchEvent::Completed(Completed {
                duration_ms: Some(6_300_000),
            })),
        ),
        other(
            14,
            0,
            None,
            Payload::Billing(BillingEvent::SubscriptionStarted(SubscriptionStarted {
                plan: "standard".into(),
                price_minor: 1_399,
                currency: eur(),
                trial: true,
            })),
        ),
        other(
            15,
            0,
            None,
            Payload::Billing(BillingEvent::Renewed(Renewed {
                plan: "standard".into(),
                price_minor: 1_399,
                currency: eur(),
            })),
        ),
        other(
            16,
            0,
            None,
            Payload::Billing(BillingEvent::PlanChanged(PlanChanged {
                plan: "premium".into(),
                previous_plan: Some("standard".into()),
                price_minor: 1_999,
                currency: eur(),
            })),
        ),
        other(
            17,
            0,
            None,
            Payload::Billing(BillingEvent::Canceled(Canceled {
                reason: Some("too_expensive".into()),
            })),
        ),
        other(
            18,
            0,
            None,
            Payload::Billing(BillingEvent::PaymentFailed(PaymentFailed {
                amount_minor: Some(1_999),
                currency: Some(eur()),
                reason: Some("card_declined".into()),
            })),
        ),
        other(
            19,
            0,
            None,
            Payload::Billing(BillingEvent::Refunded(Refunded {
                amount_minor: 1_999,
                currency: eur(),
            })),
        ),
        other(
            20,
            0,
            Some("t-0002"),
            Payload::Billing(BillingEvent::RentalPurchased(RentalPurchased {
                amount_minor: 499,
                currency: eur(),
                rental_hours: Some(48),
            })),
        ),
        other(
            21,
            0,
            Some("t-0001"),
            Payload::Billing(BillingEvent::AdImpression(AdImpression {
                revenue_micros: 12_500,
                currency: eur(),
                ad_id: Some("ad-991".into()),
            })),
        ),
        other(
            22,
            0,
            Some("t-0001"),
            Payload::Catalog(CatalogEvent::TitlePublished(TitlePublished {
                name: "The Long Night".into(),
                kind: TitleKind::Movie,
                genres: vec!["drama".into(), "thriller".into()],
                language: "en".into(),
                maturity_rating: Maturity::Plus16,
                release_year: Some(2024),
                duration_ms: Some(6_300_000),
                countries: vec!["FR".into(), "DE".into(), "US".into()],
                available_from: Some(Timestamp(T0)),
                available_until: None,
            })),
        ),
        other(
            23,
            0,
            Some("t-0001"),
            Payload::Catalog(CatalogEvent::TitleUpdated(TitleUpdated {
                name: None,
                genres: None,
                maturity_rating: None,
                countries: Some(vec!["FR".into(), "DE".into()]),
                available_from: None,
                available_until: Some(Timestamp(T0 + 90 * 86_400_000)),
            })),
        ),
        other(
            24,
            0,
            Some("t-0001"),
            Payload::Catalog(CatalogEvent::TitleWithdrawn(TitleWithdrawn {
                countries: Some(vec!["DE".into()]),
                reason: Some("license_ended".into()),
            })),
        ),
        other(
            25,
            0,
            Some("t-0101-s1e1"),
            Payload::Catalog(CatalogEvent::EpisodeAdded(EpisodeAdded {
                series_id: "t-0101".into(),
                season: 1,
                episode: 1,
                name: Some("Pilot".into()),
                duration_ms: 2_700_000,
            })),
        ),
        with_props,
        other(
            26,
            0,
            None,
            Payload::User(UserEvent::ProfileUpdated(ProfileUpdated {
                time_zone: None,
                language: None,
                push_opt_in: Some(true),
                maturity_limit: Some(Maturity::Plus13),
            })),
        ),
        other(
            27,
            0,
            None,
            Payload::Notification(NotificationEvent::PushSent(PushSent {
                campaign_id: "c-spring".into(),
                message: Some("New season of The Long Night".into()),
                window: Some("once".into()),
                channel: Some("mobile".into()),
            })),
        ),
        other(
            28,
            0,
            None,
            Payload::Notification(NotificationEvent::PushOpened(PushOpened {
                campaign_id: "c-spring".into(),
            })),
        ),
        other(
            29,
            0,
            None,
            Payload::Notification(NotificationEvent::PushSuppressed(PushSuppressed {
                campaign_id: "c-spring".into(),
                rule: SuppressionRule::FrequencyCap,
                window: Some("once".into()),
            })),
        ),
        other(
            31,
            0,
            None,
            Payload::Notification(NotificationEvent::PushDeferred(PushDeferred {
                campaign_id: "c-spring".into(),
                rule: SuppressionRule::QuietHours,
                until: Timestamp(T0 + 18 * 3_600_000),
                window: Some("once".into()),
            })),
        ),
        campaign(
            32,
            CampaignEvent::CampaignCreated(CampaignCreated {
                campaign_id: "c-spring".into(),
                name: "Spring season".into(),
                definition: spring_definition(),
                actor: "marketing-ada".into(),
            }),
        ),
        campaign(
            33,
            CampaignEvent::CampaignUpdated(CampaignUpdated {
                campaign_id: "c-spring".into(),
                name: None,
                definition: spring_definition(),
                actor: "marketing-ada".into(),
            }),
        ),
        campaign(
            34,
            CampaignEvent::CampaignLaunched(CampaignLaunched {
                campaign_id: "c-spring".into(),
                send_at: Some(Timestamp(T0 + 3_600_000)),
                actor: "marketing-ada".into(),
            }),
        ),
        campaign(
            35,
            CampaignEvent::CampaignPaused(CampaignPaused {
                campaign_id: "c-spring".into(),
                actor: "marketing-bob".into(),
            }),
        ),
        campaign(
            36,
            CampaignEvent::CampaignArchived(CampaignArchived {
                campaign_id: "c-spring".into(),
                actor: "marketing-bob".into(),
            }),
        ),
    ]
}
