//! The KAFKA format: Kafka's primitive serializers.

use super::{col, read, read_err, spec, string};
use crate::common::{SqlType, Value};
use crate::format::{FormatKind, FormatSpec, Part, deserialize, serialize};

fn kafka() -> FormatSpec {
    spec(FormatKind::Kafka)
}

fn bytes_of(ty: SqlType, value: Value) -> Option<Vec<u8>> {
    serialize(&kafka(), Part::Value, &[col("V", ty)], &[value]).expect("serializable")
}

#[test]
fn primitives_use_kafka_byte_layouts() {
    // kafka.json "INT", "BIGINT", "DOUBLE", "STRING"; bytes.json "KAFKA in/out".
    let cases: [(SqlType, Value, &[u8]); 8] = [
        (SqlType::Int, Value::Int(1), &[0, 0, 0, 1]),
        (SqlType::Int, Value::Int(-1), &[0xff; 4]),
        (SqlType::Bigint, Value::Bigint(2), &[0, 0, 0, 0, 0, 0, 0, 2]),
        (
            SqlType::Double,
            Value::Double(1.1),
            &[0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a],
        ),
        (
            SqlType::Double,
            Value::Double(2.2),
            &[0x40, 0x01, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a],
        ),
        (SqlType::String, string("foo"), b"foo"),
        (SqlType::String, string(""), b""),
        (
            SqlType::Bytes,
            Value::Bytes(b"variations".to_vec()),
            b"variations",
        ),
    ];
    for (ty, value, expected) in cases {
        assert_eq!(
            bytes_of(ty.clone(), value.clone()),
            Some(expected.to_vec()),
            "{value:?}"
        );
        for part in [Part::Key, Part::Value] {
            assert_eq!(
                read(&kafka(), part, &[col("V", ty.clone())], expected),
                std::slice::from_ref(&value)
            );
        }
    }
}

#[test]
fn sizes_are_checked_on_read() {
    let err = |ty: SqlType, bytes: &[u8]| read_err(&kafka(), Part::Value, &[col("V", ty)], bytes);
    assert_eq!(
        err(SqlType::Int, b"abc"),
        "Size of data received by IntegerDeserializer is not 4"
    );
    assert_eq!(
        err(SqlType::Int, b""),
        "Size of data received by IntegerDeserializer is not 4"
    );
    assert_eq!(
        err(SqlType::Bigint, &[0; 4]),
        "Size of data received by LongDeserializer is not 8"
    );
    assert_eq!(
        err(SqlType::Double, &[0; 9]),
        "Size of data received by Deserializer is not 8"
    );
}

#[test]
fn strings_replace_invalid_utf8() {
    let row = read(
        &kafka(),
        Part::Value,
        &[col("V", SqlType::String)],
        b"a\xffb",
    );
    assert_eq!(row, [string("a\u{FFFD}b")]);
}

#[test]
fn null_column_is_a_kafka_null_and_types_must_match() {
    assert_eq!(bytes_of(SqlType::Int, Value::Null), None);
    assert_eq!(
        bytes_of(SqlType::Bigint, Value::Int(3)),
        Some(vec![0, 0, 0, 0, 0, 0, 0, 3])
    );
    assert!(
        serialize(
            &kafka(),
            Part::Value,
            &[col("V", SqlType::Int)],
            &[Value::Bigint(1)]
        )
        .is_err()
    );
    let two = [col("A", SqlType::Int), col("B", SqlType::Int)];
    assert!(serialize(&kafka(), Part::Value, &two, &[Value::Int(1), Value::Int(2)]).is_err());
    assert!(deserialize(&kafka(), Part::Value, &two, Some(&[0; 4])).is_err());
    let boolean = [col("V", SqlType::Boolean)];
    assert!(deserialize(&kafka(), Part::Value, &boolean, Some(&[1])).is_err());
}
