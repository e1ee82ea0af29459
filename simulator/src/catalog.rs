//! The simulated catalog: movies and series (with seasons of episodes),
//! genres, languages, maturity ratings, per-country availability, a
//! Zipf-like popularity, TVOD rental titles, new releases and withdrawals.

use rand::Rng;
use rand::seq::SliceRandom;
use showrunner_events::types::catalog::{
    CatalogEvent, EpisodeAdded, Maturity, TitleKind, TitlePublished, TitleWithdrawn,
};
use showrunner_events::{Payload, Timestamp};

use crate::config::SimConfig;
use crate::rng::{Purpose, stream};

/// Genres of the catalog.
pub const GENRES: &[&str] = &[
    "drama",
    "comedy",
    "action",
    "thriller",
    "documentary",
    "kids",
    "sci_fi",
    "romance",
    "horror",
    "animation",
    "crime",
    "reality",
];

/// A market: country code, share of users, language, currency, UTC offset
/// (hours, standard time), IANA zone, ISPs with their ASNs.
pub struct Market {
    /// ISO 3166-1 alpha-2.
    pub country: &'static str,
    /// Share of sign-ups.
    pub share: f64,
    /// Main language.
    pub language: &'static str,
    /// Currency.
    pub currency: &'static str,
    /// Offset from UTC, hours.
    pub utc_offset: i64,
    /// IANA time zone.
    pub time_zone: &'static str,
    /// ISPs and their ASNs.
    pub isps: &'static [(&'static str, i64)],
    /// Monthly prices of basic, standard, premium, minor units.
    pub prices: [i64; 3],
}

/// The markets served.
pub const MARKETS: &[Market] = &[
    Market {
        country: "US",
        share: 0.34,
        language: "en",
        currency: "USD",
        utc_offset: -5,
        time_zone: "America/New_York",
        isps: &[("Comcast", 7922), ("Verizon", 701), ("AT&T", 7018)],
        prices: [999, 1549, 2299],
    },
    Market {
        country: "GB",
        share: 0.12,
        language: "en",
        currency: "GBP",
        utc_offset: 0,
        time_zone: "Europe/London",
        isps: &[("BT", 2856), ("Sky", 5607), ("Virgin Media", 5089)],
        prices: [599, 1099, 1799],
    },
    Market {
        country: "FR",
        share: 0.14,
        language: "fr",
        currency: "EUR",
        utc_offset: 1,
        time_zone: "Europe/Paris",
        isps: &[("Orange", 3215), ("Free", 12322), ("SFR", 15557)],
        prices: [799, 1399, 1999],
    },
    Market {
        country: "DE",
        share: 0.14,
        language: "de",
        currency: "EUR",
        utc_offset: 1,
        time_zone: "Europe/Berlin",
        isps: &[("Telekom", 3320), ("Vodafone", 3209), ("O2", 6805)],
        prices: [799, 1399, 1999],
    },
    Market {
        country: "ES",
        share: 0.10,
        language: "es",
        currency: "EUR",
        utc_offset: 1,
        time_zone: "Europe/Madrid",
        isps: &[
            ("Movistar", 3352),
            ("Vodafone ES", 12430),
            ("Orange ES", 12479),
        ],
        prices: [699, 1199, 1799],
    },
    Market {
        country: "BR",
        share: 0.16,
        language: "pt",
        currency: "BRL",
        utc_offset: -3,
        time_zone: "America/Sao_Paulo",
        isps: &[("Vivo", 26599), ("Claro", 28573), ("Oi", 7738)],
        prices: [1890, 3990, 5590],
    },
];

const LANGUAGES: &[(&str, f64)] = &[
    ("en", 0.55),
    ("fr", 0.08),
    ("de", 0.06),
    ("es", 0.09),
    ("pt", 0.05),
    ("ja", 0.07),
    ("ko", 0.10),
];

/// An episode of a series.
#[derive(Debug, Clone)]
pub struct Episode {
    /// Title id of the episode.
    pub id: String,
    /// Season number.
    pub season: i64,
    /// Episode number.
    pub number: i64,
    /// Duration, ms.
    pub duration_ms: i64,
}

/// A title of the catalog.
#[derive(Debug, Clone)]
pub struct Title {
    /// Title id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Movie or series.
    pub kind: TitleKind,
    /// Indexes into [`GENRES`].
    pub genres: Vec<usize>,
    /// Original language.
    pub language: &'static str,
    /// Maturity.
    pub maturity: Maturity,
    /// Release year.
    pub release_year: i64,
    /// Duration of a movie, ms (0 for series).
    pub duration_ms: i64,
    /// Indexes into [`MARKETS`] where available.
    pub markets: Vec<usize>,
    /// Relative popularity.
    pub popularity: f64,
    /// Intrinsic quality in [0, 1]: how much viewers like it.
    pub quality: f64,
    /// When it was published.
    pub published_at: Timestamp,
    /// Withdrawn from these markets at this time.
    pub withdrawn: Option<(Timestamp, Vec<usize>)>,
    /// Rental price in minor units for TVOD titles (in the market's currency scale).
    pub rental_minor: Option<i64>,
    /// Episodes, for series.
    pub episodes: Vec<Episode>,
}

impl Title {
    /// Whether a viewer in market `m` can play it at `t`.
    pub fn available(&self, m: usize, t: Timestamp) -> bool {
        self.published_at <= t
            && self.markets.contains(&m)
            && !self
                .withdrawn
                .as_ref()
                .is_some_and(|(at, ms)| *at <= t && ms.contains(&m))
    }
}

/// The catalog and its sampling tables.
pub struct Catalog {
    /// Titles.
    pub titles: Vec<Title>,
    /// Per genre: title indexes and cumulative popularity.
    pub by_genre: Vec<(Vec<usize>, Vec<f64>)>,
}

impl Catalog {
    /// Builds the catalog of a configuration.
    pub fn generate(cfg: &SimConfig, start: Timestamp) -> Catalog {
        let mut rng = stream(cfg.seed, Purpose::Catalog, 0, 0);
        let n = cfg.catalog_size() as usize;
        let mut ranks: Vec<usize> = (1..=n).collect();
        ranks.shuffle(&mut rng);
        let span_ms = i64::from(cfg.days.max(1)) * 86_400_000;
        let mut titles = Vec::with_capacity(n);
        for (i, rank) in ranks.into_iter().enumerate() {
            let kind = if rng.random_bool(0.35) {
                TitleKind::Series
            } else {
                TitleKind::Movie
            };
            let prefix = if kind == TitleKind::Series { "s" } else { "m" };
            let id = format!("{prefix}{:05}", i + 1);
            let g0 = rng.random_range(0..GENRES.len());
            let mut genres = vec![g0];
            for _ in 0..rng.random_range(0..=2) {
                let g = rng.random_range(0..GENRES.len());
                if !genres.contains(&g) {
                    genres.push(g);
                }
            }
            let kids = genres
                .iter()
                .any(|&g| GENRES[g] == "kids" || GENRES[g] == "animation");
            let horror = genres.iter().any(|&g| GENRES[g] == "horror");
            let maturity = if kids {
                if rng.random_bool(0.6) {
                    Maturity::All
                } else {
                    Maturity::Plus7
                }
            } else if horror {
                if rng.random_bool(0.5) {
                    Maturity::Plus16
                } else {
                    Maturity::Plus18
                }
            } else {
                [
                    Maturity::Plus7,
                    Maturity::Plus13,
                    Maturity::Plus13,
                    Maturity::Plus16,
                    Maturity::Plus18,
                ][rng.random_range(0..5)]
            };
            let language = LANGUAGES[crate::rng::pick_weighted(
                &mut rng,
                &LANGUAGES.iter().map(|l| l.1).collect::<Vec<_>>(),
            )]
            .0;
            let markets: Vec<usize> = if rng.random_bool(0.75) {
                (0..MARKETS.len()).collect()
            } else {
                let mut all: Vec<usize> = (0..MARKETS.len()).collect();
                all.shuffle(&mut rng);
                let k = rng.random_range(2..=4);
                let mut some = all[..k].to_vec();
                some.sort_unstable();
                some
            };
            let new_release = rng.random_bool(0.15);
            let published_at = if new_release {
                Timestamp(start.0 + rng.random_range(0..span_ms))
            } else {
                Timestamp(start.0 + rng.random_range(0..3_600_000))
            };
            let withdrawn = rng.random_bool(0.03).then(|| {
                let at = Timestamp(published_at.0 + rng.random_range(0..span_ms.max(1)));
                (at, vec![markets[rng.random_range(0..markets.len())]])
            });
            let mut episodes = Vec::new();
            let mut duration_ms = 0;
            if kind == TitleKind::Series {
                let seasons = rng.random_range(1..=3);
                for s in 1..=seasons {
                    let per = rng.random_range(6..=10);
                    let base = rng.random_range(22..=55) as i64;
                    for e in 1..=per {
                        episodes.push(Episode {
                            id: format!("{id}-s{s}e{e:02}"),
                            season: s,
                            number: e,
                            duration_ms: (base + rng.random_range(-3..=3)) * 60_000,
                        });
                    }
                }
            } else {
                duration_ms = rng.random_range(80..=150) * 60_000;
            }
            let rental_minor = (kind == TitleKind::Movie && new_release && rng.random_bool(0.3))
                .then(|| [399, 499, 599][rng.random_range(0..3)]);
            titles.push(Title {
                name: format!("{} {}", GENRES[g0].replace('_', "-"), id.to_uppercase()),
                id,
                kind,
                genres,
                language,
                maturity,
                release_year: rng.random_range(1985..=2026),
                duration_ms,
                markets,
                popularity: 1.0 / (rank as f64).powf(0.9),
                quality: rng.random::<f64>().powf(0.7),
                published_at,
                withdrawn,
                rental_minor,
                episodes,
            });
        }
        let by_genre = (0..GENRES.len())
            .map(|g| {
                let idx: Vec<usize> = (0..titles.len())
                    .filter(|&i| titles[i].genres.contains(&g))
                    .collect();
                let mut acc = 0.0;
                let cum = idx
                    .iter()
                    .map(|&i| {
                        acc += titles[i].popularity;
                        acc
                    })
                    .collect();
                (idx, cum)
            })
            .collect();
        Catalog { titles, by_genre }
    }

    /// The catalog events: publication (and episodes) and withdrawals.
    pub fn events(&self) -> Vec<(Timestamp, Option<String>, Payload)> {
        let mut out = Vec::new();
        for t in &self.titles {
            out.push((
                t.published_at,
                Some(t.id.clone()),
                Payload::Catalog(CatalogEvent::TitlePublished(TitlePublished {
                    name: t.name.clone(),
                    kind: t.kind,
                    genres: t.genres.iter().map(|&g| GENRES[g].to_owned()).collect(),
                    language: t.language.to_owned(),
                    maturity_rating: t.maturity,
                    release_year: Some(t.release_year),
                    duration_ms: (t.duration_ms > 0).then_some(t.duration_ms),
                    countries: t
                        .markets
                        .iter()
                        .map(|&m| MARKETS[m].country.to_owned())
                        .collect(),
                    available_from: Some(t.published_at),
                    available_until: None,
                })),
            ));
            for (k, e) in t.episodes.iter().enumerate() {
                out.push((
                    t.published_at.plus_ms(1 + k as i64),
                    Some(e.id.clone()),
                    Payload::Catalog(CatalogEvent::EpisodeAdded(EpisodeAdded {
                        series_id: t.id.clone(),
                        season: e.season,
                        episode: e.number,
                        name: Some(format!("Episode {}", e.number)),
                        duration_ms: e.duration_ms,
                    })),
                ));
            }
            if let Some((at, ms)) = &t.withdrawn {
                out.push((
                    *at,
                    Some(t.id.clone()),
                    Payload::Catalog(CatalogEvent::TitleWithdrawn(TitleWithdrawn {
                        countries: Some(
                            ms.iter().map(|&m| MARKETS[m].country.to_owned()).collect(),
                        ),
                        reason: Some("license_ended".into()),
                    })),
                ));
            }
        }
        out
    }
}
