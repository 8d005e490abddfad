//! [`ArrayView`]: an Arrow array downcast once to its concrete type, so that writers can read
//! cells of a whole batch without a `Value` (and its allocations) per cell.

use super::value::Value;
use arrow::array::*;
use arrow::datatypes::{DataType, TimeUnit};

/// An array by its concrete type; `Other` for the types read through [`Value`].
#[derive(Clone, Copy)]
pub enum ArrayView<'a> {
    Boolean(&'a BooleanArray),
    Int(&'a Int32Array),
    Bigint(&'a Int64Array),
    Double(&'a Float64Array),
    String(&'a StringArray),
    Bytes(&'a BinaryArray),
    Timestamp(&'a TimestampMillisecondArray),
    Date(&'a Date32Array),
    Time(&'a Time32MillisecondArray),
    Other(&'a dyn Array),
}

impl<'a> ArrayView<'a> {
    pub fn new(array: &'a dyn Array) -> ArrayView<'a> {
        let any = array.as_any();
        let view = match array.data_type() {
            DataType::Boolean => any.downcast_ref().map(ArrayView::Boolean),
            DataType::Int32 => any.downcast_ref().map(ArrayView::Int),
            DataType::Int64 => any.downcast_ref().map(ArrayView::Bigint),
            DataType::Float64 => any.downcast_ref().map(ArrayView::Double),
            DataType::Utf8 => any.downcast_ref().map(ArrayView::String),
            DataType::Binary => any.downcast_ref().map(ArrayView::Bytes),
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                any.downcast_ref().map(ArrayView::Timestamp)
            }
            DataType::Date32 => any.downcast_ref().map(ArrayView::Date),
            DataType::Time32(TimeUnit::Millisecond) => any.downcast_ref().map(ArrayView::Time),
            _ => None,
        };
        view.unwrap_or(ArrayView::Other(array))
    }

    pub fn array(&self) -> &'a dyn Array {
        match *self {
            ArrayView::Boolean(a) => a,
            ArrayView::Int(a) => a,
            ArrayView::Bigint(a) => a,
            ArrayView::Double(a) => a,
            ArrayView::String(a) => a,
            ArrayView::Bytes(a) => a,
            ArrayView::Timestamp(a) => a,
            ArrayView::Date(a) => a,
            ArrayView::Time(a) => a,
            ArrayView::Other(a) => a,
        }
    }

    pub fn is_null(&self, row: usize) -> bool {
        self.array().is_null(row)
    }

    /// Row `row` as a value (what `Value::from_array` gives).
    pub fn value(&self, row: usize) -> Value {
        Value::from_array(self.array(), row)
    }
}
