//! How well scores rank and estimate churn: ROC AUC, PR AUC (average
//! precision), Brier score, lift and capture in the top decile, and the
//! calibration curve. Each is the textbook definition (the same as
//! scikit-learn's `roc_auc_score`, `average_precision_score` and
//! `brier_score_loss`; `tests/churn.rs` checks them against it).

use serde::{Deserialize, Serialize};

/// A model's figures on a set of labelled rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Rows scored.
    pub rows: usize,
    /// Share of them that churned.
    pub prevalence: f64,
    /// Area under the ROC curve (ties count half).
    pub roc_auc: f64,
    /// Average precision: Σ (recallₖ − recallₖ₋₁) · precisionₖ over the
    /// distinct score thresholds, highest first.
    pub pr_auc: f64,
    /// Mean of (score − label)².
    pub brier: f64,
    /// Churn rate among the top 10 % of scores ÷ the prevalence.
    #[serde(rename = "lift@10")]
    pub lift_at_10: f64,
    /// Share of all churners who are in the top 10 % of scores.
    #[serde(rename = "capture@10")]
    pub capture_at_10: f64,
    /// Ten bins of equal width over [0, 1]: rows, mean score and observed
    /// churn rate of each bin that has rows.
    pub calibration: Vec<CalibrationBin>,
}

/// One bin of the calibration curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    /// Lower edge of the bin's scores.
    pub from: f64,
    /// Upper edge (exclusive, but 1.0 is in the last bin).
    pub to: f64,
    /// Rows in the bin.
    pub rows: usize,
    /// Their mean score.
    pub mean_score: f64,
    /// Their churn rate.
    pub churn_rate: f64,
}

/// The figures of `scores` against `labels` (same length, at least one of
/// each class for the AUCs to mean anything: NaN otherwise).
pub fn evaluate(scores: &[f64], labels: &[bool]) -> Evaluation {
    assert_eq!(scores.len(), labels.len(), "a score per label");
    let n = scores.len();
    let positives = labels.iter().filter(|&&l| l).count();
    let prevalence = positives as f64 / n.max(1) as f64;
    let brier = scores
        .iter()
        .zip(labels)
        .map(|(s, &l)| (s - f64::from(u8::from(l))).powi(2))
        .sum::<f64>()
        / n.max(1) as f64;
    // highest score first; the top decile is the first ceil(n / 10) rows
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let top = n.div_ceil(10);
    let top_pos = order[..top].iter().filter(|&&i| labels[i]).count();
    let top_rate = top_pos as f64 / top.max(1) as f64;
    Evaluation {
        rows: n,
        prevalence,
        roc_auc: roc_auc(scores, labels),
        pr_auc: average_precision(scores, labels),
        brier,
        lift_at_10: top_rate / prevalence,
        capture_at_10: top_pos as f64 / positives as f64,
        calibration: calibration(scores, labels, 10),
    }
}

/// Area under the ROC curve by the rank-sum (Mann–Whitney) formula, ties
/// given their mean rank.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < order.len() {
        let j = i + order[i..]
            .iter()
            .take_while(|&&k| scores[k] == scores[order[i]])
            .count();
        let mid = (i + j + 1) as f64 / 2.0;
        rank_sum += mid * order[i..j].iter().filter(|&&k| labels[k]).count() as f64;
        i = j;
    }
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let neg = labels.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// Average precision over the distinct thresholds (scikit-learn's
/// `average_precision_score`: no interpolation).
pub fn average_precision(scores: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let pos = labels.iter().filter(|&&l| l).count() as f64;
    let (mut tp, mut seen, mut ap, mut last_recall, mut i) = (0.0, 0.0, 0.0, 0.0, 0);
    while i < order.len() {
        let j = i + order[i..]
            .iter()
            .take_while(|&&k| scores[k] == scores[order[i]])
            .count();
        tp += order[i..j].iter().filter(|&&k| labels[k]).count() as f64;
        seen += (j - i) as f64;
        let recall = tp / pos;
        ap += (recall - last_recall) * (tp / seen);
        last_recall = recall;
        i = j;
    }
    ap
}

/// `bins` equal-width bins of the scores.
pub fn calibration(scores: &[f64], labels: &[bool], bins: usize) -> Vec<CalibrationBin> {
    let mut acc = vec![(0usize, 0.0f64, 0usize); bins];
    for (s, &l) in scores.iter().zip(labels) {
        let b = ((s * bins as f64) as usize).min(bins - 1);
        acc[b].0 += 1;
        acc[b].1 += s;
        acc[b].2 += usize::from(l);
    }
    acc.into_iter()
        .enumerate()
        .filter(|(_, (n, _, _))| *n > 0)
        .map(|(b, (n, sum, pos))| CalibrationBin {
            from: b as f64 / bins as f64,
            to: (b + 1) as f64 / bins as f64,
            rows: n,
            mean_score: sum / n as f64,
            churn_rate: pos as f64 / n as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // worked by hand: scores 0.9 0.8 0.7 0.6 0.5 0.4, labels 1 0 1 1 0 0
    const S: [f64; 6] = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
    const L: [bool; 6] = [true, false, true, true, false, false];

    #[test]
    fn roc_auc_counts_ordered_pairs() {
        // positive–negative pairs ranked right: 0.9 beats all 3 negatives,
        // 0.7 and 0.6 beat 2 each (0.5, 0.4): 7 of 9
        assert!((roc_auc(&S, &L) - 7.0 / 9.0).abs() < 1e-12);
        // ties count half: one pair, tied
        assert!((roc_auc(&[0.5, 0.5], &[true, false]) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn average_precision_sums_precision_at_each_recall_step() {
        // recall steps of 1/3 at ranks 1, 3, 4: precisions 1, 2/3, 3/4
        let want = (1.0 + 2.0 / 3.0 + 3.0 / 4.0) / 3.0;
        assert!((average_precision(&S, &L) - want).abs() < 1e-12);
    }

    #[test]
    fn lift_capture_and_brier() {
        let e = evaluate(&S, &L);
        // top decile of 6 rows: ceil(0.6) = 1 row (0.9, a churner)
        assert_eq!(e.prevalence, 0.5);
        assert!((e.lift_at_10 - 2.0).abs() < 1e-12);
        assert!((e.capture_at_10 - 1.0 / 3.0).abs() < 1e-12);
        // (0.1² + 0.8² + 0.3² + 0.4² + 0.5² + 0.4²) / 6
        let brier = (0.01 + 0.64 + 0.09 + 0.16 + 0.25 + 0.16) / 6.0;
        assert!((e.brier - brier).abs() < 1e-12);
        // bins [0.4, 0.5) … [0.9, 1.0]: one row each
        assert_eq!(e.calibration.len(), 6);
        assert_eq!(e.calibration[5].churn_rate, 1.0);
    }
}
