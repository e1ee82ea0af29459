//! The catalog: titles (movies and series) with genres, language,
//! maturity and per-country availability, and each series' episodes in
//! order — folded from the `catalog` events.
//!
//! [`CatalogFold`] keeps, per title, each attribute as a last-writer-wins
//! register (a publication sets them all, an update the ones it carries)
//! and the withdrawals since; [`CatalogFold::catalog`] derives the
//! [`Catalog`] readers index into. Withdrawals remove countries from the
//! country list they follow (an update setting the list again restores
//! them). Updates and episodes of titles never published are kept (they
//! may arrive first) but not shown.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use showrunner_events::types::catalog::{Maturity, TitleKind};
use showrunner_events::types::{CatalogEvent, Payload};
use showrunner_events::{Event, Family};

use crate::{Fold, Lww, Stamp};

/// A title as readers see it: a movie or a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Title {
    /// Title id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Movie or series.
    pub kind: TitleKind,
    /// Genres.
    pub genres: Vec<String>,
    /// Original language.
    pub language: String,
    /// Maturity rating.
    pub maturity: Maturity,
    /// Countries where it is available (after withdrawals).
    pub countries: BTreeSet<String>,
    /// Start of availability, ms since the epoch.
    pub available_from: Option<i64>,
    /// End of availability, ms since the epoch.
    pub available_until: Option<i64>,
    /// Episodes of a series, in (season, episode) order.
    pub episodes: Vec<Episode>,
}

/// An episode of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// Episode id (the `title_id` of its watch events).
    pub id: String,
    /// Season number.
    pub season: i64,
    /// Episode number.
    pub number: i64,
    /// Display name.
    pub name: Option<String>,
}

impl Title {
    /// A title listed in `countries` with no availability window, rated
    /// `all`, named after its id; a series when `episodes` (season 1, in
    /// order) is not empty. Other fields are empty.
    pub fn new(id: &str, countries: &[&str], episodes: &[&str]) -> Title {
        Title {
            id: id.into(),
            name: id.into(),
            kind: if episodes.is_empty() {
                TitleKind::Movie
            } else {
                TitleKind::Series
            },
            genres: Vec::new(),
            language: String::new(),
            maturity: Maturity::All,
            countries: countries.iter().map(|c| c.to_string()).collect(),
            available_from: None,
            available_until: None,
            episodes: episodes
                .iter()
                .enumerate()
                .map(|(k, e)| Episode {
                    id: e.to_string(),
                    season: 1,
                    number: k as i64 + 1,
                    name: None,
                })
                .collect(),
        }
    }

    /// Whether it can be played in `country` at `at_ms`.
    pub fn available(&self, country: &str, at_ms: i64) -> bool {
        self.countries.contains(country) && self.in_window(at_ms)
    }

    /// Whether `at_ms` is within its availability window.
    pub fn in_window(&self, at_ms: i64) -> bool {
        self.available_from.is_none_or(|f| f <= at_ms)
            && self.available_until.is_none_or(|u| at_ms < u)
    }
}

/// The catalog: titles by id, and each episode's series.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Titles, sorted by id.
    pub titles: Vec<Title>,
    /// Title id → index in `titles`.
    #[serde(skip)]
    index: HashMap<String, usize>,
    /// Episode id → (series index, position in its `episodes`).
    #[serde(skip)]
    episodes: HashMap<String, (usize, usize)>,
}

impl Catalog {
    /// A catalog of these titles (sorted by id here), with its indexes.
    pub fn from_titles(mut titles: Vec<Title>) -> Catalog {
        titles.sort_by(|a, b| a.id.cmp(&b.id));
        let mut c = Catalog {
            titles,
            ..Catalog::default()
        };
        c.reindex();
        c
    }

    /// The catalog the events say.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Catalog {
        let mut f = CatalogFold::default();
        for e in events {
            f.apply(e);
        }
        f.catalog()
    }

    /// Rebuilds the indexes (after deserializing).
    pub fn reindex(&mut self) {
        self.index = self
            .titles
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        self.episodes = self
            .titles
            .iter()
            .enumerate()
            .flat_map(|(i, t)| {
                t.episodes
                    .iter()
                    .enumerate()
                    .map(move |(k, e)| (e.id.clone(), (i, k)))
            })
            .collect();
    }

    /// The title with this id.
    pub fn get(&self, id: &str) -> Option<&Title> {
        self.index.get(id).map(|&i| &self.titles[i])
    }

    /// The index of the title with this id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The title a watched id belongs to: the id itself for a movie or
    /// series, its series for an episode.
    pub fn resolve(&self, watched_id: &str) -> Option<usize> {
        self.index
            .get(watched_id)
            .copied()
            .or_else(|| self.episodes.get(watched_id).map(|&(s, _)| s))
    }

    /// (series index, position) of an episode.
    pub fn episode(&self, episode_id: &str) -> Option<(usize, usize)> {
        self.episodes.get(episode_id).copied()
    }
}

/// One title's registers.
#[derive(Debug, Clone, Default, PartialEq)]
struct TitleState {
    published: Lww<()>,
    name: Lww<String>,
    kind: Lww<TitleKind>,
    genres: Lww<Vec<String>>,
    language: Lww<String>,
    maturity: Lww<Maturity>,
    countries: Lww<BTreeSet<String>>,
    available_from: Lww<Option<i64>>,
    available_until: Lww<Option<i64>>,
    /// Withdrawals by stamp: the countries concerned (`None`: all).
    withdrawals: BTreeMap<Stamp, Option<BTreeSet<String>>>,
}

impl TitleState {
    /// The countries of the latest list, minus later withdrawals.
    fn countries(&self) -> BTreeSet<String> {
        let mut c = self.countries.get().cloned().unwrap_or_default();
        let since = self.countries.stamp();
        for (_, w) in self.withdrawals.iter().filter(|(s, _)| Some(**s) > since) {
            match w {
                Some(w) => c.retain(|x| !w.contains(x)),
                None => c.clear(),
            }
        }
        c
    }

    fn title(&self, id: &str) -> Option<Title> {
        self.published.get()?;
        Some(Title {
            id: id.to_owned(),
            name: self.name.get().cloned().unwrap_or_else(|| id.to_owned()),
            kind: self.kind.get().copied().unwrap_or(TitleKind::Movie),
            genres: self.genres.get().cloned().unwrap_or_default(),
            language: self.language.get().cloned().unwrap_or_default(),
            maturity: self.maturity.get().copied().unwrap_or(Maturity::Plus18),
            countries: self.countries(),
            available_from: self.available_from.get().copied().flatten(),
            available_until: self.available_until.get().copied().flatten(),
            episodes: Vec::new(),
        })
    }
}

/// What an `episode_added` says.
#[derive(Debug, Clone, PartialEq)]
struct EpisodeInfo {
    series: String,
    season: i64,
    number: i64,
    name: Option<String>,
}

/// The catalog's fold (see the module's documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogFold {
    titles: HashMap<String, TitleState>,
    episodes: HashMap<String, Lww<EpisodeInfo>>,
}

impl CatalogFold {
    /// The catalog as the events so far say: published titles, sorted by
    /// id, each series with its episodes in (season, number, id) order.
    pub fn catalog(&self) -> Catalog {
        let mut titles: HashMap<&str, Title> = self
            .titles
            .iter()
            .filter_map(|(id, s)| s.title(id).map(|t| (id.as_str(), t)))
            .collect();
        for (id, e) in &self.episodes {
            let Some(e) = e.get() else { continue };
            if let Some(t) = titles.get_mut(e.series.as_str()) {
                t.episodes.push(Episode {
                    id: id.clone(),
                    season: e.season,
                    number: e.number,
                    name: e.name.clone(),
                });
            }
        }
        let mut titles: Vec<Title> = titles.into_values().collect();
        for t in &mut titles {
            t.episodes
                .sort_by(|a, b| (a.season, a.number, &a.id).cmp(&(b.season, b.number, &b.id)));
        }
        Catalog::from_titles(titles)
    }

    /// Number of titles published.
    pub fn len(&self) -> usize {
        self.titles
            .values()
            .filter(|t| t.published.get().is_some())
            .count()
    }

    /// Whether no title is published.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Fold for CatalogFold {
    fn families(&self) -> &'static [Family] {
        &[Family::Catalog]
    }

    fn apply(&mut self, e: &Event) -> bool {
        let (Payload::Catalog(c), Some(id)) = (&e.payload, e.envelope.title_id.as_deref()) else {
            return false;
        };
        let s = Stamp::of(e);
        if let CatalogEvent::EpisodeAdded(p) = c {
            self.episodes.entry(id.to_owned()).or_default().set(
                s,
                EpisodeInfo {
                    series: p.series_id.clone(),
                    season: p.season,
                    number: p.episode,
                    name: p.name.clone(),
                },
            );
            return true;
        }
        let t = self.titles.entry(id.to_owned()).or_default();
        match c {
            CatalogEvent::TitlePublished(p) => {
                t.published.set(s, ());
                t.name.set(s, p.name.clone());
                t.kind.set(s, p.kind);
                t.genres.set(s, p.genres.clone());
                t.language.set(s, p.language.clone());
                t.maturity.set(s, p.maturity_rating);
                t.countries.set(s, p.countries.iter().cloned().collect());
                t.available_from.set(s, p.available_from.map(|x| x.0));
                t.available_until.set(s, p.available_until.map(|x| x.0));
            }
            CatalogEvent::TitleUpdated(p) => {
                if let Some(n) = &p.name {
                    t.name.set(s, n.clone());
                }
                if let Some(g) = &p.genres {
                    t.genres.set(s, g.clone());
                }
                if let Some(m) = p.maturity_rating {
                    t.maturity.set(s, m);
                }
                if let Some(c) = &p.countries {
                    t.countries.set(s, c.iter().cloned().collect());
                }
                if let Some(f) = p.available_from {
                    t.available_from.set(s, Some(f.0));
                }
                if let Some(u) = p.available_until {
                    t.available_until.set(s, Some(u.0));
                }
            }
            CatalogEvent::TitleWithdrawn(p) => {
                t.withdrawals
                    .insert(s, p.countries.as_ref().map(|c| c.iter().cloned().collect()));
            }
            CatalogEvent::EpisodeAdded(_) => {} // above
        }
        true
    }
}
