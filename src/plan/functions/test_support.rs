//! Helpers shared by the function families' unit tests.

use super::FunctionRegistry;
use crate::common::Value;

pub fn s(x: &str) -> Value {
    Value::String(x.into())
}

/// Invokes a function of the standard library by name.
pub fn invoke(name: &str, args: &[Value]) -> Result<Value, String> {
    let f = FunctionRegistry::standard()
        .get(name)
        .ok_or_else(|| format!("no function {name}"))?;
    f.invoke(args)
}

/// Like [`invoke`], with errors read as NULL (what a query sees).
pub fn call_or_null(name: &str, args: &[Value]) -> Value {
    invoke(name, args).unwrap_or(Value::Null)
}

/// An ARRAY<INT> value (`None` is a NULL element).
pub fn ints(xs: &[Option<i32>]) -> Value {
    Value::Array(
        xs.iter()
            .map(|x| x.map_or(Value::Null, Value::Int))
            .collect(),
    )
}
