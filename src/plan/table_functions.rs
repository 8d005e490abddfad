//! Table functions: a select item that turns one input row into several output rows.
//!
//! - `EXPLODE(array)`: one row per element (none for a NULL or empty array);
//! - `CUBE_EXPLODE(array)`: one row per combination of the elements, each element kept or
//!   replaced by NULL, from all-NULL to all-kept (the first element is the most significant);
//!   combinations that would differ only in an element that is NULL anyway appear once.
//!
//! Both are planned as an array-valued expression whose elements become the rows. Table
//! functions come from the [`FunctionRegistry`]'s table-function registry: these two are built
//! in ([`register`]); others (the conformance runner's fixtures) are added the same way, as a
//! [`ScalarFunction`] returning the ARRAY of a row's outputs. A call that fails yields NULL,
//! that is no rows, and the failure is logged like any function's.

use super::expr::{Binder, Node, TExpr, retype_null};
use super::functions::{Arg, FunctionRegistry, Resolved, ScalarFunction};
use super::{PlanError, PlanResult};
use crate::common::{SqlType, Value};
use crate::sql::Expr;
use std::sync::Arc;

/// Registers the built-in table functions.
pub fn register(registry: &mut FunctionRegistry) {
    registry.insert_table_function(Arc::new(Explode));
    registry.insert_table_function(Arc::new(CubeCombinations));
}

/// The function and arguments of a top-level table function call.
fn table_call<'e>(
    expr: &'e Expr,
    functions: &FunctionRegistry,
) -> Option<(Arc<dyn ScalarFunction>, Vec<&'e Expr>)> {
    let Expr::Function(f) = expr else { return None };
    let function = functions.table_function(&f.name.to_string())?;
    let args = match &f.args {
        sqlparser::ast::FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(e)) => {
                    Some(e)
                }
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?,
        sqlparser::ast::FunctionArguments::None => Vec::new(),
        _ => return None,
    };
    Some((function, args))
}

/// Whether a select item is a table function call (EXPLODE and the like).
pub fn is_table_function(expr: &Expr, functions: &FunctionRegistry) -> bool {
    table_call(expr, functions).is_some()
}

/// For a table function select item, the array whose elements are the output rows; `None`
/// for any other expression.
pub fn rows_expr(
    expr: &Expr,
    functions: &FunctionRegistry,
    binder: &mut Binder<'_>,
) -> Option<PlanResult<TExpr>> {
    let (function, args) = table_call(expr, functions)?;
    Some(bind_rows(function, &args, binder))
}

fn bind_rows(
    function: Arc<dyn ScalarFunction>,
    args: &[&Expr],
    binder: &mut Binder<'_>,
) -> PlanResult<TExpr> {
    let bound = args
        .iter()
        .map(|a| binder.bind(a).map_err(|e| e.in_clause("SELECT")))
        .collect::<PlanResult<Vec<_>>>()?;
    let types: Vec<Arg> = bound
        .iter()
        .map(|a| (!a.is_null_literal()).then(|| a.ty.clone()))
        .collect();
    let resolved = function.resolve(&types).map_err(PlanError::Invalid)?;
    if !matches!(resolved.ret, SqlType::Array(_)) {
        return Err(PlanError::Invalid(format!(
            "Table function '{}' must return an ARRAY, not {}",
            function.name(),
            resolved.ret
        )));
    }
    let mut args: Vec<TExpr> = bound
        .into_iter()
        .zip(&resolved.args)
        .map(|(a, t)| retype_null(a, t).cast_to(t))
        .collect();
    if function.name() == "EXPLODE" {
        // The array itself: no per-row call needed.
        return Ok(args.remove(0));
    }
    Ok(TExpr::new(Node::Call { function, args }, resolved.ret))
}

fn not_accepted(name: &str, args: &[Arg]) -> String {
    let alternatives = if name == "EXPLODE" {
        "explode(ARRAY<DECIMAL> input)\nexplode(ARRAY<T> list)"
    } else {
        "cube_explode(ARRAY<T> columns)"
    };
    let types: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().map_or("null".to_string(), |t| t.to_string()))
        .collect();
    format!(
        "Function '{}' does not accept parameters ({}).\nValid alternatives are:\n{alternatives}",
        name.to_ascii_lowercase(),
        types.join(", ")
    )
}

/// `EXPLODE`: the array's elements are the rows.
struct Explode;

impl ScalarFunction for Explode {
    fn name(&self) -> &str {
        "EXPLODE"
    }

    fn description(&self) -> &str {
        "One row per element of the array."
    }

    fn resolve(&self, args: &[Arg]) -> Result<Resolved, String> {
        match args {
            [Some(t @ SqlType::Array(_))] => Ok(Resolved {
                args: vec![t.clone()],
                ret: t.clone(),
            }),
            _ => Err(not_accepted(self.name(), args)),
        }
    }

    fn invoke(&self, args: &[Value]) -> Result<Value, String> {
        Ok(args.first().cloned().unwrap_or(Value::Null))
    }
}

/// `CUBE_EXPLODE`'s rows, as an array of arrays.
struct CubeCombinations;

/// More elements than this would make 2^n rows from one record.
const MAX_CUBE_ELEMENTS: usize = 20;

impl ScalarFunction for CubeCombinations {
    fn name(&self) -> &str {
        "CUBE_EXPLODE"
    }

    fn description(&self) -> &str {
        "Every combination of the array's elements, each kept or NULL."
    }

    fn resolve(&self, args: &[Arg]) -> Result<Resolved, String> {
        match args {
            [Some(t @ SqlType::Array(_))] => Ok(Resolved {
                args: vec![t.clone()],
                ret: SqlType::array(t.clone()),
            }),
            _ => Err(not_accepted(self.name(), args)),
        }
    }

    fn invoke(&self, args: &[Value]) -> Result<Value, String> {
        let Some(Value::Array(elements)) = args.first() else {
            return Ok(Value::Null);
        };
        cube(elements).map(Value::Array)
    }
}

fn cube(elements: &[Value]) -> Result<Vec<Value>, String> {
    let n = elements.len();
    if n > MAX_CUBE_ELEMENTS {
        return Err(format!(
            "CUBE_EXPLODE of {n} elements would make 2^{n} rows (at most {MAX_CUBE_ELEMENTS} elements)"
        ));
    }
    let mut out = Vec::new();
    for mask in 0u32..(1 << n) {
        let keeps = |i: usize| mask & (1 << (n - 1 - i)) != 0;
        if (0..n).any(|i| keeps(i) && elements[i] == Value::Null) {
            continue;
        }
        out.push(Value::Array(
            (0..n)
                .map(|i| {
                    if keeps(i) {
                        elements[i].clone()
                    } else {
                        Value::Null
                    }
                })
                .collect(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(values: &[Option<i32>]) -> Vec<Value> {
        values
            .iter()
            .map(|v| v.map_or(Value::Null, Value::Int))
            .collect()
    }

    #[test]
    fn cube_lists_combinations_from_none_to_all() {
        let rows = cube(&ints(&[Some(1), Some(2)])).expect("cube");
        let expected: Vec<Value> = [
            [None, None],
            [None, Some(2)],
            [Some(1), None],
            [Some(1), Some(2)],
        ]
        .iter()
        .map(|r| Value::Array(ints(r)))
        .collect();
        assert_eq!(rows, expected);
    }

    #[test]
    fn cube_skips_duplicates_from_null_elements() {
        let rows = cube(&ints(&[Some(1), None])).expect("cube");
        let expected: Vec<Value> = [[None, None], [Some(1), None]]
            .iter()
            .map(|r| Value::Array(ints(r)))
            .collect();
        assert_eq!(rows, expected);
        assert_eq!(cube(&[]).expect("empty"), vec![Value::Array(vec![])]);
        assert!(cube(&ints(&[Some(1); 21])).is_err());
    }
}
