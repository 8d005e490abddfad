//! [`RowWriter`]: encoding the rows of a batch, column-wise from its Arrow arrays, into one
//! reused byte buffer. Output is byte for byte what [`super::serialize`] writes; JSON and KAFKA
//! are written straight from the arrays, other formats through `serialize` row by row.

use super::{ColumnSpec, FormatError, FormatKind, FormatSpec, Part};
use super::{json, json_emit, json_node};
use crate::common::{ArrayView, SqlType, Value};

/// Writes the keys, or the values, of a sink.
pub struct RowWriter {
    spec: FormatSpec,
    part: Part,
    columns: Vec<ColumnSpec>,
    fast: Fast,
}

enum Fast {
    /// A JSON object: before each column's value, `{"NAME":` or `,"NAME":`.
    JsonObject(Vec<Vec<u8>>),
    /// The bare JSON value of the only column.
    JsonBare,
    /// The KAFKA serialization of the only column.
    Kafka,
    /// Always `serialize`.
    None,
}

impl RowWriter {
    pub fn new(spec: &FormatSpec, part: Part, columns: &[ColumnSpec]) -> RowWriter {
        let fast = match spec.kind {
            FormatKind::Json if part == Part::Key && columns.is_empty() => Fast::None,
            FormatKind::Json if json::unwrapped(spec, part, columns) => Fast::JsonBare,
            FormatKind::Json => Fast::JsonObject(field_prefixes(columns)),
            FormatKind::Kafka if columns.len() == 1 => Fast::Kafka,
            _ => Fast::None,
        };
        RowWriter {
            spec: spec.clone(),
            part,
            columns: columns.to_vec(),
            fast,
        }
    }

    /// Appends the encoding of row `row` of `views` (one per column) to `out`. `Ok(false)`: the
    /// record part is null, nothing was appended. On an error, `out` may hold a partial row.
    pub fn write(
        &self,
        views: &[ArrayView<'_>],
        row: usize,
        out: &mut Vec<u8>,
    ) -> Result<bool, FormatError> {
        match (&self.fast, views) {
            (Fast::JsonObject(prefixes), _) if views.len() == prefixes.len() => {
                self.write_object(prefixes, views, row, out)?;
                Ok(true)
            }
            (Fast::JsonBare, [view]) if view.is_null(row) => Ok(false),
            (Fast::JsonBare, [view]) => {
                json_emit::write_cell(out, view, row, &self.columns[0].sql_type)?;
                Ok(true)
            }
            (Fast::Kafka, [view]) if view.is_null(row) => Ok(false),
            (Fast::Kafka, [view]) => self.write_kafka(view, row, out),
            _ => self.write_exact(views, row, out),
        }
    }

    fn write_object(
        &self,
        prefixes: &[Vec<u8>],
        views: &[ArrayView<'_>],
        row: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        if views.is_empty() {
            out.extend_from_slice(b"{}");
            return Ok(());
        }
        for ((prefix, view), column) in prefixes.iter().zip(views).zip(&self.columns) {
            out.extend_from_slice(prefix);
            json_emit::write_cell(out, view, row, &column.sql_type)?;
        }
        out.push(b'}');
        Ok(())
    }

    fn write_kafka(
        &self,
        view: &ArrayView<'_>,
        row: usize,
        out: &mut Vec<u8>,
    ) -> Result<bool, FormatError> {
        match (&self.columns[0].sql_type, view) {
            (SqlType::String, ArrayView::String(a)) => {
                out.extend_from_slice(a.value(row).as_bytes())
            }
            (SqlType::Int, ArrayView::Int(a)) => out.extend_from_slice(&a.value(row).to_be_bytes()),
            (SqlType::Bigint, ArrayView::Bigint(a)) => {
                out.extend_from_slice(&a.value(row).to_be_bytes())
            }
            (SqlType::Double, ArrayView::Double(a)) => {
                out.extend_from_slice(&a.value(row).to_be_bytes())
            }
            (SqlType::Bytes, ArrayView::Bytes(a)) => out.extend_from_slice(a.value(row)),
            _ => return self.write_exact(std::slice::from_ref(view), row, out),
        }
        Ok(true)
    }

    /// Through `serialize`, with the row's values.
    fn write_exact(
        &self,
        views: &[ArrayView<'_>],
        row: usize,
        out: &mut Vec<u8>,
    ) -> Result<bool, FormatError> {
        let values: Vec<Value> = views.iter().map(|v| v.value(row)).collect();
        match super::serialize(&self.spec, self.part, &self.columns, &values)? {
            Some(bytes) => {
                out.extend_from_slice(&bytes);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

fn field_prefixes(columns: &[ColumnSpec]) -> Vec<Vec<u8>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut prefix = String::from(if i == 0 { "{" } else { "," });
            json_node::write_string(&mut prefix, &c.name);
            prefix.push(':');
            prefix.into_bytes()
        })
        .collect()
}
