//! Binding TRANSFORM, FILTER and REDUCE, whose lambdas take their parameter types from the
//! collection argument.

use super::binder::{Binder, ident_name};
use super::ir::{Node, TExpr};
use crate::common::SqlType;
use crate::plan::PlanResult;
use crate::plan_err;
use crate::sql::Expr;
use sqlparser::ast::{FunctionArg, FunctionArgExpr, LambdaFunction};

/// A lambda argument: `x => body` or `(x, y) => body`.
fn as_lambda(arg: &FunctionArg) -> Option<&LambdaFunction> {
    match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Lambda(l))) => Some(l),
        _ => None,
    }
}

fn as_expr(arg: &FunctionArg) -> Option<&Expr> {
    match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if !matches!(e, Expr::Lambda(_)) => Some(e),
        _ => None,
    }
}

pub fn bind_lambda_call(b: &mut Binder<'_>, name: &str, args: &[FunctionArg]) -> PlanResult<TExpr> {
    let Some(first) = args.first().and_then(as_expr) else {
        return plan_err!("{name} needs a collection as its first argument");
    };
    let collection = b.bind(first)?;
    let lambda = |i: usize| {
        args.get(i).and_then(as_lambda).ok_or_else(|| {
            crate::plan::PlanError::Invalid(format!("{name} needs a lambda as argument {}", i + 1))
        })
    };
    let (params, ty): (Vec<TExpr>, SqlType) = match (name, collection.ty.clone(), args.len()) {
        ("TRANSFORM", SqlType::Array(elem), 2) => {
            let body = b.bind_lambda(lambda(1)?, &[(*elem).clone()])?;
            let ty = SqlType::array(body.ty.clone());
            (vec![body], ty)
        }
        ("TRANSFORM", SqlType::Map(k, v), 3) => {
            let key = b.bind_lambda(lambda(1)?, &[(*k).clone(), (*v).clone()])?;
            let value = b.bind_lambda(lambda(2)?, &[(*k).clone(), (*v).clone()])?;
            let ty = SqlType::map(key.ty.clone(), value.ty.clone());
            (vec![key, value], ty)
        }
        ("FILTER", SqlType::Array(elem), 2) => {
            let body = boolean(b.bind_lambda(lambda(1)?, &[(*elem).clone()])?, name)?;
            (vec![body], collection.ty.clone())
        }
        ("FILTER", SqlType::Map(k, v), 2) => {
            let body = boolean(
                b.bind_lambda(lambda(1)?, &[(*k).clone(), (*v).clone()])?,
                name,
            )?;
            (vec![body], collection.ty.clone())
        }
        ("REDUCE", SqlType::Array(elem), 3) | ("REDUCE", SqlType::Map(elem, _), 3) => {
            let Some(init_expr) = as_expr(&args[1]) else {
                return plan_err!("REDUCE needs an initial state as its second argument");
            };
            let init = b.bind(init_expr)?;
            let state = init.ty.clone();
            let lambda_params = match &collection.ty {
                SqlType::Map(k, v) => vec![state.clone(), (**k).clone(), (**v).clone()],
                _ => vec![state.clone(), (*elem).clone()],
            };
            let body = b.bind_lambda(lambda(2)?, &lambda_params)?;
            if body.ty != state {
                return plan_err!(
                    "REDUCE's lambda returns {} but its state is {state}",
                    body.ty
                );
            }
            (vec![init, body], state)
        }
        (_, t, n) => {
            return plan_err!(
                "Function '{name}' does not accept parameters ({t} and {} more).",
                n.saturating_sub(1)
            );
        }
    };
    let _ = ident_name;
    let mut all = vec![collection];
    all.extend(params);
    Ok(TExpr::new(
        Node::LambdaCall {
            name: name.to_string(),
            args: all,
        },
        ty,
    ))
}

fn boolean(body: TExpr, name: &str) -> PlanResult<TExpr> {
    if body.ty == SqlType::Boolean {
        Ok(body)
    } else {
        plan_err!("{name}'s lambda must return BOOLEAN, not {}", body.ty)
    }
}
