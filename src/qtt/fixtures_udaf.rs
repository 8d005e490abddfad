//! ksqlDB's test-only aggregate functions (`ksqldb-engine/src/test/java/.../function/udaf/`),
//! which its query-validation tests call: TEST_UDAF, MULTI_ARG, FOUR_ARG, FIVE_ARG, VAR_ARG,
//! MID_VAR_ARG, GENERIC_VAR_ARG and OBJ_COL_ARG. Each is registered through
//! `FunctionRegistry::register_udaf`, as a user's aggregate function would be.
//!
//! Their per-row arguments come first; the literals after them are the Java factory's
//! arguments (MULTI_ARG's `int initArg1, String... initArg2`), read once when the call is
//! planned. Where the Java code would throw (a NULL for a primitive), `add` fails: the row goes
//! to the processing log and the aggregate keeps its value.

use crate::common::{SqlType, StructField, Value};
use crate::plan::aggregates::{CallArgs, ResolvedUdaf, Udaf, no_overload, resolved};
use crate::plan::functions::{FunctionRegistry, UdafResolver};
use std::sync::Arc;

type Step = Box<dyn Fn(&Value, &[Value]) -> Result<Value, String> + Send + Sync>;
type Finish = Box<dyn Fn(&Value) -> Value + Send + Sync>;

/// One test UDAF: its initial value, how a row adds to (and, for table UDAFs, leaves) the
/// aggregate, and its result. Aggregates merge as `add` would (sums and list appends).
struct TestUdaf {
    init: Value,
    add: Step,
    undo: Option<Step>,
    merge: fn(Value, Value) -> Value,
    result: Finish,
}

impl TestUdaf {
    /// Whether the aggregate is a STRUCT, ARRAY or MAP (DELIMITED cannot hold it).
    fn complex(&self) -> bool {
        matches!(
            self.init,
            Value::Struct(_) | Value::Array(_) | Value::Map(_)
        )
    }
}

impl Udaf for TestUdaf {
    fn init(&self) -> Value {
        self.init.clone()
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        (self.add)(&acc, args)
    }
    fn undo(&self, acc: Value, args: &[Value]) -> Result<Value, String> {
        match &self.undo {
            Some(undo) => undo(&acc, args),
            None => Ok(acc),
        }
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        (self.merge)(a, b)
    }
    fn result(&self, acc: &Value) -> Value {
        (self.result)(acc)
    }
    fn supports_undo(&self) -> bool {
        self.undo.is_some()
    }
    fn complex_intermediate(&self) -> bool {
        self.complex()
    }
}

/// Adds every test UDAF to `registry`.
pub fn register(registry: &mut FunctionRegistry) {
    let all: [(&str, Arc<UdafResolver>); 8] = [
        ("TEST_UDAF", Arc::new(test_udaf)),
        (
            "MULTI_ARG",
            Arc::new(|a: &CallArgs<'_>| sum_of("MULTI_ARG", a, 2)),
        ),
        (
            "FOUR_ARG",
            Arc::new(|a: &CallArgs<'_>| sum_of("FOUR_ARG", a, 4)),
        ),
        (
            "FIVE_ARG",
            Arc::new(|a: &CallArgs<'_>| sum_of("FIVE_ARG", a, 5)),
        ),
        ("VAR_ARG", Arc::new(var_arg)),
        ("MID_VAR_ARG", Arc::new(mid_var_arg)),
        ("GENERIC_VAR_ARG", Arc::new(generic_var_arg)),
        ("OBJ_COL_ARG", Arc::new(obj_col_arg)),
    ];
    for (name, resolver) in all {
        // (Only fails for a name taken by a built-in, which these are not.)
        let _ = registry.register_udaf(name, resolver);
    }
}

/// A Java `long` or `int` argument (NULL counts as 0 where the Java code checks for it).
fn long_or_zero(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Int(n)) => i64::from(*n),
        Some(Value::Bigint(n)) => *n,
        _ => 0,
    }
}

/// Java's `String.length()` (UTF-16 units); NULL counts as 0.
fn length_or_zero(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::String(s)) => s.encode_utf16().count() as i64,
        _ => 0,
    }
}

fn bigint(v: &Value) -> i64 {
    long_or_zero(Some(v))
}

fn add_bigints(a: Value, b: Value) -> Value {
    Value::Bigint(bigint(&a) + bigint(&b))
}

fn append_lists(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Array(mut a), Value::Array(b)) => {
            a.extend(b);
            Value::Array(a)
        }
        (a, _) => a,
    }
}

/// `TEST_UDAF(x)`: sums BIGINTs or INTs (as BIGINT; both undo, so tables can use them) or
/// DOUBLEs; sums a `STRUCT<A INT, B INT>` field by field; `TEST_UDAF(s, 'init')` sums string
/// lengths from the literal's length. A NULL argument fails the row, as Java's unboxing does.
fn test_udaf(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let name = "TEST_UDAF";
    match args.types {
        [t @ (SqlType::Bigint | SqlType::Int)] => {
            let init = match t {
                SqlType::Int => setting(args, "ksql.functions.test_udaf.init").unwrap_or(0),
                _ => 0,
            };
            let udaf = TestUdaf {
                init: Value::Bigint(init),
                add: Box::new(move |acc, row| add_long(acc, row, 1)),
                undo: Some(Box::new(move |acc, row| add_long(acc, row, -1))),
                merge: add_bigints,
                result: Box::new(Value::clone),
            };
            resolved(name, udaf, SqlType::Bigint, vec![t.clone()])
        }
        [SqlType::Double] => {
            let udaf = TestUdaf {
                init: Value::Double(0.0),
                add: Box::new(move |acc, row| match (acc, row.first()) {
                    (Value::Double(a), Some(Value::Double(x))) => Ok(Value::Double(a + x)),
                    _ => Err(null_argument()),
                }),
                undo: None,
                merge: |a, b| match (&a, &b) {
                    (Value::Double(x), Value::Double(y)) => Value::Double(x + y),
                    _ => a,
                },
                result: Box::new(Value::clone),
            };
            resolved(name, udaf, SqlType::Double, vec![SqlType::Double])
        }
        [t @ SqlType::Struct(_)] if *t == pair_struct() => {
            let udaf = TestUdaf {
                init: Value::Struct(vec![
                    ("A".into(), Value::Int(0)),
                    ("B".into(), Value::Int(0)),
                ]),
                add: Box::new(move |acc, row| match row.first() {
                    Some(v @ Value::Struct(_)) => Ok(add_pairs(acc, v)),
                    _ => Err(null_argument()),
                }),
                undo: None,
                merge: |a, b| add_pairs(&a, &b),
                result: Box::new(Value::clone),
            };
            resolved(name, udaf, t.clone(), vec![t.clone()])
        }
        [SqlType::String, SqlType::String] => {
            let Some(Some(Value::String(initial))) = args.literals.get(1) else {
                return Err(no_overload(name, args.types));
            };
            let udaf = TestUdaf {
                init: Value::Bigint(initial.encode_utf16().count() as i64),
                add: Box::new(move |acc, row| match row.first() {
                    Some(v @ Value::String(_)) => {
                        Ok(Value::Bigint(bigint(acc) + length_or_zero(Some(v))))
                    }
                    _ => Err(null_argument()),
                }),
                undo: None,
                merge: add_bigints,
                result: Box::new(Value::clone),
            };
            resolved(name, udaf, SqlType::Bigint, vec![SqlType::String; 2])
        }
        other => Err(no_overload(name, other)),
    }
}

/// What Java's unboxing of a NULL argument throws.
fn null_argument() -> String {
    "TEST_UDAF: a NULL argument (java.lang.NullPointerException)".to_string()
}

/// `acc + sign * x` for an INT or BIGINT `x`.
fn add_long(acc: &Value, row: &[Value], sign: i64) -> Result<Value, String> {
    match row.first() {
        Some(v @ (Value::Int(_) | Value::Bigint(_))) => {
            Ok(Value::Bigint(bigint(acc) + sign * bigint(v)))
        }
        _ => Err(null_argument()),
    }
}

fn pair_struct() -> SqlType {
    let field = |name: &str| StructField {
        name: name.into(),
        sql_type: SqlType::Int,
    };
    SqlType::Struct(vec![field("A"), field("B")])
}

/// `{A: acc.A + x.A, B: acc.B + x.B}` (a NULL field adds nothing).
fn add_pairs(acc: &Value, x: &Value) -> Value {
    let field = |v: &Value, name: &str| match v {
        Value::Struct(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, v)| long_or_zero(Some(v))),
        _ => 0,
    };
    let sum = |name: &str| {
        (
            name.to_string(),
            Value::Int((field(acc, name) + field(x, name)) as i32),
        )
    };
    Value::Struct(vec![sum("A"), sum("B")])
}

/// A function setting as a number.
fn setting(args: &CallArgs<'_>, key: &str) -> Option<i64> {
    args.config?.get(key)?.parse().ok()
}

/// MULTI_ARG (2 columns), FOUR_ARG (4) and FIVE_ARG (5): the first column a BIGINT, then
/// STRINGs (FIVE_ARG's fifth an INT), then the factory's `int` and any `String` literals. The
/// initial value is the int plus the strings' lengths; each row adds its numbers and the
/// lengths of its strings (NULLs add nothing).
fn sum_of(name: &str, args: &CallArgs<'_>, columns: usize) -> Result<ResolvedUdaf, String> {
    let refuse = || no_overload(name, args.types);
    let mut column_types = vec![SqlType::Bigint];
    column_types.extend(std::iter::repeat_n(SqlType::String, columns.min(4) - 1));
    if columns == 5 {
        column_types.push(SqlType::Int);
    }
    let types = args.types;
    if types.len() <= columns || !integral(&types[0]) {
        return Err(refuse());
    }
    if types[1..columns] != column_types[1..] {
        return Err(refuse());
    }
    let Some(Some(Value::Int(first))) = args.literals.get(columns) else {
        return Err(refuse());
    };
    let mut init = i64::from(*first);
    for i in columns + 1..types.len() {
        match args.literals.get(i) {
            Some(Some(v @ Value::String(_))) => init += length_or_zero(Some(v)),
            _ => return Err(refuse()),
        }
    }
    let udaf = TestUdaf {
        init: Value::Bigint(init),
        add: Box::new(move |acc, row| {
            let numbers =
                long_or_zero(row.first()) + long_or_zero(row.get(4).filter(|_| columns == 5));
            let lengths: i64 = (1..columns.min(4))
                .map(|i| length_or_zero(row.get(i)))
                .sum();
            Ok(Value::Bigint(bigint(acc) + numbers + lengths))
        }),
        undo: None,
        merge: add_bigints,
        result: Box::new(Value::clone),
    };
    let mut arg_types = column_types;
    arg_types.extend(types[columns..].iter().cloned());
    resolved(name, udaf, SqlType::Bigint, arg_types)
}

fn integral(t: &SqlType) -> bool {
    matches!(t, SqlType::Int | SqlType::Bigint)
}

/// The sum of a BIGINT and the lengths of any number of strings (NULLs add nothing).
fn long_and_lengths(acc: &Value, row: &[Value], strings: usize) -> Value {
    let lengths: i64 = row
        .iter()
        .skip(1)
        .take(strings)
        .map(|v| length_or_zero(Some(v)))
        .sum();
    Value::Bigint(bigint(acc) + long_or_zero(row.first()) + lengths)
}

/// `VAR_ARG(long, string...)`.
fn var_arg(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let types = args.types;
    let strings_only = types.iter().skip(1).all(|t| *t == SqlType::String);
    if types.is_empty() || !integral(&types[0]) || !strings_only {
        return Err(no_overload("VAR_ARG", types));
    }
    let strings = types.len() - 1;
    let udaf = TestUdaf {
        init: Value::Bigint(0),
        add: Box::new(move |acc, row| Ok(long_and_lengths(acc, row, strings))),
        undo: None,
        merge: add_bigints,
        result: Box::new(Value::clone),
    };
    let mut arg_types = vec![SqlType::Bigint];
    arg_types.extend(std::iter::repeat_n(SqlType::String, strings));
    resolved("VAR_ARG", udaf, SqlType::Bigint, arg_types)
}

/// `MID_VAR_ARG(long, string..., int first, int second)`: as VAR_ARG, and the result adds
/// `first + second` (never accumulated).
fn mid_var_arg(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let types = args.types;
    let refuse = || no_overload("MID_VAR_ARG", types);
    let n = types.len();
    if n < 3 || !integral(&types[0]) {
        return Err(refuse());
    }
    let int_literal = |i: usize| match args.literals.get(i) {
        Some(Some(Value::Int(v))) => Some(i64::from(*v)),
        _ => None,
    };
    let (Some(first), Some(second)) = (int_literal(n - 2), int_literal(n - 1)) else {
        return Err(refuse());
    };
    if types[1..n - 2].iter().any(|t| *t != SqlType::String) {
        return Err(refuse());
    }
    let strings = n - 3;
    let constant = first + second;
    let udaf = TestUdaf {
        init: Value::Bigint(0),
        add: Box::new(move |acc, row| Ok(long_and_lengths(acc, row, strings))),
        undo: None,
        merge: add_bigints,
        result: Box::new(move |acc| Value::Bigint(bigint(acc) + constant)),
    };
    let mut arg_types = vec![SqlType::Bigint];
    arg_types.extend(types[1..].iter().cloned());
    resolved("MID_VAR_ARG", udaf, SqlType::Bigint, arg_types)
}

/// A list of each row's first argument, for rows whose arguments from `from` on are all
/// non-NULL.
fn collect_first(from: usize) -> TestUdaf {
    TestUdaf {
        init: Value::Array(Vec::new()),
        add: Box::new(move |acc, row| {
            let mut list = match acc {
                Value::Array(items) => items.clone(),
                _ => Vec::new(),
            };
            let complete = row.first().is_some_and(|v| !v.is_null())
                && row.iter().skip(from).all(|v| !v.is_null());
            if complete && let Some(first) = row.first() {
                list.push(first.clone());
            }
            Ok(Value::Array(list))
        }),
        undo: None,
        merge: append_lists,
        result: Box::new(Value::clone),
    }
}

/// `GENERIC_VAR_ARG(a, b, c...)` (every `c` of one type): the `a` of rows with no NULL.
fn generic_var_arg(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let types = args.types;
    let same_variadic = types.iter().skip(2).all(|t| Some(t) == types.get(2));
    if types.len() < 2 || !same_variadic {
        return Err(no_overload("GENERIC_VAR_ARG", types));
    }
    let ret = SqlType::Array(Box::new(types[0].clone()));
    resolved("GENERIC_VAR_ARG", collect_first(1), ret, types.to_vec())
}

/// `OBJ_COL_ARG(int, any...)`: the first argument of rows with no NULL.
fn obj_col_arg(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let types = args.types;
    if types.first() != Some(&SqlType::Int) {
        return Err(no_overload("OBJ_COL_ARG", types));
    }
    let ret = SqlType::Array(Box::new(SqlType::Int));
    resolved("OBJ_COL_ARG", collect_first(1), ret, types.to_vec())
}
