//! Training with a time-based holdout: the baseline and the challenger are
//! fitted on earlier snapshots and judged on later ones, the way the model
//! is used (trained on the past, scoring the present).
//!
//! Invariant: no label of a training row is observed after the first test
//! snapshot. A training row at T is labelled by (T, T + 30 d], so training
//! rows are those with T + 30 d ≤ the first test snapshot; a row whose
//! window straddles it (the same cancel could label a training and a test
//! row) is in neither.
//!
//! The gradient-boosted trees are kept only when they beat the baseline on
//! both PR AUC and lift in the top decile; the kept kind is then fitted
//! again on every labelled row for scoring (the reported figures are the
//! holdout's, of the fit on training rows only).

use std::time::Instant;

use linfa::prelude::*;
use ndarray::Array1;
use serde::{Deserialize, Serialize};
use showrunner_warehouse::churn::{DAY_MS, HORIZON_DAYS};

use crate::data::Rows;
use crate::error::{Error, Result};
use crate::eval::{Evaluation, evaluate};
use crate::models::gbdt::GbdtParams;
use crate::models::logistic::LogisticParams;
use crate::models::{Kind, Model};

/// How to train.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Share of the labelled snapshot dates, the latest, held out (at
    /// least one date).
    pub test_share: f64,
    /// The baseline's parameters.
    pub logistic: LogisticParams,
    /// The challenger's parameters.
    pub gbdt: GbdtParams,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            test_share: 0.2,
            logistic: LogisticParams::default(),
            gbdt: GbdtParams::default(),
        }
    }
}

/// The time split of labelled rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Training row indices.
    pub train: Vec<usize>,
    /// Test row indices.
    pub test: Vec<usize>,
    /// The first test snapshot (epoch ms).
    pub test_from: i64,
}

/// Splits the labelled rows of `rows` in time: the latest `test_share` of
/// their snapshot dates (at least one) are the test, and the rows whose
/// label window ends by the first test snapshot are the training.
pub fn time_split(rows: &Rows, test_share: f64) -> Result<Split> {
    let mut dates: Vec<i64> = rows
        .snap_ms
        .iter()
        .zip(&rows.label)
        .filter(|(_, l)| l.is_some())
        .map(|(t, _)| *t)
        .collect();
    dates.sort_unstable();
    dates.dedup();
    let held = ((dates.len() as f64 * test_share).ceil() as usize).max(1);
    if dates.len() <= held {
        return Err(Error::Data(format!(
            "{} labelled snapshot date(s): a time-based holdout needs snapshots at least \
             {HORIZON_DAYS} days apart before the test ones (a lake of about {} days or more)",
            dates.len(),
            2 * HORIZON_DAYS + 21
        )));
    }
    let test_from = dates[dates.len() - held];
    let horizon = HORIZON_DAYS * DAY_MS;
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, (t, l)) in rows.snap_ms.iter().zip(&rows.label).enumerate() {
        if l.is_none() {
            continue;
        }
        if *t >= test_from {
            test.push(i);
        } else if *t + horizon <= test_from {
            train.push(i);
        }
    }
    if train.is_empty() {
        return Err(Error::Data(format!(
            "no snapshot ends its {HORIZON_DAYS}-day label window before the first test \
             snapshot: the lake needs more history"
        )));
    }
    Ok(Split {
        train,
        test,
        test_from,
    })
}

/// What `churn train` reports: the kept model's holdout figures, and each
/// candidate's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainReport {
    /// The kept kind.
    pub model: Kind,
    /// Why it was kept.
    pub reason: String,
    /// The kept model's holdout figures.
    #[serde(flatten)]
    pub kept: Evaluation,
    /// The baseline's (logistic regression) holdout figures.
    pub baseline: Evaluation,
    /// The gradient-boosted trees' holdout figures.
    pub gbdt: Evaluation,
    /// Training rows (snapshot × subscriber).
    pub train_rows: usize,
    /// Training snapshot dates (UTC days of the instants).
    pub train_snapshots: Vec<String>,
    /// Test snapshot dates.
    pub test_snapshots: Vec<String>,
    /// Test rows.
    pub test_rows: usize,
    /// Rows the served model is fitted on (every labelled row).
    pub fitted_rows: usize,
    /// The features, in order.
    pub features: Vec<String>,
    /// Seconds per stage: features, fits, refit.
    pub seconds: Seconds,
}

/// Seconds per stage.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Seconds {
    /// Computing the feature rows (set by the caller).
    pub features: f64,
    /// Fitting the baseline on the training rows.
    pub logistic: f64,
    /// Fitting the trees on the training rows.
    pub gbdt: f64,
    /// Fitting the kept kind on every labelled row.
    pub refit: f64,
}

fn fit_kind(kind: Kind, rows: &Rows, opts: &TrainOptions) -> Result<Model> {
    let data = Dataset::new(rows.x.clone(), Array1::from(rows.labels()));
    Ok(match kind {
        Kind::Gbdt => Model::Gbdt(Box::new(opts.gbdt.check()?.fit(&data)?)),
        Kind::Logistic => Model::Logistic(opts.logistic.check()?.fit(&data)?),
    })
}

/// Fits and judges both models on `rows` with a time-based holdout and
/// returns the kept one, fitted again on every labelled row, and the report.
pub fn train(rows: &Rows, opts: &TrainOptions) -> Result<(Model, TrainReport)> {
    let split = time_split(rows, opts.test_share)?;
    let train = rows.select(&split.train);
    let test = rows.select(&split.test);
    let truth = test.labels();
    if !truth.iter().any(|&l| l) {
        return Err(Error::Data("no churner among the test rows".into()));
    }
    let mut seconds = Seconds::default();
    let t = Instant::now();
    let baseline = fit_kind(Kind::Logistic, &train, opts)?;
    seconds.logistic = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let trees = fit_kind(Kind::Gbdt, &train, opts)?;
    seconds.gbdt = t.elapsed().as_secs_f64();
    let base_eval = evaluate(&baseline.predict_proba(test.x.view()).to_vec(), &truth);
    let tree_eval = evaluate(&trees.predict_proba(test.x.view()).to_vec(), &truth);
    let trees_win =
        tree_eval.pr_auc > base_eval.pr_auc && tree_eval.lift_at_10 > base_eval.lift_at_10;
    let (kind, reason, kept) = if trees_win {
        (
            Kind::Gbdt,
            format!(
                "gradient-boosted trees beat the baseline on PR AUC ({:.4} > {:.4}) and lift@10 ({:.3} > {:.3})",
                tree_eval.pr_auc, base_eval.pr_auc, tree_eval.lift_at_10, base_eval.lift_at_10
            ),
            tree_eval.clone(),
        )
    } else {
        (
            Kind::Logistic,
            format!(
                "gradient-boosted trees did not beat the baseline on both PR AUC ({:.4} vs {:.4}) and lift@10 ({:.3} vs {:.3})",
                tree_eval.pr_auc, base_eval.pr_auc, tree_eval.lift_at_10, base_eval.lift_at_10
            ),
            base_eval.clone(),
        )
    };
    let labelled: Vec<usize> = (0..rows.len())
        .filter(|&i| rows.label[i].is_some())
        .collect();
    let all = rows.select(&labelled);
    let t = Instant::now();
    let model = fit_kind(kind, &all, opts)?;
    seconds.refit = t.elapsed().as_secs_f64();
    let days = |r: &Rows| {
        let mut d: Vec<i64> = r.snap_ms.clone();
        d.sort_unstable();
        d.dedup();
        d.into_iter().map(day).collect()
    };
    let report = TrainReport {
        model: kind,
        reason,
        kept,
        baseline: base_eval,
        gbdt: tree_eval,
        train_rows: train.len(),
        train_snapshots: days(&train),
        test_snapshots: days(&test),
        test_rows: test.len(),
        fitted_rows: all.len(),
        features: crate::data::feature_names(),
        seconds,
    };
    Ok((model, report))
}

/// The UTC date and time of an instant, `YYYY-MM-DDTHH:MMZ`.
pub fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%MZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}
