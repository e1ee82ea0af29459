//! One play attempt, as player events plus watch progress and ads.
//!
//! Startup time is lognormal (slower on cellular, on some CDNs, and much
//! slower on a degraded CDN); long startups make viewers leave before the
//! first frame; start failures and mid-play fatal errors depend on the CDN
//! and on a buggy app version; stalls, bitrate switches, pauses and seeks
//! are Poisson processes over playing time; heartbeats tick every
//! `heartbeat_secs` of playback.

use rand::Rng;
use rand_distr::{Distribution, LogNormal};
use showrunner_events::types::billing::{AdImpression, BillingEvent};
use showrunner_events::types::player::*;
use showrunner_events::types::watch::{Completed, Progress, WatchEvent};
use showrunner_events::types::{Country, Currency};
use showrunner_events::{Payload, Timestamp};

use crate::audience::Device;
use crate::catalog::MARKETS;

/// CDNs: name, share of views, stall multiplier, startup multiplier.
pub const CDNS: &[(&str, f64, f64, f64)] = &[
    ("edgeone", 0.45, 1.0, 1.0),
    ("fastpath", 0.35, 1.3, 1.15),
    ("cloudreach", 0.20, 1.1, 1.05),
];
/// The CDN that suffers incidents.
pub const FLAKY_CDN: usize = 2;

const LADDER: &[(i64, &str)] = &[
    (800, "360p"),
    (1_800, "540p"),
    (3_000, "720p"),
    (4_500, "1080p"),
    (8_000, "2160p"),
];

/// Everything one view needs to know.
pub struct ViewSpec<'a> {
    /// Start instant.
    pub start: Timestamp,
    /// User id.
    pub user_id: &'a str,
    /// Profile id.
    pub profile_id: &'a str,
    /// Device.
    pub device: &'a Device,
    /// Market index.
    pub market: usize,
    /// ISP name and ASN.
    pub isp: (&'a str, i64),
    /// Title id (an episode id for series).
    pub title_id: &'a str,
    /// Title duration, ms.
    pub duration_ms: i64,
    /// Where playback starts, ms.
    pub resume_ms: i64,
    /// How much the viewer likes it, in [0, 1].
    pub appeal: f64,
    /// Index into [`CDNS`].
    pub cdn: usize,
    /// The CDN is degraded right now.
    pub degraded: bool,
    /// Heartbeat interval, ms.
    pub heartbeat_ms: i64,
    /// Free tier: ads are shown.
    pub ads: bool,
    /// View id.
    pub view_id: String,
}

/// What happened, for the viewer's satisfaction and progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct ViewOutcome {
    /// The first frame was shown.
    pub started: bool,
    /// Playback failed.
    pub failed: bool,
    /// Final position, ms.
    pub position_ms: i64,
    /// Reached the end.
    pub completed: bool,
    /// Time played, ms.
    pub played_ms: i64,
    /// Time stalled (non-seek), ms.
    pub stalled_ms: i64,
    /// Startup time, ms.
    pub startup_ms: i64,
    /// When the view ended.
    pub ended_at: i64,
}

impl ViewOutcome {
    /// A score in [0, 1] of how the view felt.
    pub fn experience(&self) -> f64 {
        if self.failed {
            return 0.0;
        }
        if !self.started {
            return 0.3;
        }
        let ratio = self.stalled_ms as f64 / (self.played_ms + self.stalled_ms).max(1) as f64;
        let slow_start = if self.startup_ms > 5_000 { 0.25 } else { 0.0 };
        (1.0 - 8.0 * ratio - slow_start).clamp(0.0, 1.0)
    }
}

/// Output events: (time, payload); all carry the view and title ids.
pub type Emitted = Vec<(i64, Payload)>;

fn p(e: PlayerEvent) -> Payload {
    Payload::Player(e)
}

/// Simulates one view; pushes its events to `out`.
pub fn simulate(s: &ViewSpec<'_>, rng: &mut impl Rng, out: &mut Emitted) -> ViewOutcome {
    let d = s.device;
    let (_, _, cdn_stall, cdn_start) = CDNS[s.cdn];
    let degraded = if s.degraded { 1.0 } else { 0.0 };
    let buggy = d.app_version == "5.13.0" && d.os == "android";
    let cellular = d.network == NetworkType::Cellular;
    let mut t = s.start.0;
    out.push((
        t,
        p(PlayerEvent::PlayRequested(PlayRequested {
            device_type: d.device_type,
            os: d.os.into(),
            os_version: Some(d.os_version.into()),
            device_model: Some(d.model.into()),
            player_name: d.player.into(),
            player_version: d.player_version.into(),
            app_version: d.app_version.into(),
            cdn: CDNS[s.cdn].0.into(),
            country: Country::new(MARKETS[s.market].country),
            isp: s.isp.0.into(),
            asn: Some(s.isp.1),
            network_type: d.network,
            autoplay: Some(false),
        })),
    ));
    let median = 1_050.0
        * if cellular { 1.9 } else { 1.0 }
        * if d.network == NetworkType::Ethernet {
            0.85
        } else {
            1.0
        }
        * cdn_start
        * (1.0 + 1.8 * degraded);
    let startup = LogNormal::new(f64::ln(median), 0.55)
        .map_or(median, |ln| ln.sample(rng))
        .min(60_000.0) as i64;
    let mut o = ViewOutcome {
        startup_ms: startup,
        position_ms: s.resume_ms,
        ..Default::default()
    };
    let ebvs = if startup > 5_000 {
        (0.1 + (startup - 5_000) as f64 / 15_000.0).min(0.7)
    } else {
        0.02
    };
    if rng.random_bool(ebvs) {
        let at = t + rng.random_range(300..=startup.max(301));
        out.push((
            at,
            p(PlayerEvent::ViewEnded(ViewEnded {
                reason: EndReason::UserExit,
                position_ms: None,
            })),
        ));
        o.ended_at = at;
        return o;
    }
    let vsf = (0.006 + 0.05 * degraded) * if buggy { 4.0 } else { 1.0 };
    if rng.random_bool(vsf.min(0.9)) {
        let at = t + rng.random_range(200..=startup.max(201));
        out.push((
            at,
            p(PlayerEvent::PlaybackError(PlaybackError {
                code: if s.degraded {
                    "CDN_HTTP_503".into()
                } else {
                    "MANIFEST_LOAD_FAILED".into()
                },
                message: Some("could not load the stream".into()),
                fatal: true,
            })),
        ));
        out.push((
            at + 40,
            p(PlayerEvent::ViewEnded(ViewEnded {
                reason: EndReason::Error,
                position_ms: None,
            })),
        ));
        o.failed = true;
        o.ended_at = at + 40;
        return o;
    }
    t += startup;
    o.started = true;
    out.push((t, p(PlayerEvent::FirstFrame(FirstFrame {}))));
    let top = if cellular {
        2
    } else if d.device_type == DeviceType::Tv {
        4
    } else {
        3
    };
    let mut rung = top.min(if degraded > 0.0 { 2 } else { top });
    out.push((
        t,
        p(PlayerEvent::BitrateChanged(BitrateChanged {
            bitrate_kbps: LADDER[rung].0,
            rendition: Some(LADDER[rung].1.into()),
        })),
    ));
    if s.ads {
        out.push((t, ad(s, rng)));
    }
    // how much the viewer means to watch
    let remaining = (s.duration_ms - s.resume_ms).max(60_000);
    let completes = rng.random_bool((0.15 + 0.7 * s.appeal).clamp(0.05, 0.92));
    let intent = if completes {
        remaining
    } else {
        (remaining as f64 * rng.random_range(0.03..0.85)) as i64
    };
    // rates per minute of playback
    let stall_rate = 0.025
        * if cellular {
            3.0
        } else if d.network == NetworkType::Ethernet {
            0.5
        } else {
            1.0
        }
        * cdn_stall
        * (1.0 + 7.0 * degraded);
    let stall_len = LogNormal::new(f64::ln(1_600.0 * (1.0 + 1.5 * degraded)), 0.8).ok();
    let fatal_rate = 0.0006 * if buggy { 6.0 } else { 1.0 } * (1.0 + 5.0 * degraded);
    let mut pos = s.resume_ms;
    let mut played = 0i64;
    let mut since_hb = 0i64;
    let mut since_ad = 0i64;
    let mut since_progress = 0i64;
    let chunk = 30_000i64;
    let mut reason = EndReason::UserExit;
    let mut ended = false;
    while played < intent && !ended {
        let step = chunk.min(intent - played);
        let per_min = step as f64 / 60_000.0;
        // incidents within this chunk, at a random offset
        let mut incidents: Vec<(i64, u8)> = Vec::new();
        for (kind, rate) in [
            (0u8, stall_rate),
            (1, 0.06 * if cellular { 2.5 } else { 1.0 }),
            (2, 0.012),
            (3, 0.008),
            (4, 0.003),
            (5, fatal_rate),
        ] {
            if rng.random_bool((rate * per_min).min(0.95)) {
                incidents.push((rng.random_range(0..step.max(1)), kind));
            }
        }
        incidents.sort_unstable();
        let mut done = 0i64;
        for (off, kind) in incidents {
            let adv = off - done;
            t += adv;
            pos += adv;
            done = off;
            match kind {
                0 => {
                    let len = stall_len
                        .as_ref()
                        .map_or(1_600.0, |l| l.sample(rng))
                        .min(90_000.0) as i64;
                    out.push((t, p(PlayerEvent::RebufferStart(RebufferStart {}))));
                    o.stalled_ms += len;
                    t += len;
                    if rng.random_bool(if len > 10_000 { 0.35 } else { 0.02 }) {
                        ended = true; // gave up during the stall: no rebuffer_end
                        break;
                    }
                    out.push((t, p(PlayerEvent::RebufferEnd(RebufferEnd {}))));
                    if rung > 0 && rng.random_bool(0.6) {
                        rung -= 1;
                        out.push((
                            t + 5,
                            p(PlayerEvent::BitrateChanged(BitrateChanged {
                                bitrate_kbps: LADDER[rung].0,
                                rendition: Some(LADDER[rung].1.into()),
                            })),
                        ));
                    }
                }
                1 => {
                    rung = if rung < top && rng.random_bool(0.6) {
                        rung + 1
                    } else {
                        rung.saturating_sub(1)
                    };
                    out.push((
                        t,
                        p(PlayerEvent::BitrateChanged(BitrateChanged {
                            bitrate_kbps: LADDER[rung].0,
                            rendition: Some(LADDER[rung].1.into()),
                        })),
                    ));
                }
                2 => {
                    out.push((t, p(PlayerEvent::Pause(Pause {}))));
                    let len = rng.random_range(5_000..600_000);
                    t += len;
                    if rng.random_bool(if d.device_type == DeviceType::Mobile {
                        0.15
                    } else {
                        0.03
                    }) {
                        reason = EndReason::Background;
                        ended = true;
                        break;
                    }
                    out.push((t, p(PlayerEvent::Resume(Resume {}))));
                }
                3 => {
                    let to = (pos + rng.random_range(-120_000..300_000))
                        .clamp(0, s.duration_ms.max(1) - 1);
                    out.push((
                        t,
                        p(PlayerEvent::Seek(Seek {
                            from_ms: pos,
                            to_ms: to,
                        })),
                    ));
                    if rng.random_bool(0.5) {
                        let len = rng.random_range(300..2_500);
                        out.push((t + 150, p(PlayerEvent::RebufferStart(RebufferStart {}))));
                        out.push((t + 150 + len, p(PlayerEvent::RebufferEnd(RebufferEnd {}))));
                        t += 150 + len;
                    }
                }
                4 => out.push((
                    t,
                    p(PlayerEvent::PlaybackError(PlaybackError {
                        code: "SEGMENT_TIMEOUT".into(),
                        message: None,
                        fatal: false,
                    })),
                )),
                _ => {
                    out.push((
                        t,
                        p(PlayerEvent::PlaybackError(PlaybackError {
                            code: if buggy {
                                "DECODER_FAILURE".into()
                            } else {
                                "CDN_HTTP_502".into()
                            },
                            message: Some("playback stopped".into()),
                            fatal: true,
                        })),
                    ));
                    o.failed = true;
                    reason = EndReason::Error;
                    ended = true;
                    break;
                }
            }
        }
        if ended {
            played += done;
            break;
        }
        t += step - done;
        pos += step - done;
        played += step;
        since_hb += step;
        since_ad += step;
        since_progress += step;
        if since_hb >= s.heartbeat_ms {
            since_hb = 0;
            out.push((
                t,
                p(PlayerEvent::Heartbeat(Heartbeat {
                    position_ms: pos,
                    bitrate_kbps: LADDER[rung].0,
                    dropped_frames: Some(rng.random_range(0..4)),
                })),
            ));
        }
        if s.ads && since_ad >= 15 * 60_000 {
            since_ad = 0;
            out.push((t, ad(s, rng)));
        }
        if since_progress >= 10 * 60_000 {
            since_progress = 0;
            out.push((
                t,
                Payload::Watch(WatchEvent::Progress(Progress {
                    position_ms: pos.min(s.duration_ms),
                    duration_ms: s.duration_ms,
                })),
            ));
        }
    }
    o.played_ms = played;
    o.position_ms = pos.min(s.duration_ms);
    o.completed = !ended && completes;
    if o.completed {
        reason = EndReason::Completed;
    } else if !ended && d.device_type == DeviceType::Mobile && rng.random_bool(0.3) {
        reason = EndReason::Background;
    }
    out.push((
        t,
        p(PlayerEvent::ViewEnded(ViewEnded {
            reason,
            position_ms: Some(o.position_ms),
        })),
    ));
    out.push((
        t + 1,
        Payload::Watch(WatchEvent::Progress(Progress {
            position_ms: o.position_ms,
            duration_ms: s.duration_ms,
        })),
    ));
    if o.completed {
        out.push((
            t + 2,
            Payload::Watch(WatchEvent::Completed(Completed {
                duration_ms: Some(s.duration_ms),
            })),
        ));
    }
    o.ended_at = t;
    o
}

fn ad(s: &ViewSpec<'_>, rng: &mut impl Rng) -> Payload {
    let cpm_micros = rng.random_range(6_000..28_000);
    Payload::Billing(BillingEvent::AdImpression(AdImpression {
        revenue_micros: cpm_micros,
        currency: Currency::new(MARKETS[s.market].currency),
        ad_id: Some(format!("ad-{}", rng.random_range(1..400))),
    }))
}
