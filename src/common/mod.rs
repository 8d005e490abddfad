//! Values and types shared by every layer: ksqlDB's SQL types and their Arrow representation,
//! `Value`, one SQL value, column-wise conversion between cells and Arrow arrays, and the change
//! batch that flows between operators with its text form for tests (`change_pretty`).
//!
//! May import: nothing else in the crate.

mod cell;
pub mod change;
#[cfg(test)]
pub mod change_pretty;
pub mod codec;
pub mod ipc;
pub mod limits;
mod types;
mod value;
mod view;

pub use cell::{Cell, ColumnBuilder};
pub use types::{MAX_DECIMAL_PRECISION, SqlType, StructField};
pub use value::{Value, values_to_array};
pub use view::ArrayView;
