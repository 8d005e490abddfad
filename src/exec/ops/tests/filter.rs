//! The filter operator's rules (`plan::logical::FilterRule`): over a stream (WHERE), a table's
//! changes in a persistent query (Kafka Streams' `KTable.filter` without old values), a push
//! query over a table, and an aggregation's `U-`/`U+` pairs (HAVING, RisingWave's pair rule).

use crate::exec::ops::fixture::{Kind, OpUnderTest, STREAM_S, TABLE_T};

fn filter(ddl: &str, sql: &str) -> OpUnderTest {
    OpUnderTest::new(&[ddl], sql, Kind::Filter)
}

/// Rows for which WHERE is not TRUE are dropped (NULL included, without a report); a record
/// without a value (`-`) is dropped and reported whatever the predicate says.
#[test]
fn stream_rule_drops_failing_rows_and_reports_dropped_deletions() {
    let mut op = filter(
        STREAM_S,
        "CREATE STREAM OUT AS SELECT * FROM S WHERE V > 1;",
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | a        | 1        | 10             | 0                    | 0                |
         | +  | b        | 2        | 11             | 0                    | 1                |
         | -  | c        | null     | 12             | 0                    | 2                |
         | +  | d        | null     | 13             | 0                    | 3                |",
    )
    // An insert-only batch (every row a record) goes the vectorised way.
    .feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | e        | 3        | 14             | 0                    | 4                |
         | +  | f        | 0        | 15             | 0                    | 5                |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | b        | 2        | 11             | 0                    | 1                |

    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | e        | 3        | 14             | 0                    | 4                |

    processing log:
    bad offset=2: A record with a null value is dropped: a WHERE clause is false for a stream row without values
    ");
}

/// A persistent query over a table: an upsert that fails becomes a deletion of its key (the
/// key may have passed before), a deletion passes.
#[test]
fn table_rule_turns_failing_upserts_into_deletions_and_passes_deletions() {
    let mut op = filter(TABLE_T, "CREATE TABLE OUT AS SELECT * FROM T WHERE V > 1;");
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | a        | 5        | 10             | 0                    | 0                |
         | +  | b        | 0        | 11             | 0                    | 1                |
         | -  | c        | null     | 12             | 0                    | 2                |
         | +  | d        | null     | 13             | 0                    | 3                |",
    )
    // All inserts: the rule still applies (no vectorised shortcut for a table).
    .feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | a        | 1        | 14             | 0                    | 4                |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 5        | 10             | 0                    | 0                |
    | -  | b        | 0        | 11             | 0                    | 1                |
    | -  | c        | null     | 12             | 0                    | 2                |
    | -  | d        | null     | 13             | 0                    | 3                |

    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | -  | a        | 1        | 14             | 0                    | 4                |
    ");
}

/// A push query over a table: an upsert that fails is not shown; a deletion is shown, as the
/// predicate reads a value column a deletion does not have.
#[test]
fn table_view_rule_hides_failing_upserts_and_shows_deletions() {
    let mut op = filter(TABLE_T, "SELECT * FROM T WHERE V > 1 EMIT CHANGES;");
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | a        | 5        | 10             | 0                    | 0                |
         | +  | b        | 0        | 11             | 0                    | 1                |
         | -  | c        | null     | 12             | 0                    | 2                |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 5        | 10             | 0                    | 0                |
    | -  | c        | null     | 12             | 0                    | 2                |
    ");
}

/// A push query over a table whose predicate reads only the key: it judges deletions too.
#[test]
fn table_view_rule_judges_deletions_by_a_key_only_predicate() {
    let mut op = filter(TABLE_T, "SELECT * FROM T WHERE K = 'a' EMIT CHANGES;");
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | a        | 0        | 10             | 0                    | 0                |
         | +  | b        | 5        | 11             | 0                    | 1                |
         | -  | a        | null     | 12             | 0                    | 2                |
         | -  | b        | null     | 13             | 0                    | 3                |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 0        | 10             | 0                    | 0                |
    | -  | a        | null     | 12             | 0                    | 2                |
    ");
}

/// HAVING over an aggregation's changes: a pair whose old row passed and new one does not
/// deletes the key (the `-` is the new row: its ROWTIME is the update's, the time Kafka
/// Streams forwards the tombstone at); old failed and new passes writes it (`+`); both pass
/// keeps the pair; both fail is nothing; a lone `+` or `-` is kept only if it passes.
#[test]
fn updates_rule_rewrites_pairs_by_which_side_passes() {
    let mut op = filter(
        STREAM_S,
        "CREATE TABLE OUT AS SELECT K, SUM(V) AS TOTAL FROM S GROUP BY K HAVING SUM(V) > 10;",
    );
    op.feed(
        "| op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | KSQL_AGG_VARIABLE_1:BIGINT | ROWTIME:BIGINT |
         | +  | a                       | 5                          | 5                          | 1              |
         | +  | b                       | 20                         | 20                         | 1              |
         | U- | a                       | 5                          | 5                          | 1              |
         | U+ | a                       | 15                         | 15                         | 2              |
         | U- | b                       | 20                         | 20                         | 1              |
         | U+ | b                       | 30                         | 30                         | 2              |
         | U- | c                       | 30                         | 30                         | 1              |
         | U+ | c                       | 5                          | 5                          | 2              |
         | U- | d                       | 1                          | 1                          | 1              |
         | U+ | d                       | 2                          | 2                          | 2              |
         | -  | b                       | 30                         | 30                         | 3              |
         | -  | d                       | 2                          | 2                          | 3              |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | KSQL_AGG_VARIABLE_1:BIGINT | ROWTIME:BIGINT |
    | +  | b                       | 20                         | 20                         | 1              |
    | +  | a                       | 15                         | 15                         | 2              |
    | U- | b                       | 20                         | 20                         | 1              |
    | U+ | b                       | 30                         | 30                         | 2              |
    | -  | c                       | 5                          | 5                          | 2              |
    | -  | b                       | 30                         | 30                         | 3              |
    ");
}

/// A predicate that fails on a row (integer division by zero) is reported with the row's
/// offset and counts as FALSE; the other rows are judged as usual.
#[test]
fn a_predicate_failing_on_a_row_reports_it_and_drops_it() {
    let mut op = filter(
        STREAM_S,
        "CREATE STREAM OUT AS SELECT * FROM S WHERE 10 / V > 1;",
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
         | +  | a        | 2        | 10             | 0                    | 7                |
         | +  | b        | 0        | 11             | 0                    | 8                |
         | +  | c        | 20       | 12             | 0                    | 9                |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 2        | 10             | 0                    | 7                |

    processing log:
    bad offset=8: Error computing expression ((CAST(10 AS BIGINT) / V) > CAST(1 AS BIGINT)): Arrow error: Divide by zero error
    ");
}
