//! The projection operator: the query's columns in SELECT order (expressions over the input
//! row, or input columns as they are), then the input's window bounds and ROWTIME carried. A
//! deletion keeps only the columns it can compute from its key (the rest are NULL), as ksqlDB
//! shows a table's deletions; an expression that fails on a row is reported and gives NULL.
//!
//! [`Projection`] is also what pull queries and materialized tables project plain batches with.

use crate::common::change::{ChangeBatch, Op};
use crate::exec::eval::evaluate;
use crate::exec::operator::{Ctx, Operator, OperatorError};
use crate::plan::logical::{ColumnSource, ProjectColumn, ProjectNode};
use arrow::array::ArrayRef;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

/// The columns of a projection and the schema they make.
#[derive(Clone)]
pub struct Projection {
    columns: Vec<ProjectColumn>,
    carried: Vec<usize>,
    schema: SchemaRef,
}

impl Projection {
    pub fn new(node: &ProjectNode) -> Projection {
        Projection {
            columns: node.columns.clone(),
            carried: node.carried.clone(),
            schema: node.schema.clone(),
        }
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The projected rows of `batch`, its ops kept; `report` hears each failing row.
    pub fn project(
        &self,
        batch: &ChangeBatch,
        report: &mut dyn FnMut(usize, String),
    ) -> Result<ChangeBatch, ArrowError> {
        let data = batch.data();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for column in &self.columns {
            let array = match &column.source {
                ColumnSource::Input(i) => data.column(*i).clone(),
                ColumnSource::Expr(e) => {
                    let mut reported = |row: usize, message: String| {
                        if batch.op(row) != Op::Delete {
                            report(row, message);
                        }
                    };
                    evaluate(e, data, &mut reported, false)
                }
            };
            arrays.push(match column.on_deletions {
                true => array,
                false => batch.null_on_deletes(array)?,
            });
        }
        arrays.extend(self.carried.iter().map(|i| data.column(*i).clone()));
        let projected = RecordBatch::try_new(self.schema.clone(), arrays)?;
        batch.with_data(projected)
    }

    /// The projected rows of a plain batch (all inserts); failures are not reported.
    pub fn project_rows(&self, batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
        let rows = ChangeBatch::inserts(batch.clone());
        Ok(self.project(&rows, &mut |_, _| {})?.into_data())
    }
}

pub struct ProjectOp {
    projection: Projection,
}

impl ProjectOp {
    pub fn new(node: &ProjectNode) -> ProjectOp {
        ProjectOp {
            projection: Projection::new(node),
        }
    }
}

impl Operator for ProjectOp {
    fn describe(&self) -> String {
        text(&self.projection.columns)
    }

    fn process(
        &mut self,
        _input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        let mut report = |row: usize, message: String| ctx.report(&batch, row, message);
        let projected = self.projection.project(&batch, &mut report)?;
        ctx.emit(projected);
        Ok(())
    }
}

/// `Project K, (A * 2) AS DOUBLE_A`.
fn text(columns: &[ProjectColumn]) -> String {
    let names: Vec<String> = columns
        .iter()
        .map(|c| match &c.source {
            ColumnSource::Expr(e) if e.expr.to_string() != c.name => {
                format!("{} AS {}", e.expr, c.name)
            }
            _ => c.name.clone(),
        })
        .collect();
    format!("Project {}", names.join(", "))
}
