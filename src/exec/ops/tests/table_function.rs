//! The table-function operator (EXPLODE): each row repeated once per element of its longest
//! array, the elements appended as columns.

use crate::exec::ops::fixture::{Kind, OpUnderTest};

/// `A`: a stream with two arrays.
const STREAM_A: &str = "CREATE STREAM A (K STRING KEY, XS ARRAY<BIGINT>, YS ARRAY<STRING>) \
     WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON');";

/// Two EXPLODEs: as many rows as the longer array, NULL where the shorter one has run out
/// (ksqlDB's rule); a row whose arrays are all empty or NULL makes no row; a record without a
/// value (`-`) passes once, its elements NULL.
#[test]
fn explode_repeats_rows_per_element_of_the_longest_array() {
    let mut op = OpUnderTest::new(
        &[STREAM_A],
        "CREATE STREAM OUT AS SELECT K, EXPLODE(XS) AS X, EXPLODE(YS) AS Y FROM A;",
        Kind::TableFunction,
    );
    op.feed(
        r#"| op | K:STRING | XS:ARRAY<BIGINT> | YS:ARRAY<STRING> | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
           | +  | a        | [1, 2, 3]        | ["p"]            | 10             | 0                    | 0                |
           | +  | b        | []               | null             | 11             | 0                    | 1                |
           | +  | c        | null             | []               | 12             | 0                    | 2                |
           | -  | d        | null             | null             | 13             | 0                    | 3                |
           | +  | e        | [4]              | ["q", "r"]       | 14             | 0                    | 4                |"#,
    );
    insta::assert_snapshot!(op.output(), @r#"
    | op | K:STRING | XS:ARRAY<BIGINT> | YS:ARRAY<STRING> | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_SYNTH_0:BIGINT | KSQL_SYNTH_1:STRING |
    | +  | a        | [1, 2, 3]        | ["p"]            | 10             | 0                    | 0                | 1                   | p                   |
    | +  | a        | [1, 2, 3]        | ["p"]            | 10             | 0                    | 0                | 2                   | null                |
    | +  | a        | [1, 2, 3]        | ["p"]            | 10             | 0                    | 0                | 3                   | null                |
    | -  | d        | null             | null             | 13             | 0                    | 3                | null                | null                |
    | +  | e        | [4]              | ["q", "r"]       | 14             | 0                    | 4                | 4                   | q                   |
    | +  | e        | [4]              | ["q", "r"]       | 14             | 0                    | 4                | null                | r                   |
    "#);
}
