//! ksqlDB's test-only functions, which its query-validation tests expect on the classpath (they
//! live in ksqlDB's test sources, not in its function library): this module registers them into
//! the engine the conformance runner creates, and holds what they share — a [`Fixture`] type
//! and its overload picker (ksqlDB's `UdfIndex` rules: exact matches first, then implicit
//! widening; a fixed arity beats varargs). They are not in Brook's production catalogue.
//!
//! - scalar functions ([`super::fixtures_udf`]): WHENCONDITION, WHENRESULT, BAD_UDF, TEST_UDF,
//!   TOSTRUCT;
//! - table functions ([`super::fixtures_udtf`]): TEST_UDTF, THROWING_UDTF;
//! - aggregate functions ([`super::fixtures_udaf`]): TEST_UDAF, MULTI_ARG, FOUR_ARG, FIVE_ARG,
//!   VAR_ARG, MID_VAR_ARG, GENERIC_VAR_ARG, OBJ_COL_ARG.
//!
//! The Java fixtures are overloaded methods; the planner casts the arguments to the chosen
//! overload's types, so `invoke` tells the overloads apart by the argument values. Where a NULL
//! argument leaves that ambiguous, every candidate overload of these fixtures fails (a NULL for
//! a Java primitive) or returns the same thing, except BAD_UDF's `returnNull` counter.
//! A Java exception is an `Err`: the call's value is NULL (a table function's: no rows) and the
//! failure goes to the processing log, as in ksqlDB.

use crate::common::{SqlType, StructField, Value};
use crate::engine::Engine;
use crate::plan::functions::{Arg, FunctionRegistry, Resolved, ScalarFunction, can_widen};
use std::sync::Arc;

/// Adds every fixture to the engine's function registry.
pub fn register(engine: &mut Engine) {
    engine.register_functions(|registry: &mut FunctionRegistry| {
        for f in super::fixtures_udf::all() {
            registry.insert(Arc::new(f));
        }
        for f in super::fixtures_udtf::all() {
            registry.insert_table_function(Arc::new(f));
        }
        super::fixtures_udaf::register(registry);
    });
}

/// A declared parameter type; [`ANY_DECIMAL`] (also inside an ARRAY or MAP) is Java's
/// `BigDecimal`, which takes any DECIMAL.
pub type Param = SqlType;

pub const ANY_DECIMAL: SqlType = SqlType::Decimal {
    precision: 0,
    scale: 0,
};

/// One Java method: its parameters (`variadic` for `T...`) and declared result type.
pub struct Overload {
    pub params: Vec<Param>,
    pub variadic: Option<Param>,
    pub ret: SqlType,
}

pub fn overload(params: &[Param], ret: SqlType) -> Overload {
    Overload {
        params: params.to_vec(),
        variadic: None,
        ret,
    }
}

pub type Body = Box<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

/// A fixture function (scalar, or a table function whose result is the ARRAY of rows).
pub struct Fixture {
    pub name: &'static str,
    pub description: &'static str,
    pub overloads: Vec<Overload>,
    pub body: Body,
}

impl ScalarFunction for Fixture {
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        self.description
    }
    fn resolve(&self, args: &[Arg]) -> Result<Resolved, String> {
        pick(self.name, &self.overloads, args)
    }
    fn invoke(&self, args: &[Value]) -> Result<Value, String> {
        (self.body)(args)
    }
}

/// `STRUCT<A VARCHAR>`, the struct type the fixtures declare.
pub fn struct_a() -> SqlType {
    SqlType::Struct(vec![StructField {
        name: "A".into(),
        sql_type: SqlType::String,
    }])
}

/// Picks the overload for these argument types.
pub fn pick(name: &str, overloads: &[Overload], args: &[Arg]) -> Result<Resolved, String> {
    for widen in [false, true] {
        let mut best: Option<(bool, usize, Resolved)> = None;
        for o in overloads {
            let Some(types) = matches(o, args, widen) else {
                continue;
            };
            let rank = (o.variadic.is_none(), o.params.len());
            if best.as_ref().is_none_or(|(f, n, _)| rank > (*f, *n)) {
                let ret = o.ret.clone();
                best = Some((rank.0, rank.1, Resolved { args: types, ret }));
            }
        }
        if let Some((_, _, resolved)) = best {
            return Ok(resolved);
        }
    }
    let types: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().map_or("null".to_string(), |t| t.to_string()))
        .collect();
    Err(format!(
        "Function '{}' does not accept parameters ({}).",
        name.to_ascii_lowercase(),
        types.join(", ")
    ))
}

fn matches(o: &Overload, args: &[Arg], widen: bool) -> Option<Vec<SqlType>> {
    let arity_ok = match o.variadic {
        Some(_) => args.len() >= o.params.len(),
        None => args.len() == o.params.len(),
    };
    if !arity_ok {
        return None;
    }
    args.iter()
        .enumerate()
        .map(|(i, a)| accept(a.as_ref(), o.params.get(i).or(o.variadic.as_ref())?, widen))
        .collect()
}

fn accept(arg: Option<&SqlType>, param: &Param, widen: bool) -> Option<SqlType> {
    let Some(arg) = arg else {
        return Some(concrete(param));
    };
    if same(arg, param) {
        return Some(arg.clone());
    }
    if !widen {
        return None;
    }
    match arg {
        SqlType::Int if *param == ANY_DECIMAL => Some(SqlType::decimal(10, 0)),
        SqlType::Bigint if *param == ANY_DECIMAL => Some(SqlType::decimal(19, 0)),
        _ => can_widen(arg, param).then(|| param.clone()),
    }
}

/// Whether `arg` is exactly the declared `param`.
fn same(arg: &SqlType, param: &Param) -> bool {
    match (arg, param) {
        (SqlType::Decimal { .. }, p) if *p == ANY_DECIMAL => true,
        (SqlType::Array(a), SqlType::Array(p)) => same(a, p),
        (SqlType::Map(ak, av), SqlType::Map(pk, pv)) => same(ak, pk) && same(av, pv),
        _ => arg == param,
    }
}

/// The type a NULL literal takes for `param`.
fn concrete(param: &Param) -> SqlType {
    match param {
        p if *p == ANY_DECIMAL => SqlType::decimal(38, 0),
        SqlType::Array(e) => SqlType::array(concrete(e)),
        SqlType::Map(k, v) => SqlType::Map(Box::new(concrete(k)), Box::new(concrete(v))),
        other => other.clone(),
    }
}

/// A Java primitive parameter given NULL throws (unboxing).
pub fn primitive_null(name: &str) -> String {
    format!("{name}: NULL passed for a primitive parameter")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Overload> {
        vec![
            overload(&[SqlType::Int, SqlType::String], SqlType::Int),
            overload(&[SqlType::Bigint, SqlType::String], SqlType::Bigint),
            Overload {
                params: vec![],
                variadic: Some(SqlType::Bigint),
                ret: SqlType::String,
            },
        ]
    }

    #[test]
    fn exact_match_beats_widening_and_fixed_beats_varargs() {
        let o = sample();
        let r = pick("f", &o, &[Some(SqlType::Int), Some(SqlType::String)]).expect("int");
        assert_eq!(r.ret, SqlType::Int);
        let r = pick("f", &o, &[Some(SqlType::Bigint), Some(SqlType::String)]).expect("big");
        assert_eq!(r.ret, SqlType::Bigint);
        let r = pick("f", &o, &[Some(SqlType::Int), Some(SqlType::Int)]).expect("varargs");
        assert_eq!(r.ret, SqlType::String);
        assert_eq!(r.args, vec![SqlType::Bigint, SqlType::Bigint]);
        let r = pick("f", &o, &[]).expect("no args");
        assert_eq!(r.ret, SqlType::String);
        let err = pick("f", &o, &[Some(SqlType::Double)]).expect_err("double");
        assert_eq!(err, "Function 'f' does not accept parameters (DOUBLE).");
    }

    #[test]
    fn any_decimal_keeps_the_argument_type() {
        let o = vec![overload(&[ANY_DECIMAL], SqlType::decimal(30, 10))];
        let r = pick("f", &o, &[Some(SqlType::decimal(20, 10))]).expect("decimal");
        assert_eq!(r.args, vec![SqlType::decimal(20, 10)]);
        let r = pick("f", &o, &[Some(SqlType::Int)]).expect("int widens");
        assert_eq!(r.args, vec![SqlType::decimal(10, 0)]);
        assert!(pick("f", &o, &[Some(SqlType::Double)]).is_err());
    }
}
