//! Unit tests of the aggregate functions: results after each row, undo, resolution errors.

use super::*;

fn udaf(name: &str, types: &[SqlType], literals: &[Option<Value>]) -> ResolvedUdaf {
    let texts: Vec<String> = types.iter().map(|t| t.to_string()).collect();
    let args = CallArgs {
        types,
        literals,
        texts: &texts,
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
