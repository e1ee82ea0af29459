//! Arrow tables of the lake: one schema per [`Family`] with flat nullable
//! columns named as the JSON fields — the envelope first, then the payload
//! fields of every type of the family, then `properties` (JSON text).
//!
//! [`BatchBuilder`] appends [`WireEvent`]s column by column; [`read_batch`]
//! turns a `RecordBatch` of any family back into wire events.

use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMillisecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, Result};
use crate::wire::{ENVELOPE, FieldId, FieldKind, FieldRef, FieldValue, WireEvent};
use crate::{Family, Timestamp};

/// The columns of a family's table, in order.
pub fn columns(family: Family) -> Vec<FieldId> {
    let mut cols: Vec<FieldId> = ENVELOPE.to_vec();
    cols.extend(
        family
            .payload_columns()
            .into_iter()
            .filter(|f| !ENVELOPE.contains(f)),
    );
    cols.push(FieldId::properties);
    cols
}

/// The Arrow type of a field kind.
pub fn data_type(kind: FieldKind) -> DataType {
    match kind {
        FieldKind::Str | FieldKind::Json => DataType::Utf8,
        FieldKind::Int => DataType::Int64,
        FieldKind::Bool => DataType::Boolean,
        FieldKind::Ts => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        FieldKind::StrList => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
    }
}

/// The Arrow schema of a family's table.
pub fn schema(family: Family) -> SchemaRef {
    let fields: Vec<Field> = columns(family)
        .into_iter()
        .map(|f| {
            let nullable = !matches!(
                f,
                FieldId::event_id
                    | FieldId::event_type
                    | FieldId::schema_version
                    | FieldId::occurred_at
                    | FieldId::received_at
            );
            Field::new(f.name(), data_type(f.kind()), nullable)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

enum Col {
    Str(StringBuilder),
    Int(Int64Builder),
    Bool(BooleanBuilder),
    Ts(TimestampMillisecondBuilder),
    List(ListBuilder<StringBuilder>),
}

impl Col {
    fn new(kind: FieldKind, capacity: usize) -> Col {
        match kind {
            FieldKind::Str | FieldKind::Json => {
                Col::Str(StringBuilder::with_capacity(capacity, capacity * 16))
            }
            FieldKind::Int => Col::Int(Int64Builder::with_capacity(capacity)),
            FieldKind::Bool => Col::Bool(BooleanBuilder::with_capacity(capacity)),
            FieldKind::Ts => {
                Col::Ts(TimestampMillisecondBuilder::with_capacity(capacity).with_timezone("UTC"))
            }
            FieldKind::StrList => Col::List(ListBuilder::new(StringBuilder::new())),
        }
    }

    fn append(&mut self, v: Option<FieldRef<'_>>) {
        match (self, v) {
            (Col::Str(b), Some(FieldRef::Str(s))) => b.append_value(s),
            (Col::Str(b), Some(FieldRef::Json(m))) => {
                b.append_value(serde_json::Value::Object(m.clone()).to_string())
            }
            (Col::Str(b), _) => b.append_null(),
            (Col::Int(b), Some(FieldRef::Int(i))) => b.append_value(i),
            (Col::Int(b), _) => b.append_null(),
            (Col::Bool(b), Some(FieldRef::Bool(x))) => b.append_value(x),
            (Col::Bool(b), _) => b.append_null(),
            (Col::Ts(b), Some(FieldRef::Ts(t))) => b.append_value(t.0),
            (Col::Ts(b), _) => b.append_null(),
            (Col::List(b), Some(FieldRef::StrList(items))) => {
                for s in items {
                    b.values().append_value(s);
                }
                b.append(true);
            }
            (Col::List(b), _) => b.append(false),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Col::Str(b) => Arc::new(b.finish()),
            Col::Int(b) => Arc::new(b.finish()),
            Col::Bool(b) => Arc::new(b.finish()),
            Col::Ts(b) => Arc::new(b.finish()),
            Col::List(b) => Arc::new(b.finish()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Col::Str(b) => b.len(),
            Col::Int(b) => b.len(),
            Col::Bool(b) => b.len(),
            Col::Ts(b) => b.len(),
            Col::List(b) => b.len(),
        }
    }
}

/// Builds the `RecordBatch` of one family from wire events.
pub struct BatchBuilder {
    family: Family,
    schema: SchemaRef,
    columns: Vec<(FieldId, Col)>,
}

impl BatchBuilder {
    /// An empty builder sized for about `capacity` rows.
    pub fn new(family: Family, capacity: usize) -> Self {
        Self {
            family,
            schema: schema(family),
            columns: columns(family)
                .into_iter()
                .map(|f| (f, Col::new(f.kind(), capacity)))
                .collect(),
        }
    }

    /// The family.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Appends one event. Fields that are not columns of this family are
    /// ignored; validated events never carry any.
    pub fn append(&mut self, w: &WireEvent) {
        for (f, col) in &mut self.columns {
            col.append(w.get(*f));
        }
    }

    /// Rows appended since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| c.len())
    }

    /// True when no row is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the rows appended so far as a batch.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(|(_, c)| c.finish()).collect();
        RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| Error::Arrow(e.to_string()))
    }
}

/// Reads the rows of a family table back into wire events. Columns this
/// build does not know are ignored (newer writers); missing ones are null.
pub fn read_batch(batch: &RecordBatch) -> Result<Vec<WireEvent>> {
    let mut out = vec![WireEvent::default(); batch.num_rows()];
    for (i, field) in batch.schema().fields().iter().enumerate() {
        let Some(id) = FieldId::from_name(field.name()) else {
            continue;
        };
        let array = batch.column(i);
        let bad = || {
            Error::Arrow(format!(
                "column `{}` has type {}",
                field.name(),
                array.data_type()
            ))
        };
        for (row, w) in out.iter_mut().enumerate() {
            if array.is_null(row) {
                continue;
            }
            let value = match (id.kind(), array.data_type()) {
                (FieldKind::Str, DataType::Utf8) => {
                    FieldValue::Str(array.as_string::<i32>().value(row).to_owned())
                }
                (FieldKind::Json, DataType::Utf8) => {
                    let text = array.as_string::<i32>().value(row);
                    match serde_json::from_str(text) {
                        Ok(serde_json::Value::Object(m)) => FieldValue::Json(m),
                        _ => return Err(bad()),
                    }
                }
                (FieldKind::Int, DataType::Int64) => {
                    FieldValue::Int(array.as_primitive::<Int64Type>().value(row))
                }
                (FieldKind::Bool, DataType::Boolean) => {
                    FieldValue::Bool(array.as_boolean().value(row))
                }
                (FieldKind::Ts, DataType::Timestamp(TimeUnit::Millisecond, _)) => FieldValue::Ts(
                    Timestamp(array.as_primitive::<TimestampMillisecondType>().value(row)),
                ),
                (FieldKind::StrList, DataType::List(_)) => {
                    let list = array.as_list::<i32>().value(row);
                    let strings = list.as_string::<i32>();
                    FieldValue::StrList(
                        (0..strings.len())
                            .map(|j| strings.value(j).to_owned())
                            .collect(),
                    )
                }
                _ => return Err(bad()),
            };
            w.set(id, value).map_err(|e| Error::Arrow(e.to_string()))?;
        }
    }
    Ok(out)
}
