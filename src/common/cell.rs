//! Column-wise building of Arrow arrays from decoded cells, without a `Vec<Value>` per column
//! for the common scalar types.
//!
//! A [`Cell`] is one decoded value: a string borrowed from the record's bytes, or an owned
//! [`Value`]. A [`ColumnBuilder`] appends cells to an Arrow builder of its column's type; like
//! [`values_to_array`], a cell of another kind becomes NULL (formats coerce first).

use super::types::SqlType;
use super::value::{Value, values_to_array};
use arrow::array::*;
use std::sync::Arc;

/// One decoded value: borrowed text (from the bytes being decoded) or an owned value.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell<'a> {
    Str(&'a str),
    Val(Value),
}

impl Cell<'_> {
    pub const NULL: Cell<'static> = Cell::Val(Value::Null);

    pub fn is_null(&self) -> bool {
        matches!(self, Cell::Val(Value::Null))
    }

    /// The cell as an owned value.
    pub fn to_value(&self) -> Value {
        match self {
            Cell::Str(s) => Value::String(s.to_string()),
            Cell::Val(v) => v.clone(),
        }
    }
}

/// Builds one column of a batch from cells.
pub struct ColumnBuilder {
    inner: Inner,
}

enum Inner {
    Boolean(BooleanBuilder),
    Int(Int32Builder),
    Bigint(Int64Builder),
    Double(Float64Builder),
    String(StringBuilder),
    Timestamp(TimestampMillisecondBuilder),
    Date(Date32Builder),
    Time(Time32MillisecondBuilder),
    /// Decimals, bytes and nested types: values, turned into an array at the end.
    Values(Vec<Value>, SqlType),
}

/// Bytes reserved per row for string columns (grown as needed).
const STRING_BYTES_PER_ROW: usize = 16;

impl ColumnBuilder {
    /// A builder for a column of `sql_type`, with room for `capacity` rows.
    pub fn new(sql_type: &SqlType, capacity: usize) -> ColumnBuilder {
        let inner = match sql_type {
            SqlType::Boolean => Inner::Boolean(BooleanBuilder::with_capacity(capacity)),
            SqlType::Int => Inner::Int(Int32Builder::with_capacity(capacity)),
            SqlType::Bigint => Inner::Bigint(Int64Builder::with_capacity(capacity)),
            SqlType::Double => Inner::Double(Float64Builder::with_capacity(capacity)),
            SqlType::String => Inner::String(StringBuilder::with_capacity(
                capacity,
                capacity * STRING_BYTES_PER_ROW,
            )),
            SqlType::Timestamp => {
                Inner::Timestamp(TimestampMillisecondBuilder::with_capacity(capacity))
            }
            SqlType::Date => Inner::Date(Date32Builder::with_capacity(capacity)),
            SqlType::Time => Inner::Time(Time32MillisecondBuilder::with_capacity(capacity)),
            other => Inner::Values(Vec::with_capacity(capacity), other.clone()),
        };
        ColumnBuilder { inner }
    }

    /// Appends one row; a cell that is not of the column's kind is NULL.
    pub fn append(&mut self, cell: Cell<'_>) {
        match (&mut self.inner, cell) {
            (Inner::String(b), Cell::Str(s)) => b.append_value(s),
            (Inner::String(b), Cell::Val(Value::String(s))) => b.append_value(s),
            (Inner::String(b), _) => b.append_null(),
            (Inner::Values(values, _), cell) => values.push(match cell {
                Cell::Str(s) => Value::String(s.to_string()),
                Cell::Val(v) => v,
            }),
            (_, Cell::Str(_)) => self.append_null(),
            (_, Cell::Val(value)) => self.append_value(value),
        }
    }

    /// Appends a non-string value to a scalar builder.
    fn append_value(&mut self, value: Value) {
        match (&mut self.inner, value) {
            (Inner::Boolean(b), Value::Boolean(v)) => b.append_value(v),
            (Inner::Int(b), Value::Int(v)) => b.append_value(v),
            (Inner::Bigint(b), Value::Bigint(v)) => b.append_value(v),
            (Inner::Double(b), Value::Double(v)) => b.append_value(v),
            (Inner::Timestamp(b), Value::Timestamp(v)) => b.append_value(v),
            (Inner::Date(b), Value::Date(v)) => b.append_value(v),
            (Inner::Time(b), Value::Time(v)) => b.append_value(v),
            _ => self.append_null(),
        }
    }

    pub fn append_null(&mut self) {
        match &mut self.inner {
            Inner::Boolean(b) => b.append_null(),
            Inner::Int(b) => b.append_null(),
            Inner::Bigint(b) => b.append_null(),
            Inner::Double(b) => b.append_null(),
            Inner::String(b) => b.append_null(),
            Inner::Timestamp(b) => b.append_null(),
            Inner::Date(b) => b.append_null(),
            Inner::Time(b) => b.append_null(),
            Inner::Values(values, _) => values.push(Value::Null),
        }
    }

    /// The column built so far.
    pub fn finish(self) -> ArrayRef {
        match self.inner {
            Inner::Boolean(mut b) => Arc::new(b.finish()),
            Inner::Int(mut b) => Arc::new(b.finish()),
            Inner::Bigint(mut b) => Arc::new(b.finish()),
            Inner::Double(mut b) => Arc::new(b.finish()),
            Inner::String(mut b) => Arc::new(b.finish()),
            Inner::Timestamp(mut b) => Arc::new(b.finish()),
            Inner::Date(mut b) => Arc::new(b.finish()),
            Inner::Time(mut b) => Arc::new(b.finish()),
            Inner::Values(values, sql_type) => values_to_array(&values, &sql_type),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::StructField;

    /// Building from cells gives the same arrays as `values_to_array`, mismatches included.
    #[test]
    fn builders_agree_with_values_to_array() {
        let cases: Vec<(SqlType, Vec<Value>)> = vec![
            (SqlType::Boolean, vec![Value::Boolean(true), Value::Null]),
            (
                SqlType::Int,
                vec![Value::Int(1), Value::Bigint(2), Value::Null],
            ),
            (SqlType::Bigint, vec![Value::Bigint(-1), Value::Int(3)]),
            (SqlType::Double, vec![Value::Double(1.5), Value::Null]),
            (
                SqlType::String,
                vec![Value::String("é".into()), Value::Int(1)],
            ),
            (
                SqlType::Timestamp,
                vec![Value::Timestamp(5), Value::Bigint(5)],
            ),
            (SqlType::Date, vec![Value::Date(3), Value::Int(3)]),
            (SqlType::Time, vec![Value::Time(7), Value::Null]),
            (
                SqlType::decimal(4, 2),
                vec![Value::Decimal(1234, 2), Value::Null],
            ),
            (SqlType::Bytes, vec![Value::Bytes(vec![0, 1]), Value::Null]),
            (
                SqlType::Struct(vec![StructField {
                    name: "A".into(),
                    sql_type: SqlType::Int,
                }]),
                vec![
                    Value::Struct(vec![("A".into(), Value::Int(1))]),
                    Value::Null,
                ],
            ),
        ];
        for (sql_type, values) in cases {
            let mut builder = ColumnBuilder::new(&sql_type, 1);
            for v in &values {
                builder.append(Cell::Val(v.clone()));
            }
            let built = builder.finish();
            assert_eq!(&built, &values_to_array(&values, &sql_type), "{sql_type}");
        }
    }

    #[test]
    fn borrowed_strings_are_strings_elsewhere_null() {
        let mut strings = ColumnBuilder::new(&SqlType::String, 0);
        strings.append(Cell::Str("a"));
        strings.append(Cell::NULL);
        let mut ints = ColumnBuilder::new(&SqlType::Int, 0);
        ints.append(Cell::Str("1"));
        let strings = strings.finish();
        assert_eq!(
            Value::from_array(strings.as_ref(), 0),
            Value::String("a".into())
        );
        assert!(strings.is_null(1));
        assert!(ints.finish().is_null(0));
    }
}
