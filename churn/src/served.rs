//! The served model and the scores it writes, both derived data of the lake
//! (`scores/churn/model.json`, `scores/churn/scores.parquet`), replaced
//! whole through the lake's [`Store`] (rename on a directory, one PUT on an
//! object store), so a reader sees the old file or the new one.
//!
//! The scores table, one row per subscriber trialing or paying at the
//! snapshot: `user_id`, `snapshot` (epoch ms), `score` (probability of
//! cancelling within 30 days), `model` (its kind), and the three features
//! that raise the risk most, `reason_k`, `reason_k_value`,
//! `reason_k_log_odds` (k = 1..3; null where fewer raise it).

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use showrunner_lake::Store;
use showrunner_lake::layout::keys;

use crate::data::{Rows, feature_names};
use crate::error::{Error, Result};
use crate::models::Model;
use crate::train::TrainReport;

/// Version of the model file this crate writes.
pub const FORMAT: u32 = 1;

/// Reasons kept per subscriber.
pub const REASONS: usize = 3;

/// What `churn train` stores and `churn score` reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServedModel {
    /// [`FORMAT`].
    pub format: u32,
    /// When it was trained (UTC, RFC 3339).
    pub trained_at: String,
    /// Its features, in order: a model is refused by a build whose
    /// features differ.
    pub features: Vec<String>,
    /// The model.
    pub model: Model,
    /// How it was chosen and how it did on the holdout.
    pub report: TrainReport,
}

impl ServedModel {
    /// Stores it as the lake's churn model.
    pub async fn save(&self, store: &Store) -> Result<()> {
        let json = serde_json::to_vec(self).map_err(|e| Error::Format(e.to_string()))?;
        store
            .replace(&keys::churn_model(), Bytes::from(json))
            .await?;
        Ok(())
    }

    /// The lake's churn model, `None` before `churn train` ran.
    pub async fn load(store: &Store) -> Result<Option<ServedModel>> {
        let Some(bytes) = store.get_opt(&keys::churn_model()).await? else {
            return Ok(None);
        };
        let m: ServedModel = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Format(format!("{}: {e}", keys::churn_model())))?;
        if m.format != FORMAT || m.features != feature_names() {
            return Err(Error::Format(format!(
                "{} was trained by another version (format {}, {} features): run `churn train` again",
                keys::churn_model(),
                m.format,
                m.features.len()
            )));
        }
        Ok(Some(m))
    }
}

/// One subscriber's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The subscriber.
    pub user_id: String,
    /// The snapshot instant (epoch ms).
    pub snapshot: i64,
    /// Probability of cancelling within 30 days.
    pub score: f64,
    /// The model's kind.
    pub model: String,
    /// The features that raise the risk most, largest first.
    pub reasons: Vec<Reason>,
}

/// A feature that raises a subscriber's risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// The feature.
    pub feature: String,
    /// Its value for the subscriber.
    pub value: f64,
    /// How much it adds to the log-odds of churn.
    pub log_odds: f64,
}

/// Scores `rows` (one snapshot's) with `model`.
pub fn score(model: &Model, rows: &Rows) -> Vec<Score> {
    let names = feature_names();
    let p = model.predict_proba(rows.x.view());
    let c = model.contributions(rows.x.view());
    (0..rows.len())
        .map(|i| {
            let mut order: Vec<usize> = (0..names.len()).filter(|&j| c[[i, j]] > 0.0).collect();
            order.sort_by(|&a, &b| c[[i, b]].total_cmp(&c[[i, a]]));
            Score {
                user_id: rows.user_id[i].clone(),
                snapshot: rows.snap_ms[i],
                score: p[i],
                model: model.kind().as_str().into(),
                reasons: order
                    .into_iter()
                    .take(REASONS)
                    .map(|j| Reason {
                        feature: names[j].clone(),
                        value: rows.x[[i, j]],
                        log_odds: c[[i, j]],
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The scores table's schema.
pub fn schema() -> Arc<Schema> {
    let mut fields = vec![
        Field::new("user_id", DataType::Utf8, false),
        Field::new("snapshot", DataType::Int64, false),
        Field::new("score", DataType::Float64, false),
        Field::new("model", DataType::Utf8, false),
    ];
    for k in 1..=REASONS {
        fields.push(Field::new(format!("reason_{k}"), DataType::Utf8, true));
        fields.push(Field::new(
            format!("reason_{k}_value"),
            DataType::Float64,
            true,
        ));
        fields.push(Field::new(
            format!("reason_{k}_log_odds"),
            DataType::Float64,
            true,
        ));
    }
    Arc::new(Schema::new(fields))
}

/// Writes `scores` as the lake's scores table (replacing the previous).
pub async fn write_scores(store: &Store, scores: &[Score]) -> Result<()> {
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            scores.iter().map(|s| s.user_id.as_str()),
        )),
        Arc::new(Int64Array::from_iter_values(
            scores.iter().map(|s| s.snapshot),
        )),
        Arc::new(Float64Array::from_iter_values(
            scores.iter().map(|s| s.score),
        )),
        Arc::new(StringArray::from_iter_values(
            scores.iter().map(|s| s.model.as_str()),
        )),
    ];
    for k in 0..REASONS {
        let r = |s: &Score| s.reasons.get(k).cloned();
        columns.push(Arc::new(StringArray::from(
            scores
                .iter()
                .map(|s| r(s).map(|r| r.feature))
                .collect::<Vec<_>>(),
        )));
        columns.push(Arc::new(Float64Array::from(
            scores
                .iter()
                .map(|s| r(s).map(|r| r.value))
                .collect::<Vec<_>>(),
        )));
        columns.push(Arc::new(Float64Array::from(
            scores
                .iter()
                .map(|s| r(s).map(|r| r.log_odds))
                .collect::<Vec<_>>(),
        )));
    }
    let batch =
        RecordBatch::try_new(schema(), columns).map_err(|e| Error::Format(e.to_string()))?;
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, schema(), None)
        .map_err(|e| Error::Format(e.to_string()))?;
    w.write(&batch).map_err(|e| Error::Format(e.to_string()))?;
    w.close().map_err(|e| Error::Format(e.to_string()))?;
    store
        .replace(&keys::churn_scores(), Bytes::from(buf))
        .await?;
    Ok(())
}

/// The scores table in `bytes` (what [`write_scores`] wrote), in its order.
pub fn read_scores(bytes: Bytes) -> Result<Vec<Score>> {
    use arrow_array::Array;
    let fmt = |e: &dyn std::fmt::Display| Error::Format(format!("{}: {e}", keys::churn_scores()));
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|b| b.build())
        .map_err(|e| fmt(&e))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| fmt(&e))?;
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| fmt(&format!("no column `{name}`")))
        };
        let text = |name: &str| {
            col(name)?
                .as_any()
                .downcast_ref::<StringArray>()
                .cloned()
                .ok_or_else(|| fmt(&format!("`{name}` is not text")))
        };
        let float = |name: &str| {
            col(name)?
                .as_any()
                .downcast_ref::<Float64Array>()
                .cloned()
                .ok_or_else(|| fmt(&format!("`{name}` is not a double")))
        };
        let user = text("user_id")?;
        let snapshot = col("snapshot")?
            .as_any()
            .downcast_ref::<Int64Array>()
            .cloned()
            .ok_or_else(|| fmt(&"`snapshot` is not an integer"))?;
        let score = float("score")?;
        let model = text("model")?;
        let mut reasons = Vec::with_capacity(REASONS);
        for k in 1..=REASONS {
            reasons.push((
                text(&format!("reason_{k}"))?,
                float(&format!("reason_{k}_value"))?,
                float(&format!("reason_{k}_log_odds"))?,
            ));
        }
        for i in 0..batch.num_rows() {
            out.push(Score {
                user_id: user.value(i).to_owned(),
                snapshot: snapshot.value(i),
                score: score.value(i),
                model: model.value(i).to_owned(),
                reasons: reasons
                    .iter()
                    .take_while(|(f, _, _)| f.is_valid(i))
                    .map(|(f, v, l)| Reason {
                        feature: f.value(i).to_owned(),
                        value: v.value(i),
                        log_odds: l.value(i),
                    })
                    .collect(),
            });
        }
    }
    Ok(out)
}
