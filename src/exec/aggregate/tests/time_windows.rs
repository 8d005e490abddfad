//! Tumbling and hopping windows: a row counts in every window containing its time, until the
//! window closes (the aggregate's stream time reaches its end plus the grace period).

use super::aggregate;

/// Each row updates the one window its time falls in; an out-of-order row within the grace
/// period (24 hours by default) still updates its window.
#[test]
fn tumbling_windows_group_rows_by_window() {
    let mut op = aggregate(
        "CREATE TABLE OUT AS SELECT K, COUNT(*) AS C FROM S \
         WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY K;",
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 100            | 0                    | 0                | a                       |
         | +  | a        | 1        | 900            | 0                    | 1                | a                       |
         | +  | a        | 1        | 1000           | 0                    | 2                | a                       |
         | +  | b        | 1        | 1999           | 0                    | 3                | b                       |
         | +  | a        | 1        | 500            | 0                    | 4                | a                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
    | +  | a                       | 1                          | 0                  | 1000             | 100            |
    | U- | a                       | 1                          | 0                  | 1000             | 100            |
    | U+ | a                       | 2                          | 0                  | 1000             | 900            |
    | +  | a                       | 1                          | 1000               | 2000             | 1000           |
    | +  | b                       | 1                          | 1000               | 2000             | 1999           |
    | U- | a                       | 2                          | 0                  | 1000             | 900            |
    | U+ | a                       | 3                          | 0                  | 1000             | 900            |
    ");
}

/// A hopping window of 3 s advancing by 1 s: a row is in three windows, each updated in
/// order of start (Kafka Streams' `windowsFor`).
#[test]
fn hopping_windows_put_one_row_in_several_windows() {
    let mut op = aggregate(
        "CREATE TABLE OUT AS SELECT K, COUNT(*) AS C FROM S \
         WINDOW HOPPING (SIZE 3 SECONDS, ADVANCE BY 1 SECOND) GROUP BY K;",
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 2500           | 0                    | 0                | a                       |
         | +  | a        | 1        | 3100           | 0                    | 1                | a                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
    | +  | a                       | 1                          | 0                  | 3000             | 2500           |
    | +  | a                       | 1                          | 1000               | 4000             | 2500           |
    | +  | a                       | 1                          | 2000               | 5000             | 2500           |
    | U- | a                       | 1                          | 1000               | 4000             | 2500           |
    | U+ | a                       | 2                          | 1000               | 4000             | 3100           |
    | U- | a                       | 1                          | 2000               | 5000             | 2500           |
    | U+ | a                       | 2                          | 2000               | 5000             | 3100           |
    | +  | a                       | 1                          | 3000               | 6000             | 3100           |
    ");
}

/// With a grace period of 500 ms, window [0, 1000) closes when the stream time reaches 1500:
/// a row for it at stream time 1499 still counts; at 1500 it is late, reported (kind late)
/// and dropped (Kafka Streams: updated only while `windowEnd > streamTime - grace`).
#[test]
fn a_row_after_its_window_and_grace_closed_is_reported_late_and_dropped() {
    let mut op = aggregate(
        "CREATE TABLE OUT AS SELECT K, COUNT(*) AS C FROM S \
         WINDOW TUMBLING (SIZE 1 SECOND, GRACE PERIOD 500 MILLISECONDS) GROUP BY K;",
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 100            | 0                    | 0                | a                       |
         | +  | a        | 1        | 1499           | 0                    | 1                | a                       |
         | +  | a        | 1        | 999            | 0                    | 2                | a                       |
         | +  | a        | 1        | 1500           | 0                    | 3                | a                       |
         | +  | a        | 1        | 998            | 0                    | 4                | a                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
    | +  | a                       | 1                          | 0                  | 1000             | 100            |
    | +  | a                       | 1                          | 1000               | 2000             | 1499           |
    | U- | a                       | 1                          | 0                  | 1000             | 100            |
    | U+ | a                       | 2                          | 0                  | 1000             | 999            |
    | U- | a                       | 1                          | 1000               | 2000             | 1499           |
    | U+ | a                       | 2                          | 1000               | 2000             | 1500           |

    processing log:
    late offset=4: Record is late for its window ending at 1000 (stream time 1500, grace 500 ms) and was dropped
    ");
}

/// A row late for some of its hopping windows counts in those still open, and the closed
/// ones are reported.
#[test]
fn a_row_late_for_one_hopping_window_counts_in_the_others() {
    let mut op = aggregate(
        "CREATE TABLE OUT AS SELECT K, COUNT(*) AS C FROM S \
         WINDOW HOPPING (SIZE 2 SECONDS, ADVANCE BY 1 SECOND, GRACE PERIOD 0 SECONDS) GROUP BY K;",
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 2500           | 0                    | 0                | a                       |
         | +  | a        | 1        | 1500           | 0                    | 1                | a                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
    | +  | a                       | 1                          | 1000               | 3000             | 2500           |
    | +  | a                       | 1                          | 2000               | 4000             | 2500           |
    | U- | a                       | 1                          | 1000               | 3000             | 2500           |
    | U+ | a                       | 2                          | 1000               | 3000             | 2500           |

    processing log:
    late offset=1: Record is late for its window ending at 2000 (stream time 2500, grace 0 ms) and was added to its other windows only
    ");
}
