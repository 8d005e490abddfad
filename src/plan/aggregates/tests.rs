//! Unit tests of the aggregate functions: results after each row, undo, resolution errors.

use super::*;

fn udaf(name: &str, types: &[SqlType], literals: &[Option<Value>]) -> ResolvedUdaf {
    let texts: Vec<String> = types.iter().map(|t| t.to_string()).collect();
    let args = CallArgs {
        types,
        literals,
        texts: &texts,
        config: None,
    };
    match resolve(name, &args) {
        Some(Ok(r)) => r,
        Some(Err(e)) => panic!("{name}: {e}"),
        None => panic!("{name} is not an aggregate"),
    }
}

/// Adds each row (one argument each) and returns the result after every row.
fn run(r: &ResolvedUdaf, rows: &[Value]) -> Vec<Value> {
    let mut acc = r.udaf.init();
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        acc = r
            .udaf
            .add(acc.clone(), std::slice::from_ref(row), i as i64)
            .unwrap_or(acc);
        out.push(r.udaf.result(&acc));
    }
    out
}

#[test]
fn count_skips_nulls_and_undoes() {
    let r = udaf("COUNT", &[SqlType::Int], &[None]);
    let out = run(&r, &[Value::Int(1), Value::Null, Value::Int(3)]);
    assert_eq!(out, [Value::Bigint(1), Value::Bigint(1), Value::Bigint(2)]);
    let back = r.udaf.undo(Value::Bigint(2), &[Value::Int(3)]);
    assert_eq!(back, Ok(Value::Bigint(1)));
}

#[test]
fn sum_list_adds_every_element_and_skips_nulls() {
    let list = SqlType::Array(Box::new(SqlType::Bigint));
    let r = udaf("SUM_LIST", std::slice::from_ref(&list), &[None]);
    assert_eq!(r.ret, SqlType::Bigint);
    let row = |items: &[Value]| Value::Array(items.to_vec());
    let rows = [
        row(&[Value::Bigint(1), Value::Bigint(2)]),
        Value::Null,
        row(&[Value::Bigint(10), Value::Null]),
    ];
    let out = run(&r, &rows);
    assert_eq!(out, [Value::Bigint(3), Value::Bigint(3), Value::Bigint(13)]);
    let back = r.udaf.undo(Value::Bigint(13), &[rows[0].clone()]);
    assert_eq!(back, Ok(Value::Bigint(10)));
    let strings = SqlType::Array(Box::new(SqlType::String));
    let args = CallArgs {
        types: std::slice::from_ref(&strings),
        literals: &[None],
        texts: &["X".to_string()],
        config: None,
    };
    assert!(matches!(resolve("SUM_LIST", &args), Some(Err(_))));
}

#[test]
fn sum_wraps_ints_and_refuses_decimal_overflow() {
    let r = udaf("SUM", &[SqlType::Int], &[None]);
    let out = run(&r, &[Value::Int(i32::MAX), Value::Int(1)]);
    assert_eq!(out, [Value::Int(i32::MAX), Value::Int(i32::MIN)]);
    let d = udaf("SUM", &[SqlType::decimal(3, 1)], &[None]);
    let acc = d
        .udaf
        .add(Value::Decimal(500, 1), &[Value::Decimal(508, 1)], 0);
    assert!(acc.is_err(), "{acc:?}");
}

#[test]
fn avg_min_max_and_collections() {
    let avg = udaf("AVG", &[SqlType::Int], &[None]);
    let out = run(&avg, &[Value::Int(1), Value::Int(2), Value::Null]);
    assert_eq!(
        out,
        [Value::Double(1.0), Value::Double(1.5), Value::Double(1.5)]
    );
    let min = udaf("MIN", &[SqlType::String], &[None]);
    let rows = [
        Value::Null,
        Value::String("b".into()),
        Value::String("a".into()),
    ];
    assert_eq!(run(&min, &rows)[2], Value::String("a".into()));
    assert!(!min.udaf.supports_undo());
    let set = udaf("COLLECT_SET", &[SqlType::Int], &[None]);
    let out = run(&set, &[Value::Int(1), Value::Int(1), Value::Int(2)]);
    assert_eq!(out[2], Value::Array(vec![Value::Int(1), Value::Int(2)]));
}

#[test]
fn topk_keeps_the_largest_first() {
    let r = udaf(
        "TOPK",
        &[SqlType::Int, SqlType::Int],
        &[None, Some(Value::Int(2))],
    );
    let out = run(&r, &[Value::Int(1), Value::Int(5), Value::Int(3)]);
    assert_eq!(out[2], Value::Array(vec![Value::Int(5), Value::Int(3)]));
    let no_k = CallArgs {
        types: &[SqlType::Int, SqlType::Int],
        literals: &[None, None],
        texts: &[],
        config: None,
    };
    assert!(matches!(resolve("TOPK", &no_k), Some(Err(_))));
}

#[test]
fn latest_and_earliest_by_offset() {
    let latest = udaf("LATEST_BY_OFFSET", &[SqlType::Int], &[None]);
    let rows = [Value::Int(1), Value::Null, Value::Int(3)];
    assert_eq!(
        run(&latest, &rows),
        [Value::Int(1), Value::Int(1), Value::Int(3)]
    );
    let earliest = udaf(
        "EARLIEST_BY_OFFSET",
        &[SqlType::Int, SqlType::Boolean],
        &[None, Some(Value::Boolean(false))],
    );
    let rows = [Value::Null, Value::Int(2)];
    assert_eq!(run(&earliest, &rows), [Value::Null, Value::Null]);
}

#[test]
fn stddev_of_fewer_than_two_rows_is_zero() {
    let r = udaf("STDDEV_SAMPLE", &[SqlType::Double], &[None]);
    let out = run(&r, &[Value::Double(2.0), Value::Double(4.0)]);
    assert_eq!(out[0], Value::Double(0.0));
    assert_eq!(out[1], Value::Double(2f64.sqrt()));
    // ksqlDB's STDDEV_SAMP is the sample variance.
    let r = udaf("STDDEV_SAMP", &[SqlType::Double], &[None]);
    let out = run(&r, &[Value::Double(10.0), Value::Double(12.0)]);
    assert_eq!(out[1], Value::Double(2.0));
}

#[test]
fn topk_with_other_columns_keeps_structs_in_sort_order() {
    let k = Some(Value::Int(2));
    let r = udaf(
        "TOPK",
        &[SqlType::Int, SqlType::String, SqlType::Int],
        &[None, None, k],
    );
    let entry = |n: i32, s: Option<&str>| {
        Value::Struct(vec![
            ("sort_col".into(), Value::Int(n)),
            (
                "col0".into(),
                s.map_or(Value::Null, |s| Value::String(s.into())),
            ),
        ])
    };
    let mut acc = r.udaf.init();
    for (n, s) in [(5, Some("a")), (9, Some("b")), (9, None), (1, Some("c"))] {
        let args = [
            Value::Int(n),
            s.map_or(Value::Null, |s| Value::String(s.into())),
            Value::Int(2),
        ];
        acc = r.udaf.add(acc, &args, 0).expect("add");
    }
    // Ties keep arrival order; the smallest fall off past k.
    assert_eq!(
        r.udaf.result(&acc),
        Value::Array(vec![entry(9, Some("b")), entry(9, None)])
    );
    let SqlType::Array(element) = &r.ret else {
        panic!("{:?}", r.ret);
    };
    assert_eq!(
        element.to_string(),
        "STRUCT<`sort_col` INTEGER, `col0` STRING>"
    );
}

#[test]
fn count_distinct_is_exact_past_a_thousand_and_collect_obeys_its_limit() {
    let r = udaf("COUNT_DISTINCT", &[SqlType::Int], &[None]);
    let rows: Vec<Value> = (0..1500).map(Value::Int).collect();
    assert_eq!(run(&r, &rows).last(), Some(&Value::Bigint(1500)));
    let config = std::collections::BTreeMap::from([(
        "ksql.functions.collect_list.limit".to_string(),
        "2".to_string(),
    )]);
    let args = CallArgs {
        types: &[SqlType::Int],
        literals: &[None],
        texts: &["X".to_string()],
        config: Some(&config),
    };
    let limited = resolve("COLLECT_LIST", &args)
        .expect("known")
        .expect("resolves");
    let out = run(&limited, &[Value::Int(1), Value::Int(2), Value::Int(3)]);
    assert_eq!(
        out.last(),
        Some(&Value::Array(vec![Value::Int(1), Value::Int(2)]))
    );
}

#[test]
fn attr_is_the_one_shared_value_with_null_as_a_value_and_undoes() {
    let r = udaf("ATTR", &[SqlType::String], &[None]);
    let s = |v: &str| Value::String(v.into());
    let out = run(&r, &[s("a"), s("a"), Value::Null]);
    assert_eq!(out, [s("a"), s("a"), Value::Null]);
    let mut acc = r.udaf.init();
    for x in [s("a"), s("b")] {
        acc = r.udaf.add(acc, &[x], 0).expect("add");
    }
    acc = r.udaf.undo(acc, &[s("b")]).expect("undo");
    assert_eq!(r.udaf.result(&acc), s("a"));
    acc = r.udaf.undo(acc, &[s("a")]).expect("undo");
    assert_eq!(
        r.udaf.result(&acc),
        Value::Null,
        "an empty group has no value"
    );
}

#[test]
fn registered_udafs_resolve_next_to_the_built_in_ones() {
    use crate::plan::functions::{FunctionRegistry, UdafResolver};
    let mut registry = FunctionRegistry::standard();
    let my_count: Arc<UdafResolver> =
        Arc::new(|args: &CallArgs<'_>| match resolve("COUNT", args) {
            Some(Ok(r)) => Ok(ResolvedUdaf {
                name: "MY_COUNT".into(),
                ..r
            }),
            Some(Err(e)) => Err(e),
            None => Err("COUNT is missing".into()),
        });
    assert!(!registry.is_aggregate("my_count"));
    registry
        .register_udaf("my_count", my_count.clone())
        .expect("a new name");
    assert!(registry.is_aggregate("MY_COUNT"));
    let args = CallArgs {
        types: &[SqlType::Int],
        literals: &[None],
        texts: &["X".to_string()],
        config: None,
    };
    let r = match registry.resolve_aggregate("MY_COUNT", &args) {
        Some(Ok(r)) => r,
        _ => panic!("MY_COUNT did not resolve"),
    };
    assert_eq!((r.name.as_str(), &r.ret), ("MY_COUNT", &SqlType::Bigint));
    assert!(registry.register_udaf("sum", my_count.clone()).is_err());
    assert!(registry.register_udaf("concat", my_count).is_err());
}
