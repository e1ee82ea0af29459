//! The sender: every launched campaign whose `send_at` has come is
//! planned again each period ([`plan`] in `Mode::Record`, over the
//! segment as it is now, so users entering the segment while the campaign
//! runs are reached too, and deferred pushes go out once their instant
//! has come), and each decision is carried out:
//!
//! - **send**: the push is published to the gateway's subject
//!   `notifications.push.<channel>` (stream `NOTIFICATIONS`) with
//!   `Nats-Msg-Id` = the idempotency key, *then* `push_sent` is written to
//!   the log;
//! - **defer**: `push_deferred` (rule, until) is written;
//! - **suppress**: `push_suppressed` (rule) is written;
//! - a duplicate, or a message a variable is missing from: nothing.
//!
//! Invariant: no user receives a key twice, and none is lost. Every event
//! id is derived from the key (and the outcome), so a decision written
//! twice is one event. The push is delivered *before* its `push_sent` is
//! logged: a sender killed between the two re-delivers the key on
//! restart, and the gateway's stream drops the repeat (same `Nats-Msg-Id`
//! within its duplicate window, [`SenderSettings::duplicate_window`]); the
//! other order would lose the push. A restart within that window never
//! sends twice; the ledger (rebuilt from `push_sent`) covers the rest.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use showrunner_events::types::Payload;
use showrunner_events::types::notification::{
    NotificationEvent, PushDeferred, PushSent, PushSuppressed, SuppressionRule,
};
use showrunner_events::{Envelope, Event, Timestamp};
use showrunner_ingest::publish::{Outgoing, publish_each};
use showrunner_marketing::campaign::{Audience, Checked};
use showrunner_marketing::plan::{self, Mode, Planned};
use showrunner_marketing::{Decider, Decision, Rule, assign};
use showrunner_projections::campaigns::Status;

use crate::api::{CampaignsState, ONCE};
use crate::segment;

/// The gateway's stream.
pub const PUSH_STREAM: &str = "NOTIFICATIONS";

/// The subject of a channel's pushes.
pub fn push_subject(channel: &str) -> String {
    format!("notifications.push.{channel}")
}

/// What the push gateway receives, one message per push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    /// The idempotency key (also the message's `Nats-Msg-Id`).
    pub key: String,
    /// The campaign.
    pub campaign_id: String,
    /// The user.
    pub user_id: String,
    /// The channel.
    pub channel: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Deep link.
    pub deep_link: Option<String>,
    /// When it was decided (RFC 3339).
    pub sent_at: String,
}

/// How the sender runs.
#[derive(Debug, Clone, Copy)]
pub struct SenderSettings {
    /// How often launched campaigns are planned again.
    pub every: Duration,
    /// The gateway stream's duplicate window: a sender restarted within
    /// it never delivers a key twice.
    pub duplicate_window: Duration,
}

impl Default for SenderSettings {
    fn default() -> Self {
        SenderSettings {
            every: Duration::from_secs(5),
            duplicate_window: Duration::from_secs(3600),
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PassReport {
    /// Campaigns planned.
    pub campaigns: usize,
    /// Pushes delivered to the gateway (repeats it dropped included).
    pub sent: usize,
    /// Pushes deferred.
    pub deferred: usize,
    /// Pushes suppressed.
    pub suppressed: usize,
    /// Messages left out for a missing variable.
    pub unrenderable: usize,
}

/// Creates the gateway's stream when missing.
pub async fn ensure_push_stream(
    js: &jetstream::Context,
    duplicate_window: Duration,
) -> Result<(), String> {
    js.get_or_create_stream(stream::Config {
        name: PUSH_STREAM.into(),
        subjects: vec![push_subject(">")],
        storage: stream::StorageType::File,
        duplicate_window,
        ..Default::default()
    })
    .await
    .map(drop)
    .map_err(|e| format!("stream {PUSH_STREAM}: {e}"))
}

fn rule(r: Rule) -> SuppressionRule {
    match r {
        Rule::OptOut => SuppressionRule::OptOut,
        Rule::Holdout => SuppressionRule::Holdout,
        Rule::Control => SuppressionRule::Control,
        Rule::QuietHours => SuppressionRule::QuietHours,
        Rule::FrequencyCap => SuppressionRule::FrequencyCap,
        Rule::CampaignCap => SuppressionRule::CampaignCap,
        Rule::Expired => SuppressionRule::Expired,
    }
}

/// The id of the event recording `what` for `key`: the same decision
/// always has the same id.
fn event_id(key: &str, what: &str) -> uuid::Uuid {
    let hi = assign::hash("showrunner/push-event/hi", &format!("{key}|{what}"));
    let lo = assign::hash("showrunner/push-event/lo", &format!("{key}|{what}"));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

fn event(p: &Planned, what: &str, at: DateTime<Utc>, payload: NotificationEvent) -> Event {
    let ts = Timestamp(at.timestamp_millis());
    let mut env = Envelope::new(ts, ts);
    env.event_id = event_id(&p.key, what);
    env.user_id = Some(p.user_id.clone());
    Event {
        envelope: env,
        payload: Payload::Notification(payload),
    }
}

impl CampaignsState {
    /// One pass at `now` over every launched campaign due.
    pub async fn send_pass(&self, now: DateTime<Utc>) -> Result<PassReport, String> {
        let due: Vec<(String, Checked)> = {
            let book = self.book.read();
            book.campaigns
                .all()
                .into_iter()
                .filter(|c| matches!(c.status, Status::Launched { send_at } if send_at <= now.timestamp_millis()))
                .filter_map(|c| match Checked::from_json(&c.definition) {
                    Ok(d) => Some((c.id, d)),
                    Err(e) => {
                        tracing::warn!(campaign = %c.id, error = %e, "a launched campaign's definition is refused; not sending");
                        None
                    }
                })
                .collect()
        };
        let mut report = PassReport::default();
        for (id, checked) in due {
            report.campaigns += 1;
            let Audience::Segment(sql) = &checked.definition.audience;
            let recipients = segment::evaluate(&self.store, sql, self.limits)
                .await
                .map_err(|e| format!("campaign {id}: {e}"))?;
            let (_, planned) = {
                let book = self.book.read();
                let mut decider = Decider {
                    policy: (*self.policy).clone(),
                    ledger: book.ledger(),
                };
                plan::plan(
                    &id,
                    &checked,
                    ONCE,
                    &recipients,
                    |u| book.reach(u),
                    &mut decider,
                    now,
                    Mode::Record,
                )
            };
            self.carry_out(&id, &checked, &planned, now, &mut report)
                .await?;
        }
        Ok(report)
    }

    /// Delivers and logs `planned`'s decisions.
    async fn carry_out(
        &self,
        campaign: &str,
        checked: &Checked,
        planned: &[Planned],
        now: DateTime<Utc>,
        report: &mut PassReport,
    ) -> Result<(), String> {
        let channel = &checked.definition.channel;
        let mut pushes = Vec::new();
        let mut events = Vec::new();
        for p in planned {
            match p.decision {
                Decision::Send => {
                    let Some(m) = &p.message else {
                        report.unrenderable += 1;
                        continue;
                    };
                    let push = Push {
                        key: p.key.clone(),
                        campaign_id: campaign.to_owned(),
                        user_id: p.user_id.clone(),
                        channel: channel.clone(),
                        title: m.title.clone(),
                        body: m.body.clone(),
                        deep_link: m.deep_link.clone(),
                        sent_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    };
                    pushes.push(Outgoing {
                        subject: push_subject(channel),
                        msg_id: p.key.clone(),
                        payload: serde_json::to_vec(&push).map_err(|e| e.to_string())?.into(),
                    });
                    events.push(event(
                        p,
                        "sent",
                        now,
                        NotificationEvent::PushSent(PushSent {
                            campaign_id: campaign.to_owned(),
                            message: Some(m.title.clone()),
                            window: Some(ONCE.into()),
                            channel: Some(channel.clone()),
                        }),
                    ));
                    report.sent += 1;
                }
                Decision::Defer { until, rule: r } => {
                    events.push(event(
                        p,
                        &format!("deferred:{}", until.timestamp_millis()),
                        now,
                        NotificationEvent::PushDeferred(PushDeferred {
                            campaign_id: campaign.to_owned(),
                            rule: rule(r),
                            until: Timestamp(until.timestamp_millis()),
                            window: Some(ONCE.into()),
                        }),
                    ));
                    report.deferred += 1;
                }
                Decision::Suppress { rule: r } => {
                    events.push(event(
                        p,
                        "suppressed",
                        now,
                        NotificationEvent::PushSuppressed(PushSuppressed {
                            campaign_id: campaign.to_owned(),
                            rule: rule(r),
                            window: Some(ONCE.into()),
                        }),
                    ));
                    report.suppressed += 1;
                }
                Decision::Duplicate => {}
            }
        }
        // delivered first, logged second (the module's invariant)
        for r in publish_each(&self.js, pushes).await {
            r.map_err(|e| format!("delivering to the gateway: {e}"))?;
        }
        let outgoing: Vec<Outgoing> = events.iter().map(Outgoing::event).collect();
        for r in publish_each(&self.js, outgoing).await {
            r.map_err(|e| format!("logging push decisions: {e}"))?;
        }
        for e in &events {
            self.book.apply(e);
        }
        Ok(())
    }
}

/// Runs passes every `settings.every` until the process stops.
pub async fn run(state: CampaignsState, settings: SenderSettings) {
    // the gateway's stream is made sure of once, and again only after a
    // pass failed (a JetStream API call every period is not needed)
    let mut stream_ready = false;
    loop {
        tokio::time::sleep(settings.every).await;
        if !stream_ready {
            if let Err(e) = ensure_push_stream(&state.js, settings.duplicate_window).await {
                tracing::warn!(error = %e, "push stream unavailable; pass skipped");
                continue;
            }
            stream_ready = true;
        }
        match state.send_pass(Utc::now()).await {
            Ok(r) if r.sent + r.deferred + r.suppressed + r.unrenderable > 0 => {
                tracing::info!(?r, "campaign pass")
            }
            Ok(_) => {}
            Err(e) => {
                stream_ready = false;
                tracing::warn!(error = %e, "campaign pass failed; retried next period")
            }
        }
    }
}
