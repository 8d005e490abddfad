//! ksqlDB's test-only table functions (`TestUdtf` and `ThrowingUdtf` in its test sources), as
//! the conformance runner registers them (see [`super::fixtures`]). Each returns the ARRAY of
//! the rows one input row turns into.
//!
//! - `TEST_UDTF` with seven arguments — `(INT, BIGINT, DOUBLE, BOOLEAN, STRING, DECIMAL,
//!   STRUCT<A VARCHAR>)`, or the same element types as ARRAYs, or as MAP values (STRING keys,
//!   or a BIGINT-keyed first map) — one STRING row per argument: Java's `String.valueOf` of the
//!   value (of the first element / first map value); with one argument of one of those types,
//!   one row holding it (a DECIMAL comes out as DECIMAL(30, 10), its schema provider's type);
//! - `THROWING_UDTF(BOOLEAN)`: one row holding it, or throws when it is true.
//!
//! Java's `ImmutableList.of` rejects NULL elements, so a NULL argument (or a NULL STRING,
//! DECIMAL or STRUCT element) throws, as does an empty list or map.

use super::fixtures::{ANY_DECIMAL, Fixture, overload, primitive_null, struct_a};
use crate::common::{SqlType, Value};
use crate::plan::expr::{decimal, to_text};

pub fn all() -> Vec<Fixture> {
    vec![test_udtf(), throwing_udtf()]
}

/// The DECIMAL return type of `listBigDecimalReturnWithSchemaProvider`.
const DECIMAL_RETURN: SqlType = SqlType::Decimal {
    precision: 30,
    scale: 10,
};

/// The seven parameter types of `standardParams`.
fn standard() -> Vec<SqlType> {
    vec![
        SqlType::Int,
        SqlType::Bigint,
        SqlType::Double,
        SqlType::Boolean,
        SqlType::String,
        ANY_DECIMAL,
        struct_a(),
    ]
}

fn test_udtf() -> Fixture {
    let map = |t| SqlType::Map(Box::new(SqlType::String), Box::new(t));
    let lists: Vec<SqlType> = standard().into_iter().map(SqlType::array).collect();
    let maps: Vec<SqlType> = standard().into_iter().map(map).collect();
    let mut maps2 = maps.clone();
    maps2[0] = SqlType::Map(Box::new(SqlType::Bigint), Box::new(SqlType::Int));
    let strings = SqlType::array(SqlType::String);
    let one = |t: SqlType| overload(std::slice::from_ref(&t), SqlType::array(t.clone()));
    Fixture {
        name: "TEST_UDTF",
        description: "test",
        overloads: vec![
            overload(&standard(), strings.clone()),
            overload(&lists, strings.clone()),
            overload(&maps, strings.clone()),
            overload(&maps2, strings),
            one(SqlType::Int),
            one(SqlType::Bigint),
            one(SqlType::Double),
            one(SqlType::Boolean),
            one(SqlType::String),
            overload(&[ANY_DECIMAL], SqlType::array(DECIMAL_RETURN)),
            one(struct_a()),
        ],
        body: Box::new(|args| match args {
            [one] => single(one),
            seven if seven.len() == 7 => seven_strings(seven),
            _ => Err("TEST_UDTF: no such overload".into()),
        }),
    }
}

/// `listXxxReturn`: the argument as the only row.
fn single(v: &Value) -> Result<Value, String> {
    let v = match v {
        Value::Null => return Err(primitive_null("TEST_UDTF")),
        Value::Decimal(x, s) => {
            let scaled = decimal::fit(*x, *s, 30, 10)?;
            Value::Decimal(scaled, 10)
        }
        other => other.clone(),
    };
    Ok(Value::Array(vec![v]))
}

/// `standardParams` and the list and map variants: one STRING row per argument.
fn seven_strings(args: &[Value]) -> Result<Value, String> {
    let mut rows = Vec::with_capacity(args.len());
    for (i, arg) in args.iter().enumerate() {
        let v = match arg {
            Value::Array(items) => items.first().ok_or("TEST_UDTF: empty list")?,
            Value::Map(entries) => &entries.first().ok_or("TEST_UDTF: empty map")?.1,
            Value::Null => return Err(primitive_null("TEST_UDTF")),
            v => v,
        };
        // String.valueOf(Integer/Long/Double/Boolean) prints "null"; the STRING, DECIMAL and
        // STRUCT values are used as they are (NULL throws).
        if v.is_null() && i >= 4 {
            return Err("TEST_UDTF: NULL list element".into());
        }
        rows.push(Value::String(to_text(v)));
    }
    Ok(Value::Array(rows))
}

fn throwing_udtf() -> Fixture {
    Fixture {
        name: "THROWING_UDTF",
        description: "test UDTF that throws if param is true",
        overloads: vec![overload(
            &[SqlType::Boolean],
            SqlType::array(SqlType::Boolean),
        )],
        body: Box::new(|args| match args {
            [Value::Boolean(true)] => Err("You asked me to throw...".into()),
            [v @ Value::Boolean(false)] => Ok(Value::Array(vec![v.clone()])),
            _ => Err(primitive_null("THROWING_UDTF")),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::functions::ScalarFunction;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    fn args() -> Vec<Value> {
        vec![
            Value::Int(1),
            Value::Bigint(2),
            Value::Double(3.1),
            Value::Boolean(true),
            s("foo"),
            Value::Decimal(1_234_560_000_000, 10),
            Value::Struct(vec![("A".into(), s("bar"))]),
        ]
    }

    #[test]
    fn standard_params_give_one_string_row_each() {
        let f = test_udtf();
        let types: Vec<_> = [
            SqlType::Int,
            SqlType::Bigint,
            SqlType::Double,
            SqlType::Boolean,
            SqlType::String,
            SqlType::decimal(20, 10),
            struct_a(),
        ]
        .into_iter()
        .map(Some)
        .collect();
        let r = f.resolve(&types).expect("standardParams");
        assert_eq!(r.ret, SqlType::array(SqlType::String));
        assert_eq!(r.args[5], SqlType::decimal(20, 10));
        let rows = [
            "1",
            "2",
            "3.1",
            "true",
            "foo",
            "123.4560000000",
            "Struct{A=bar}",
        ];
        let expected = Value::Array(rows.iter().map(|x| s(x)).collect());
        assert_eq!(f.invoke(&args()), Ok(expected.clone()));
        let lists: Vec<Value> = args().into_iter().map(|v| Value::Array(vec![v])).collect();
        assert_eq!(f.invoke(&lists), Ok(expected));
        let mut with_null = args();
        with_null[4] = Value::Null;
        assert!(f.invoke(&with_null).is_err());
    }

    #[test]
    fn one_argument_is_returned_with_its_declared_type() {
        let f = test_udtf();
        for t in [SqlType::Int, SqlType::Bigint, SqlType::String, struct_a()] {
            let r = f.resolve(&[Some(t.clone())]).expect("one");
            assert_eq!(r.ret, SqlType::array(t));
        }
        let r = f
            .resolve(&[Some(SqlType::decimal(20, 10))])
            .expect("decimal");
        assert_eq!(r.ret, SqlType::array(SqlType::decimal(30, 10)));
        assert_eq!(
            f.invoke(&[Value::Decimal(123_456, 3)]),
            Ok(Value::Array(vec![Value::Decimal(1_234_560_000_000, 10)]))
        );
        assert!(f.invoke(&[Value::Null]).is_err());
    }

    #[test]
    fn throwing_udtf_throws_when_asked() {
        let f = throwing_udtf();
        assert!(f.invoke(&[Value::Boolean(true)]).is_err());
        assert_eq!(
            f.invoke(&[Value::Boolean(false)]),
            Ok(Value::Array(vec![Value::Boolean(false)]))
        );
    }
}
