//! Custom physical expressions for ksqlDB semantics that DataFusion's built-ins do not have.
//!
//! - [`RowFn`]: a function evaluated row by row over [`Value`]s (ksqlDB's functions, casts,
//!   field access, constructors). It either turns errors into NULL at this node (ksqlDB wraps
//!   function calls, casts and dereferences this way) or passes them up.
//! - [`NullAsFalse`]: a comparison whose NULL result reads as FALSE, as in ksqlDB.

use crate::common::{SqlType, Value, limits, values_to_array};
use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::datatypes::{Field, FieldRef, Schema};
use arrow::record_batch::RecordBatch;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The row-wise body of a [`RowFn`]: argument values in, one value (or an error message) out.
pub type RowBody = Arc<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

/// What a [`RowFn`] does when its body or an argument fails for a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OnError {
    /// The value of this node becomes NULL for that row.
    Null,
    /// The error propagates to the enclosing expression.
    Propagate,
}

pub struct RowFn {
    name: String,
    args: Vec<Arc<dyn PhysicalExpr>>,
    return_type: SqlType,
    on_error: OnError,
    body: RowBody,
}

impl RowFn {
    /// A physical expression evaluating `body` row by row over the values of `args`.
    pub fn physical(
        name: impl Into<String>,
        args: Vec<Arc<dyn PhysicalExpr>>,
        return_type: SqlType,
        on_error: OnError,
        body: RowBody,
    ) -> Arc<dyn PhysicalExpr> {
        Arc::new(RowFn {
            name: name.into(),
            args,
            return_type,
            on_error,
            body,
        })
    }

    fn arg_arrays(&self, batch: &RecordBatch) -> DfResult<Vec<ArrayRef>> {
        self.args
            .iter()
            .map(|a| a.evaluate(batch)?.into_array(batch.num_rows()))
            .collect()
    }

    /// Applies the body to every row of already evaluated arguments; each result is charged
    /// to the query step's budget (`limits::charge_step`), as the batch keeps them all.
    fn apply(&self, args: &[ArrayRef], rows: usize) -> DfResult<Vec<Value>> {
        let mut out = Vec::with_capacity(rows);
        let mut row = Vec::with_capacity(args.len());
        for i in 0..rows {
            row.clear();
            row.extend(args.iter().map(|a| Value::from_array(a.as_ref(), i)));
            let result = limits::scoped(|| {
                // A step past its budget is rolled back: its remaining rows are not worth making.
                limits::check_step()?;
                let value = (self.body)(&row)?;
                let bytes = value.footprint();
                limits::check_value_size(bytes, &self.name)?;
                limits::charge_step(bytes)?;
                Ok(value)
            });
            match (result, self.on_error) {
                (Ok(v), _) => out.push(v),
                (Err(_), OnError::Null) => out.push(Value::Null),
                (Err(e), OnError::Propagate) => {
                    return Err(DataFusionError::Execution(format!("{}: {e}", self.name)));
                }
            }
        }
        Ok(out)
    }

    /// Row by row, so that an argument failing for one row nulls only that row.
    fn per_row(&self, batch: &RecordBatch) -> Vec<Value> {
        (0..batch.num_rows())
            .map(|i| {
                let one = batch.slice(i, 1);
                self.arg_arrays(&one)
                    .and_then(|args| self.apply(&args, 1))
                    .ok()
                    .and_then(|mut v| v.pop())
                    .unwrap_or(Value::Null)
            })
            .collect()
    }
}

impl PhysicalExpr for RowFn {
    fn return_field(&self, _input_schema: &Schema) -> DfResult<FieldRef> {
        Ok(Arc::new(Field::new(
            &self.name,
            self.return_type.arrow_type(),
            true,
        )))
    }

    fn evaluate(&self, batch: &RecordBatch) -> DfResult<ColumnarValue> {
        let rows = batch.num_rows();
        let values = match self
            .arg_arrays(batch)
            .and_then(|args| self.apply(&args, rows))
        {
            Ok(values) => values,
            Err(e) if self.on_error == OnError::Propagate => return Err(e),
            Err(_) => self.per_row(batch),
        };
        Ok(ColumnarValue::Array(values_to_array(
            &values,
            &self.return_type,
        )))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        self.args.iter().collect()
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> DfResult<Arc<dyn PhysicalExpr>> {
        Ok(Arc::new(RowFn {
            name: self.name.clone(),
            args: children,
            return_type: self.return_type.clone(),
            on_error: self.on_error,
            body: self.body.clone(),
        }))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for RowFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        f.write_str(")")
    }
}

impl fmt::Debug for RowFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RowFn({self})")
    }
}

impl PartialEq for RowFn {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.args == other.args && Arc::ptr_eq(&self.body, &other.body)
    }
}

impl Eq for RowFn {}

impl Hash for RowFn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.args.hash(state);
    }
}

/// A boolean expression whose NULL results read as FALSE.
#[derive(Debug, Eq)]
pub struct NullAsFalse {
    inner: Arc<dyn PhysicalExpr>,
}

impl PartialEq for NullAsFalse {
    fn eq(&self, other: &Self) -> bool {
        self.inner.as_ref() == other.inner.as_ref()
    }
}

impl Hash for NullAsFalse {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.hash(state);
    }
}

impl NullAsFalse {
    pub fn wrap(inner: Arc<dyn PhysicalExpr>) -> Arc<dyn PhysicalExpr> {
        Arc::new(NullAsFalse { inner })
    }
}

impl PhysicalExpr for NullAsFalse {
    fn return_field(&self, _input_schema: &Schema) -> DfResult<FieldRef> {
        Ok(Arc::new(Field::new(
            "bool",
            arrow::datatypes::DataType::Boolean,
            false,
        )))
    }

    fn evaluate(&self, batch: &RecordBatch) -> DfResult<ColumnarValue> {
        let array = self.inner.evaluate(batch)?.into_array(batch.num_rows())?;
        let bools = array
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| {
                DataFusionError::Internal("comparison did not produce booleans".into())
            })?;
        if bools.null_count() == 0 {
            return Ok(ColumnarValue::Array(array));
        }
        let filled: BooleanArray = bools.iter().map(|v| Some(v.unwrap_or(false))).collect();
        Ok(ColumnarValue::Array(Arc::new(filled)))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![&self.inner]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn PhysicalExpr>>,
    ) -> DfResult<Arc<dyn PhysicalExpr>> {
        let inner = children
            .pop()
            .ok_or_else(|| DataFusionError::Internal("NullAsFalse needs one child".into()))?;
        Ok(NullAsFalse::wrap(inner))
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner)
    }
}

impl fmt::Display for NullAsFalse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner)
    }
}
