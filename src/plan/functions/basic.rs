//! A first set of functions: null handling, simple string and numeric functions, AS_VALUE.

use super::{Arg, FunctionRegistry, Resolved, exact, same_type_args};
use crate::common::{SqlType, Value};

pub fn register(r: &mut FunctionRegistry) {
    r.add_udf("AS_VALUE", "Copies a key column into the value.", |a| one_any("AS_VALUE", a), |v| Ok(v[0].clone()));
    r.add_udf("COALESCE", "The first non-NULL argument.", coalesce_type, |v| Ok(v.iter().find(|x| !x.is_null()).cloned().unwrap_or(Value::Null)));
    r.add_udf("IFNULL", "The second argument if the first is NULL.", |a| {
        if a.len() != 2 {
            return Err(super::signature::mismatch("IFNULL", a));
        }
        coalesce_type(a)
    }, |v| Ok(if v[0].is_null() { v[1].clone() } else { v[0].clone() }));
    r.add_udf("UCASE", "Upper-cases a string.", |a| exact("UCASE", a, &[SqlType::String], None, SqlType::String), |v| map_str(&v[0], |s| s.to_uppercase()));
    r.add_udf("LCASE", "Lower-cases a string.", |a| exact("LCASE", a, &[SqlType::String], None, SqlType::String), |v| map_str(&v[0], |s| s.to_lowercase()));
    r.add_udf("LEN", "Length of a string in UTF-16 units, or of bytes.", len_type, |v| match &v[0] {
        Value::String(s) => Ok(Value::Int(s.encode_utf16().count() as i32)),
        Value::Bytes(b) => Ok(Value::Int(b.len() as i32)),
        _ => Ok(Value::Null),
    });
    r.add_udf("ABS", "Absolute value.", numeric_same, |v| match &v[0] {
        Value::Int(x) => Ok(Value::Int(x.wrapping_abs())),
        Value::Bigint(x) => Ok(Value::Bigint(x.wrapping_abs())),
        Value::Double(x) => Ok(Value::Double(x.abs())),
        Value::Decimal(x, s) => Ok(Value::Decimal(x.abs(), *s)),
        _ => Ok(Value::Null),
    });
}

fn one_any(name: &str, a: &[Arg]) -> Result<Resolved, String> {
    match a {
        [Some(t)] => Ok(Resolved { args: vec![t.clone()], ret: t.clone() }),
        _ => Err(super::signature::mismatch(name, a)),
    }
}

fn coalesce_type(a: &[Arg]) -> Result<Resolved, String> {
    let t = same_type_args("COALESCE", a)?;
    Ok(Resolved { args: vec![t.clone(); a.len()], ret: t })
}

fn len_type(a: &[Arg]) -> Result<Resolved, String> {
    match a {
        [Some(SqlType::Bytes)] => Ok(Resolved { args: vec![SqlType::Bytes], ret: SqlType::Int }),
        _ => exact("LEN", a, &[SqlType::String], None, SqlType::Int),
    }
}

fn numeric_same(a: &[Arg]) -> Result<Resolved, String> {
    match a {
        [Some(t)] if t.is_numeric() => Ok(Resolved { args: vec![t.clone()], ret: t.clone() }),
        _ => Err(super::signature::mismatch("ABS", a)),
    }
}

fn map_str(v: &Value, f: impl Fn(&str) -> String) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => Value::String(f(s)),
        _ => Value::Null,
    })
}
