//! Aggregations without a window: one group per key, updated by every row.

use super::aggregate;

/// The first row of a group makes it (`+`); each later one updates it (`U-` the old
/// aggregate, `U+` the new). An update's ROWTIME is the largest of the group's rows' (an
/// out-of-order row does not move it back); SUM skips NULL, COUNT(*) counts the row.
#[test]
fn count_and_sum_emit_a_new_group_then_updates() {
    let mut op = aggregate(
        "CREATE TABLE OUT AS SELECT K, COUNT(*) AS C, SUM(V) AS TOTAL FROM S GROUP BY K;",
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 10             | 0                    | 0                | a                       |
         | +  | b        | 2        | 11             | 0                    | 1                | b                       |
         | +  | a        | 3        | 12             | 0                    | 2                | a                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | KSQL_AGG_VARIABLE_1:BIGINT | ROWTIME:BIGINT |
    | +  | a                       | 1                          | 1                          | 10             |
    | +  | b                       | 1                          | 2                          | 11             |
    | U- | a                       | 1                          | 1                          | 10             |
    | U+ | a                       | 2                          | 4                          | 12             |
    ");
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 5        | 5              | 0                    | 3                | a                       |
         | +  | a        | null     | 13             | 0                    | 4                | a                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | KSQL_AGG_VARIABLE_1:BIGINT | ROWTIME:BIGINT |
    | U- | a                       | 2                          | 4                          | 12             |
    | U+ | a                       | 3                          | 9                          | 12             |
    | U- | a                       | 3                          | 9                          | 12             |
    | U+ | a                       | 4                          | 9                          | 13             |
    ");
}

/// A row whose GROUP BY key is NULL is reported (ksqlDB's message) and not aggregated.
#[test]
fn a_null_group_key_is_reported_and_the_row_skipped() {
    let mut op = aggregate("CREATE TABLE OUT AS SELECT V, COUNT(*) AS C FROM S GROUP BY V;");
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:BIGINT |
         | +  | a        | 1        | 10             | 0                    | 0                | 1                       |
         | +  | b        | null     | 11             | 0                    | 1                | null                    |
         | +  | c        | 1        | 12             | 0                    | 2                | 1                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:BIGINT | KSQL_AGG_VARIABLE_0:BIGINT | ROWTIME:BIGINT |
    | +  | 1                       | 1                          | 10             |
    | U- | 1                       | 1                          | 10             |
    | U+ | 1                       | 2                          | 12             |

    processing log:
    bad offset=1: Group-by column with index 0 resolved to null. The source row will be excluded from the table.
    ");
}
