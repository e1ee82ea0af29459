//! Simulated users: market, devices, latent genre tastes, activity, plan
//! intent — and the state that evolves day by day (series progress,
//! satisfaction with QoE, engagement).

use std::collections::HashMap;

use rand::Rng;
use rand_distr::{Distribution, Gamma};
use showrunner_events::Timestamp;
use showrunner_events::types::catalog::Maturity;
use showrunner_events::types::player::{DeviceType, NetworkType};

use crate::billing::{Plan, SubState};
use crate::catalog::{GENRES, MARKETS};
use crate::config::SimConfig;
use crate::rng::{Purpose, pick_weighted, stream};

/// A device of a user.
#[derive(Debug, Clone)]
pub struct Device {
    /// Device id.
    pub id: String,
    /// Class.
    pub device_type: DeviceType,
    /// Operating system.
    pub os: &'static str,
    /// OS version.
    pub os_version: &'static str,
    /// Model.
    pub model: &'static str,
    /// Player software.
    pub player: &'static str,
    /// Player version.
    pub player_version: &'static str,
    /// App version.
    pub app_version: &'static str,
    /// Usual network.
    pub network: NetworkType,
    /// Share of this user's views on the device.
    pub weight: f64,
}

/// Device profiles: type, os, os version, model, player, player version, networks.
const DEVICE_PROFILES: &[(DeviceType, &str, &str, &str, &str, &str, f64)] = &[
    (
        DeviceType::Tv,
        "tizen",
        "7.0",
        "Samsung QE55",
        "shaka",
        "4.7.1",
        0.16,
    ),
    (
        DeviceType::Tv,
        "webos",
        "23",
        "LG OLED55",
        "shaka",
        "4.7.1",
        0.12,
    ),
    (
        DeviceType::Tv,
        "android_tv",
        "12",
        "Chromecast",
        "exoplayer",
        "2.19.1",
        0.10,
    ),
    (
        DeviceType::Tv,
        "roku",
        "12.5",
        "Roku Ultra",
        "roku",
        "12.5.0",
        0.06,
    ),
    (
        DeviceType::Mobile,
        "ios",
        "17.4",
        "iPhone 15",
        "avplayer",
        "17.4",
        0.14,
    ),
    (
        DeviceType::Mobile,
        "android",
        "14",
        "Pixel 8",
        "exoplayer",
        "2.19.1",
        0.16,
    ),
    (
        DeviceType::Tablet,
        "ipados",
        "17.4",
        "iPad Air",
        "avplayer",
        "17.4",
        0.05,
    ),
    (
        DeviceType::Web,
        "windows",
        "11",
        "Chrome",
        "shaka",
        "4.7.1",
        0.09,
    ),
    (
        DeviceType::Web,
        "macos",
        "14",
        "Safari",
        "hls.js",
        "1.5.7",
        0.05,
    ),
    (
        DeviceType::Console,
        "playstation",
        "5",
        "PS5",
        "native",
        "3.2.0",
        0.04,
    ),
    (
        DeviceType::Console,
        "xbox",
        "10",
        "Xbox Series X",
        "native",
        "3.2.0",
        0.03,
    ),
];

/// App versions in use and their shares; `5.13.0` has a playback bug on android.
pub const APP_VERSIONS: &[(&str, f64)] = &[("5.11.2", 0.2), ("5.12.0", 0.5), ("5.13.0", 0.3)];

/// A simulated user.
#[derive(Debug, Clone)]
pub struct User {
    /// Index (0-based).
    pub idx: u32,
    /// User id.
    pub id: String,
    /// Main profile id.
    pub profile_id: String,
    /// Index into [`MARKETS`].
    pub market: usize,
    /// Sign-up day (0-based) and instant.
    pub signup_day: u32,
    /// Sign-up instant.
    pub signup_at: Timestamp,
    /// Devices.
    pub devices: Vec<Device>,
    /// Latent taste over [`GENRES`], summing to 1.
    pub taste: Vec<f64>,
    /// Probability of being active on a given day when entitled.
    pub activity: f64,
    /// Mean episodes per series session.
    pub binge: f64,
    /// Local hour around which sessions start.
    pub prime_hour: f64,
    /// Plan chosen at sign-up (`Free` = ad-supported tier).
    pub intended_plan: Plan,
    /// Starts with a free trial.
    pub wants_trial: bool,
    /// Accepts push notifications.
    pub push_opt_in: bool,
    /// Kids profile limit.
    pub maturity_limit: Option<Maturity>,
    /// Next episode index per series (title index).
    pub series_next: HashMap<usize, usize>,
    /// Resume point per movie (title index → ms).
    pub resume: HashMap<usize, i64>,
    /// Movies finished.
    pub finished: Vec<usize>,
    /// EWMA of how good playback felt (1 = perfect).
    pub satisfaction: f64,
    /// EWMA of daily activity.
    pub engagement: f64,
    /// Recent bad playback: an EWMA over views (weight 0.1, about the last
    /// ten views) of how bad each felt, 1 − its experience (1 for a
    /// failure, 0.7 for an exit before start) — longer-lived than
    /// `satisfaction`, and what makes people cancel over playback.
    pub frustration: f64,
    /// Subscription state.
    pub sub: SubState,
    /// Day the subscriber's interest started to fade, while it does.
    pub fading_since: Option<u32>,
}

impl User {
    /// Draws user `idx`'s traits.
    pub fn generate(cfg: &SimConfig, idx: u32, start: Timestamp) -> User {
        let mut rng = stream(cfg.seed, Purpose::User, u64::from(idx), 0);
        let market = pick_weighted(
            &mut rng,
            &MARKETS.iter().map(|m| m.share).collect::<Vec<_>>(),
        );
        let days = cfg.days.max(1);
        let signup_day = if rng.random_bool(0.3) {
            rng.random_range(0..days.min(3))
        } else {
            rng.random_range(0..days)
        };
        let local_hour: f64 = rng.random_range(7.0..23.0);
        let utc_ms = ((local_hour - MARKETS[market].utc_offset as f64) * 3_600_000.0) as i64;
        let signup_at =
            Timestamp(start.0 + i64::from(signup_day) * 86_400_000 + utc_ms.rem_euclid(86_400_000));
        let id = format!("u{idx:06}");
        let n_devices = 1 + usize::from(rng.random_bool(0.5)) + usize::from(rng.random_bool(0.2));
        let weights: Vec<f64> = DEVICE_PROFILES.iter().map(|p| p.6).collect();
        let versions: Vec<f64> = APP_VERSIONS.iter().map(|v| v.1).collect();
        let devices = (0..n_devices)
            .map(|k| {
                let p = &DEVICE_PROFILES[pick_weighted(&mut rng, &weights)];
                let network = match p.0 {
                    DeviceType::Mobile if rng.random_bool(0.35) => NetworkType::Cellular,
                    DeviceType::Tv | DeviceType::Console | DeviceType::Web
                        if rng.random_bool(0.3) =>
                    {
                        NetworkType::Ethernet
                    }
                    _ => NetworkType::Wifi,
                };
                Device {
                    id: format!("{id}-d{}", k + 1),
                    device_type: p.0,
                    os: p.1,
                    os_version: p.2,
                    model: p.3,
                    player: p.4,
                    player_version: p.5,
                    app_version: APP_VERSIONS[pick_weighted(&mut rng, &versions)].0,
                    network,
                    weight: if k == 0 { 3.0 } else { 1.0 },
                }
            })
            .collect();
        let gamma = Gamma::new(0.35, 1.0).unwrap_or_else(|_| unreachable!("constant parameters"));
        let mut taste: Vec<f64> = (0..GENRES.len())
            .map(|_| gamma.sample(&mut rng) + 1e-6)
            .collect();
        let sum: f64 = taste.iter().sum();
        taste.iter_mut().for_each(|t| *t /= sum);
        let plan_w = [0.22, 0.25, 0.36, 0.17];
        let intended_plan = [Plan::Free, Plan::Basic, Plan::Standard, Plan::Premium]
            [pick_weighted(&mut rng, &plan_w)];
        let kids = rng.random_bool(0.08);
        User {
            idx,
            profile_id: format!("{id}-p1"),
            id,
            market,
            signup_day,
            signup_at,
            devices,
            taste,
            activity: rng.random_range(0.15f64..0.85).powf(1.3),
            binge: rng.random_range(1.0..4.0),
            prime_hour: rng.random_range(18.0..22.5),
            intended_plan,
            wants_trial: rng.random_bool(0.5),
            push_opt_in: rng.random_bool(0.6),
            maturity_limit: kids.then_some(Maturity::Plus7),
            series_next: HashMap::new(),
            resume: HashMap::new(),
            finished: Vec::new(),
            satisfaction: 0.8,
            engagement: 0.5,
            frustration: 0.06,
            sub: SubState::None,
            fading_since: None,
        }
    }

    /// The device for the next session.
    pub fn pick_device(&self, rng: &mut impl Rng) -> &Device {
        let w: Vec<f64> = self.devices.iter().map(|d| d.weight).collect();
        &self.devices[pick_weighted(rng, &w)]
    }
}
