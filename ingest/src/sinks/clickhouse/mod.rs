//! The ClickHouse sink's schema, owned by Showrunner: one table per event
//! family, derived from the same field catalogue as the lake's columns, and
//! `migrate`, which creates or upgrades it idempotently and records the
//! schema version.
//!
//! Each table is a `ReplacingMergeTree` partitioned by the month of
//! `occurred_at` and ordered by `(event_type, occurred_at, event_id)`: a
//! redelivered event has the same key and collapses onto its first copy when
//! parts merge (queries still deduplicate, as merges are lazy). Timestamps
//! are `Int64` milliseconds since the epoch and booleans `UInt8`, which every
//! server from 18.16 to current reads alike; string lists are
//! `Array(String)` (empty for null).
//!
//! Low-cardinality strings are `LowCardinality` on servers that take it
//! without experimental settings (not 18.16), checked by `migrate`, which
//! also converts such columns of tables created before.
//!
//! [`sink`] feeds the tables from the stream (a local clickhouse-server for
//! tests and benchmarks is `showrunner-testkit`'s).

pub mod sink;

use clickhouse::{Client, Row};
use serde::{Deserialize, Serialize};
use showrunner_events::arrow::columns;
use showrunner_events::wire::FieldRef;
use showrunner_events::{Family, FieldError, FieldId, FieldKind, Validator, WireEvent};

use crate::error::{Error, Result};

/// Version of the schema this build writes; recorded by `migrate`.
pub const SCHEMA_VERSION: u32 = 1;

/// The table recording applied schema versions.
pub const VERSIONS_TABLE: &str = "showrunner_schema_versions";

/// Connection settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClickHouseSettings {
    /// HTTP URL, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    /// User.
    pub user: String,
    /// Password.
    pub password: String,
    /// Database holding the tables.
    pub database: String,
}

impl ClickHouseSettings {
    /// A client without a database (for `CREATE DATABASE`); validation off,
    /// which servers older than 24.x need.
    fn server_client(&self) -> Client {
        Client::default()
            .with_url(&self.url)
            .with_user(&self.user)
            .with_password(&self.password)
            .with_validation(false)
    }

    /// A client of the database.
    pub(crate) fn client(&self) -> Client {
        self.server_client().with_database(&self.database)
    }
}

/// Inserts RowBinary rows (encoded by [`encode_row`]) into a family's table.
pub(crate) async fn insert(c: &Client, db: &str, family: Family, rows: bytes::Bytes) -> Result<()> {
    let cols: Vec<String> = columns(family)
        .iter()
        .map(|f| format!("`{}`", f.name()))
        .collect();
    let sql = format!(
        "INSERT INTO `{db}`.`{}` ({}) FORMAT RowBinary",
        family.as_str(),
        cols.join(", ")
    );
    let mut ins = c.insert_formatted_with(sql);
    ins.send(rows).await.map_err(ch)?;
    ins.end().await.map_err(ch)
}

/// An event payload as the sink takes it: within the size limit, decoded,
/// and passing every rule of the contract; its family and wire form (what
/// [`encode_row`] writes). The sink and `deadletter replay` both decode
/// with this, so a replayed row is the row the sink would have sent.
pub fn decode_row(
    validator: &Validator,
    payload: &[u8],
) -> std::result::Result<(Family, WireEvent), FieldError> {
    validator.check_size(payload.len())?;
    let w = WireEvent::from_json(payload)?;
    let (family, _) = validator.check(&w)?;
    Ok((family, w))
}

/// A client error as this crate's: a server exception keeps its code
/// (`Code: N` is how every server version from 18.16 on starts the text of
/// an exception; this is the one place that reads it).
pub(crate) fn ch(e: clickhouse::error::Error) -> Error {
    let message = e.to_string();
    let code = match &e {
        clickhouse::error::Error::BadResponse(text) => text
            .split("Code: ")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|c| c.parse::<u32>().ok()),
        _ => None,
    };
    match code {
        Some(code) => Error::ClickHouseServer { code, message },
        None => Error::ClickHouse(message),
    }
}

fn varint(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn string(s: &str, out: &mut Vec<u8>) {
    varint(s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

/// Appends one event as a RowBinary row of its family's table (the columns
/// in [`columns`] order, the types of [`column_type`]).
pub fn encode_row(family: Family, w: &WireEvent, out: &mut Vec<u8>) {
    for f in columns(family) {
        let v = w.get(f);
        if f.kind() == FieldKind::StrList {
            let items = match v {
                Some(FieldRef::StrList(items)) => items,
                _ => &[],
            };
            varint(items.len() as u64, out);
            items.iter().for_each(|s| string(s, out));
            continue;
        }
        if nullable(f) {
            out.push(u8::from(v.is_none()));
            if v.is_none() {
                continue;
            }
        }
        match (f.kind(), v) {
            (_, Some(FieldRef::Str(s))) => string(s, out),
            (_, Some(FieldRef::Json(m))) => {
                string(&serde_json::Value::Object(m.clone()).to_string(), out)
            }
            (_, Some(FieldRef::Int(i))) => out.extend_from_slice(&i.to_le_bytes()),
            (_, Some(FieldRef::Ts(t))) => out.extend_from_slice(&t.0.to_le_bytes()),
            (_, Some(FieldRef::Bool(b))) => out.push(u8::from(b)),
            // a required field missing (validation refuses such events)
            (FieldKind::Bool, _) => out.push(0),
            (FieldKind::Int | FieldKind::Ts, _) => out.extend_from_slice(&0i64.to_le_bytes()),
            (_, _) => string("", out),
        }
    }
}

fn nullable(f: FieldId) -> bool {
    !matches!(
        f,
        FieldId::event_id
            | FieldId::event_type
            | FieldId::schema_version
            | FieldId::occurred_at
            | FieldId::received_at
    )
}

/// String columns with few distinct values (types, devices, networks,
/// plans, currencies, …): `LowCardinality` where the server supports it.
pub const LOW_CARDINALITY: &[&str] = &[
    "event_type",
    "device_type",
    "os",
    "os_version",
    "device_model",
    "player_name",
    "player_version",
    "app_version",
    "cdn",
    "country",
    "isp",
    "network_type",
    "rendition",
    "code",
    "reason",
    "plan",
    "previous_plan",
    "currency",
    "kind",
    "language",
    "maturity_rating",
    "time_zone",
];

/// The ClickHouse type of a lake column; `low_cardinality`: the server
/// takes `LowCardinality` without experimental settings.
pub fn column_type(f: FieldId, low_cardinality: bool) -> String {
    let base = match f.kind() {
        FieldKind::Str | FieldKind::Json => "String",
        FieldKind::Int | FieldKind::Ts => "Int64",
        FieldKind::Bool => "UInt8",
        FieldKind::StrList => return "Array(String)".into(),
    };
    let t = if nullable(f) {
        format!("Nullable({base})")
    } else {
        base.into()
    };
    if low_cardinality && f.kind() == FieldKind::Str && LOW_CARDINALITY.contains(&f.name()) {
        format!("LowCardinality({t})")
    } else {
        t
    }
}

/// Whether the server takes `LowCardinality` columns as they are: true
/// when its `allow_experimental_low_cardinality_type` setting is on or
/// gone (it was removed once the type stopped being experimental); 18.16
/// has it, off.
pub async fn supports_low_cardinality(client: &Client) -> Result<bool> {
    #[derive(Debug, Row, Deserialize)]
    struct Setting {
        value: String,
    }
    let rows: Vec<Setting> = client
        .query("SELECT value FROM system.settings WHERE name = 'allow_experimental_low_cardinality_type'")
        .fetch_all()
        .await
        .map_err(ch)?;
    Ok(rows.first().is_none_or(|r| r.value == "1"))
}

/// The sorting key's columns.
const SORTING_KEY: &[&str] = &["event_type", "occurred_at", "event_id"];

/// `CREATE TABLE IF NOT EXISTS` of a family's table.
pub fn create_table(database: &str, family: Family, low_cardinality: bool) -> String {
    let cols: Vec<String> = columns(family)
        .into_iter()
        .map(|f| format!("    `{}` {}", f.name(), column_type(f, low_cardinality)))
        .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS `{database}`.`{family}` (\n{}\n) ENGINE = ReplacingMergeTree() \
         PARTITION BY toYYYYMM(toDateTime(intDiv(occurred_at, 1000), 'UTC')) \
         ORDER BY (event_type, occurred_at, event_id)",
        cols.join(",\n"),
        family = family.as_str()
    )
}

#[derive(Debug, Row, Deserialize)]
struct ColumnName {
    name: String,
    r#type: String,
}

#[derive(Debug, Row, Serialize, Deserialize)]
struct VersionRow {
    version: u32,
    description: String,
}

/// What `migrate` did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MigrateReport {
    /// The database.
    pub database: String,
    /// Schema version before (0: none recorded).
    pub from_version: u32,
    /// Schema version now.
    pub version: u32,
    /// Tables created.
    pub created: Vec<String>,
    /// Columns added to existing tables, as `table.column`.
    pub added_columns: Vec<String>,
    /// Whether the server takes `LowCardinality` (then low-cardinality
    /// strings use it).
    pub low_cardinality: bool,
    /// Existing columns changed to `LowCardinality`, as `table.column`.
    pub modified_columns: Vec<String>,
}

/// Drops the database and every table in it (benchmarks clean up with it).
pub async fn drop_database(s: &ClickHouseSettings) -> Result<()> {
    s.server_client()
        .query(&format!("DROP DATABASE IF EXISTS `{}`", s.database))
        .execute()
        .await
        .map_err(ch)
}

/// Creates the database, the version table and every family's table, adds
/// the contract's columns an existing table lacks (an older schema), and
/// records the version when anything changed. Running it again changes
/// nothing. Refuses a database whose recorded version is newer than this
/// build's.
pub async fn migrate(s: &ClickHouseSettings) -> Result<MigrateReport> {
    let server = s.server_client();
    let db = &s.database;
    server
        .query(&format!("CREATE DATABASE IF NOT EXISTS `{db}`"))
        .execute()
        .await
        .map_err(ch)?;
    let client = server.with_database(db);
    client
        .query(&format!(
            "CREATE TABLE IF NOT EXISTS `{db}`.`{VERSIONS_TABLE}` (version UInt32, description String, \
             applied_at DateTime DEFAULT now()) ENGINE = MergeTree() ORDER BY version"
        ))
        .execute()
        .await
        .map_err(ch)?;
    let recorded: Vec<VersionRow> = client
        .query(&format!(
            "SELECT version, description FROM `{db}`.`{VERSIONS_TABLE}` ORDER BY version"
        ))
        .fetch_all()
        .await
        .map_err(ch)?;
    let from_version = recorded.last().map_or(0, |r| r.version);
    if from_version > SCHEMA_VERSION {
        return Err(Error::ClickHouse(format!(
            "database `{db}` has schema version {from_version}, newer than this build's {SCHEMA_VERSION}"
        )));
    }
    let mut report = MigrateReport {
        database: db.clone(),
        from_version,
        version: SCHEMA_VERSION,
        ..MigrateReport::default()
    };
    let low_cardinality = supports_low_cardinality(&client).await?;
    report.low_cardinality = low_cardinality;
    for &family in Family::ALL {
        let table = family.as_str();
        let existing: Vec<ColumnName> = client
            .query("SELECT name, type FROM system.columns WHERE database = ? AND table = ?")
            .bind(db.as_str())
            .bind(table)
            .fetch_all()
            .await
            .map_err(ch)?;
        if existing.is_empty() {
            client
                .query(&create_table(db, family, low_cardinality))
                .execute()
                .await
                .map_err(ch)?;
            report.created.push(table.to_owned());
            continue;
        }
        for f in columns(family) {
            if let Some(c) = existing.iter().find(|c| c.name == f.name()) {
                // a table created before the server took LowCardinality
                // (sorting key columns stay: a key column's type is fixed)
                let want = column_type(f, low_cardinality);
                if want.starts_with("LowCardinality(")
                    && c.r#type == column_type(f, false)
                    && !SORTING_KEY.contains(&f.name())
                {
                    client
                        .query(&format!(
                            "ALTER TABLE `{db}`.`{table}` MODIFY COLUMN `{}` {want}",
                            f.name()
                        ))
                        .execute()
                        .await
                        .map_err(ch)?;
                    report
                        .modified_columns
                        .push(format!("{table}.{}", f.name()));
                }
                continue;
            }
            // (no `ADD COLUMN IF NOT EXISTS` on 18.16: checked above)
            client
                .query(&format!(
                    "ALTER TABLE `{db}`.`{table}` ADD COLUMN `{}` {}",
                    f.name(),
                    column_type(f, low_cardinality)
                ))
                .execute()
                .await
                .map_err(ch)?;
            report.added_columns.push(format!("{table}.{}", f.name()));
        }
    }
    let changed = !report.created.is_empty()
        || !report.added_columns.is_empty()
        || !report.modified_columns.is_empty();
    if changed || from_version < SCHEMA_VERSION {
        let mut insert = client
            .insert::<VersionRow>(VERSIONS_TABLE)
            .await
            .map_err(ch)?;
        insert
            .write(&VersionRow {
                version: SCHEMA_VERSION,
                description: format!(
                    "event tables; created [{}]; added [{}]; to LowCardinality [{}]",
                    report.created.join(", "),
                    report.added_columns.join(", "),
                    report.modified_columns.join(", ")
                ),
            })
            .await
            .map_err(ch)?;
        insert.end().await.map_err(ch)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_cardinality_columns_exist_and_are_strings() {
        for name in LOW_CARDINALITY {
            let f = Family::ALL
                .iter()
                .flat_map(|f| columns(*f))
                .find(|f| f.name() == *name)
                .unwrap_or_else(|| panic!("{name} is no column"));
            assert_eq!(f.kind(), FieldKind::Str, "{name}");
        }
        let sql = create_table("db", Family::Player, true);
        assert!(
            sql.contains("`event_type` LowCardinality(String),"),
            "{sql}"
        );
        assert!(
            sql.contains("`cdn` LowCardinality(Nullable(String)),"),
            "{sql}"
        );
        assert!(sql.contains("`view_id` Nullable(String),"), "{sql}");
        assert!(sql.contains("`event_id` String,"), "{sql}");
    }

    #[test]
    fn ddl_of_the_player_table() {
        let sql = create_table("db", Family::Player, false);
        assert!(sql.starts_with("CREATE TABLE IF NOT EXISTS `db`.`player` ("));
        assert!(sql.contains("`event_id` String,"), "{sql}");
        assert!(sql.contains("`occurred_at` Int64,"), "{sql}");
        assert!(sql.contains("`cdn` Nullable(String)"), "{sql}");
        assert!(
            sql.ends_with("ORDER BY (event_type, occurred_at, event_id)"),
            "{sql}"
        );
        assert_eq!(column_type(FieldId::genres, true), "Array(String)");
    }
}
