//! `recommend eval`, the offline evaluation of one model at a time: tune
//! on validation folds of the training split ([`crate::protocol`], the
//! grids training serves from), fit the chosen values on the whole
//! training split, and score the holdout (whole histories, or the
//! cold-start protocol's few titles); an [`Outcome`] per model, one JSON
//! line each. The test split is only ever scored, never tuned on.

use std::time::Instant;

use linfa::prelude::*;
use serde_json::{Value, json};

use crate::data::UserItems;
use crate::error::Result;
use crate::eval::{Quality, evaluate, evaluate_thin};
use crate::models::Scorer;
use crate::models::blend::BlendParams;
use crate::models::clusters::TasteClustersParams;
use crate::models::ease::EaseValidParams;
use crate::models::popularity::PopularityParams;
use crate::protocol::{
    AlsPoint, Tuning, als_params, tune_als, tune_blend, tune_clusters, tune_item_item,
    tune_item_knn,
};

/// The models `recommend eval` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// Most popular items.
    Popularity,
    /// Item-kNN (cosine), neighbours tuned.
    ItemKnn,
    /// Plain EASE: the item-item grid at dropout 0.
    Ease,
    /// The item-item model training serves: EASE's λ × DLAE's dropout.
    Dlae,
    /// Implicit ALS: factors, α and λ tuned.
    Als,
    /// DLAE and implicit ALS, each tuned alone, then the weight.
    Blend,
    /// Taste clusters over the tuned ALS's user factors, k tuned under the
    /// cold-start protocol unless fixed.
    Clusters,
}

impl Model {
    /// Every model, in the order `--model all` prints them.
    pub const ALL: [Model; 7] = [
        Model::Popularity,
        Model::ItemKnn,
        Model::Ease,
        Model::Dlae,
        Model::Als,
        Model::Blend,
        Model::Clusters,
    ];

    /// The name in the `model` field of its line.
    pub fn name(self) -> &'static str {
        match self {
            Model::Popularity => "popularity",
            Model::ItemKnn => "itemknn",
            Model::Ease => "ease",
            Model::Dlae => "dlae",
            Model::Als => "als",
            Model::Blend => "blend",
            Model::Clusters => "clusters",
        }
    }

    /// The models a name selects: one by its [`name`](Self::name), or
    /// every one for `all` (in [`Model::ALL`]'s order).
    pub fn named(name: &str) -> std::result::Result<Vec<Model>, String> {
        if name == "all" {
            return Ok(Model::ALL.to_vec());
        }
        Model::ALL
            .iter()
            .find(|m| m.name() == name)
            .map(|m| vec![*m])
            .ok_or_else(|| {
                let names: Vec<&str> = Model::ALL.iter().map(|m| m.name()).collect();
                format!("`{name}` is no model: {}, or all", names.join(", "))
            })
    }
}

/// How the models are tuned and scored.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The protocol: K, the seed of the validation folds, the grids.
    pub tuning: Tuning,
    /// Cold-start protocol: the fitted model sees only this many of each
    /// user's training items (tuning is unchanged).
    pub history: Option<usize>,
    /// A fixed cluster count for [`Model::Clusters`] instead of tuning it.
    pub clusters: Option<usize>,
}

/// One model's measurement on the holdout.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// [`Model::name`].
    pub model: &'static str,
    /// The cut-off of `quality`.
    pub k: usize,
    /// Quality on the holdout.
    pub quality: Quality,
    /// Seconds of the final fit on the training split.
    pub train_seconds: f64,
    /// Seconds of the tuning on its validation folds.
    pub tune_seconds: f64,
    /// The chosen hyper-parameters (and `history` when given).
    pub params: Value,
}

impl Outcome {
    /// The JSON line: `model`, `ndcg@K`, `recall@K`, `precision@K`,
    /// `coverage@K`, `users`, `train_seconds`, `tune_seconds`, `params`.
    pub fn to_json(&self) -> Value {
        let (k, q) = (self.k, &self.quality);
        let mut v = json!({
            "model": self.model,
            format!("ndcg@{k}"): q.ndcg,
            format!("recall@{k}"): q.recall,
            format!("precision@{k}"): q.precision,
            format!("coverage@{k}"): q.coverage,
            "users": q.users,
            "train_seconds": self.train_seconds,
            "tune_seconds": self.tune_seconds,
        });
        v["params"] = self.params.clone();
        v
    }
}

/// Tunes `model` on validation folds of `train`, fits it on `train` and
/// scores it on `test`.
pub fn evaluate_model(
    model: Model,
    train: &UserItems,
    test: &UserItems,
    o: &Options,
) -> Result<Outcome> {
    o.tuning.check()?;
    let s = Scored {
        model,
        train,
        test,
        o,
        started: Instant::now(),
    };
    let t = &o.tuning;
    match model {
        Model::Popularity => s.score(json!({}), |x| PopularityParams::default().fit(x)),
        Model::ItemKnn => {
            let p = tune_item_knn(train, t)?.params;
            s.score(json!({ "neighbours": p.neighbours() }), |x| p.fit(x))
        }
        Model::Ease => {
            let p = tune_item_item(train, &t.plain_ease())?.params;
            s.score(json!({ "lambda": p.lambda() }), |x| p.fit(x))
        }
        Model::Dlae => {
            let p = tune_item_item(train, t)?.params;
            s.score(item_item_json(p), |x| p.fit(x))
        }
        Model::Als => {
            let p = tune_als(train, t)?.params;
            s.score(als_json(p), |x| als_params(p, t.seed).fit(x))
        }
        Model::Blend => blend(s),
        Model::Clusters => clusters(s),
    }
}

/// Each member tuned alone, then the weight on the same folds.
fn blend(s: Scored<'_>) -> Result<Outcome> {
    let t = &s.o.tuning;
    let ease = tune_item_item(s.train, t)?.params;
    let point = tune_als(s.train, t)?.params;
    let als = als_params(point, t.seed).check()?;
    let w = tune_blend(s.train, ease, als, t)?.params;
    let params = json!({ "dlae": item_item_json(ease), "als": als_json(point), "weight": w });
    s.score(params, |x| BlendParams::new(ease, als).weight(w).fit(x))
}

/// The factor model tuned alone (full histories), then clustered: k
/// tuned, or as given.
fn clusters(s: Scored<'_>) -> Result<Outcome> {
    let t = &s.o.tuning;
    let point = tune_als(s.train, t)?.params;
    let als = als_params(point, t.seed).check()?;
    let p = match s.o.clusters {
        Some(k) => TasteClustersParams::new(als)
            .clusters(k)
            .seed(t.seed)
            .check()?,
        None => tune_clusters(s.train, als, t)?.params,
    };
    let params = json!({ "clusters": p.clusters(), "als": als_json(point) });
    s.score(params, |x| p.fit(x))
}

fn item_item_json(p: EaseValidParams) -> Value {
    json!({ "lambda": p.lambda(), "dropout": p.dropout() })
}

fn als_json((f, a, l): AlsPoint) -> Value {
    json!({ "factors": f, "alpha": a, "lambda": l })
}

/// A model being measured: tuning started at `started`.
struct Scored<'a> {
    model: Model,
    train: &'a UserItems,
    test: &'a UserItems,
    o: &'a Options,
    started: Instant,
}

impl Scored<'_> {
    /// Fits the chosen model on the training split and scores the holdout.
    fn score<M: Scorer>(
        self,
        params: Value,
        fit: impl FnOnce(&DatasetBase<UserItems, ()>) -> Result<M>,
    ) -> Result<Outcome> {
        let tune_seconds = self.started.elapsed().as_secs_f64();
        let (train, test, t) = (self.train, self.test, &self.o.tuning);
        let fitted = Instant::now();
        let m = fit(&DatasetBase::new(train.clone(), ()))?;
        let train_seconds = fitted.elapsed().as_secs_f64();
        let mut params = params;
        let quality = match self.o.history {
            None => evaluate(&m, train, test, t.k),
            Some(h) => {
                params["history"] = json!(h);
                evaluate_thin(&m, train, test, t.k, h, t.seed)
            }
        };
        Ok(Outcome {
            model: self.model.name(),
            k: t.k,
            quality,
            train_seconds,
            tune_seconds: if self.model == Model::Popularity {
                0.0
            } else {
                tune_seconds
            },
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_the_keys_of_its_cut_off() {
        let train = UserItems::binary(vec![vec![0, 1], vec![1, 2], vec![0]], 3);
        let test = UserItems::binary(vec![vec![2], vec![0], vec![]], 3);
        let o = Options {
            tuning: Tuning::new(2, 7),
            history: Some(1),
            clusters: None,
        };
        let out = evaluate_model(Model::Popularity, &train, &test, &o).expect("popularity");
        let line = out.to_json();
        assert_eq!(line["model"], "popularity");
        assert_eq!(line["users"], 2);
        assert_eq!(line["params"], json!({ "history": 1 }));
        for key in [
            "ndcg@2",
            "recall@2",
            "precision@2",
            "coverage@2",
            "tune_seconds",
        ] {
            assert!(line.get(key).is_some(), "{key} in {line}");
        }
    }
}
