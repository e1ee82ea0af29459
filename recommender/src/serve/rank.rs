//! The rows of a home screen, computed from a loaded model and a user's
//! live state: `for_you`, `because_you_watched`, `trending`, similar titles
//! and continue watching. Pure functions, no I/O.
//!
//! Rules shared by every row: a title the user engaged with (reached the
//! feedback threshold or completed) is not recommended again — what they
//! are in the middle of is in continue watching; a title must be available
//! in the country at `now` (any country when none is known) and within the
//! profile's maturity limit.

use std::collections::HashMap;

use serde::Serialize;

use crate::artifact::Artifact;
use crate::feedback::Trending;
use crate::models::clusters::TasteClusters;
use crate::models::{Scorer, blend, top_k_by};
use crate::serve::users::UserState;
use showrunner_projections::viewing::Watched;

/// A loaded artifact with what serving precomputes from it.
#[derive(Debug)]
pub struct Loaded {
    /// The artifact.
    pub artifact: Artifact,
    /// Per country, whether each title is listed there; `""`: anywhere.
    listed: HashMap<String, Vec<bool>>,
}

impl Loaded {
    /// Precomputes availability lists.
    pub fn new(artifact: Artifact) -> Loaded {
        let titles = &artifact.catalog.titles;
        let mut listed: HashMap<String, Vec<bool>> = HashMap::new();
        listed.insert(
            String::new(),
            titles.iter().map(|t| !t.countries.is_empty()).collect(),
        );
        for (i, t) in titles.iter().enumerate() {
            for c in &t.countries {
                listed
                    .entry(c.clone())
                    .or_insert_with(|| vec![false; titles.len()])[i] = true;
            }
        }
        Loaded { artifact, listed }
    }

    /// The model's version.
    pub fn version(&self) -> &str {
        &self.artifact.manifest.version
    }

    fn n(&self) -> usize {
        self.artifact.catalog.titles.len()
    }
}

/// One recommended title.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Item {
    /// Title id.
    pub title_id: String,
    /// Display name.
    pub name: String,
    /// `movie` or `series`.
    pub kind: String,
    /// Genres.
    pub genres: Vec<String>,
    /// Ranking score (model score, or trending weight).
    pub score: f64,
    /// Why it is here: `because_you_watched: <title>`, `trending_in: <country>`,
    /// `popular`, `similar_to: <title>`, `same_genre: <genre>`.
    pub reason: String,
}

/// A row of continue watching.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Resume {
    /// The movie or series.
    pub title_id: String,
    /// Its name.
    pub name: String,
    /// The episode to play (series only).
    pub episode_id: Option<String>,
    /// Season and episode numbers (series only).
    pub season: Option<i64>,
    /// Episode number (series only).
    pub episode: Option<i64>,
    /// Where to resume, ms (0 for a next episode).
    pub position_ms: i64,
    /// Duration, ms (0 when unknown).
    pub duration_ms: i64,
    /// `resume` or `next_episode`.
    pub reason: String,
    /// When the user last watched it, ms since the epoch.
    pub last_watched_at: i64,
}

/// Which row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// Model scores over the whole history.
    ForYou,
    /// Titles like the latest one watched.
    BecauseYouWatched,
    /// Trending in the country.
    Trending,
}

impl Row {
    /// Parses a `row` parameter.
    pub fn parse(s: &str) -> Option<Row> {
        match s {
            "for_you" => Some(Row::ForYou),
            "because_you_watched" => Some(Row::BecauseYouWatched),
            "trending" => Some(Row::Trending),
            _ => None,
        }
    }
}

/// Who is asking, where, when.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The user's state (None: unknown user).
    pub user: Option<&'a UserState<'a>>,
    /// Country (the request's, else the profile's).
    pub country: Option<&'a str>,
    /// Time availability is checked at, ms.
    pub now_ms: i64,
    /// Threshold of engagement (fraction of a duration).
    pub min_fraction: f64,
}

/// The user's engaged titles (index, latest time), most recent first.
pub fn history(m: &Loaded, ctx: &Context<'_>) -> Vec<(usize, i64)> {
    let mut by_title: HashMap<usize, i64> = HashMap::new();
    if let Some(u) = ctx.user {
        for (id, w) in u.watched() {
            if w.max_fraction() < ctx.min_fraction && !w.completed() {
                continue;
            }
            if let Some(t) = m.artifact.catalog.resolve(id) {
                let e = by_title.entry(t).or_insert(i64::MIN);
                *e = (*e).max(w.last_at());
            }
        }
    }
    let mut v: Vec<(usize, i64)> = by_title.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// Per title, whether it may be shown: available in the country at `now`,
/// within the maturity limit, not engaged with.
fn allowed(m: &Loaded, ctx: &Context<'_>, engaged: &[(usize, i64)]) -> Vec<bool> {
    let titles = &m.artifact.catalog.titles;
    let none = vec![false; m.n()];
    let listed = m.listed.get(ctx.country.unwrap_or("")).unwrap_or(&none);
    let limit = ctx.user.and_then(|u| u.maturity_limit);
    let mut ok: Vec<bool> = titles
        .iter()
        .zip(listed)
        .map(|(t, &l)| l && limit.is_none_or(|m| t.maturity <= m) && t.in_window(ctx.now_ms))
        .collect();
    for &(t, _) in engaged {
        ok[t] = false;
    }
    ok
}

fn item(m: &Loaded, t: usize, score: f64, reason: String) -> Item {
    let x = &m.artifact.catalog.titles[t];
    Item {
        title_id: x.id.clone(),
        name: x.name.clone(),
        kind: x.kind.as_str().to_owned(),
        genres: x.genres.clone(),
        score,
        reason,
    }
}

/// The best `k` allowed titles by `scores`.
fn best(scores: &[f32], ok: &[bool], k: usize) -> Vec<u32> {
    top_k_by(scores, |i| ok[i as usize], k)
}

fn trending_list<'t>(t: &'t Trending, country: Option<&str>) -> (&'t [(u32, f64)], String) {
    match country.and_then(|c| t.get(c).map(|l| (l, c))) {
        Some((l, c)) => (l, format!("trending_in: {c}")),
        None => (t.get("").map_or(&[][..], Vec::as_slice), "popular".into()),
    }
}

/// Trending titles, allowed ones only, then (when the country's list runs
/// out) the global list.
fn trending(m: &Loaded, ctx: &Context<'_>, ok: &[bool], k: usize, out: &mut Vec<Item>) {
    let mut taken = vec![false; m.n()];
    for i in out.iter() {
        if let Some(t) = m.artifact.catalog.index_of(&i.title_id) {
            taken[t] = true;
        }
    }
    let (local, reason) = trending_list(&m.artifact.trending, ctx.country);
    let (global, _) = trending_list(&m.artifact.trending, None);
    for (list, reason) in [(local, reason), (global, "popular".to_string())] {
        for &(t, s) in list {
            if out.len() >= k {
                return;
            }
            let t = t as usize;
            if t < ok.len() && ok[t] && !taken[t] {
                taken[t] = true;
                out.push(item(m, t, s, reason.clone()));
            }
        }
    }
}

/// Where a short history's `for_you` row comes from.
enum Cold<'a> {
    /// The taste clusters.
    Clusters(&'a TasteClusters),
    /// Trending (the cold-start model chose one cluster: popularity).
    Trending,
}

/// The cold-start row, when the artifact serves one for a history of
/// `len` titles.
fn cold_row(m: &Loaded, len: usize) -> Option<Cold<'_>> {
    let c = m.artifact.manifest.cold_start.as_ref()?;
    c.serves(len).then_some(match &m.artifact.clusters {
        Some(c) => Cold::Clusters(c),
        None => Cold::Trending,
    })
}

/// Mixes the artifact's implicit ALS, when it has one, into EASE's
/// `scores` for the history `seeds` (both standardized, then weighted as
/// the manifest says). Returns whether it did.
fn blend_in(m: &Loaded, seeds: &[(usize, i64)], scores: &mut [f32]) -> bool {
    let (Some(als), Some(b)) = (&m.artifact.als, &m.artifact.manifest.blend) else {
        return false;
    };
    let history = sorted(seeds);
    let mut factor_scores = vec![0f32; scores.len()];
    als.score(&history, &mut factor_scores);
    blend::mix(&history, scores, &mut factor_scores, b.weight);
    true
}

/// The titles of a history, as the models take them (sorted indices).
fn sorted(history: &[(usize, i64)]) -> Vec<u32> {
    let mut v: Vec<u32> = history.iter().map(|&(t, _)| t as u32).collect();
    v.sort_unstable();
    v
}

/// The history title with the largest `weight` (the first on a tie: the
/// latest), which names a row's reason.
fn explaining(history: &[(usize, i64)], weight: impl Fn(usize) -> f32) -> usize {
    history
        .iter()
        .map(|&(h, _)| (h, weight(h)))
        .fold(
            (history[0].0, f32::MIN),
            |a, b| if b.1 > a.1 { b } else { a },
        )
        .0
}

/// A short history's row: what the users of its taste cluster watched,
/// by share. The reason names the history title most typical of that
/// taste (the largest share; the latest on a tie).
fn taste_row(
    m: &Loaded,
    c: &TasteClusters,
    engaged: &[(usize, i64)],
    ok: &[bool],
    k: usize,
    out: &mut Vec<Item>,
) {
    let shares = c.shares.row(c.cluster_of(&sorted(engaged)));
    let why = explaining(engaged, |t| shares[t]);
    let reason = format!(
        "because_you_watched: {}",
        m.artifact.catalog.titles[why].name
    );
    let scores = shares.to_vec();
    for t in best(&scores, ok, k) {
        let s = scores[t as usize];
        if s > 0.0 {
            out.push(item(m, t as usize, f64::from(s), reason.clone()));
        }
    }
}

/// A row of `k` recommendations: `for_you` from the taste clusters (or
/// trending, when the cold-start model is one cluster) for a history
/// shorter than the artifact's cold-start bound, else from the sum of
/// EASE's rows of the history, blended with implicit ALS when the artifact
/// has it; `because_you_watched` from EASE's row of the latest title; both
/// filled from trending. Reasons name the history title whose EASE weight
/// to the item is largest.
pub fn recommend(m: &Loaded, ctx: &Context<'_>, row: Row, k: usize) -> Vec<Item> {
    let engaged = history(m, ctx);
    let ok = allowed(m, ctx, &engaged);
    let mut out = Vec::with_capacity(k);
    let w = &m.artifact.model.weights;
    let seeds: &[(usize, i64)] = match row {
        Row::Trending => &[],
        Row::ForYou => &engaged,
        Row::BecauseYouWatched => &engaged[..engaged.len().min(1)],
    };
    let cold = match row {
        Row::ForYou => cold_row(m, engaged.len()),
        _ => None,
    };
    if let Some(Cold::Clusters(c)) = cold {
        taste_row(m, c, &engaged, &ok, k, &mut out);
    } else if cold.is_none() && !seeds.is_empty() {
        let mut scores = vec![0f32; m.n()];
        for &(h, _) in seeds {
            for (s, x) in scores.iter_mut().zip(w.row(h)) {
                *s += x;
            }
        }
        // EASE's zeros are "no evidence", left to trending; a blend ranks
        // every title (ALS scores all), as it was measured
        let blended = row == Row::ForYou && blend_in(m, seeds, &mut scores);
        for t in best(&scores, &ok, k) {
            let t = t as usize;
            // the history title that contributes most explains the item
            let why = explaining(seeds, |h| w[[h, t]]);
            let reason = format!(
                "because_you_watched: {}",
                m.artifact.catalog.titles[why].name
            );
            if blended || scores[t] > 0.0 {
                out.push(item(m, t, f64::from(scores[t]), reason));
            }
        }
    }
    trending(m, ctx, &ok, k, &mut out);
    out
}

/// The `k` titles most like `title` (by the model's weights from it),
/// available in `country` when given. A title the model knows too little
/// about (a new release nobody watched yet has no positive weights) is
/// filled with titles sharing its genres: most genres in common (Jaccard),
/// then the most popular, reason `same_genre: <genre>`.
pub fn similar(
    m: &Loaded,
    title: usize,
    country: Option<&str>,
    now_ms: i64,
    k: usize,
) -> Vec<Item> {
    let ctx = Context {
        user: None,
        country,
        now_ms,
        min_fraction: 1.0,
    };
    let mut ok = allowed(m, &ctx, &[]);
    ok[title] = false;
    let scores: Vec<f32> = m.artifact.model.weights.row(title).to_vec();
    let titles = &m.artifact.catalog.titles;
    let name = &titles[title].name;
    let mut out: Vec<Item> = best(&scores, &ok, k)
        .into_iter()
        .filter(|&t| scores[t as usize] > 0.0)
        .map(|t| {
            ok[t as usize] = false;
            item(
                m,
                t as usize,
                f64::from(scores[t as usize]),
                format!("similar_to: {name}"),
            )
        })
        .collect();
    if out.len() < k {
        same_genre(m, title, &ok, k - out.len(), &mut out);
    }
    out
}

/// Up to `k` allowed titles sharing genres with `title`, by Jaccard
/// similarity of the genre sets, then global popularity, then index.
fn same_genre(m: &Loaded, title: usize, ok: &[bool], k: usize, out: &mut Vec<Item>) {
    let titles = &m.artifact.catalog.titles;
    let mine = &titles[title].genres;
    if mine.is_empty() {
        return;
    }
    let popularity: HashMap<u32, f64> = trending_list(&m.artifact.trending, None)
        .0
        .iter()
        .copied()
        .collect();
    let mut candidates: Vec<(f64, f64, usize, &str)> = titles
        .iter()
        .enumerate()
        .filter(|&(t, _)| ok[t])
        .filter_map(|(t, x)| {
            let shared: Vec<&String> = x.genres.iter().filter(|g| mine.contains(g)).collect();
            let first = shared.first()?;
            let union = mine.len() + x.genres.len() - shared.len();
            let jaccard = shared.len() as f64 / union as f64;
            let pop = popularity.get(&(t as u32)).copied().unwrap_or(0.0);
            Some((jaccard, pop, t, first.as_str()))
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(b.1.total_cmp(&a.1))
            .then(a.2.cmp(&b.2))
    });
    for (jaccard, _, t, genre) in candidates.into_iter().take(k) {
        out.push(item(m, t, jaccard, format!("same_genre: {genre}")));
    }
}

/// Unfinished movies and episodes, and the next episode of series whose
/// latest episode was finished; most recent first. A position within 5 %
/// of the end counts as finished.
pub fn continue_watching(m: &Loaded, ctx: &Context<'_>, k: usize) -> Vec<Resume> {
    let Some(u) = ctx.user else {
        return Vec::new();
    };
    let cat = &m.artifact.catalog;
    let ok = allowed(m, ctx, &[]);
    let finished = |w: &Watched| {
        w.completed_at().is_some_and(|c| c >= w.progress_at())
            || (w.duration_ms() > 0 && w.position_ms() as f64 >= 0.95 * w.duration_ms() as f64)
    };
    // per title, the latest watched id
    let mut latest: HashMap<usize, (&str, &Watched)> = HashMap::new();
    for (id, w) in u.watched() {
        let Some(t) = cat.resolve(id) else { continue };
        let e = latest.entry(t).or_insert((id, w));
        if (w.last_at(), id.as_str()) > (e.1.last_at(), e.0) {
            *e = (id, w);
        }
    }
    let mut out = Vec::new();
    for (t, (id, w)) in latest {
        if !ok[t] {
            continue;
        }
        let title = &cat.titles[t];
        let started = w.max_fraction() >= ctx.min_fraction && w.position_ms() > 0;
        let resume = |episode: Option<&crate::catalog::Episode>| Resume {
            title_id: title.id.clone(),
            name: title.name.clone(),
            episode_id: episode.map(|e| e.id.clone()),
            season: episode.map(|e| e.season),
            episode: episode.map(|e| e.number),
            position_ms: w.position_ms(),
            duration_ms: w.duration_ms(),
            reason: "resume".into(),
            last_watched_at: w.last_at(),
        };
        match cat.episode(id) {
            None if !finished(w) && started => out.push(resume(None)),
            None => {}
            Some((_, pos)) if !finished(w) && started => {
                out.push(resume(Some(&title.episodes[pos])));
            }
            Some((_, pos)) if finished(w) => {
                if let Some(next) = title.episodes.get(pos + 1) {
                    out.push(Resume {
                        position_ms: 0,
                        duration_ms: 0,
                        reason: "next_episode".into(),
                        ..resume(Some(next))
                    });
                }
            }
            Some(_) => {}
        }
    }
    out.sort_by(|a, b| {
        b.last_watched_at
            .cmp(&a.last_watched_at)
            .then(a.title_id.cmp(&b.title_id))
    });
    out.truncate(k);
    out
}
