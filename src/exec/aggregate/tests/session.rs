//! Session windows (Kafka Streams' `KStreamSessionWindowAggregate`): a row joins every session
//! of its key within the gap; they merge into one; each session merged away is deleted.

use super::aggregate;

const SESSIONS: &str = "CREATE TABLE OUT AS SELECT K, COUNT(*) AS C FROM S \
     WINDOW SESSION (1 SECOND) GROUP BY K;";

/// Rows 2 s apart make two sessions; a row between them merges both: each is deleted (`-`,
/// at its end as ROWTIME) and the merged session written (`+`). A row extending a session
/// deletes it and writes the longer one; a row at a one-point session's time rewrites it in
/// place, as a new row (Kafka Streams forwards it without its old value).
#[test]
fn session_merge_deletes_each_merged_session_then_writes_the_merged_one() {
    let mut op = aggregate(SESSIONS);
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 0              | 0                    | 0                | a                       |
         | +  | a        | 1        | 2000           | 0                    | 1                | a                       |
         | +  | b        | 1        | 1000           | 0                    | 2                | b                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
    | +  | a                       | 1                          | 0                  | 0                | 0              |
    | +  | a                       | 1                          | 2000               | 2000             | 2000           |
    | +  | b                       | 1                          | 1000               | 1000             | 1000           |
    ");
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 1000           | 0                    | 3                | a                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
    | -  | a                       | 1                          | 0                  | 0                | 0              |
    | -  | a                       | 1                          | 2000               | 2000             | 2000           |
    | +  | a                       | 3                          | 0                  | 2000             | 2000           |
    ");
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 2500           | 0                    | 4                | a                       |
         | +  | b        | 1        | 1000           | 0                    | 5                | b                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
    | -  | a                       | 3                          | 0                  | 2000             | 2000           |
    | +  | a                       | 4                          | 0                  | 2500             | 2500           |
    | +  | b                       | 2                          | 1000               | 1000             | 1000           |
    ");
}

/// A row inside an existing session (between its start and end) leaves its bounds as they
/// are. Kafka Streams still deletes every session the row merged with whenever the merged
/// window is not the row's own one-point window (`!mergedWindow.equals(newSessionWindow)`),
/// so ksqlDB writes a tombstone for the session and then its new value.
#[test]
fn a_row_inside_a_session_deletes_and_rewrites_it_as_ksqldb_does() {
    let mut op = aggregate(SESSIONS);
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 0              | 0                    | 0                | a                       |
         | +  | a        | 1        | 500            | 0                    | 1                | a                       |",
    );
    op.output();
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 200            | 0                    | 2                | a                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
    | -  | a                       | 2                          | 0                  | 500              | 500            |
    | +  | a                       | 3                          | 0                  | 500              | 500            |
    ");
}

/// A row whose session would end before the stream time minus the grace period is late:
/// reported with the kind `late` (as a late row of a time window is), and dropped.
#[test]
fn a_row_late_for_its_session_is_reported_late_and_dropped() {
    let mut op = aggregate(
        "CREATE TABLE OUT AS SELECT K, COUNT(*) AS C FROM S \
         WINDOW SESSION (1 SECOND, GRACE PERIOD 0 SECONDS) GROUP BY K;",
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 5000           | 0                    | 0                | a                       |
         | +  | b        | 1        | 100            | 0                    | 1                | b                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
    | +  | a                       | 1                          | 5000               | 5000             | 5000           |

    processing log:
    late offset=1: Record is late for its session ending at 100 (stream time 5000, grace 0 ms) and was dropped
    ");
}
