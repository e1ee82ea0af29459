//! Updating a session's projections with the files that came since they
//! were computed, instead of computing them again from every file.
//!
//! Invariant: an updated session's projections are, row for row, those a
//! full computation over the files it was given gives
//! (`tests/split_invariance.rs` updates file by file and compares every
//! metric with a full computation).
//!
//! - `views` (one row per play attempt, what the QoE and engagement
//!   metrics, the view list and timelines read): when player files were
//!   only added, the views with an event in an added file are computed
//!   again from all their events — every file, through the lake's dedup
//!   rule — and every other view keeps its row. A view's row depends on
//!   its own events only, so this is the full computation's row. A player
//!   file gone (compaction rewrote it) → `views` is computed whole.
//! - The billing projections (subscription state, movements, churn) are
//!   kept while the billing files are unchanged, else computed whole
//!   (billing is a small share of the events).
//! - [`Inputs`] are listed before the new session is opened: a file
//!   committed in between is read by the session without being in its
//!   inputs, so the next update takes it as added and computes its views
//!   again — which gives the rows a full computation would.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use arrow_array::{Array, BooleanArray, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::ParquetReadOptions;
use showrunner_events::Family;
use showrunner_lake::Store;
use showrunner_lake::layout::keys;
use showrunner_lake::listing::{Signature, signature_store};

use crate::error::{Error, Result};
use crate::lake::{BILLING_PROJECTIONS, Lake, PROJECTIONS};

/// What a session's projections were computed from: the player files by
/// key, and the billing files' signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Keys of the committed player files.
    pub player: BTreeSet<String>,
    /// The billing files.
    pub billing: Signature,
}

impl Inputs {
    /// The lake's inputs now.
    pub async fn of(store: &Store) -> Result<Inputs> {
        let player = store
            .list_committed(&keys::family(Family::Player))
            .await?
            .into_iter()
            .map(|e| e.key)
            .collect();
        let billing = signature_store(store, &[Family::Billing]).await?;
        Ok(Inputs { player, billing })
    }
}

/// What an update did, for the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Updated {
    /// Player files added since the last computation.
    pub added_files: usize,
    /// Views computed again (`None`: `views` was computed whole).
    pub views_recomputed: Option<usize>,
    /// The billing projections were computed again.
    pub billing_recomputed: bool,
}

impl Lake {
    /// A session over the lake's files now whose projections are this
    /// session's (computed from `before`) updated to `now` (see the
    /// module).
    pub async fn update(&self, before: &Inputs, now: &Inputs) -> Result<(Lake, Updated)> {
        let fresh = Lake::open_store(self.store(), self.options()).await?;
        let added: Vec<&String> = now.player.difference(&before.player).collect();
        let removed = before.player.difference(&now.player).next().is_some();
        let mut done = Updated {
            added_files: added.len(),
            ..Updated::default()
        };
        if removed {
            fresh.cache_projections(&["player_events", "views"]).await?;
        } else {
            let old_views = self.ctx().table_provider("views").await?;
            if added.is_empty() {
                fresh.replace_table("views", old_views)?;
                done.views_recomputed = Some(0);
            } else {
                let ids = fresh.view_ids_in(&added).await?;
                let kept = without_views(self.ctx().table("views").await?.collect().await?, &ids)?;
                let recomputed = fresh.views_of(&ids).await?;
                done.views_recomputed = Some(ids.len());
                let table = union(old_views.schema(), kept, recomputed)?;
                fresh.replace_table("views", Arc::new(table))?;
            }
        }
        if now.billing == before.billing {
            for name in BILLING_PROJECTIONS {
                let t = self.ctx().table_provider(*name).await?;
                fresh.replace_table(name, t)?;
            }
        } else {
            fresh.cache_projections(BILLING_PROJECTIONS).await?;
            done.billing_recomputed = true;
        }
        Ok((fresh, done))
    }

    /// The distinct view ids of the player files `keys`.
    async fn view_ids_in(&self, keys: &[&String]) -> Result<HashSet<String>> {
        let urls: Vec<String> = keys.iter().map(|k| self.store().table_url(k)).collect();
        let schema = showrunner_events::arrow::schema(Family::Player);
        let df = self
            .ctx()
            .read_parquet(
                urls,
                ParquetReadOptions::default()
                    .schema(&schema)
                    .file_extension(".parquet"),
            )
            .await?
            .select_columns(&["view_id"])?
            .distinct()?;
        let mut ids = HashSet::new();
        for b in df.collect().await? {
            let col = b
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| Error::Output("view_id is not a string column".into()))?;
            ids.extend(col.iter().flatten().map(str::to_owned));
        }
        Ok(ids)
    }

    /// The `views` rows of `ids`, computed from all their events.
    async fn views_of(&self, ids: &HashSet<String>) -> Result<Vec<RecordBatch>> {
        let id_schema = Arc::new(Schema::new(vec![Field::new(
            "view_id",
            arrow_schema::DataType::Utf8,
            false,
        )]));
        let list = StringArray::from_iter_values(ids.iter().map(String::as_str));
        let table = MemTable::try_new(
            id_schema.clone(),
            vec![vec![
                RecordBatch::try_new(id_schema, vec![Arc::new(list)]).map_err(arrow_error)?,
            ]],
        )?;
        self.replace_table("update_view_ids", Arc::new(table))?;
        let restricted = format!(
            "SELECT * FROM ({}) e WHERE view_id IN (SELECT view_id FROM update_view_ids)",
            PROJECTIONS[0].1
        );
        let (events, _) = self.player_events_of(&restricted).await?;
        self.replace_table("player_events", Arc::new(events))?;
        let rows = self.ctx().sql(PROJECTIONS[1].1).await?.collect().await;
        // the session's own `player_events` (the SQL console's) again
        self.restore_view("player_events").await?;
        self.ctx().deregister_table("update_view_ids")?;
        Ok(rows?)
    }
}

/// `batches` without the rows of `ids`.
fn without_views(batches: Vec<RecordBatch>, ids: &HashSet<String>) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::with_capacity(batches.len());
    for b in batches {
        let col = b
            .column_by_name("view_id")
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or_else(|| Error::Output("views has no view_id column".into()))?;
        let keep: BooleanArray = (0..col.len())
            .map(|i| Some(col.is_null(i) || !ids.contains(col.value(i))))
            .collect();
        out.push(
            datafusion::arrow::compute::filter_record_batch(&b, &keep)
                .map_err(|e| Error::Output(e.to_string()))?,
        );
    }
    Ok(out)
}

/// One table of `a` and `b` (the columns of `schema`), every field
/// nullable so that either's batches fit.
fn union(
    schema: arrow_schema::SchemaRef,
    a: Vec<RecordBatch>,
    b: Vec<RecordBatch>,
) -> Result<MemTable> {
    let schema = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_nullable(true))
            .collect::<Vec<_>>(),
    ));
    let mut all = Vec::with_capacity(a.len() + b.len());
    for batch in a.into_iter().chain(b) {
        all.push(
            RecordBatch::try_new(schema.clone(), batch.columns().to_vec()).map_err(arrow_error)?,
        );
    }
    Ok(MemTable::try_new(schema, vec![all])?)
}

fn arrow_error(e: arrow_schema::ArrowError) -> Error {
    Error::Output(e.to_string())
}
