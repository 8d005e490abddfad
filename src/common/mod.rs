//! Values and types shared by every layer: ksqlDB's SQL types and their Arrow representation,
//! and `Value`, one SQL value.
//!
//! May import: nothing else in the crate.

mod types;
mod value;

pub use types::{MAX_DECIMAL_PRECISION, SqlType, StructField};
pub use value::{Value, values_to_array};
