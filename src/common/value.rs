//! `Value`: one SQL value, used where rows are handled one at a time (formats, literal values,
//! row-wise functions, conformance comparisons), and its conversion to and from Arrow arrays.

use super::types::{SqlType, StructField};
use arrow::array::*;
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Value {
    Null,
    Boolean(bool),
    Int(i32),
    Bigint(i64),
    Double(f64),
    /// Unscaled value and scale: `Decimal(12345, 2)` is 123.45.
    Decimal(i128, i8),
    String(String),
    Bytes(Vec<u8>),
    /// Milliseconds since the epoch (UTC).
    Timestamp(i64),
    /// Days since the epoch.
    Date(i32),
    /// Milliseconds since midnight.
    Time(i32),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Struct(Vec<(String, Value)>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// An estimate of the memory the value takes: its own slot, the bytes of strings and
    /// binary values, and the elements of collections (see `common::limits`).
    pub fn footprint(&self) -> usize {
        let slot = std::mem::size_of::<Value>();
        slot + match self {
            Value::String(s) => s.len(),
            Value::Bytes(b) => b.len(),
            Value::Array(items) => items.iter().map(Value::footprint).sum(),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| k.footprint() + v.footprint())
                .sum(),
            Value::Struct(fields) => fields.iter().map(|(n, v)| n.len() + v.footprint()).sum(),
            _ => 0,
        }
    }

    /// Reads row `row` of an Arrow array Brook produced.
    pub fn from_array(array: &dyn Array, row: usize) -> Value {
        if array.is_null(row) {
            return Value::Null;
        }
        macro_rules! prim {
            ($t:ty, $v:ident) => {
                Value::$v(
                    array
                        .as_any()
                        .downcast_ref::<$t>()
                        .map(|a| a.value(row))
                        .unwrap_or_default(),
                )
            };
        }
        match array.data_type() {
            DataType::Boolean => Value::Boolean(
                array
                    .as_any()
                    .downcast_ref::<BooleanArray>()
                    .is_some_and(|a| a.value(row)),
            ),
            DataType::Int32 => prim!(Int32Array, Int),
            DataType::Int64 => prim!(Int64Array, Bigint),
            DataType::Float64 => prim!(Float64Array, Double),
            DataType::Decimal128(_, s) => Value::Decimal(
                array
                    .as_any()
                    .downcast_ref::<Decimal128Array>()
                    .map(|a| a.value(row))
                    .unwrap_or_default(),
                *s,
            ),
            DataType::Utf8 => Value::String(
                array
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .map(|a| a.value(row).to_string())
                    .unwrap_or_default(),
            ),
            DataType::Binary => Value::Bytes(
                array
                    .as_any()
                    .downcast_ref::<BinaryArray>()
                    .map(|a| a.value(row).to_vec())
                    .unwrap_or_default(),
            ),
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                prim!(TimestampMillisecondArray, Timestamp)
            }
            DataType::Date32 => prim!(Date32Array, Date),
            DataType::Time32(TimeUnit::Millisecond) => prim!(Time32MillisecondArray, Time),
            DataType::List(_) => {
                let list = array.as_any().downcast_ref::<ListArray>();
                list.map_or(Value::Null, |l| {
                    let child = l.value(row);
                    Value::Array(
                        (0..child.len())
                            .map(|i| Value::from_array(child.as_ref(), i))
                            .collect(),
                    )
                })
            }
            DataType::Map(_, _) => {
                array
                    .as_any()
                    .downcast_ref::<MapArray>()
                    .map_or(Value::Null, |m| {
                        let entries = m.value(row);
                        let (keys, values) = (entries.column(0), entries.column(1));
                        Value::Map(
                            (0..entries.len())
                                .map(|i| {
                                    (
                                        Value::from_array(keys.as_ref(), i),
                                        Value::from_array(values.as_ref(), i),
                                    )
                                })
                                .collect(),
                        )
                    })
            }
            DataType::Struct(fields) => {
                array
                    .as_any()
                    .downcast_ref::<StructArray>()
                    .map_or(Value::Null, |s| {
                        Value::Struct(
                            fields
                                .iter()
                                .zip(s.columns())
                                .map(|(f, c)| {
                                    (f.name().clone(), Value::from_array(c.as_ref(), row))
                                })
                                .collect(),
                        )
                    })
            }
            _ => Value::Null,
        }
    }
}

/// Builds an Arrow array of `sql_type` from values that already have that type (or are null).
/// A value of another type becomes null; callers coerce first.
pub fn values_to_array(values: &[Value], sql_type: &SqlType) -> ArrayRef {
    match sql_type {
        SqlType::Boolean => Arc::new(
            values
                .iter()
                .map(|v| {
                    if let Value::Boolean(b) = v {
                        Some(*b)
                    } else {
                        None
                    }
                })
                .collect::<BooleanArray>(),
        ),
        SqlType::Int => Arc::new(
            values
                .iter()
                .map(|v| {
                    if let Value::Int(x) = v {
                        Some(*x)
                    } else {
                        None
                    }
                })
                .collect::<Int32Array>(),
        ),
        SqlType::Bigint => Arc::new(
            values
                .iter()
                .map(|v| {
                    if let Value::Bigint(x) = v {
                        Some(*x)
                    } else {
                        None
                    }
                })
                .collect::<Int64Array>(),
        ),
        SqlType::Double => Arc::new(
            values
                .iter()
                .map(|v| {
                    if let Value::Double(x) = v {
                        Some(*x)
                    } else {
                        None
                    }
                })
                .collect::<Float64Array>(),
        ),
        SqlType::Decimal { precision, scale } => Arc::new(
            values
                .iter()
                .map(|v| {
                    if let Value::Decimal(x, _) = v {
                        Some(*x)
                    } else {
                        None
                    }
                })
                .collect::<Decimal128Array>()
                .with_precision_and_scale(*precision, *scale)
                .unwrap_or_else(|_| Decimal128Array::from(vec![None::<i128>; values.len()])),
        ),
        SqlType::String => Arc::new(
            values
                .iter()
                .map(|v| {
                    if let Value::String(s) = v {
                        Some(s.as_str())
                    } else {
                        None
                    }
                })
                .collect::<StringArray>(),
        ),
        SqlType::Bytes => Arc::new(
            values
                .iter()
                .map(|v| {
                    if let Value::Bytes(b) = v {
                        Some(b.as_slice())
                    } else {
                        None
                    }
                })
                .collect::<BinaryArray>(),
        ),
        SqlType::Timestamp => Arc::new(
            values
                .iter()
                .map(|v| {
                    if let Value::Timestamp(x) = v {
                        Some(*x)
                    } else {
                        None
                    }
                })
                .collect::<TimestampMillisecondArray>(),
        ),
        SqlType::Date => Arc::new(
            values
                .iter()
                .map(|v| {
                    if let Value::Date(x) = v {
                        Some(*x)
                    } else {
                        None
                    }
                })
                .collect::<Date32Array>(),
        ),
        SqlType::Time => Arc::new(
            values
                .iter()
                .map(|v| {
                    if let Value::Time(x) = v {
                        Some(*x)
                    } else {
                        None
                    }
                })
                .collect::<Time32MillisecondArray>(),
        ),
        SqlType::Array(element) => list_array(values, element),
        SqlType::Map(k, v) => map_array(values, k, v),
        SqlType::Struct(fields) => struct_array(values, fields),
    }
}

fn list_array(values: &[Value], element: &SqlType) -> ArrayRef {
    let mut children = Vec::new();
    let mut lengths = Vec::with_capacity(values.len());
    let mut valid = Vec::with_capacity(values.len());
    for v in values {
        match v {
            Value::Array(items) => {
                children.extend(items.iter().cloned());
                lengths.push(items.len());
                valid.push(true);
            }
            _ => {
                lengths.push(0);
                valid.push(false);
            }
        }
    }
    let field = Arc::new(Field::new("item", element.arrow_type(), true));
    let child = values_to_array(&children, element);
    Arc::new(ListArray::new(
        field,
        OffsetBuffer::from_lengths(lengths),
        child,
        Some(NullBuffer::from(valid)),
    ))
}

fn map_array(values: &[Value], key: &SqlType, value: &SqlType) -> ArrayRef {
    let (mut keys, mut vals, mut lengths, mut valid) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for v in values {
        match v {
            Value::Map(entries) => {
                // Arrow map keys cannot be null: entries with a NULL key are not representable.
                let kept: Vec<&(Value, Value)> =
                    entries.iter().filter(|(k, _)| !k.is_null()).collect();
                for (k, v) in &kept {
                    keys.push(k.clone());
                    vals.push(v.clone());
                }
                lengths.push(kept.len());
                valid.push(true);
            }
            _ => {
                lengths.push(0);
                valid.push(false);
            }
        }
    }
    let fields = Fields::from(vec![
        Field::new("key", key.arrow_type(), false),
        Field::new("value", value.arrow_type(), true),
    ]);
    let entries = StructArray::new(
        fields.clone(),
        vec![values_to_array(&keys, key), values_to_array(&vals, value)],
        None,
    );
    let field = Arc::new(Field::new("entries", DataType::Struct(fields), false));
    Arc::new(MapArray::new(
        field,
        OffsetBuffer::from_lengths(lengths),
        entries,
        Some(NullBuffer::from(valid)),
        false,
    ))
}

fn struct_array(values: &[Value], fields: &[StructField]) -> ArrayRef {
    let valid: Vec<bool> = values
        .iter()
        .map(|v| matches!(v, Value::Struct(_)))
        .collect();
    let children = fields
        .iter()
        .map(|f| {
            let column: Vec<Value> = values
                .iter()
                .map(|v| match v {
                    Value::Struct(entries) => entries
                        .iter()
                        .find(|(n, _)| n == &f.name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or(Value::Null),
                    _ => Value::Null,
                })
                .collect();
            values_to_array(&column, &f.sql_type)
        })
        .collect();
    let arrow_fields: Fields = fields
        .iter()
        .map(|f| Field::new(&f.name, f.sql_type.arrow_type(), true))
        .collect();
    if arrow_fields.is_empty() {
        return Arc::new(StructArray::new_empty_fields(
            values.len(),
            Some(NullBuffer::from(valid)),
        ));
    }
    Arc::new(StructArray::new(
        arrow_fields,
        children,
        Some(NullBuffer::from(valid)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_values_round_trip_through_arrow() {
        let t = SqlType::Struct(vec![
            StructField {
                name: "A".into(),
                sql_type: SqlType::array(SqlType::Int),
            },
            StructField {
                name: "M".into(),
                sql_type: SqlType::map(SqlType::String, SqlType::decimal(5, 2)),
            },
        ]);
        let values = vec![
            Value::Struct(vec![
                ("A".into(), Value::Array(vec![Value::Int(1), Value::Null])),
                (
                    "M".into(),
                    Value::Map(vec![(Value::String("x".into()), Value::Decimal(1234, 2))]),
                ),
            ]),
            Value::Null,
            Value::Struct(vec![
                ("A".into(), Value::Null),
                ("M".into(), Value::Map(vec![])),
            ]),
        ];
        let array = values_to_array(&values, &t);
        let back: Vec<Value> = (0..3)
            .map(|i| Value::from_array(array.as_ref(), i))
            .collect();
        assert_eq!(back, values);
    }
}
