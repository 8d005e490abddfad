//! The higher-order functions TRANSFORM, FILTER and REDUCE over arrays and maps. Lambda bodies
//! are evaluated row-wise; an error in a body makes the whole call fail (NULL), as in ksqlDB.

use super::eval::{EvalResult, eval};
use super::ir::{Node, TExpr};
use crate::common::{SqlType, Value};
use crate::plan::functions::collections::java_hash;
use std::collections::HashMap;

fn lambda_body(e: &TExpr) -> Result<&TExpr, String> {
    match &e.node {
        Node::Lambda { body, .. } => Ok(body),
        _ => Err("expected a lambda".into()),
    }
}

fn call(body: &TExpr, row: &[Value], vars: &[Value], args: &[Value]) -> EvalResult {
    let mut env = vars.to_vec();
    env.extend_from_slice(args);
    let value = eval(body, row, &env)?;
    crate::common::limits::charge(value.footprint())?;
    Ok(value)
}

pub fn eval_lambda_call(
    name: &str,
    args: &[TExpr],
    row: &[Value],
    vars: &[Value],
    ty: &SqlType,
) -> EvalResult {
    let collection = eval(&args[0], row, vars)?;
    match (name, &collection) {
        ("TRANSFORM", Value::Null) | ("FILTER", Value::Null) => Ok(Value::Null),
        ("TRANSFORM", Value::Array(items)) => {
            let body = lambda_body(&args[1])?;
            items
                .iter()
                .map(|x| call(body, row, vars, std::slice::from_ref(x)))
                .collect::<Result<_, _>>()
                .map(Value::Array)
        }
        ("TRANSFORM", Value::Map(entries)) => {
            let (key_body, value_body) = (lambda_body(&args[1])?, lambda_body(&args[2])?);
            let mut out: Vec<(Value, Value)> = Vec::new();
            // Indexes of `out` by key hash, so duplicate keys are found in linear time.
            let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
            for (k, v) in entries {
                let pair = [k.clone(), v.clone()];
                let key = call(key_body, row, vars, &pair)?;
                let same_hash = by_hash.entry(java_hash(&key)).or_default();
                if same_hash.iter().any(|&i| out[i].0 == key) {
                    return Err(format!("duplicate key {key:?} in TRANSFORM result"));
                }
                same_hash.push(out.len());
                out.push((key, call(value_body, row, vars, &pair)?));
            }
            Ok(Value::Map(out))
        }
        ("FILTER", Value::Array(items)) => {
            let body = lambda_body(&args[1])?;
            let mut out = Vec::new();
            for x in items {
                match call(body, row, vars, std::slice::from_ref(x))? {
                    Value::Boolean(true) => out.push(x.clone()),
                    Value::Boolean(false) => {}
                    _ => return Err("FILTER lambda returned NULL".into()),
                }
            }
            Ok(Value::Array(out))
        }
        ("FILTER", Value::Map(entries)) => {
            let body = lambda_body(&args[1])?;
            let mut out = Vec::new();
            for (k, v) in entries {
                match call(body, row, vars, &[k.clone(), v.clone()])? {
                    Value::Boolean(true) => out.push((k.clone(), v.clone())),
                    Value::Boolean(false) => {}
                    _ => return Err("FILTER lambda returned NULL".into()),
                }
            }
            Ok(Value::Map(out))
        }
        ("REDUCE", _) => reduce(&collection, args, row, vars, ty),
        _ => Err(format!("{name} does not accept {collection:?}")),
    }
}

fn reduce(
    collection: &Value,
    args: &[TExpr],
    row: &[Value],
    vars: &[Value],
    _ty: &SqlType,
) -> EvalResult {
    let mut state = eval(&args[1], row, vars)?;
    if state.is_null() {
        return Ok(Value::Null);
    }
    let body = lambda_body(&args[2])?;
    match collection {
        Value::Array(items) => {
            for x in items {
                state = call(body, row, vars, &[state, x.clone()])?;
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                state = call(body, row, vars, &[state, k.clone(), v.clone()])?;
            }
        }
        _ => {}
    }
    Ok(state)
}
