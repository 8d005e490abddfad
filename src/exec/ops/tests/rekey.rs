//! The re-key operator: PARTITION BY and GROUP BY keys computed and appended as columns; a
//! deletion gets a key only from expressions that read nothing but its key.

use crate::exec::ops::fixture::{Kind, OpUnderTest, STREAM_S, TABLE_T};

/// PARTITION BY a value column: the new key is appended; a record without a value has no
/// new key (NULL), even if a value column happens to hold something.
#[test]
fn partition_by_appends_the_key_and_a_deletion_keyed_by_a_value_gets_null() {
    let mut op = OpUnderTest::new(
        &[STREAM_S],
        "CREATE STREAM OUT AS SELECT * FROM S PARTITION BY V;",
        Kind::Rekey,
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | a        | 1        | 10             | 0                    | 0                |
         | -  | b        | 7        | 11             | 0                    | 1                |
         | +  | c        | null     | 12             | 0                    | 2                |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_PARTITION_KEY_0:BIGINT |
    | +  | a        | 1        | 10             | 0                    | 0                | 1                           |
    | -  | b        | 7        | 11             | 0                    | 1                | null                        |
    | +  | c        | null     | 12             | 0                    | 2                | null                        |
    ");
}

/// GROUP BY over a table (whose WHERE turns failing rows into deletions that keep their
/// values): a key read from the source key is computed for a deletion, one read from a value
/// column is NULL.
#[test]
fn group_by_computes_a_deletions_key_only_from_the_source_key() {
    let mut op = OpUnderTest::new(
        &[TABLE_T],
        "CREATE TABLE OUT AS SELECT UCASE(K) AS UK, V, COUNT(*) AS C FROM T GROUP BY UCASE(K), V;",
        Kind::Rekey,
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | a        | 1        | 10             | 0                    | 0                |
         | -  | b        | 7        | 11             | 0                    | 1                |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING | KSQL_GROUP_KEY_1:BIGINT |
    | +  | a        | 1        | 10             | 0                    | 0                | A                       | 1                       |
    | -  | b        | 7        | 11             | 0                    | 1                | B                       | null                    |
    ");
}
