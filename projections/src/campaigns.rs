//! Campaigns: each campaign's name, definition and status, and who did
//! what — folded from the `campaign` events.
//!
//! A campaign's facts are kept as a set keyed by [`Stamp`]; its state is
//! the replay of that set in stamp order through the lifecycle
//!
//! ```text
//! created ─► draft ─launched─► launched ─paused─► paused ─launched─► launched
//!              └──────────────────┴──────────────────┴─archived─► archived
//! ```
//!
//! so a fact that arrives late is put in its place, a repeat changes
//! nothing, and a fact the lifecycle does not allow where it falls (an
//! update after archiving, a pause of a draft) is kept in the audit trail
//! as refused and changes nothing. The API writes only allowed facts; the
//! fold stays total whatever the log holds.

use std::collections::{BTreeMap, HashMap};

use showrunner_events::types::Payload;
use showrunner_events::types::campaign::CampaignEvent;
use showrunner_events::wire::JsonMap;
use showrunner_events::{Event, Family};

use crate::{Fold, Stamp};

/// Where a campaign is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Created, never launched.
    Draft,
    /// Launched (or resumed): sends from `send_at` (ms) on.
    Launched {
        /// When it sends (the launch instant when none was given).
        send_at: i64,
    },
    /// Paused: nothing is sent until it is launched again.
    Paused,
    /// Archived: never sends again.
    Archived,
}

impl Status {
    /// Its name in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Launched { .. } => "launched",
            Status::Paused => "paused",
            Status::Archived => "archived",
        }
    }
}

/// One entry of a campaign's audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// When, ms.
    pub at: i64,
    /// Who (an API key's id).
    pub actor: String,
    /// The event type (`campaign_launched`, …).
    pub action: &'static str,
    /// Whether the lifecycle allowed it where it falls.
    pub applied: bool,
}

/// A campaign as readers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its definition (audience, message, rules), as last written.
    pub definition: JsonMap,
    /// Definitions written so far (1 after creation).
    pub revision: u32,
    /// Where it is.
    pub status: Status,
    /// Created when, ms.
    pub created_at: i64,
    /// Created by.
    pub created_by: String,
    /// Its last applied change, ms.
    pub updated_at: i64,
    /// Every fact about it, in order.
    pub audit: Vec<Audit>,
}

/// Every campaign's facts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Campaigns {
    facts: HashMap<String, BTreeMap<Stamp, CampaignEvent>>,
}

fn id_of(e: &CampaignEvent) -> &str {
    match e {
        CampaignEvent::CampaignCreated(x) => &x.campaign_id,
        CampaignEvent::CampaignUpdated(x) => &x.campaign_id,
        CampaignEvent::CampaignLaunched(x) => &x.campaign_id,
        CampaignEvent::CampaignPaused(x) => &x.campaign_id,
        CampaignEvent::CampaignArchived(x) => &x.campaign_id,
    }
}

fn actor_of(e: &CampaignEvent) -> &str {
    match e {
        CampaignEvent::CampaignCreated(x) => &x.actor,
        CampaignEvent::CampaignUpdated(x) => &x.actor,
        CampaignEvent::CampaignLaunched(x) => &x.actor,
        CampaignEvent::CampaignPaused(x) => &x.actor,
        CampaignEvent::CampaignArchived(x) => &x.actor,
    }
}

/// The state after `facts`, in stamp order; `None` before a creation.
fn replay(id: &str, facts: &BTreeMap<Stamp, CampaignEvent>) -> Option<Campaign> {
    let mut c: Option<Campaign> = None;
    for (s, e) in facts {
        let applied = match (&mut c, e) {
            (None, CampaignEvent::CampaignCreated(x)) => {
                c = Some(Campaign {
                    id: id.to_owned(),
                    name: x.name.clone(),
                    definition: x.definition.clone(),
                    revision: 1,
                    status: Status::Draft,
                    created_at: s.at,
                    created_by: x.actor.clone(),
                    updated_at: s.at,
                    audit: Vec::new(),
                });
                true
            }
            (None, _) => false,
            (Some(c), e) => step(c, *s, e),
        };
        if let Some(c) = &mut c {
            c.audit.push(Audit {
                at: s.at,
                actor: actor_of(e).to_owned(),
                action: e.event_type(),
                applied,
            });
        }
    }
    c
}

/// Applies `e` to `c` if the lifecycle allows it; whether it did.
fn step(c: &mut Campaign, s: Stamp, e: &CampaignEvent) -> bool {
    let ok = match (c.status, e) {
        (_, CampaignEvent::CampaignCreated(_)) | (Status::Archived, _) => false,
        (_, CampaignEvent::CampaignUpdated(x)) => {
            if let Some(n) = &x.name {
                c.name = n.clone();
            }
            c.definition = x.definition.clone();
            c.revision += 1;
            true
        }
        (Status::Draft | Status::Paused, CampaignEvent::CampaignLaunched(x)) => {
            c.status = Status::Launched {
                send_at: x.send_at.map_or(s.at, |t| t.0),
            };
            true
        }
        (Status::Launched { .. }, CampaignEvent::CampaignPaused(_)) => {
            c.status = Status::Paused;
            true
        }
        (_, CampaignEvent::CampaignArchived(_)) => {
            c.status = Status::Archived;
            true
        }
        _ => false,
    };
    if ok {
        c.updated_at = s.at;
    }
    ok
}

impl Campaigns {
    /// A campaign's state, `None` when it was never created.
    pub fn get(&self, id: &str) -> Option<Campaign> {
        self.facts.get(id).and_then(|f| replay(id, f))
    }

    /// Every campaign, by id.
    pub fn all(&self) -> Vec<Campaign> {
        let mut out: Vec<Campaign> = self
            .facts
            .iter()
            .filter_map(|(id, f)| replay(id, f))
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Campaigns known (created or not).
    pub fn len(&self) -> usize {
        self.facts.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }
}

impl Fold for Campaigns {
    fn families(&self) -> &'static [Family] {
        &[Family::Campaign]
    }

    fn apply(&mut self, e: &Event) -> bool {
        let Payload::Campaign(c) = &e.payload else {
            return false;
        };
        self.facts
            .entry(id_of(c).to_owned())
            .or_default()
            .insert(Stamp::of(e), c.clone());
        true
    }
}
