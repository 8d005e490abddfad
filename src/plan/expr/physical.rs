//! Lowering the typed IR to DataFusion physical expressions. Operators whose ksqlDB semantics
//! match DataFusion's kernels (column references, literals, INT/BIGINT/DOUBLE arithmetic,
//! comparisons of like primitive types, boolean logic, NULL tests, numeric widening) run
//! vectorised; every other subtree is interpreted row by row by one [`RowFn`].

use super::eval::eval;
use super::ir::{ArithOp, CmpOp, Node, TExpr};
use super::row_fn::{NullAsFalse, OnError, RowFn};
use crate::common::{SqlType, Value, values_to_array};
use crate::plan::{PlanError, PlanResult};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{
    BinaryExpr, CastExpr, Column, IsNotNullExpr, IsNullExpr, Literal, NotExpr,
};
use std::sync::Arc;

pub fn to_physical(e: &TExpr) -> PlanResult<Arc<dyn PhysicalExpr>> {
    Ok(match &e.node {
        Node::Column { index, name } => Arc::new(Column::new(name, *index)),
        Node::Literal(v) => Arc::new(Literal::new(scalar(v, &e.ty)?)),
        Node::UntypedNull => Arc::new(Literal::new(scalar(&Value::Null, &e.ty)?)),
        Node::Arith { op, left, right }
            if is_fast_number(&e.ty) && left.ty == e.ty && right.ty == e.ty =>
        {
            let op = match op {
                ArithOp::Add => Operator::Plus,
                ArithOp::Sub => Operator::Minus,
                ArithOp::Mul => Operator::Multiply,
                ArithOp::Div => Operator::Divide,
                ArithOp::Mod => Operator::Modulo,
            };
            Arc::new(BinaryExpr::new(to_physical(left)?, op, to_physical(right)?))
        }
        Node::Compare { op, left, right }
            if left.ty == right.ty && is_fast_comparable(&left.ty) =>
        {
            let (operator, null_false) = match op {
                CmpOp::Eq => (Operator::Eq, true),
                CmpOp::NotEq => (Operator::NotEq, true),
                CmpOp::Lt => (Operator::Lt, true),
                CmpOp::LtEq => (Operator::LtEq, true),
                CmpOp::Gt => (Operator::Gt, true),
                CmpOp::GtEq => (Operator::GtEq, true),
                CmpOp::IsDistinctFrom => (Operator::IsDistinctFrom, false),
                CmpOp::IsNotDistinctFrom => (Operator::IsNotDistinctFrom, false),
            };
            let cmp: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(
                to_physical(left)?,
                operator,
                to_physical(right)?,
            ));
            if null_false {
                NullAsFalse::wrap(cmp)
            } else {
                cmp
            }
        }
        Node::And(l, r) => Arc::new(BinaryExpr::new(
            to_physical(l)?,
            Operator::And,
            to_physical(r)?,
        )),
        Node::Or(l, r) => Arc::new(BinaryExpr::new(
            to_physical(l)?,
            Operator::Or,
            to_physical(r)?,
        )),
        Node::Not(x) => Arc::new(NotExpr::new(to_physical(x)?)),
        Node::IsNull {
            expr,
            negated: false,
        } => Arc::new(IsNullExpr::new(to_physical(expr)?)),
        Node::IsNull {
            expr,
            negated: true,
        } => Arc::new(IsNotNullExpr::new(to_physical(expr)?)),
        Node::Cast(x) if is_widening(&x.ty, &e.ty) => {
            Arc::new(CastExpr::new(to_physical(x)?, e.ty.arrow_type(), None))
        }
        _ => interpret(e),
    })
}

fn is_fast_number(t: &SqlType) -> bool {
    matches!(t, SqlType::Int | SqlType::Bigint | SqlType::Double)
}

fn is_fast_comparable(t: &SqlType) -> bool {
    matches!(
        t,
        SqlType::Int
            | SqlType::Bigint
            | SqlType::Double
            | SqlType::String
            | SqlType::Boolean
            | SqlType::Timestamp
            | SqlType::Date
            | SqlType::Time
    )
}

fn is_widening(from: &SqlType, to: &SqlType) -> bool {
    matches!(
        (from, to),
        (SqlType::Int, SqlType::Bigint)
            | (SqlType::Int, SqlType::Double)
            | (SqlType::Bigint, SqlType::Double)
    )
}

/// A row-by-row evaluation of the subtree over the columns it references.
fn interpret(e: &TExpr) -> Arc<dyn PhysicalExpr> {
    let mut columns = Vec::new();
    collect_columns(e, &mut columns);
    columns.sort_by_key(|(i, _)| *i);
    columns.dedup_by_key(|(i, _)| *i);
    let width = columns.last().map_or(0, |(i, _)| i + 1);
    let indices: Vec<usize> = columns.iter().map(|(i, _)| *i).collect();
    let args: Vec<Arc<dyn PhysicalExpr>> = columns
        .iter()
        .map(|(i, name)| Arc::new(Column::new(name, *i)) as Arc<dyn PhysicalExpr>)
        .collect();
    let expr = e.clone();
    let body = Arc::new(move |values: &[Value]| {
        let mut row = vec![Value::Null; width];
        for (slot, v) in indices.iter().zip(values) {
            row[*slot] = v.clone();
        }
        eval(&expr, &row, &[])
    });
    RowFn::physical(e.to_string(), args, e.ty.clone(), OnError::Propagate, body)
}

fn collect_columns(e: &TExpr, out: &mut Vec<(usize, String)>) {
    match &e.node {
        Node::Column { index, name } => out.push((*index, name.clone())),
        Node::LambdaVar { .. } | Node::Literal(_) | Node::UntypedNull => {}
        Node::Arith { left, right, .. } | Node::Compare { left, right, .. } => {
            collect_columns(left, out);
            collect_columns(right, out);
        }
        Node::Concat(l, r) | Node::And(l, r) | Node::Or(l, r) => {
            collect_columns(l, out);
            collect_columns(r, out);
        }
        Node::Not(x) | Node::Negate(x) | Node::Cast(x) => collect_columns(x, out),
        Node::IsNull { expr, .. } | Node::Field { expr, .. } => collect_columns(expr, out),
        Node::Case { whens, otherwise } => {
            for (w, t) in whens {
                collect_columns(w, out);
                collect_columns(t, out);
            }
            if let Some(o) = otherwise {
                collect_columns(o, out);
            }
        }
        Node::InList { expr, list, .. } => {
            collect_columns(expr, out);
            list.iter().for_each(|i| collect_columns(i, out));
        }
        Node::Like { expr, pattern, .. } => {
            collect_columns(expr, out);
            collect_columns(pattern, out);
        }
        Node::Subscript { expr, index } => {
            collect_columns(expr, out);
            collect_columns(index, out);
        }
        Node::Call { args, .. } | Node::ArrayCtor(args) | Node::LambdaCall { args, .. } => {
            args.iter().for_each(|a| collect_columns(a, out))
        }
        Node::MapCtor(entries) => entries.iter().for_each(|(k, v)| {
            collect_columns(k, out);
            collect_columns(v, out);
        }),
        Node::StructCtor(fields) => fields.iter().for_each(|(_, v)| collect_columns(v, out)),
        Node::Lambda { body, .. } => collect_columns(body, out),
    }
}

/// A literal as a DataFusion scalar of the column type Brook uses.
pub fn scalar(v: &Value, ty: &SqlType) -> PlanResult<ScalarValue> {
    let array = values_to_array(std::slice::from_ref(v), ty);
    ScalarValue::try_from_array(&array, 0)
        .map_err(|e| PlanError::Invalid(format!("literal {v:?}: {e}")))
}
