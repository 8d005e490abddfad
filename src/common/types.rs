//! ksqlDB's SQL types and their Arrow representation.

use arrow::datatypes::{DataType, Field, Fields, TimeUnit};
use std::fmt;
use std::sync::Arc;

/// A field of a STRUCT type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StructField {
    pub name: String,
    pub sql_type: SqlType,
}

/// A ksqlDB SQL type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SqlType {
    Boolean,
    Int,
    Bigint,
    Double,
    Decimal { precision: u8, scale: i8 },
    String,
    Bytes,
    Timestamp,
    Date,
    Time,
    Array(Box<SqlType>),
    Map(Box<SqlType>, Box<SqlType>),
    Struct(Vec<StructField>),
}

/// Largest DECIMAL precision ksqlDB allows.
pub const MAX_DECIMAL_PRECISION: u8 = 38;

impl SqlType {
    pub fn decimal(precision: u8, scale: i8) -> SqlType {
        SqlType::Decimal { precision, scale }
    }

    pub fn array(element: SqlType) -> SqlType {
        SqlType::Array(Box::new(element))
    }

    pub fn map(key: SqlType, value: SqlType) -> SqlType {
        SqlType::Map(Box::new(key), Box::new(value))
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            SqlType::Int | SqlType::Bigint | SqlType::Double | SqlType::Decimal { .. }
        )
    }

    pub fn is_integral(&self) -> bool {
        matches!(self, SqlType::Int | SqlType::Bigint)
    }

    /// The type's name without parameters, as ksqlDB prints it in some messages (`DECIMAL`,
    /// `ARRAY`).
    pub fn base_name(&self) -> String {
        let s = self.to_string();
        s.split(['(', '<']).next().unwrap_or(&s).to_string()
    }

    /// The Arrow type Brook uses for columns of this type.
    pub fn arrow_type(&self) -> DataType {
        match self {
            SqlType::Boolean => DataType::Boolean,
            SqlType::Int => DataType::Int32,
            SqlType::Bigint => DataType::Int64,
            SqlType::Double => DataType::Float64,
            SqlType::Decimal { precision, scale } => DataType::Decimal128(*precision, *scale),
            SqlType::String => DataType::Utf8,
            SqlType::Bytes => DataType::Binary,
            SqlType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
            SqlType::Date => DataType::Date32,
            SqlType::Time => DataType::Time32(TimeUnit::Millisecond),
            SqlType::Array(e) => DataType::List(Arc::new(Field::new("item", e.arrow_type(), true))),
            SqlType::Map(k, v) => {
                let entries = Fields::from(vec![
                    Field::new("key", k.arrow_type(), false),
                    Field::new("value", v.arrow_type(), true),
                ]);
                DataType::Map(
                    Arc::new(Field::new("entries", DataType::Struct(entries), false)),
                    false,
                )
            }
            SqlType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|f| Field::new(&f.name, f.sql_type.arrow_type(), true))
                    .collect(),
            ),
        }
    }

    /// The SQL type of an Arrow type Brook produced, if it is one.
    pub fn from_arrow(dt: &DataType) -> Option<SqlType> {
        Some(match dt {
            DataType::Boolean => SqlType::Boolean,
            DataType::Int32 => SqlType::Int,
            DataType::Int64 => SqlType::Bigint,
            DataType::Float64 => SqlType::Double,
            DataType::Decimal128(p, s) => SqlType::Decimal {
                precision: *p,
                scale: *s,
            },
            DataType::Utf8 => SqlType::String,
            DataType::Binary => SqlType::Bytes,
            DataType::Timestamp(TimeUnit::Millisecond, _) => SqlType::Timestamp,
            DataType::Date32 => SqlType::Date,
            DataType::Time32(TimeUnit::Millisecond) => SqlType::Time,
            DataType::List(f) => SqlType::array(SqlType::from_arrow(f.data_type())?),
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => SqlType::map(
                    SqlType::from_arrow(kv[0].data_type())?,
                    SqlType::from_arrow(kv[1].data_type())?,
                ),
                _ => return None,
            },
            DataType::Struct(fields) => SqlType::Struct(
                fields
                    .iter()
                    .map(|f| {
                        Some(StructField {
                            name: f.name().clone(),
                            sql_type: SqlType::from_arrow(f.data_type())?,
                        })
                    })
                    .collect::<Option<Vec<_>>>()?,
            ),
            _ => return None,
        })
    }
}

impl fmt::Display for SqlType {
    /// ksqlDB's spelling, e.g. `MAP<STRING, ARRAY<INTEGER>>` and `STRUCT<`A` INTEGER>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlType::Boolean => f.write_str("BOOLEAN"),
            SqlType::Int => f.write_str("INTEGER"),
            SqlType::Bigint => f.write_str("BIGINT"),
            SqlType::Double => f.write_str("DOUBLE"),
            SqlType::Decimal { precision, scale } => write!(f, "DECIMAL({precision}, {scale})"),
            SqlType::String => f.write_str("STRING"),
            SqlType::Bytes => f.write_str("BYTES"),
            SqlType::Timestamp => f.write_str("TIMESTAMP"),
            SqlType::Date => f.write_str("DATE"),
            SqlType::Time => f.write_str("TIME"),
            SqlType::Array(e) => write!(f, "ARRAY<{e}>"),
            SqlType::Map(k, v) => write!(f, "MAP<{k}, {v}>"),
            SqlType::Struct(fields) => {
                f.write_str("STRUCT<")?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{}` {}", field.name, field.sql_type)?;
                }
                f.write_str(">")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_round_trip_and_display() {
        let t = SqlType::map(
            SqlType::String,
            SqlType::Struct(vec![
                StructField {
                    name: "A".into(),
                    sql_type: SqlType::array(SqlType::decimal(10, 2)),
                },
                StructField {
                    name: "b".into(),
                    sql_type: SqlType::Timestamp,
                },
            ]),
        );
        assert_eq!(SqlType::from_arrow(&t.arrow_type()), Some(t.clone()));
        assert_eq!(
            t.to_string(),
            "MAP<STRING, STRUCT<`A` ARRAY<DECIMAL(10, 2)>, `b` TIMESTAMP>>"
        );
    }
}
