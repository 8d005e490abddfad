//! ksqlDB's test-only scalar functions (`io.confluent.ksql.function.udf` in its test sources,
//! and `tostruct` from its `udf-example.jar`), as the conformance runner registers them (see
//! [`super::fixtures`]):
//!
//! - `WHENCONDITION(BOOLEAN ret, BOOLEAN shouldBeEvaluated)` and `WHENRESULT(INT ret, BOOLEAN
//!   shouldBeEvaluated)`: return `ret`, or throw when `shouldBeEvaluated` is false (CASE must
//!   evaluate lazily);
//! - `BAD_UDF`: `(INT)` always throws; `(BOOLEAN)` throws when true, else 0; `(STRING)` returns
//!   NULL every other call (the first call too);
//! - `TEST_UDF`: returns its Java method's name for `(INT, STRING)`, `(BIGINT, STRING)`,
//!   `(BIGINT, BIGINT, STRING)` and `(BIGINT...)`; field `A` of a `STRUCT<A VARCHAR>`; and
//!   `STRUCT<A VARCHAR>` `{A: 'foo'}` with no arguments;
//! - `TOSTRUCT(STRING)`: `STRUCT<A VARCHAR>` holding it.

use super::fixtures::{Fixture, Overload, overload, primitive_null, struct_a};
use crate::common::{SqlType, Value};
use std::sync::atomic::{AtomicU64, Ordering};

pub fn all() -> Vec<Fixture> {
    vec![
        when_condition(),
        when_result(),
        bad_udf(),
        test_udf(),
        to_struct(),
    ]
}

fn when_condition() -> Fixture {
    Fixture {
        name: "WHENCONDITION",
        description: "UDF used in case-expression.json",
        overloads: vec![overload(
            &[SqlType::Boolean, SqlType::Boolean],
            SqlType::Boolean,
        )],
        body: Box::new(|args| match args {
            [Value::Boolean(_), Value::Boolean(false)] => {
                Err("When condition in case is not running lazily!".into())
            }
            [v @ Value::Boolean(_), Value::Boolean(true)] => Ok(v.clone()),
            _ => Err(primitive_null("WHENCONDITION")),
        }),
    }
}

fn when_result() -> Fixture {
    Fixture {
        name: "WHENRESULT",
        description: "UDF used in case-expression.json",
        overloads: vec![overload(&[SqlType::Int, SqlType::Boolean], SqlType::Int)],
        body: Box::new(|args| match args {
            [Value::Int(_), Value::Boolean(false)] => {
                Err("Then expression in case is not running lazily!".into())
            }
            [v @ Value::Int(_), Value::Boolean(true)] => Ok(v.clone()),
            _ => Err(primitive_null("WHENRESULT")),
        }),
    }
}

fn bad_udf() -> Fixture {
    // The Java instance's call counter for `returnNull`.
    let calls = AtomicU64::new(0);
    Fixture {
        name: "BAD_UDF",
        description: "throws exceptions when called",
        overloads: vec![
            overload(&[SqlType::Int], SqlType::String),
            overload(&[SqlType::Boolean], SqlType::Int),
            overload(&[SqlType::String], SqlType::String),
        ],
        body: Box::new(move |args| match args {
            [Value::Int(_)] => Err("boom!".into()),
            [Value::Boolean(true)] => Err("You asked me to throw...".into()),
            [Value::Boolean(false)] => Ok(Value::Int(0)),
            [v @ Value::String(_)] => {
                Ok(if calls.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) {
                    Value::Null
                } else {
                    v.clone()
                })
            }
            _ => Err(primitive_null("BAD_UDF")),
        }),
    }
}

fn test_udf() -> Fixture {
    let text = |name: &str| Ok(Value::String(name.into()));
    Fixture {
        name: "TEST_UDF",
        description: "test",
        overloads: vec![
            overload(&[SqlType::Int, SqlType::String], SqlType::String),
            overload(&[SqlType::Bigint, SqlType::String], SqlType::String),
            overload(
                &[SqlType::Bigint, SqlType::Bigint, SqlType::String],
                SqlType::String,
            ),
            Overload {
                params: vec![],
                variadic: Some(SqlType::Bigint),
                ret: SqlType::String,
            },
            overload(&[struct_a()], SqlType::String),
            overload(&[], struct_a()),
        ],
        body: Box::new(move |args| match args {
            [] => Ok(Value::Struct(vec![(
                "A".into(),
                Value::String("foo".into()),
            )])),
            [Value::Struct(fields)] => Ok(fields
                .iter()
                .find(|(n, _)| n == "A")
                .map_or(Value::Null, |(_, v)| v.clone())),
            [Value::Int(_), Value::String(_) | Value::Null] => text("doStuffIntString"),
            [Value::Bigint(_), Value::String(_) | Value::Null] => text("doStuffLongString"),
            [
                Value::Bigint(_),
                Value::Bigint(_),
                Value::String(_) | Value::Null,
            ] => text("doStuffLongLongString"),
            longs if longs.iter().all(|v| matches!(v, Value::Bigint(_))) => {
                text("doStuffLongVarargs")
            }
            _ => Err(primitive_null("TEST_UDF")),
        }),
    }
}

fn to_struct() -> Fixture {
    Fixture {
        name: "TOSTRUCT",
        description: "converts things to a struct",
        overloads: vec![overload(&[SqlType::String], struct_a())],
        body: Box::new(|args| Ok(Value::Struct(vec![("A".into(), args[0].clone())]))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::functions::ScalarFunction;

    fn find(name: &str) -> Fixture {
        all().into_iter().find(|f| f.name == name).expect("fixture")
    }

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn when_fixtures_throw_unless_asked_to_evaluate() {
        let c = find("WHENCONDITION");
        let t = [Value::Boolean(true), Value::Boolean(true)];
        assert_eq!(c.invoke(&t), Ok(Value::Boolean(true)));
        assert!(
            c.invoke(&[Value::Boolean(true), Value::Boolean(false)])
                .is_err()
        );
        let r = find("WHENRESULT");
        assert_eq!(
            r.invoke(&[Value::Int(7), Value::Boolean(true)]),
            Ok(Value::Int(7))
        );
        assert!(r.invoke(&[Value::Int(7), Value::Boolean(false)]).is_err());
        assert!(r.invoke(&[Value::Null, Value::Boolean(true)]).is_err());
    }

    #[test]
    fn bad_udf_throws_and_returns_null_every_other_call() {
        let f = find("BAD_UDF");
        assert_eq!(
            f.resolve(&[Some(SqlType::Boolean)]).map(|r| r.ret),
            Ok(SqlType::Int)
        );
        assert!(f.invoke(&[Value::Int(1)]).is_err());
        assert!(f.invoke(&[Value::Boolean(true)]).is_err());
        assert_eq!(f.invoke(&[Value::Boolean(false)]), Ok(Value::Int(0)));
        assert_eq!(f.invoke(&[s("x")]), Ok(Value::Null));
        assert_eq!(f.invoke(&[s("x")]), Ok(s("x")));
        assert_eq!(f.invoke(&[s("y")]), Ok(Value::Null));
    }

    #[test]
    fn test_udf_resolves_overloads_like_ksqldb() {
        let f = find("TEST_UDF");
        let big = Some(SqlType::Bigint);
        let r = f.resolve(&vec![big; 5]).expect("varargs");
        assert_eq!(r.args, vec![SqlType::Bigint; 5]);
        assert_eq!(
            f.invoke(&vec![Value::Bigint(0); 5]),
            Ok(s("doStuffLongVarargs"))
        );
        assert_eq!(
            f.invoke(&[Value::Int(1), s("a")]),
            Ok(s("doStuffIntString"))
        );
        assert_eq!(
            f.invoke(&[Value::Bigint(1), Value::Bigint(2), s("a")]),
            Ok(s("doStuffLongLongString"))
        );
        assert_eq!(f.resolve(&[]).map(|r| r.ret), Ok(struct_a()));
        assert_eq!(
            f.invoke(&[]),
            Ok(Value::Struct(vec![("A".into(), s("foo"))]))
        );
        assert_eq!(
            f.resolve(&[Some(struct_a())]).map(|r| r.ret),
            Ok(SqlType::String)
        );
        let v = Value::Struct(vec![("A".into(), s("expect-result"))]);
        assert_eq!(f.invoke(&[v]), Ok(s("expect-result")));
        assert!(f.resolve(&[Some(SqlType::Double)]).is_err());
    }

    #[test]
    fn to_struct_wraps_a_string() {
        let f = find("TOSTRUCT");
        assert_eq!(
            f.resolve(&[Some(SqlType::String)]).map(|r| r.ret),
            Ok(struct_a())
        );
        assert_eq!(
            f.invoke(&[s("a")]),
            Ok(Value::Struct(vec![("A".into(), s("a"))]))
        );
    }
}
