//! The column-wise reader (`RowReader`, with the fast JSON path) must agree with `deserialize`
//! on every input: same values, same null rows, same error messages.

use super::*;
use crate::common::Cell;
use crate::format::RowReader;
use crate::format::json_fast::FastJson;

/// What `deserialize` gives, as the reader's result.
fn exact(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
    bytes: &[u8],
) -> Result<Option<Vec<Value>>, FormatError> {
    super::super::deserialize(spec, part, columns, Some(bytes))
}

fn through_reader(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
    bytes: &[u8],
) -> Result<Option<Vec<Value>>, FormatError> {
    let reader = RowReader::new(spec, part, columns);
    let mut cells = Vec::new();
    let read = reader.read(Some(bytes), &mut cells)?;
    Ok(read.then(|| cells.iter().map(Cell::to_value).collect()))
}

fn assert_agree(spec: &FormatSpec, part: Part, columns: &[ColumnSpec], input: &str) {
    let bytes = input.as_bytes();
    // Compared as text: NaN is not equal to itself.
    assert_eq!(
        format!("{:?}", through_reader(spec, part, columns, bytes)),
        format!("{:?}", exact(spec, part, columns, bytes)),
        "input {input:?}, columns {columns:?}, spec {spec:?} {part:?}"
    );
}

fn column_sets() -> Vec<Vec<ColumnSpec>> {
    vec![
        vec![
            col("CUSTOMER_ID", SqlType::String),
            col("ITEM", SqlType::String),
            col("QUANTITY", SqlType::Int),
            col("PRICE", SqlType::Double),
        ],
        vec![
            col("B", SqlType::Boolean),
            col("I", SqlType::Int),
            col("L", SqlType::Bigint),
            col("D", SqlType::Double),
            col("S", SqlType::String),
            col("TS", SqlType::Timestamp),
            col("DT", SqlType::Date),
            col("T", SqlType::Time),
            col("DEC", SqlType::decimal(5, 2)),
            col("BY", SqlType::Bytes),
        ],
        vec![
            col("A", SqlType::array(SqlType::Int)),
            col("M", SqlType::map(SqlType::String, SqlType::Int)),
            col("ST", SqlType::Struct(vec![field("X", SqlType::Int)])),
            col("S", SqlType::String),
        ],
        vec![col("a", SqlType::String), col("A", SqlType::String)],
        vec![col("SS", SqlType::String), col("I", SqlType::Int)],
        vec![],
    ]
}

const OBJECTS: &[&str] = &[
    r#"{"customer_id": "c45", "item": "widget", "quantity": 3, "price": 12.5}"#,
    r#"{"CUSTOMER_ID":"c1","ITEM":"x","QUANTITY":1,"PRICE":1}"#,
    r#"{"order_id":"o1","customer_id":"c\u00e9\n","item":"\ud83d\ude00","quantity":-0,"price":-1.5e3}"#,
    r#"{"quantity":"42","price":"3.25","item":7,"customer_id":true}"#,
    r#"{"quantity":"4x","price":1}"#,
    r#"{"quantity":1.9,"price":"NaN","item":1.50,"customer_id":1e5}"#,
    r#"{"quantity":99999999999999999999,"price":1e400,"item":-12345678901234567890}"#,
    r#"{"quantity":2147483648,"i":9223372036854775807,"l":-9223372036854775808}"#,
    r#"{"quantity":null,"item":null,"price":null}"#,
    r#"{}"#,
    r#"  { "item" : "a" , "quantity" : 1 }  trailing garbage"#,
    "\u{feff}{\"item\":\"bom\"}",
    r#"{"item":"a","item":"b"}"#,
    r#"{"item":"a","ITEM":"b"}"#,
    r#"{"ITEM":"b","item":"a"}"#,
    r#"{"item":"a","Item":"b","iTem":"c"}"#,
    r#"{"a":"lower","A":"upper"}"#,
    r#"{"A":"upper","a":"lower"}"#,
    r#"{"a":"x","b":1,"a":"y"}"#,
    r#"{"ß":"sharp","ss":"s"}"#,
    r#"{"ss":"s","ß":"sharp"}"#,
    r#"{"ı":5}"#,
    r#"{"nested":{"a":[1,2,{"b":null}]},"item":"n"}"#,
    r#"{"item":{"a":1},"customer_id":[1,"x",null,{"b":2}]}"#,
    r#"{"a":[1,null,"3"],"m":{"k":1,"j":"2"},"st":{"x":"7","X":8}}"#,
    r#"{"a":{"x":1},"m":[1],"st":5}"#,
    r#"{"b":true,"i":1,"l":2,"d":3.5,"s":"s","ts":4,"dt":5,"t":6,"dec":1.25,"by":"AQI="}"#,
    r#"{"b":"true","i":"1","l":"2","d":"3.5","ts":"4","dt":"5","t":"6","dec":"1.25"}"#,
    r#"{"b":1}"#,
    r#"{"t":86400001}"#,
    r#"{"t":-1}"#,
    r#"{"dec":123.456}"#,
    r#"{"dec":1234.5}"#,
    r#"{"by":"not base64!"}"#,
    r#"{"d":-0.0,"i":-2147483649,"dt":2147483648}"#,
    r#"{"item":"a"} {"item":"b"}"#,
    r#"{"item":"a",}"#,
    r#"{"item":"a""quantity":1}"#,
    r#"{"item":'a'}"#,
    r#"{item:"a"}"#,
    r#"{"item":"a"#,
    r#"{"item":"a\x"}"#,
    r#"{"item":"a\u12"}"#,
    "{\"item\":\"tab\there\"}",
    r#"{"quantity":01}"#,
    r#"{"quantity":1.}"#,
    r#"{"quantity":-}"#,
    r#"{"quantity":1e}"#,
    r#"{"quantity":+1}"#,
    r#"{"quantity":truex}"#,
    r#"{"quantity":nul}"#,
    r#"{"quantity":1x}"#,
    r#"{"item":"a"]"#,
    r#"{"quantity":[1,2}"#,
    "{\"item\":\"\u{7f}\u{80}\"}",
    "",
    "   ",
    "null",
    " null ",
    "[1,2]",
    "\"text\"",
    "42",
    "true",
];

#[test]
fn reader_agrees_with_deserialize_on_objects() {
    for columns in column_sets() {
        for input in OBJECTS {
            assert_agree(&spec(FormatKind::Json), Part::Value, &columns, input);
        }
    }
}

#[test]
fn reader_agrees_on_invalid_utf8_and_deep_nesting() {
    let columns = column_sets().remove(2);
    let json = spec(FormatKind::Json);
    for bytes in [&b"{\"s\":\"\xff\"}"[..], b"{\"s\":\"a\"}\xff", b"\xef\xbb"] {
        let expected = exact(&json, Part::Value, &columns, bytes);
        assert_eq!(
            through_reader(&json, Part::Value, &columns, bytes),
            expected
        );
    }
    for depth in [998, 999, 1000, 1001] {
        let input = format!("{{\"a\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        assert_agree(&json, Part::Value, &columns, &input);
    }
}

const BARE: &[&str] = &[
    "42",
    "42 ",
    "42x",
    "42]",
    "-7.5",
    "1e3",
    "\"12\"",
    "\"a\\u0041\"",
    "\"x\"",
    "true",
    "truex",
    "null",
    "",
    " ",
    "[1]",
    "{\"a\":1}",
    "{\"A\":1}",
    "99999999999999999999",
    "\"1.5\"",
];

#[test]
fn reader_agrees_on_unwrapped_values_and_keys() {
    let types = [
        SqlType::Int,
        SqlType::Bigint,
        SqlType::Double,
        SqlType::String,
        SqlType::Boolean,
        SqlType::decimal(4, 1),
        SqlType::array(SqlType::Int),
        SqlType::Struct(vec![field("A", SqlType::Int)]),
    ];
    for sql_type in types {
        let columns = [col("V", sql_type)];
        for input in BARE {
            assert_agree(&spec(FormatKind::Json), Part::Key, &columns, input);
            assert_agree(&unwrapped(FormatKind::Json), Part::Value, &columns, input);
            assert_agree(&spec(FormatKind::Json), Part::Value, &columns, input);
        }
    }
}

#[test]
fn reader_agrees_on_kafka_and_delimited() {
    for (kind, sql_type, bytes) in [
        (FormatKind::Kafka, SqlType::String, &b"o123"[..]),
        (FormatKind::Kafka, SqlType::String, b"bad \xff utf8"),
        (FormatKind::Kafka, SqlType::Int, b"\0\0\0\x07"),
        (FormatKind::Kafka, SqlType::Int, b"\0\x07"),
        (FormatKind::Delimited, SqlType::Int, b"12"),
        (FormatKind::Delimited, SqlType::Int, b"x"),
    ] {
        let columns = [col("K", sql_type)];
        for part in [Part::Key, Part::Value] {
            let s = spec(kind.clone());
            assert_eq!(
                through_reader(&s, part, &columns, bytes),
                exact(&s, part, &columns, bytes)
            );
        }
    }
}

/// The fast path itself reads the common records (it does not just defer to the exact one).
#[test]
fn fast_path_reads_plain_objects_and_defers_on_doubt() {
    let columns = column_sets().remove(0);
    let fast = FastJson::new(&spec(FormatKind::Json), Part::Value, &columns);
    let Some(fast) = fast else {
        panic!("no fast path for scalar columns")
    };
    let mut cells = Vec::new();
    let plain =
        br#"{"order_id":"o1","customer_id":"c45","item":"widget","quantity":3,"price":12.5}"#;
    assert_eq!(fast.read(plain, &mut cells), Some(()));
    assert_eq!(cells[0], Cell::Str("c45"));
    assert_eq!(cells[2], Cell::Val(Value::Int(3)));
    for doubtful in [
        &br#"{"item":"a","Item":"b"}"#[..],
        br#"{"quantity":"x"}"#,
        b"null",
        b"{",
    ] {
        assert_eq!(fast.read(doubtful, &mut cells), None, "{doubtful:?}");
    }
}
