//! [`Lake`]: the DataFusion catalog over `<lake>/events/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use showrunner_events::Family;

use crate::error::Result;

/// The projections, in dependency order: (view name, SQL). `views` is one
/// row per play attempt; the others replay subscriptions.
pub const PROJECTIONS: &[(&str, &str)] = &[
    ("views", include_str!("../sql/views.sql")),
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

/// A DataFusion session over a lake.
#[derive(Clone)]
pub struct Lake {
    ctx: SessionContext,
    root: PathBuf,
}

impl Lake {
    /// Registers the lake's tables and views. Families without files yet are
    /// empty tables of the right schema.
    pub async fn open(root: &Path) -> Result<Lake> {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
        let ctx = SessionContext::new_with_config(config);
        for family in Family::ALL {
            let raw = format!("{family}_raw");
            let file_schema = showrunner_events::arrow::schema(*family);
            let dir = root.join("events").join(family.as_str());
            let has_files = std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some());
            if has_files {
                let opts = ParquetReadOptions::default()
                    .schema(&file_schema)
                    .file_extension(".parquet")
                    .table_partition_cols(vec![("date".into(), DataType::Utf8)]);
                ctx.register_parquet(&raw, dir.to_string_lossy().as_ref(), opts)
                    .await?;
            } else {
                let mut fields: Vec<Field> = file_schema
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                fields.push(Field::new("date", DataType::Utf8, true));
                let schema = Arc::new(Schema::new(fields));
                ctx.register_table(&raw, Arc::new(MemTable::try_new(schema, vec![vec![]])?))?;
            }
            // one row per event id: a redelivered duplicate never counts twice
            ctx.sql(&format!(
                "CREATE VIEW {family} AS SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY received_at, date) AS dedup_rank FROM {raw}) WHERE dedup_rank = 1"
            ))
            .await?;
        }
        for (name, sql) in PROJECTIONS {
            ctx.sql(&format!("CREATE VIEW {name} AS {sql}")).await?;
        }
        Ok(Lake {
            ctx,
            root: root.to_path_buf(),
        })
    }

    /// Computes the `views` projection once and keeps it in memory, so the
    /// metrics that follow read it instead of recomputing it each.
    pub async fn cache_views(&self) -> Result<usize> {
        self.cache("views").await
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

    /// The lake root.
    pub fn root(&self) -> &Path {
        &self.root
    }
}
