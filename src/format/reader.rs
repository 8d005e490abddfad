//! [`RowReader`]: decoding keys or values record after record into reused cells, for
//! column-wise batch building. Same results as [`super::deserialize`], which it falls back to
//! for anything its fast paths (JSON objects and bare values, KAFKA strings) do not read.

use super::json_fast::FastJson;
use super::{ColumnSpec, FormatError, FormatKind, FormatSpec, Part};
use crate::common::{Cell, SqlType, Value};

/// Reads the keys, or the values, of one source.
pub struct RowReader {
    spec: FormatSpec,
    part: Part,
    columns: Vec<ColumnSpec>,
    fast: Fast,
}

enum Fast {
    Json(FastJson),
    /// A KAFKA STRING: the UTF-8 bytes, borrowed when valid.
    KafkaString,
    None,
}

impl RowReader {
    pub fn new(spec: &FormatSpec, part: Part, columns: &[ColumnSpec]) -> RowReader {
        let fast = match (&spec.kind, columns) {
            (FormatKind::Json, _) => {
                FastJson::new(spec, part, columns).map_or(Fast::None, Fast::Json)
            }
            (FormatKind::Kafka, [column]) if column.sql_type == SqlType::String => {
                Fast::KafkaString
            }
            _ => Fast::None,
        };
        RowReader {
            spec: spec.clone(),
            part,
            columns: columns.to_vec(),
            fast,
        }
    }

    /// Decodes `bytes` into `out`: one cell per column, or nothing and `Ok(false)` for a null
    /// row (as [`super::deserialize`] gives `Ok(None)`).
    pub fn read<'a>(
        &self,
        bytes: Option<&'a [u8]>,
        out: &mut Vec<Cell<'a>>,
    ) -> Result<bool, FormatError> {
        out.clear();
        let Some(bytes) = bytes else {
            return Ok(false);
        };
        match &self.fast {
            Fast::Json(json) => {
                if json.read(bytes, out).is_some() {
                    return Ok(true);
                }
            }
            Fast::KafkaString => {
                out.push(match String::from_utf8_lossy(bytes) {
                    std::borrow::Cow::Borrowed(s) => Cell::Str(s),
                    std::borrow::Cow::Owned(s) => Cell::Val(Value::String(s)),
                });
                return Ok(true);
            }
            Fast::None => {}
        }
        self.read_exact(bytes, out)
    }

    /// Whether `bytes` are a null row although not null (a JSON `null` document), which
    /// [`Self::read`] reads as a null row.
    pub fn is_null_row(&self, bytes: &[u8]) -> bool {
        super::is_null_row(&self.spec, self.part, &self.columns, bytes)
    }

    fn read_exact<'a>(
        &self,
        bytes: &'a [u8],
        out: &mut Vec<Cell<'a>>,
    ) -> Result<bool, FormatError> {
        out.clear();
        match super::deserialize(&self.spec, self.part, &self.columns, Some(bytes))? {
            None => Ok(false),
            Some(values) => {
                out.extend(values.into_iter().map(Cell::Val));
                Ok(true)
            }
        }
    }
}
