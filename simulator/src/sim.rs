//! The day loop: each simulated day yields its events, sorted by time.

use chrono::{Datelike, NaiveTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use showrunner_events::types::Country;
use showrunner_events::types::catalog::TitleKind;
use showrunner_events::types::notification::{
    NotificationEvent, PushOpened, PushSent, PushSuppressed, SuppressionRule,
};
use showrunner_events::types::user::{ProfileUpdated, SignedUp, UserEvent};
use showrunner_events::{Envelope, Event, Payload, SCHEMA_VERSION, Timestamp};

use crate::audience::User;
use crate::billing::{self, SubState};
use crate::catalog::{Catalog, GENRES, MARKETS};
use crate::config::SimConfig;
use crate::rng::{Purpose, event_id, pick_cumulative, pick_weighted, stream};
use crate::viewing::{self, CDNS, FLAKY_CDN, ViewSpec};

const DAY_MS: i64 = 86_400_000;

/// Whether a user's interest is fading on day `d` (and since when): only a
/// trialing or paying subscriber's starts to fade, by
/// [`billing::fade_hazard`]; it recovers with 1 % a day (a new season
/// brings them back) and ends with the subscription.
fn next_fading(u: &User, d: u32, rng: &mut ChaCha8Rng) -> Option<u32> {
    let paying = matches!(
        u.sub,
        SubState::Trial { .. } | SubState::Active { .. } | SubState::PastDue { .. }
    );
    match u.fading_since {
        _ if !paying => None,
        Some(since) => (!rng.random_bool(0.01)).then_some(since),
        None => rng
            .random_bool(billing::fade_hazard(u.satisfaction))
            .then_some(d),
    }
}

/// Ids an event concerns.
#[derive(Default, Clone, Copy)]
struct Ids<'a> {
    user: Option<&'a str>,
    profile: Option<&'a str>,
    device: Option<&'a str>,
    view: Option<&'a str>,
    title: Option<&'a str>,
}

/// The simulation: catalog, users, and the day cursor.
pub struct Simulator {
    cfg: SimConfig,
    start: Timestamp,
    catalog: Catalog,
    users: Vec<User>,
    catalog_events: Vec<Vec<(Timestamp, Option<String>, Payload)>>,
    day: u32,
}

impl Simulator {
    /// Prepares a simulation.
    pub fn new(cfg: SimConfig) -> Simulator {
        let start = Timestamp(
            cfg.start
                .and_time(NaiveTime::MIN)
                .and_utc()
                .timestamp_millis(),
        );
        let catalog = Catalog::generate(&cfg, start);
        let mut catalog_events: Vec<Vec<_>> = vec![Vec::new(); cfg.days as usize];
        for e in catalog.events() {
            let d = ((e.0.0 - start.0) / DAY_MS).clamp(0, i64::from(cfg.days.max(1)) - 1) as usize;
            if let Some(slot) = catalog_events.get_mut(d) {
                slot.push(e);
            }
        }
        let users = (0..cfg.users)
            .map(|i| User::generate(&cfg, i, start))
            .collect();
        Simulator {
            cfg,
            start,
            catalog,
            users,
            catalog_events,
            day: 0,
        }
    }

    /// Simulates the next day; `None` after the last.
    pub fn next_day(&mut self) -> Option<Vec<Event>> {
        if self.day >= self.cfg.days {
            return None;
        }
        let d = self.day;
        let day_start = self.start.0 + i64::from(d) * DAY_MS;
        let mut out: Vec<Event> = Vec::new();
        let mut prng = stream(self.cfg.seed, Purpose::Platform, u64::from(d), 0);
        // a CDN incident window (ms within the day), sometimes
        let incident = prng.random_bool(0.15).then(|| {
            let from = prng.random_range(0..DAY_MS - 4 * 3_600_000);
            (
                day_start + from,
                day_start + from + prng.random_range(3_600_000..4 * 3_600_000),
            )
        });
        for (at, title, payload) in std::mem::take(&mut self.catalog_events[d as usize]) {
            let ids = Ids {
                title: title.as_deref(),
                ..Ids::default()
            };
            out.push(make(&mut prng, at.0, ids, payload));
        }
        let weekend = matches!(
            self.cfg
                .start
                .checked_add_days(chrono::Days::new(u64::from(d)))
                .map(|x| x.weekday()),
            Some(chrono::Weekday::Sat | chrono::Weekday::Sun)
        );
        let heartbeat_ms = i64::from(self.cfg.heartbeat_secs.max(1)) * 1_000;
        let mut users = std::mem::take(&mut self.users);
        for u in users.iter_mut().filter(|u| u.signup_day <= d) {
            let mut rng = stream(self.cfg.seed, Purpose::Day, u64::from(u.idx), u64::from(d));
            self.user_day(
                u,
                d,
                day_start,
                weekend,
                heartbeat_ms,
                incident,
                &mut rng,
                &mut out,
            );
        }
        self.users = users;
        out.sort_by(|a, b| {
            a.envelope
                .occurred_at
                .cmp(&b.envelope.occurred_at)
                .then(a.envelope.event_id.cmp(&b.envelope.event_id))
        });
        self.day += 1;
        Some(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn user_day(
        &self,
        u: &mut User,
        d: u32,
        day_start: i64,
        weekend: bool,
        heartbeat_ms: i64,
        incident: Option<(i64, i64)>,
        rng: &mut ChaCha8Rng,
        out: &mut Vec<Event>,
    ) {
        let market = &MARKETS[u.market];
        let uid = u.id.clone();
        let pid = u.profile_id.clone();
        let base = Ids {
            user: Some(&uid),
            profile: Some(&pid),
            ..Ids::default()
        };
        if d == u.signup_day {
            let t = u.signup_at.0;
            out.push(make(
                rng,
                t,
                base,
                Payload::User(UserEvent::SignedUp(SignedUp {
                    country: Country::new(market.country),
                    language: Some(market.language.into()),
                    time_zone: Some(market.time_zone.into()),
                })),
            ));
            out.push(make(
                rng,
                t + 1_000,
                base,
                Payload::User(UserEvent::ProfileUpdated(ProfileUpdated {
                    time_zone: None,
                    language: None,
                    push_opt_in: Some(u.push_opt_in),
                    maturity_limit: u.maturity_limit,
                })),
            ));
            let (state, evs) = billing::sign_up(u.intended_plan, u.wants_trial, d, u.market);
            u.sub = state;
            for (k, p) in evs.into_iter().enumerate() {
                out.push(make(rng, t + 2_000 + k as i64, base, p));
            }
        } else {
            u.fading_since = next_fading(u, d, rng);
            let at = day_start
                + ((4 - market.utc_offset).rem_euclid(24)) * 3_600_000
                + rng.random_range(0..3_600_000);
            let (state, evs) = billing::step(
                u.sub,
                billing::Day {
                    day: d,
                    at: Timestamp(at),
                    market: u.market,
                    engagement: u.engagement,
                    satisfaction: u.satisfaction,
                    fading_days: u.fading_since.map(|s| d - s),
                    frustration: u.frustration,
                    rng,
                },
            );
            u.sub = state;
            for (off, p) in evs {
                out.push(make(rng, at + off, base, p));
            }
        }
        let entitled = u.sub.entitled();
        let interest = 1.0 - u.fading_since.map_or(0.0, |s| billing::fade(d - s));
        let p_active = (u.activity
            * if weekend { 1.25 } else { 1.0 }
            * (0.6 + 0.6 * u.satisfaction)
            * interest)
            .clamp(0.0, 0.97);
        let active = entitled && rng.random_bool(p_active);
        u.engagement = 0.93 * u.engagement + 0.07 * if active { 1.0 } else { 0.0 };
        if entitled && u.push_opt_in && rng.random_bool(0.03) {
            self.push(u, day_start, rng, out);
        }
        if !active {
            return;
        }
        if matches!(u.sub, SubState::Active { .. }) && rng.random_bool(0.01) {
            self.rent(u, day_start, rng, out);
        }
        let sessions = 1 + usize::from(rng.random_bool(0.35)) + usize::from(rng.random_bool(0.1));
        let mut not_before = day_start;
        for _ in 0..sessions {
            let local = (u.prime_hour + rng.random_range(-3.0..2.0f64)).rem_euclid(24.0);
            let start = day_start
                + (((local - market.utc_offset as f64).rem_euclid(24.0)) * 3_600_000.0) as i64;
            let start = start.max(not_before);
            if start >= day_start + DAY_MS {
                break;
            }
            not_before = self.session(u, start, heartbeat_ms, incident, rng, out) + 60_000;
        }
    }

    /// One viewing session: a movie, or a run of episodes. Returns its end.
    fn session(
        &self,
        u: &mut User,
        start: i64,
        heartbeat_ms: i64,
        incident: Option<(i64, i64)>,
        rng: &mut ChaCha8Rng,
        out: &mut Vec<Event>,
    ) -> i64 {
        let mut t = start;
        let Some(ti) = self.choose_title(u, Timestamp(t), rng) else {
            return t;
        };
        let title = &self.catalog.titles[ti];
        let device = u.pick_device(rng).clone();
        let isp = MARKETS[u.market].isps[(u.idx as usize) % MARKETS[u.market].isps.len()];
        let appeal = (title.genres.iter().map(|&g| u.taste[g]).sum::<f64>() * 3.0).min(1.0) * 0.6
            + title.quality * 0.4;
        let episodes = if title.kind == TitleKind::Series {
            1 + (rng.random::<f64>() * u.binge * appeal * 1.6) as usize
        } else {
            1
        };
        for _ in 0..episodes {
            let (id, duration, resume) = match title.kind {
                TitleKind::Movie => (
                    title.id.clone(),
                    title.duration_ms,
                    u.resume.get(&ti).copied().unwrap_or(0),
                ),
                TitleKind::Series => {
                    let next = u.series_next.get(&ti).copied().unwrap_or(0);
                    let Some(ep) = title.episodes.get(next) else {
                        break;
                    };
                    (ep.id.clone(), ep.duration_ms, 0)
                }
            };
            let cdn = pick_weighted(rng, &CDNS.iter().map(|c| c.1).collect::<Vec<_>>());
            let degraded = cdn == FLAKY_CDN && incident.is_some_and(|(a, b)| (a..b).contains(&t));
            let view_id = event_id(rng, t).to_string();
            let spec = ViewSpec {
                start: Timestamp(t),
                user_id: &u.id,
                profile_id: &u.profile_id,
                device: &device,
                market: u.market,
                isp,
                title_id: &id,
                duration_ms: duration,
                resume_ms: resume,
                appeal,
                cdn,
                degraded,
                heartbeat_ms,
                ads: u.sub.ads(),
                view_id: view_id.clone(),
            };
            let mut emitted = Vec::new();
            let o = viewing::simulate(&spec, rng, &mut emitted);
            let late = device.device_type == showrunner_events::types::player::DeviceType::Mobile
                && rng.random_bool(0.01);
            let delay = if late {
                rng.random_range(3_600_000..3 * DAY_MS)
            } else {
                0
            };
            let ids = Ids {
                user: Some(&u.id),
                profile: Some(&u.profile_id),
                device: Some(&device.id),
                view: Some(&view_id),
                title: Some(&id),
            };
            for (at, payload) in emitted {
                let mut e = make(rng, at, ids, payload);
                e.envelope.received_at = e.envelope.received_at.plus_ms(delay);
                out.push(e);
            }
            let experience = o.experience();
            u.satisfaction = 0.85 * u.satisfaction + 0.15 * experience;
            u.frustration = 0.97 * u.frustration + 0.03 * (1.0 - experience);
            match title.kind {
                TitleKind::Movie if o.completed => {
                    u.resume.remove(&ti);
                    u.finished.push(ti);
                }
                TitleKind::Movie => {
                    u.resume.insert(ti, o.position_ms);
                }
                TitleKind::Series if o.completed => {
                    *u.series_next.entry(ti).or_insert(0) += 1;
                }
                TitleKind::Series => {
                    u.series_next.entry(ti).or_insert(0);
                }
            }
            t = o.ended_at + rng.random_range(5_000..60_000);
            if !o.completed {
                break;
            }
        }
        t
    }

    /// Picks what to watch: continue a series or movie in progress, or a
    /// new title of a genre drawn from the user's taste, by popularity.
    fn choose_title(&self, u: &User, t: Timestamp, rng: &mut ChaCha8Rng) -> Option<usize> {
        let allowed = |i: usize| {
            let title = &self.catalog.titles[i];
            title.available(u.market, t) && u.maturity_limit.is_none_or(|m| title.maturity <= m)
        };
        if rng.random_bool(0.55) {
            let mut open: Vec<usize> = u
                .series_next
                .iter()
                .filter(|(i, n)| **n < self.catalog.titles[**i].episodes.len())
                .map(|(i, _)| *i)
                .chain(u.resume.keys().copied())
                .filter(|&i| allowed(i))
                .collect();
            open.sort_unstable();
            if !open.is_empty() {
                return Some(open[rng.random_range(0..open.len())]);
            }
        }
        for _ in 0..12 {
            let g = pick_weighted(rng, &u.taste);
            let (idx, cum) = &self.catalog.by_genre[g];
            if idx.is_empty() {
                continue;
            }
            let i = idx[pick_cumulative(rng, cum)];
            if allowed(i)
                && !u.finished.contains(&i)
                && self.catalog.titles[i].rental_minor.is_none()
            {
                return Some(i);
            }
        }
        None
    }

    fn rent(&self, u: &User, day_start: i64, rng: &mut ChaCha8Rng, out: &mut Vec<Event>) {
        let rentals: Vec<usize> = (0..self.catalog.titles.len())
            .filter(|&i| {
                self.catalog.titles[i].rental_minor.is_some()
                    && self.catalog.titles[i].available(u.market, Timestamp(day_start))
            })
            .collect();
        if rentals.is_empty() {
            return;
        }
        let ti = rentals[rng.random_range(0..rentals.len())];
        let price =
            self.catalog.titles[ti].rental_minor.unwrap_or(499) * MARKETS[u.market].prices[0] / 799;
        let at = day_start + rng.random_range(DAY_MS / 2..DAY_MS - 1);
        let ids = Ids {
            user: Some(&u.id),
            profile: Some(&u.profile_id),
            title: Some(&self.catalog.titles[ti].id),
            ..Ids::default()
        };
        out.push(make(
            rng,
            at,
            ids,
            Payload::Billing(showrunner_events::types::BillingEvent::RentalPurchased(
                showrunner_events::types::billing::RentalPurchased {
                    amount_minor: price,
                    currency: showrunner_events::types::Currency::new(MARKETS[u.market].currency),
                    rental_hours: Some(48),
                },
            )),
        ));
    }

    fn push(&self, u: &User, day_start: i64, rng: &mut ChaCha8Rng, out: &mut Vec<Event>) {
        let fav = (0..GENRES.len())
            .max_by(|a, b| u.taste[*a].total_cmp(&u.taste[*b]))
            .unwrap_or(0);
        let campaign = format!("c-weekly-{}", GENRES[fav]);
        let ids = Ids {
            user: Some(&u.id),
            profile: Some(&u.profile_id),
            ..Ids::default()
        };
        let local_hour = rng.random_range(8..24i64);
        let at = day_start + (local_hour - MARKETS[u.market].utc_offset).rem_euclid(24) * 3_600_000;
        if local_hour >= 22 {
            out.push(make(
                rng,
                at,
                ids,
                Payload::Notification(NotificationEvent::PushSuppressed(PushSuppressed {
                    campaign_id: campaign,
                    rule: SuppressionRule::QuietHours,
                    window: None,
                })),
            ));
            return;
        }
        out.push(make(
            rng,
            at,
            ids,
            Payload::Notification(NotificationEvent::PushSent(PushSent {
                campaign_id: campaign.clone(),
                message: Some(format!("New in {}", GENRES[fav])),
                window: None,
                channel: None,
            })),
        ));
        if rng.random_bool(0.12) {
            let opened = at + rng.random_range(10_000..3_600_000);
            out.push(make(
                rng,
                opened,
                ids,
                Payload::Notification(NotificationEvent::PushOpened(PushOpened {
                    campaign_id: campaign,
                })),
            ));
        }
    }
}

fn make(rng: &mut impl Rng, at: i64, ids: Ids<'_>, payload: Payload) -> Event {
    let received = at + rng.random_range(40..900);
    Event {
        envelope: Envelope {
            event_id: event_id(rng, at),
            schema_version: SCHEMA_VERSION,
            occurred_at: Timestamp(at),
            received_at: Timestamp(received),
            user_id: ids.user.map(str::to_owned),
            profile_id: ids.profile.map(str::to_owned),
            device_id: ids.device.map(str::to_owned),
            view_id: ids.view.map(str::to_owned),
            title_id: ids.title.map(str::to_owned),
            properties: None,
        },
        payload,
    }
}

impl Iterator for Simulator {
    type Item = Vec<Event>;
    fn next(&mut self) -> Option<Vec<Event>> {
        self.next_day()
    }
}
