//! Aggregating a table: each source row's contribution is remembered by its key and undone
//! when the row changes group or is deleted (Kafka Streams' `KTable.groupBy().aggregate()`
//! with a subtractor, ksqlDB's undo aggregates).

use crate::exec::ops::fixture::{Kind, OpUnderTest, TABLE_T};

/// A row moving to another group is first retracted from its old group (`U-`/`U+` with the
/// smaller count), then added to the new one; a deletion retracts the row (the count may reach 0, as in ksqlDB); a row whose new group
/// is NULL is retracted and reported; a deletion of a key never seen changes nothing.
#[test]
fn table_rows_retract_their_contribution_when_they_move_or_go() {
    let mut op = OpUnderTest::new(
        &[TABLE_T],
        "CREATE TABLE OUT AS SELECT V, COUNT(*) AS C FROM T GROUP BY V;",
        Kind::Aggregate,
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:BIGINT |
         | +  | a        | 1        | 10             | 0                    | 0                | 1                       |
         | +  | b        | 1        | 11             | 0                    | 1                | 1                       |
         | +  | a        | 2        | 12             | 0                    | 2                | 2                       |
         | +  | c        | 2        | 13             | 0                    | 3                | 2                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:BIGINT | KSQL_AGG_VARIABLE_0:BIGINT | ROWTIME:BIGINT |
    | +  | 1                       | 1                          | 10             |
    | U- | 1                       | 1                          | 10             |
    | U+ | 1                       | 2                          | 11             |
    | U- | 1                       | 2                          | 11             |
    | U+ | 1                       | 1                          | 12             |
    | +  | 2                       | 1                          | 12             |
    | U- | 2                       | 1                          | 12             |
    | U+ | 2                       | 2                          | 13             |
    ");
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:BIGINT |
         | -  | b        | null     | 14             | 0                    | 4                | null                    |
         | +  | a        | null     | 15             | 0                    | 5                | null                    |
         | -  | z        | null     | 16             | 0                    | 6                | null                    |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:BIGINT | KSQL_AGG_VARIABLE_0:BIGINT | ROWTIME:BIGINT |
    | U- | 1                       | 1                          | 12             |
    | U+ | 1                       | 0                          | 14             |
    | U- | 2                       | 2                          | 13             |
    | U+ | 2                       | 1                          | 15             |

    processing log:
    bad offset=5: Group-by column with index 0 resolved to null. The source row will be excluded from the table.
    ");
}

/// `U`: a table whose rows are grouped by `G` and summed by `N`.
const TABLE_U: &str = "CREATE TABLE U (K STRING PRIMARY KEY, G STRING, N BIGINT) \
     WITH (KAFKA_TOPIC='u', VALUE_FORMAT='JSON');";

const SUM_BY_G: &str =
    "CREATE TABLE OUT AS SELECT G, SUM(N) AS TOTAL FROM U GROUP BY G HAVING SUM(N) > 6;";

/// A row staying in its group updates it once, from the group's last row: the `U-` is that
/// row (Kafka Streams' `KTableAggregate` forwards the aggregate read before removing the
/// row's old value), not the group with the row retracted.
#[test]
fn a_row_staying_in_its_group_updates_it_from_its_last_row() {
    let mut op = OpUnderTest::new(&[TABLE_U], SUM_BY_G, Kind::Aggregate);
    op.feed(
        "| op | K:STRING | G:STRING | N:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | g        | 10       | 10             | 0                    | 0                | g                       |
         | +  | a        | g        | 3        | 11             | 0                    | 1                | g                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | KSQL_AGG_VARIABLE_1:BIGINT | ROWTIME:BIGINT |
    | +  | g                       | 10                         | 10                         | 10             |
    | U- | g                       | 10                         | 10                         | 10             |
    | U+ | g                       | 3                          | 3                          | 11             |
    ");
}

/// What that `U-` decides downstream: HAVING judges the pair by it. The group passed
/// (SUM 10 > 6) and no longer does (3): its row must be deleted, as ksqlDB's HAVING (a
/// `KTable.filter` over old and new values) writes a tombstone.
#[test]
fn having_deletes_a_group_that_a_row_staying_in_it_makes_fail() {
    let mut aggregate = OpUnderTest::new(&[TABLE_U], SUM_BY_G, Kind::Aggregate);
    let mut having = OpUnderTest::new(&[TABLE_U], SUM_BY_G, Kind::Filter);
    aggregate.feed(
        "| op | K:STRING | G:STRING | N:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | g        | 10       | 10             | 0                    | 0                | g                       |
         | +  | a        | g        | 3        | 11             | 0                    | 1                | g                       |",
    );
    having.feed_batches(aggregate.take_emitted());
    insta::assert_snapshot!(having.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | KSQL_AGG_VARIABLE_1:BIGINT | ROWTIME:BIGINT |
    | +  | g                       | 10                         | 10                         | 10             |
    | -  | g                       | 3                          | 3                          | 11             |
    ");
}
