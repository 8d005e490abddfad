//! Lowering the typed IR to DataFusion physical expressions. Operators whose ksqlDB semantics
//! match DataFusion's kernels (column references, literals, INT/BIGINT/DOUBLE arithmetic,
//! comparisons of like primitive types, boolean logic, NULL tests, numeric widening) run
//! vectorised; every other subtree is interpreted row by row by one [`RowFn`].

use super::eval::eval;
use super::ir::{ArithOp, CmpOp, Node, TExpr};
use super::row_fn::{NullAsFalse, OnError, RowFn};
use crate::common::{MAX_DECIMAL_PRECISION, SqlType, Value, values_to_array};
use crate::plan::{PlanError, PlanResult};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{
    BinaryExpr, CastExpr, Column, IsNotNullExpr, IsNullExpr, Literal, NotExpr,
};
use std::sync::Arc;

pub fn to_physical(e: &TExpr) -> PlanResult<Arc<dyn PhysicalExpr>> {
    check_decimal_width(e)?;
    lower(e)
}

fn lower(e: &TExpr) -> PlanResult<Arc<dyn PhysicalExpr>> {
    crate::common::limits::deep(|| lower_node(e))
}

fn lower_node(e: &TExpr) -> PlanResult<Arc<dyn PhysicalExpr>> {
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
            Arc::new(BinaryExpr::new(lower(left)?, op, lower(right)?))
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
            let cmp: Arc<dyn PhysicalExpr> =
                Arc::new(BinaryExpr::new(lower(left)?, operator, lower(right)?));
            if null_false {
                NullAsFalse::wrap(cmp)
            } else {
                cmp
            }
        }
        Node::And(l, r) => Arc::new(BinaryExpr::new(lower(l)?, Operator::And, lower(r)?)),
        Node::Or(l, r) => Arc::new(BinaryExpr::new(lower(l)?, Operator::Or, lower(r)?)),
        Node::Not(x) => Arc::new(NotExpr::new(lower(x)?)),
        Node::IsNull {
            expr,
            negated: false,
        } => Arc::new(IsNullExpr::new(lower(expr)?)),
        Node::IsNull {
            expr,
            negated: true,
        } => Arc::new(IsNotNullExpr::new(lower(expr)?)),
        Node::Cast(x) if is_widening(&x.ty, &e.ty) => {
            Arc::new(CastExpr::new(lower(x)?, e.ty.arrow_type(), None))
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
    visit(e, &mut |n| {
        if let Node::Column { index, name } = &n.node {
            out.push((*index, name.clone()));
        }
    });
}

/// Brook's DECIMAL values are 128-bit: a declared DECIMAL wider than that (ksqlDB accepts any
/// precision) is refused when a query uses it, rather than yielding no rows.
fn check_decimal_width(e: &TExpr) -> PlanResult<()> {
    fn too_wide(t: &SqlType) -> bool {
        match t {
            SqlType::Decimal { precision, .. } => *precision > MAX_DECIMAL_PRECISION,
            SqlType::Array(x) => too_wide(x),
            SqlType::Map(k, v) => too_wide(k) || too_wide(v),
            SqlType::Struct(fields) => fields.iter().any(|f| too_wide(&f.sql_type)),
            _ => false,
        }
    }
    let mut wide = None;
    visit(e, &mut |n| {
        if wide.is_none() && too_wide(&n.ty) {
            wide = Some(n.ty.clone());
        }
    });
    match wide {
        Some(t) => Err(PlanError::Invalid(format!(
            "{t} is not supported: Brook's decimals hold at most {MAX_DECIMAL_PRECISION} digits"
        ))),
        None => Ok(()),
    }
}

/// Calls `f` on `e` and every node below it.
fn visit(e: &TExpr, f: &mut dyn FnMut(&TExpr)) {
    f(e);
    match &e.node {
        Node::Column { .. } | Node::LambdaVar { .. } | Node::Literal(_) | Node::UntypedNull => {}
        Node::Arith { left, right, .. } | Node::Compare { left, right, .. } => {
            visit(left, f);
            visit(right, f);
        }
        Node::Concat(l, r) | Node::And(l, r) | Node::Or(l, r) => {
            visit(l, f);
            visit(r, f);
        }
        Node::Not(x) | Node::Negate(x) | Node::Cast(x) => visit(x, f),
        Node::IsNull { expr, .. } | Node::Field { expr, .. } => visit(expr, f),
        Node::Case { whens, otherwise } => {
            for (w, t) in whens {
                visit(w, f);
                visit(t, f);
            }
            if let Some(o) = otherwise {
                visit(o, f);
            }
        }
        Node::InList { expr, list, .. } => {
            visit(expr, f);
            list.iter().for_each(|i| visit(i, f));
        }
        Node::Like { expr, pattern, .. } => {
            visit(expr, f);
            visit(pattern, f);
        }
        Node::Subscript { expr, index } => {
            visit(expr, f);
            visit(index, f);
        }
        Node::Call { args, .. } | Node::ArrayCtor(args) | Node::LambdaCall { args, .. } => {
            args.iter().for_each(|a| visit(a, f))
        }
        Node::MapCtor(entries) => entries.iter().for_each(|(k, v)| {
            visit(k, f);
            visit(v, f);
        }),
        Node::StructCtor(fields) => fields.iter().for_each(|(_, v)| visit(v, f)),
        Node::Lambda { body, .. } => visit(body, f),
    }
}

/// A literal as a DataFusion scalar of the column type Brook uses.
pub fn scalar(v: &Value, ty: &SqlType) -> PlanResult<ScalarValue> {
    let array = values_to_array(std::slice::from_ref(v), ty);
    ScalarValue::try_from_array(&array, 0)
        .map_err(|e| PlanError::Invalid(format!("literal {v:?}: {e}")))
}
