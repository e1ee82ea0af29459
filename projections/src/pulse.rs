//! The pulse: the last minutes of the player family, for the Live page —
//! concurrent viewers, plays and fatal failures per minute, startup time
//! and rebuffering by CDN. Followed from the stream; nothing here waits
//! for the lake.
//!
//! The fold keeps, per view, the stamps of its events (play request,
//! first frame, end, stalls, heartbeats, fatal errors), so that applying
//! an event twice or in any order gives the same state; [`Pulse::snapshot`]
//! computes the figures at an instant from them. Times are the events'
//! `occurred_at`, bucketed by UTC minute. Views whose latest event is more
//! than [`KEEP_MS`] older than the latest event seen are dropped.
//!
//! The figures are live estimates, close to the warehouse's definitions
//! but not the same (those need whole views; `docs/metrics.md` rules):
//! - concurrent viewers at t: views with a first frame at or before t,
//!   not ended at t, and an event within the last [`IDLE_MS`] before t;
//! - startup time: first frame − play request, of the views whose first
//!   frame falls in the window (p50, p95, nearest rank);
//! - rebuffering: stall time ÷ (stall time + playing time) in the window,
//!   a stall closing at the next `rebuffer_end` (or at the view's latest
//!   event); playing time between consecutive heartbeats is the playhead's
//!   advance, at most the time between them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use showrunner_events::types::player::PlayerEvent;
use showrunner_events::{Event, Family, Payload};

use crate::{Fold, Stamp};

/// A view with no event for this long is no longer playing.
pub const IDLE_MS: i64 = 150_000;

/// Views whose latest event is this much older than the latest seen are
/// dropped (the window shown is at most [`MAX_MINUTES`]).
pub const KEEP_MS: i64 = 2 * 3_600_000;

/// The longest window a snapshot covers.
pub const MAX_MINUTES: usize = 60;

const MINUTE: i64 = 60_000;

/// What the fold knows of one view.
#[derive(Debug, Default, Clone)]
struct View {
    /// The earliest play request, and its CDN.
    play: Option<(Stamp, String)>,
    first_frame: BTreeSet<Stamp>,
    ended: BTreeSet<Stamp>,
    stall_starts: BTreeSet<Stamp>,
    stall_ends: BTreeSet<Stamp>,
    /// Heartbeats: stamp → playhead position.
    heartbeats: BTreeMap<Stamp, i64>,
    fatal: BTreeSet<Stamp>,
    /// Latest event.
    last: i64,
}

impl View {
    fn start(&self) -> Option<i64> {
        self.play.as_ref().map(|(s, _)| s.at)
    }

    fn ff(&self) -> Option<i64> {
        self.first_frame.first().map(|s| s.at)
    }

    fn end(&self) -> Option<i64> {
        self.ended.first().map(|s| s.at)
    }

    fn cdn(&self) -> &str {
        self.play.as_ref().map_or("(unknown)", |(_, c)| c.as_str())
    }

    fn playing_at(&self, t: i64) -> bool {
        self.ff().is_some_and(|ff| ff <= t)
            && self.end().is_none_or(|e| e > t)
            && self.last >= t - IDLE_MS
    }

    /// Stall time inside `[from, to)`: each start closed by the next end,
    /// else by the view's end or its latest event.
    fn stall_ms(&self, from: i64, to: i64) -> i64 {
        let close_default = self.end().unwrap_or(self.last);
        let mut total = 0;
        let mut open_until = i64::MIN;
        for s in &self.stall_starts {
            if s.at < open_until {
                continue; // inside a stall already open
            }
            let end = self
                .stall_ends
                .range(*s..)
                .next()
                .map_or(close_default, |e| e.at)
                .max(s.at);
            open_until = end;
            total += (end.min(to) - s.at.max(from)).max(0);
        }
        total
    }

    /// Playing time whose heartbeat falls inside `[from, to)`.
    fn playing_ms(&self, from: i64, to: i64) -> i64 {
        let mut total = 0;
        let mut prev: Option<(i64, i64)> = None;
        for (s, pos) in &self.heartbeats {
            if let Some((t0, p0)) = prev
                && s.at >= from
                && s.at < to
            {
                total += (pos - p0).clamp(0, s.at - t0);
            }
            prev = Some((s.at, *pos));
        }
        total
    }
}

/// The fold.
#[derive(Debug, Default)]
pub struct Pulse {
    views: HashMap<String, View>,
    /// The latest `occurred_at` seen.
    latest: i64,
}

/// One minute of a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Minute {
    /// Its start, ms since the epoch.
    pub t: i64,
    /// Views playing at its start.
    pub concurrent: usize,
    /// Play requests in it.
    pub plays: usize,
    /// Fatal errors in it.
    pub failures: usize,
}

/// One CDN over a snapshot's window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cdn {
    /// Its name.
    pub cdn: String,
    /// Play requests in the window.
    pub plays: usize,
    /// First frames in the window.
    pub started: usize,
    /// Startup time p50 of those, ms.
    pub startup_p50_ms: Option<i64>,
    /// p95.
    pub startup_p95_ms: Option<i64>,
    /// Stall time in the window, ms.
    pub stall_ms: i64,
    /// Playing time in the window, ms.
    pub playing_ms: i64,
    /// stall ÷ (stall + playing); none without either.
    pub rebuffering: Option<f64>,
}

/// The figures at an instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    /// The instant, ms since the epoch.
    pub now: i64,
    /// Views playing now.
    pub concurrent: usize,
    /// The window's minutes, oldest first (the last one is the current,
    /// partial minute).
    pub minutes: Vec<Minute>,
    /// By CDN, most plays first.
    pub cdns: Vec<Cdn>,
    /// Views the fold holds.
    pub views: usize,
    /// The latest event's `occurred_at`.
    pub latest: i64,
}

/// Nearest-rank percentile of sorted `v`.
fn rank(v: &[i64], pct: usize) -> Option<i64> {
    let n = v.len();
    (n > 0).then(|| v[((pct * n).div_ceil(100)).max(1) - 1])
}

impl Fold for Pulse {
    fn families(&self) -> &'static [Family] {
        &[Family::Player]
    }

    fn apply(&mut self, e: &Event) -> bool {
        let Payload::Player(p) = &e.payload else {
            return false;
        };
        let Some(id) = e.envelope.view_id.as_deref() else {
            return false;
        };
        let stamp = Stamp::of(e);
        if stamp.at < self.latest - KEEP_MS {
            return true; // too old to show
        }
        let v = self.views.entry(id.to_owned()).or_default();
        v.last = v.last.max(stamp.at);
        match p {
            PlayerEvent::PlayRequested(r) if v.play.as_ref().is_none_or(|(s, _)| stamp < *s) => {
                v.play = Some((stamp, r.cdn.clone()));
            }
            PlayerEvent::FirstFrame(_) => {
                v.first_frame.insert(stamp);
            }
            PlayerEvent::ViewEnded(_) => {
                v.ended.insert(stamp);
            }
            PlayerEvent::RebufferStart(_) => {
                v.stall_starts.insert(stamp);
            }
            PlayerEvent::RebufferEnd(_) => {
                v.stall_ends.insert(stamp);
            }
            PlayerEvent::Heartbeat(h) => {
                v.heartbeats.insert(stamp, h.position_ms);
            }
            PlayerEvent::PlaybackError(err) if err.fatal => {
                v.fatal.insert(stamp);
            }
            _ => {}
        }
        if stamp.at > self.latest {
            self.latest = stamp.at;
            let horizon = self.latest - KEEP_MS;
            self.views.retain(|_, v| v.last >= horizon);
        }
        true
    }
}

impl Pulse {
    /// The figures at `now` (ms) over the last `minutes` minutes (at most
    /// [`MAX_MINUTES`]), the current minute included.
    pub fn snapshot(&self, now: i64, minutes: usize) -> Snapshot {
        let minutes = minutes.clamp(1, MAX_MINUTES) as i64;
        let current = now.div_euclid(MINUTE) * MINUTE;
        let from = current - (minutes - 1) * MINUTE;
        let to = current + MINUTE;
        let mut out: Vec<Minute> = (0..minutes)
            .map(|k| Minute {
                t: from + k * MINUTE,
                concurrent: 0,
                plays: 0,
                failures: 0,
            })
            .collect();
        let slot = |t: i64| ((from..to).contains(&t)).then(|| ((t - from) / MINUTE) as usize);
        let mut cdns: BTreeMap<&str, (usize, Vec<i64>, i64, i64)> = BTreeMap::new();
        let mut concurrent = 0;
        for v in self.views.values() {
            for m in &mut out {
                if v.playing_at(m.t) {
                    m.concurrent += 1;
                }
            }
            if v.playing_at(now) {
                concurrent += 1;
            }
            for s in &v.fatal {
                if let Some(i) = slot(s.at) {
                    out[i].failures += 1;
                }
            }
            let c = cdns.entry(v.cdn()).or_default();
            if let Some(i) = v.start().and_then(slot) {
                out[i].plays += 1;
                c.0 += 1;
            }
            if let (Some(start), Some(ff)) = (v.start(), v.ff())
                && slot(ff).is_some()
            {
                c.1.push((ff - start).max(0));
            }
            c.2 += v.stall_ms(from, to.min(now.max(from)));
            c.3 += v.playing_ms(from, to);
        }
        let mut cdns: Vec<Cdn> = cdns
            .into_iter()
            .filter(|(_, c)| c.0 > 0 || !c.1.is_empty() || c.2 > 0 || c.3 > 0)
            .map(|(cdn, (plays, mut startups, stall_ms, playing_ms))| {
                startups.sort_unstable();
                Cdn {
                    cdn: cdn.to_owned(),
                    plays,
                    started: startups.len(),
                    startup_p50_ms: rank(&startups, 50),
                    startup_p95_ms: rank(&startups, 95),
                    stall_ms,
                    playing_ms,
                    rebuffering: (stall_ms + playing_ms > 0)
                        .then(|| stall_ms as f64 / (stall_ms + playing_ms) as f64),
                }
            })
            .collect();
        cdns.sort_by(|a, b| b.plays.cmp(&a.plays).then_with(|| a.cdn.cmp(&b.cdn)));
        Snapshot {
            now,
            concurrent,
            minutes: out,
            cdns,
            views: self.views.len(),
            latest: self.latest,
        }
    }
}
