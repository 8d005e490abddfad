//! Table functions: a select item that turns one input row into several output rows.
//!
//! - `EXPLODE(array)`: one row per element (none for a NULL or empty array);
//! - `CUBE_EXPLODE(array)`: one row per combination of the elements, each element kept or
//!   replaced by NULL, from all-NULL to all-kept (the first element is the most significant);
//!   combinations that would differ only in an element that is NULL anyway appear once.
//!
//! Both are planned as an array-valued expression whose elements become the rows.

use super::expr::{Binder, Node, TExpr};
use super::functions::{Arg, Resolved, ScalarFunction};
use super::{PlanError, PlanResult};
use crate::common::{SqlType, Value};
use crate::sql::Expr;
use std::sync::Arc;

/// The single argument of a top-level table function call, and the function's name.
fn table_call(expr: &Expr) -> Option<(String, &Expr)> {
    let Expr::Function(f) = expr else { return None };
    let name = f.name.to_string().to_ascii_uppercase();
    if name != "EXPLODE" && name != "CUBE_EXPLODE" {
        return None;
    }
    match &f.args {
        sqlparser::ast::FunctionArguments::List(list) if list.args.len() == 1 => {
            match &list.args[0] {
                sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(e)) => {
                    Some((name, e))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// For a table function select item, the array whose elements are the output rows; `None`
/// for any other expression.
pub fn rows_expr(expr: &Expr, binder: &mut Binder<'_>) -> Option<PlanResult<TExpr>> {
    let (name, arg) = table_call(expr)?;
    Some(bind_rows(&name, arg, binder))
}

fn bind_rows(name: &str, arg: &Expr, binder: &mut Binder<'_>) -> PlanResult<TExpr> {
    let array = binder.bind(arg).map_err(|e| e.in_clause("SELECT"))?;
    let SqlType::Array(element) = &array.ty else {
        return Err(not_accepted(name, &array.ty));
    };
    if name == "EXPLODE" {
        return Ok(array);
    }
    let combos = SqlType::array(SqlType::Array(element.clone()));
    Ok(TExpr::new(
        Node::Call {
            function: Arc::new(CubeCombinations),
            args: vec![array],
        },
        combos,
    ))
}

fn not_accepted(name: &str, ty: &SqlType) -> PlanError {
    let alternatives = if name == "EXPLODE" {
        "explode(ARRAY<DECIMAL> input)\nexplode(ARRAY<T> list)"
    } else {
        "cube_explode(ARRAY<T> columns)"
    };
    PlanError::Invalid(format!(
        "Function '{}' does not accept parameters ({ty}).\nValid alternatives are:\n{alternatives}",
        name.to_ascii_lowercase()
    ))
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
            _ => Err("CUBE_EXPLODE takes one array".into()),
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
