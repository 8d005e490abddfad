//! The JSON format, reading: field matching, wrapping and ksqlDB's coercions.

use super::{col, field, read, read_err, spec, string, unwrapped};
use crate::common::{SqlType, Value};
use crate::format::{ColumnSpec, FormatKind, FormatSpec, Part, deserialize};

fn json() -> FormatSpec {
    spec(FormatKind::Json)
}

fn one(name: &str, ty: SqlType) -> Vec<ColumnSpec> {
    vec![col(name, ty)]
}

/// Reads `{"V": <json>}` into a single column V of `ty`.
fn read_v(ty: SqlType, json_value: &str) -> Value {
    let bytes = format!("{{\"V\": {json_value}}}");
    read(&json(), Part::Value, &one("V", ty), bytes.as_bytes()).remove(0)
}

fn read_v_err(ty: SqlType, json_value: &str) -> String {
    let bytes = format!("{{\"V\": {json_value}}}");
    read_err(&json(), Part::Value, &one("V", ty), bytes.as_bytes())
}

#[test]
fn wrapped_fields_match_upper_case_names_case_insensitively() {
    // timestamp.json / key-schemas.json: lower-case input names fill upper-case columns.
    let columns = [
        col("ID", SqlType::Int),
        col("NAME", SqlType::String),
        col("mixed", SqlType::Int),
    ];
    let row = read(
        &json(),
        Part::Value,
        &columns,
        br#"{"id":1,"Name":"a","MIXED":3,"extra":9}"#,
    );
    // A quoted mixed-case column matches only exactly; extra fields are ignored.
    assert_eq!(row, vec![Value::Int(1), string("a"), Value::Null]);
    let row = read(&json(), Part::Value, &columns, br#"{"mixed":3}"#);
    assert_eq!(row, vec![Value::Null, Value::Null, Value::Int(3)]);
}

#[test]
fn exact_name_wins_and_the_last_case_variant_wins_otherwise() {
    let columns = one("ID", SqlType::Int);
    assert_eq!(
        read(&json(), Part::Value, &columns, br#"{"id":1,"ID":2,"Id":3}"#),
        [Value::Int(2)]
    );
    assert_eq!(
        read(&json(), Part::Value, &columns, br#"{"id":1,"Id":3}"#),
        [Value::Int(3)]
    );
    // A repeated key replaces the earlier value.
    assert_eq!(
        read(&json(), Part::Value, &columns, br#"{"ID":1,"ID":5}"#),
        [Value::Int(5)]
    );
}

#[test]
fn wrapped_null_document_is_a_null_row_and_a_bare_value_is_an_error() {
    let columns = one("FOO", SqlType::Int);
    assert_eq!(
        deserialize(&json(), Part::Value, &columns, Some(b"null")),
        Ok(None)
    );
    assert_eq!(
        read_err(&json(), Part::Value, &columns, b"10"),
        "Can't convert type. sourceType: IntNode, requiredType: STRUCT<FOO INT>, path: $"
    );
    // A JSON null field is NULL: json.json "deserialize nested array - value".
    assert_eq!(
        read(&json(), Part::Value, &columns, br#"{"FOO":null}"#),
        [Value::Null]
    );
}

#[test]
fn unwrapped_values_and_single_keys_are_bare() {
    // json.json "... - value - anonymous - deserialize" and "... - key".
    let cases: [(SqlType, &[u8], Value); 6] = [
        (SqlType::Boolean, b"true", Value::Boolean(true)),
        (SqlType::String, br#""hello""#, string("hello")),
        (SqlType::decimal(4, 2), b"10.1", Value::Decimal(1010, 2)),
        (
            SqlType::array(SqlType::Double),
            b"[10.1]",
            Value::Array(vec![Value::Double(10.1)]),
        ),
        (
            SqlType::Bigint,
            b"998877665544332211",
            Value::Bigint(998_877_665_544_332_211),
        ),
        (
            SqlType::Struct(vec![field("A", SqlType::Double)]),
            br#"{"a": 45.67}"#,
            Value::Struct(vec![("A".into(), Value::Double(45.67))]),
        ),
    ];
    for (ty, bytes, expected) in cases {
        let columns = one("V", ty);
        assert_eq!(
            read(&unwrapped(FormatKind::Json), Part::Value, &columns, bytes),
            std::slice::from_ref(&expected)
        );
        assert_eq!(read(&json(), Part::Key, &columns, bytes), [expected]);
    }
    // A JSON null literal is a NULL column, not a null row.
    let columns = one("V", SqlType::Int);
    assert_eq!(read(&json(), Part::Key, &columns, b"null"), [Value::Null]);
}

#[test]
fn integers_truncate_and_wrap_like_jackson() {
    assert_eq!(read_v(SqlType::Int, "41.456"), Value::Int(41));
    assert_eq!(read_v(SqlType::Int, "-41.9"), Value::Int(-41));
    assert_eq!(read_v(SqlType::Int, "\"41\""), Value::Int(41));
    assert_eq!(read_v(SqlType::Int, "4294967297"), Value::Int(1));
    assert_eq!(read_v(SqlType::Bigint, "42.456"), Value::Bigint(42));
    assert_eq!(read_v(SqlType::Bigint, "\"-7\""), Value::Bigint(-7));
    assert_eq!(read_v(SqlType::Bigint, "1e3"), Value::Bigint(1000));
    assert_eq!(
        read_v_err(SqlType::Int, "\"1!\""),
        "Can't coerce string to type. targetType: INTEGER, path: $.V"
    );
    assert_eq!(
        read_v_err(SqlType::Bigint, "\"4.5\""),
        "Can't coerce string to type. targetType: BIGINT, path: $.V"
    );
    assert_eq!(
        read_v_err(SqlType::Int, "true"),
        "Can't convert type. sourceType: BooleanNode, requiredType: INTEGER, path: $.V"
    );
}

#[test]
fn doubles_come_from_numbers_and_strings() {
    assert_eq!(read_v(SqlType::Double, "42"), Value::Double(42.0));
    assert_eq!(read_v(SqlType::Double, "\"42.000\""), Value::Double(42.0));
    assert_eq!(
        read_v(SqlType::Double, "1e400"),
        Value::Double(f64::INFINITY)
    );
    assert_eq!(
        read_v_err(SqlType::Double, "\"x\""),
        "Can't coerce string to type. targetType: DOUBLE, path: $.V"
    );
    assert_eq!(
        read_v_err(SqlType::Double, "[1]"),
        "Can't convert type. sourceType: ArrayNode, requiredType: DOUBLE, path: $.V"
    );
}

#[test]
fn booleans_only_from_true_and_false() {
    assert_eq!(read_v(SqlType::Boolean, "false"), Value::Boolean(false));
    assert_eq!(
        read_v_err(SqlType::Boolean, "\"true\""),
        "Can't convert type. sourceType: TextNode, requiredType: BOOLEAN, path: $.V"
    );
    assert_eq!(
        read_v_err(SqlType::Boolean, "1"),
        "Can't convert type. sourceType: IntNode, requiredType: BOOLEAN, path: $.V"
    );
}

#[test]
fn anything_becomes_a_string_as_ksqldb_renders_it() {
    let cases = [
        (r#""a string""#, "a string"),
        ("42.000", "42.000"),
        ("42", "42"),
        ("-0", "0"),
        ("1E+2", "1E+2"),
        ("1e2", "1E+2"),
        ("0.0000001", "1E-7"),
        (
            "123456789012345678901234567890",
            "123456789012345678901234567890",
        ),
        ("true", "true"),
        (
            r#"{"json": "object", "n": [1, 2.50, null], "s": "q\"\u0001"}"#,
            r#"{"json":"object","n":[1,2.50,null],"s":"q\"\u0001"}"#,
        ),
        (r#"["json", "array"]"#, "[json, array]"),
        (
            r#"[1, null, [true, {"a": 1}]]"#,
            r#"[1, null, [true, {"a":1}]]"#,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(read_v(SqlType::String, input), string(expected), "{input}");
    }
    // json.json "deserialize anonymous array - value - with coercion".
    let columns = one("FOO", SqlType::array(SqlType::String));
    let row = read(
        &unwrapped(FormatKind::Json),
        Part::Value,
        &columns,
        b"[1, 2, 3]",
    );
    assert_eq!(
        row,
        [Value::Array(vec![string("1"), string("2"), string("3")])]
    );
}

#[test]
fn decimals_come_from_numbers_and_strings_and_must_fit() {
    let ty = SqlType::decimal(6, 4);
    // decimal.json "JSON scale in data less than scale in type": 10 is 10.0000.
    assert_eq!(read_v(ty.clone(), "10"), Value::Decimal(100_000, 4));
    assert_eq!(read_v(ty.clone(), "0.0001"), Value::Decimal(1, 4));
    assert_eq!(read_v(ty.clone(), "\"12.5\""), Value::Decimal(125_000, 4));
    assert_eq!(read_v(ty.clone(), "\"1E+1\""), Value::Decimal(100_000, 4));
    assert_eq!(
        read_v_err(SqlType::decimal(4, 1), "1.12"),
        "Cannot fit decimal '1.12' into DECIMAL(4, 1) without rounding. (Requires 3,2), path: $.V"
    );
    assert_eq!(
        read_v_err(ty.clone(), "100"),
        "Numeric field overflow: A field with precision 6 and scale 4 must round to an absolute \
         value less than 10^2. Got 100, path: $.V"
    );
    assert_eq!(
        read_v_err(ty, "true"),
        "Can't convert type. sourceType: BooleanNode, requiredType: DECIMAL(6, 4), path: $.V"
    );
    // decimal.json "JSON in/out": the full precision survives.
    assert_eq!(
        read_v(SqlType::decimal(17, 15), "10.123451234512345"),
        Value::Decimal(10_123_451_234_512_345, 15)
    );
}

#[test]
fn temporal_types_are_epoch_numbers() {
    // timestamp.json / date.json / time.json "JSON in/out".
    assert_eq!(read_v(SqlType::Timestamp, "10"), Value::Timestamp(10));
    assert_eq!(
        read_v(SqlType::Timestamp, "\"1500\""),
        Value::Timestamp(1500)
    );
    assert_eq!(read_v(SqlType::Date, "-10"), Value::Date(-10));
    assert_eq!(read_v(SqlType::Time, "10"), Value::Time(10));
    assert_eq!(read_v(SqlType::Time, "86400000"), Value::Time(86_400_000));
    let message = "Time values must use number of milliseconds greater than 0 and less than \
                   86400000., path: $.V";
    assert_eq!(read_v_err(SqlType::Time, "86400001"), message);
    assert_eq!(read_v_err(SqlType::Time, "-1"), message);
    assert_eq!(
        read_v_err(SqlType::Timestamp, "\"2020-01-01\""),
        "Can't coerce string to type. targetType: TIMESTAMP, path: $.V"
    );
    assert_eq!(
        read_v_err(SqlType::Date, "true"),
        "Can't convert type. sourceType: BooleanNode, requiredType: DATE, path: $.V"
    );
}

#[test]
fn bytes_are_base64() {
    // bytes.json "JSON in/out".
    assert_eq!(
        read_v(SqlType::Bytes, r#""dmFyaWF0aW9ucw==""#),
        Value::Bytes(b"variations".to_vec())
    );
    assert_eq!(read_v(SqlType::Bytes, r#""""#), Value::Bytes(vec![]));
    assert_eq!(
        read_v_err(SqlType::Bytes, r#""abc""#),
        "Value is not a valid Base64 encoded string: abc, path: $.V"
    );
    assert_eq!(
        read_v_err(SqlType::Bytes, "12"),
        "Can't convert type. sourceType: IntNode, requiredType: BYTES, path: $.V"
    );
}

#[test]
fn nested_types_coerce_recursively_with_paths_in_errors() {
    let ty = SqlType::Struct(vec![
        field("A", SqlType::array(SqlType::Int)),
        field("M", SqlType::map(SqlType::String, SqlType::Bigint)),
    ]);
    let value = read_v(
        ty.clone(),
        r#"{"a": [1, "2", null], "m": {"x": 1, "y": null}}"#,
    );
    let expected = Value::Struct(vec![
        (
            "A".into(),
            Value::Array(vec![Value::Int(1), Value::Int(2), Value::Null]),
        ),
        (
            "M".into(),
            Value::Map(vec![
                (string("x"), Value::Bigint(1)),
                (string("y"), Value::Null),
            ]),
        ),
    ]);
    assert_eq!(value, expected);
    assert_eq!(
        read_v_err(ty.clone(), r#"{"A": [1, "x"]}"#),
        "Can't coerce string to type. targetType: INTEGER, path: $.V.A[1]"
    );
    assert_eq!(
        read_v_err(ty.clone(), r#"{"M": {"k": false}}"#),
        "Can't convert type. sourceType: BooleanNode, requiredType: BIGINT, path: $.V.M.k.value"
    );
    assert_eq!(
        read_v_err(ty, "[]"),
        "Can't convert type. sourceType: ArrayNode, requiredType: STRUCT<A ARRAY<INT>, \
         M MAP<VARCHAR, BIGINT>>, path: $.V"
    );
    assert_eq!(
        read_v_err(SqlType::array(SqlType::Int), "{}"),
        "Can't convert type. sourceType: ObjectNode, requiredType: ARRAY<INT>, path: $.V"
    );
}

#[test]
fn malformed_documents_are_errors() {
    let columns = one("V", SqlType::Int);
    for bad in [
        &b"{"[..],
        b"{\"V\":}",
        b"{\"V\":01}",
        b"\x00{\"V\":1}",
        b"[1,]",
        b"tru",
        b"{'V':1}",
        b"\"\x01\"",
        b"\xff",
        b"1x",
        b"{\"V\":1.}",
        b"{\"V\":NaN}",
    ] {
        let s = spec(FormatKind::Json);
        assert!(
            deserialize(&s, Part::Value, &columns, Some(bad)).is_err(),
            "{bad:?}"
        );
    }
    // Jackson reads the first root value and ignores what follows it.
    assert_eq!(
        read(&json(), Part::Value, &columns, b" {\"V\":1} trailing"),
        [Value::Int(1)]
    );
    assert_eq!(read(&json(), Part::Key, &columns, b"1 2"), [Value::Int(1)]);
    // A UTF-8 byte order mark is skipped.
    assert_eq!(
        read(&json(), Part::Key, &columns, b"\xEF\xBB\xBF7"),
        [Value::Int(7)]
    );
    // String escapes, including a surrogate pair.
    let value = read(
        &json(),
        Part::Key,
        &one("S", SqlType::String),
        br#""a\n\u00e9\ud83d\ude00\/""#,
    );
    assert_eq!(value, [string("a\n\u{e9}\u{1F600}/")]);
}

#[test]
fn nesting_is_limited() {
    let columns = one("V", SqlType::String);
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let value = read(&json(), Part::Key, &columns, deep(999).as_bytes());
    assert_eq!(value, [string(&deep(999).replace("][", "], ["))]);
    let err = read_err(&json(), Part::Key, &columns, deep(1001).as_bytes());
    assert_eq!(
        err,
        "Document nesting depth exceeds the maximum allowed (1000)"
    );
}

#[test]
fn deep_documents_fit_in_a_small_stack() {
    // Decoding runs on worker threads; maximally nested documents must not overflow them.
    let arrays = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(1000), "}".repeat(1000));
    let reader = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            let columns = one("V", SqlType::String);
            [arrays, objects].iter().all(|text| {
                let read = deserialize(&json(), Part::Key, &columns, Some(text.as_bytes()));
                matches!(read, Ok(Some(row)) if row[0] != Value::Null)
            })
        });
    assert!(reader.expect("thread").join().expect("no overflow"));
}
