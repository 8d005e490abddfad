//! The projection operator: the query's columns in SELECT order, then ROWTIME (and a windowed
//! input's bounds) carried; a deletion keeps only what its key can compute.

use crate::exec::ops::fixture::{Kind, OpUnderTest, STREAM_S, TABLE_T};

/// Expressions and plain columns in SELECT order, then the input's ROWTIME carried as the
/// output rows' timestamp (ROWPARTITION and ROWOFFSET are not output).
#[test]
fn columns_in_select_order_then_rowtime_carried() {
    let mut op = OpUnderTest::new(
        &[STREAM_S],
        "CREATE STREAM OUT AS SELECT V * 2 AS D, K, ROWTIME AS RT FROM S;",
        Kind::Project,
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | a        | 3        | 100            | 0                    | 0                |
         | +  | b        | null     | 101            | 0                    | 1                |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | D:BIGINT | K:STRING | RT:BIGINT | ROWTIME:BIGINT |
    | +  | 6        | a        | 100       | 100            |
    | +  | null     | b        | 101       | 101            |
    ");
}

/// A table's deletion has only its key: the columns computed from the key alone are
/// computed, the others (value columns, ROWTIME as a column) are NULL; ROWTIME is carried.
#[test]
fn a_deletion_keeps_only_the_columns_its_key_computes() {
    let mut op = OpUnderTest::new(
        &[TABLE_T],
        "CREATE TABLE OUT AS SELECT K, CONCAT(K, '!') AS KK, V + 1 AS V1, ROWTIME AS RT FROM T;",
        Kind::Project,
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | a        | 1        | 100            | 0                    | 0                |
         | -  | b        | 7        | 101            | 0                    | 1                |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | K:STRING | KK:STRING | V1:BIGINT | RT:BIGINT | ROWTIME:BIGINT |
    | +  | a        | a!        | 2         | 100       | 100            |
    | -  | b        | b!        | null      | null      | 101            |
    ");
}

/// An expression failing on one row gives NULL there and is reported with the row's offset;
/// the row and the other rows are kept. On a deletion it is not computed (nor reported).
#[test]
fn an_expression_failing_on_a_row_gives_null_and_a_report() {
    let mut op = OpUnderTest::new(
        &[STREAM_S],
        "CREATE STREAM OUT AS SELECT K, 10 / V AS Q FROM S;",
        Kind::Project,
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | a        | 2        | 100            | 0                    | 5                |
         | +  | b        | 0        | 101            | 0                    | 6                |
         | -  | c        | 0        | 102            | 0                    | 7                |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | K:STRING | Q:BIGINT | ROWTIME:BIGINT |
    | +  | a        | 5        | 100            |
    | +  | b        | null     | 101            |
    | -  | c        | null     | 102            |

    processing log:
    bad offset=6: Error computing expression (CAST(10 AS BIGINT) / V): Arrow error: Divide by zero error
    ");
}
