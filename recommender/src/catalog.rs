//! The catalog as the recommender sees it: titles (movies and series) with
//! genres, language, maturity and per-country availability, and the
//! episodes of each series in order — the replay of the `catalog` events.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

/// Maturity ratings from least to most restricted, as on the wire.
pub const MATURITY: [&str; 5] = ["all", "7+", "13+", "16+", "18+"];

/// The rank of a maturity rating in [`MATURITY`] (unknown: most restricted).
pub fn maturity_rank(rating: &str) -> u8 {
    MATURITY
        .iter()
        .position(|m| *m == rating)
        .map_or(MATURITY.len() as u8 - 1, |p| p as u8)
}

/// A recommendable title: a movie or a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Title {
    /// Title id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `movie` or `series`.
    pub kind: String,
    /// Genres.
    pub genres: Vec<String>,
    /// Original language.
    pub language: String,
    /// Rank of its maturity rating in [`MATURITY`].
    pub maturity: u8,
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
                "movie"
            } else {
                "series"
            }
            .into(),
            genres: Vec::new(),
            language: String::new(),
            maturity: 0,
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
        self.countries.contains(country)
            && self.available_from.is_none_or(|f| f <= at_ms)
            && self.available_until.is_none_or(|u| at_ms < u)
    }
}

/// One catalog event, flattened as the lake stores it.
#[derive(Debug, Clone, Default)]
pub struct CatalogRow {
    /// `occurred_at`, ms.
    pub at: i64,
    /// Event type.
    pub event_type: String,
    /// `title_id` (the episode's id for `episode_added`).
    pub title_id: String,
    /// `name`.
    pub name: Option<String>,
    /// `kind`.
    pub kind: Option<String>,
    /// `genres`.
    pub genres: Option<Vec<String>>,
    /// `language`.
    pub language: Option<String>,
    /// `maturity_rating`.
    pub maturity_rating: Option<String>,
    /// `countries`.
    pub countries: Option<Vec<String>>,
    /// `available_from`, ms.
    pub available_from: Option<i64>,
    /// `available_until`, ms.
    pub available_until: Option<i64>,
    /// `series_id`.
    pub series_id: Option<String>,
    /// `season`.
    pub season: Option<i64>,
    /// `episode`.
    pub episode: Option<i64>,
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
    /// Replays catalog events (any order: they are sorted by time here).
    /// Episodes of unknown series and updates of unknown titles are
    /// ignored; a title published twice keeps its latest publication.
    pub fn replay(mut rows: Vec<CatalogRow>) -> Catalog {
        rows.sort_by(|a, b| a.at.cmp(&b.at).then(a.event_type.cmp(&b.event_type)));
        let mut titles: HashMap<String, Title> = HashMap::new();
        let mut pending_episodes = Vec::new();
        for r in rows {
            match r.event_type.as_str() {
                "title_published" => {
                    let t = Title {
                        id: r.title_id.clone(),
                        name: r.name.unwrap_or_else(|| r.title_id.clone()),
                        kind: r.kind.unwrap_or_else(|| "movie".into()),
                        genres: r.genres.unwrap_or_default(),
                        language: r.language.unwrap_or_default(),
                        maturity: maturity_rank(r.maturity_rating.as_deref().unwrap_or("18+")),
                        countries: r.countries.unwrap_or_default().into_iter().collect(),
                        available_from: r.available_from,
                        available_until: r.available_until,
                        episodes: Vec::new(),
                    };
                    titles.insert(r.title_id, t);
                }
                "title_updated" => {
                    if let Some(t) = titles.get_mut(&r.title_id) {
                        if let Some(n) = r.name {
                            t.name = n;
                        }
                        if let Some(g) = r.genres {
                            t.genres = g;
                        }
                        if let Some(m) = r.maturity_rating {
                            t.maturity = maturity_rank(&m);
                        }
                        if let Some(c) = r.countries {
                            t.countries = c.into_iter().collect();
                        }
                        if r.available_from.is_some() {
                            t.available_from = r.available_from;
                        }
                        if r.available_until.is_some() {
                            t.available_until = r.available_until;
                        }
                    }
                }
                "title_withdrawn" => {
                    if let Some(t) = titles.get_mut(&r.title_id) {
                        match r.countries {
                            Some(c) => c.iter().for_each(|c| {
                                t.countries.remove(c);
                            }),
                            None => t.countries.clear(),
                        }
                    }
                }
                "episode_added" => pending_episodes.push(r),
                _ => {}
            }
        }
        for r in pending_episodes {
            if let Some(t) = r.series_id.as_ref().and_then(|s| titles.get_mut(s)) {
                t.episodes.retain(|e| e.id != r.title_id);
                t.episodes.push(Episode {
                    id: r.title_id,
                    season: r.season.unwrap_or(1),
                    number: r.episode.unwrap_or(0),
                    name: r.name,
                });
            }
        }
        let mut titles: Vec<Title> = titles.into_values().collect();
        titles.sort_by(|a, b| a.id.cmp(&b.id));
        for t in &mut titles {
            t.episodes
                .sort_by(|a, b| (a.season, a.number, &a.id).cmp(&(b.season, b.number, &b.id)));
        }
        Catalog::from_titles(titles)
    }

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

    /// The recommendable title a watched id belongs to: the id itself for
    /// a movie or series, its series for an episode.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn published(at: i64, id: &str, countries: &[&str], rating: &str) -> CatalogRow {
        CatalogRow {
            at,
            event_type: "title_published".into(),
            title_id: id.into(),
            name: Some(format!("Name {id}")),
            kind: Some("series".into()),
            maturity_rating: Some(rating.into()),
            countries: Some(countries.iter().map(|c| c.to_string()).collect()),
            available_from: Some(at),
            ..CatalogRow::default()
        }
    }

    fn episode(at: i64, id: &str, series: &str, season: i64, number: i64) -> CatalogRow {
        CatalogRow {
            at,
            event_type: "episode_added".into(),
            title_id: id.into(),
            series_id: Some(series.into()),
            season: Some(season),
            episode: Some(number),
            ..CatalogRow::default()
        }
    }

    #[test]
    fn replay_orders_episodes_and_applies_withdrawals() {
        let rows = vec![
            CatalogRow {
                at: 50,
                event_type: "title_withdrawn".into(),
                title_id: "s1".into(),
                countries: Some(vec!["DE".into()]),
                ..CatalogRow::default()
            },
            episode(12, "s1e2", "s1", 1, 2),
            episode(11, "s1e1", "s1", 1, 1),
            episode(13, "s2e1", "s1", 2, 1),
            episode(14, "x", "unknown", 1, 1),
            published(10, "s1", &["US", "DE"], "13+"),
            CatalogRow {
                at: 40,
                event_type: "title_updated".into(),
                title_id: "s1".into(),
                available_until: Some(1_000),
                ..CatalogRow::default()
            },
        ];
        let c = Catalog::replay(rows);
        let t = c.get("s1").expect("s1");
        let eps: Vec<&str> = t.episodes.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(eps, ["s1e1", "s1e2", "s2e1"]);
        assert_eq!(t.maturity, 2);
        assert!(t.available("US", 500));
        assert!(!t.available("DE", 500), "withdrawn in DE");
        assert!(!t.available("US", 5), "before publication");
        assert!(!t.available("US", 1_000), "after available_until");
        assert_eq!(c.resolve("s1e2"), Some(0));
        assert_eq!(c.episode("s2e1"), Some((0, 2)));
        assert_eq!(c.resolve("x"), None);
    }

    #[test]
    fn serde_round_trip_rebuilds_indexes() {
        let c = Catalog::replay(vec![
            published(1, "m", &["US"], "all"),
            episode(2, "e", "m", 1, 1),
        ]);
        let mut back: Catalog =
            serde_json::from_str(&serde_json::to_string(&c).expect("ser")).expect("de");
        back.reindex();
        assert_eq!(back, c);
        assert_eq!(back.resolve("e"), Some(0));
    }
}
