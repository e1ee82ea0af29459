//! [`Lake`]: the DataFusion catalog over the lake's event families.

use std::path::Path;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use showrunner_events::Family;
use showrunner_lake::Store;
use showrunner_lake::layout::{PARTITION_COLUMN, keys};

use crate::error::Result;
use crate::metrics::{Metric, Source};

/// The projections, in dependency order: (view name, SQL). `views` is one
/// row per play attempt; the others replay subscriptions.
pub const PROJECTIONS: &[(&str, &str)] = &[
    ("player_events", include_str!("../sql/player_events.sql")),
    ("views", include_str!("../sql/views.sql")),
    ("watch_sessions", include_str!("../sql/watch_sessions.sql")),
    ("billing_months", include_str!("../sql/billing_months.sql")),
    (
        "subscription_changes",
        include_str!("../sql/subscription_changes.sql"),
    ),
    ("subscriptions", include_str!("../sql/subscriptions.sql")),
    (
        "subscription_movements",
        include_str!("../sql/subscription_movements.sql"),
    ),
    ("monthly_churn", include_str!("../sql/monthly_churn.sql")),
];

/// The projections of the billing family, in dependency order: first the
/// family itself, deduplicated and held in memory (what the TVOD and AVOD
/// metrics read, and the replay below), then the subscription replay.
pub const BILLING_PROJECTIONS: &[&str] = &[
    "billing",
    "billing_months",
    "subscription_changes",
    "subscriptions",
    "subscription_movements",
    "monthly_churn",
];

/// Options of a session.
#[derive(Debug, Clone, Copy, Default)]
pub struct LakeOptions {
    /// Memory the session's queries may hold (bytes); beyond it they spill
    /// or fail. None: unlimited.
    pub memory_bytes: Option<usize>,
    /// Plans without [`crate::coop::CooperativeAmplifiers`] (joins that
    /// cannot be stopped): only to measure what the rule costs
    /// (`showrunner-bench metrics --plain-joins`).
    pub plain_joins: bool,
}

/// A DataFusion session over a lake.
#[derive(Clone)]
pub struct Lake {
    ctx: SessionContext,
    store: Store,
    opts: LakeOptions,
}

impl Lake {
    /// Registers the lake's tables and views. Families without files yet are
    /// empty tables of the right schema.
    pub async fn open(root: &Path) -> Result<Lake> {
        Self::open_with(root, LakeOptions::default()).await
    }

    /// [`Lake::open`] with options.
    pub async fn open_with(root: &Path, opts: LakeOptions) -> Result<Lake> {
        Self::open_store(&Store::dir(root), opts).await
    }

    /// [`Lake::open_with`] on any store: a directory, or an object store
    /// registered with the session under its URL (`s3://bucket`), so that
    /// the same tables and views read the same files there.
    pub async fn open_store(store: &Store, opts: LakeOptions) -> Result<Lake> {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(bytes) = opts.memory_bytes {
            runtime = runtime.with_memory_limit(bytes, 1.0);
        }
        let mut state = datafusion::execution::SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime.build_arc()?)
            .with_default_features();
        if !opts.plain_joins {
            state =
                state.with_physical_optimizer_rule(Arc::new(crate::coop::CooperativeAmplifiers));
        }
        let state = state.build();
        let ctx = SessionContext::new_with_state(state);
        if let Some((url, object_store)) = store.object_store() {
            ctx.register_object_store(url, object_store);
        }
        for family in Family::ALL {
            let raw = format!("{family}_raw");
            let file_schema = showrunner_events::arrow::schema(*family);
            let key = keys::family(*family);
            let has_files = !store.list_committed(&key).await?.is_empty();
            if has_files {
                let opts = ParquetReadOptions::default()
                    .schema(&file_schema)
                    .file_extension(".parquet")
                    .table_partition_cols(vec![(PARTITION_COLUMN.into(), DataType::Utf8)]);
                ctx.register_parquet(&raw, &store.table_url(&key), opts)
                    .await?;
            } else {
                let mut fields: Vec<Field> = file_schema
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                fields.push(Field::new(PARTITION_COLUMN, DataType::Utf8, true));
                let schema = Arc::new(Schema::new(fields));
                ctx.register_table(&raw, Arc::new(MemTable::try_new(schema, vec![vec![]])?))?;
            }
            // one row per event id, the lake's rule: a copy never counts twice
            ctx.sql(&format!(
                "CREATE VIEW {family} AS {}",
                showrunner_lake::dedup::window_sql(&raw)
            ))
            .await?;
        }
        for (name, sql) in PROJECTIONS {
            ctx.sql(&format!("CREATE VIEW {name} AS {sql}")).await?;
        }
        // derived data: the churn-risk scores, once `churn score` wrote them
        let churn = keys::churn();
        if !store.list_committed(&churn).await?.is_empty() {
            let opts = ParquetReadOptions::default().file_extension(".parquet");
            ctx.register_parquet("churn_scores", &store.table_url(&churn), opts)
                .await?;
        }
        Ok(Lake {
            ctx,
            opts,
            store: store.clone(),
        })
    }

    /// Computes the projections the metrics need (from the lake's files as
    /// they are now) and keeps them in memory: the metrics that follow read
    /// them instead of recomputing them each. Returns (name, rows, seconds)
    /// of each projection computed.
    pub async fn prepare(&self, metrics: &[&Metric]) -> Result<Vec<(&'static str, usize, f64)>> {
        let mut names = Vec::new();
        if metrics.iter().any(|m| m.over_views()) {
            names.extend(["player_events", "views"]);
        }
        if metrics.iter().any(|m| m.source == Source::Monthly) {
            names.extend(BILLING_PROJECTIONS);
        } else if metrics.iter().any(|m| m.source == Source::Billing) {
            names.push("billing");
        }
        self.cache_projections(&names).await
    }

    /// Caches `names` (in [`PROJECTIONS`] order), each planned against the
    /// ones cached before it; `player_events`, only an input of `views`, is
    /// released once `views` holds its rows.
    pub(crate) async fn cache_projections(
        &self,
        names: &[&str],
    ) -> Result<Vec<(&'static str, usize, f64)>> {
        let mut done = Vec::new();
        if names.contains(&"billing") {
            // the family's view (one row per event id) replaced by its rows
            let t = std::time::Instant::now();
            let rows = self.cache("billing").await?;
            done.push(("billing", rows, t.elapsed().as_secs_f64()));
        }
        for (name, sql) in PROJECTIONS.iter().filter(|(n, _)| names.contains(n)) {
            // a view's plan binds the tables it reads when created: re-create
            // it so that it reads the projections cached before it
            self.ctx.deregister_table(*name)?;
            self.ctx
                .sql(&format!("CREATE VIEW {name} AS {sql}"))
                .await?;
            let t = std::time::Instant::now();
            let rows = if *name == "player_events" {
                self.cache_player_events(sql).await?
            } else {
                self.cache(name).await?
            };
            done.push((*name, rows, t.elapsed().as_secs_f64()));
        }
        if names.contains(&"views") {
            self.restore_view("player_events").await?;
        }
        Ok(done)
    }

    /// Puts projection `name` back as the view [`PROJECTIONS`] declares.
    pub(crate) async fn restore_view(&self, name: &str) -> Result<()> {
        let Some((_, sql)) = PROJECTIONS.iter().find(|(n, _)| *n == name) else {
            return Err(crate::Error::Output(format!("no projection `{name}`")));
        };
        self.ctx.deregister_table(name)?;
        self.ctx
            .sql(&format!("CREATE VIEW {name} AS {sql}"))
            .await?;
        Ok(())
    }

    /// Replaces the table or view `name` by `table`.
    pub(crate) fn replace_table(
        &self,
        name: &str,
        table: Arc<dyn datafusion::datasource::TableProvider>,
    ) -> Result<()> {
        self.ctx.deregister_table(name)?;
        self.ctx.register_table(name, table)?;
        Ok(())
    }

    /// The options it was opened with.
    pub fn options(&self) -> LakeOptions {
        self.opts
    }

    /// `player_events` without the cost of deduplicating every row through
    /// the `player` view's window: read the raw files once and, where an
    /// `event_id` repeats, keep the copy the lake's rule keeps (earliest
    /// `received_at`, then `occurred_at`, nulls last: `showrunner_lake::dedup`)
    /// in one pass over the rows. A lake with a single duplicate used to
    /// fall back to the window, about ten times slower (24 s → 251 s for the
    /// first metric request over 10 M events, dev build; docs/http.md has
    /// the commands).
    async fn cache_player_events(&self, sql: &str) -> Result<usize> {
        let (table, rows) = self.player_events_of(sql).await?;
        self.replace_table("player_events", Arc::new(table))?;
        Ok(rows)
    }

    /// The rows of `sql` — `player_events`' SQL, or a query around it —
    /// in memory, read from the raw files with the lake's copy of each
    /// repeated event ([`first_copies`]), else through the `player` view.
    pub(crate) async fn player_events_of(&self, sql: &str) -> Result<(MemTable, usize)> {
        let raw = sql.replace("FROM player\n", "FROM player_raw\n");
        if raw != sql {
            let df = self.ctx.sql(&raw).await?;
            let planned = Arc::new(df.schema().as_arrow().clone());
            if let Some(kept) = first_copies(df.collect().await?)? {
                let schema = kept.first().map_or(planned, |b| b.schema());
                let rows = kept.iter().map(|b| b.num_rows()).sum();
                return Ok((MemTable::try_new(schema, vec![kept])?, rows));
            }
        }
        let df = self.ctx.sql(sql).await?;
        let planned = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        let schema = batches.first().map_or(planned, |b| b.schema());
        let rows = batches.iter().map(|b| b.num_rows()).sum();
        Ok((MemTable::try_new(schema, vec![batches])?, rows))
    }

    /// Replaces a table or view by its computed rows, held in memory.
    async fn cache(&self, name: &str) -> Result<usize> {
        let df = self.ctx.table(name).await?;
        let planned = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        // the batches' own schema (nullability can be narrower than planned)
        let schema = batches.first().map_or(planned, |b| b.schema());
        let rows = batches.iter().map(|b| b.num_rows()).sum();
        self.ctx.deregister_table(name)?;
        self.ctx
            .register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
        Ok(rows)
    }

    /// The session (tables `<family>_raw`, views `<family>` and `views`).
    pub fn ctx(&self) -> &SessionContext {
        &self.ctx
    }

    /// The lake's store.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// The rows of `batches` (`player_events`' columns, read from the raw
/// files) with one copy of each `event_id`: the one with the earliest
/// `received_ms`, then the earliest `t` (nulls last), as the `player` view
/// keeps. `None` when the columns are not there to decide. The rows were
/// already narrowed to those with a `view_id`, before the choice (the view
/// chooses first): the same whenever an event's copies agree on its view,
/// which copies of one event do.
fn first_copies(
    batches: Vec<arrow_array::RecordBatch>,
) -> Result<Option<Vec<arrow_array::RecordBatch>>> {
    use arrow_array::{Array, BooleanArray, Int64Array, StringArray};
    use std::collections::HashMap;
    use std::collections::hash_map::Entry;
    let mut cols = Vec::with_capacity(batches.len());
    for b in &batches {
        let int = |name: &str| {
            b.column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        };
        let id = b
            .column_by_name("event_id")
            .and_then(|c| c.as_any().downcast_ref::<StringArray>());
        let (Some(id), Some(t), Some(received)) = (id, int("t"), int("received_ms")) else {
            return Ok(None);
        };
        cols.push((id, t, received));
    }
    let key = |a: &Int64Array, i: usize| if a.is_null(i) { i64::MAX } else { a.value(i) };
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    // each event's kept copy: (batch, row, its order key)
    let mut kept: HashMap<&str, (usize, usize, (i64, i64))> = HashMap::with_capacity(rows);
    let mut repeats = false;
    for (bi, (id, t, received)) in cols.iter().enumerate() {
        for ri in 0..id.len() {
            if id.is_null(ri) {
                return Ok(None);
            }
            let k = (key(received, ri), key(t, ri));
            match kept.entry(id.value(ri)) {
                Entry::Vacant(e) => {
                    e.insert((bi, ri, k));
                }
                Entry::Occupied(mut e) => {
                    repeats = true;
                    if k < e.get().2 {
                        e.insert((bi, ri, k));
                    }
                }
            }
        }
    }
    if !repeats {
        return Ok(Some(batches));
    }
    let mut masks: Vec<Vec<bool>> = batches.iter().map(|b| vec![false; b.num_rows()]).collect();
    for (bi, ri, _) in kept.into_values() {
        masks[bi][ri] = true;
    }
    let mut out = Vec::with_capacity(batches.len());
    for (b, mask) in batches.iter().zip(masks) {
        out.push(
            datafusion::arrow::compute::filter_record_batch(b, &BooleanArray::from(mask))
                .map_err(|e| crate::Error::Output(e.to_string()))?,
        );
    }
    Ok(Some(out))
}
