//! EMIT FINAL (Kafka Streams' `EmitStrategy.onWindowClose()`): nothing while a window is
//! open; each window's final row once the aggregate's stream time closes it.

use super::aggregate;

/// Windows of 1 s without grace: rows of window [0, 1000) emit nothing; the first row at
/// 1000 closes it and its groups' final rows come out (ROWTIME the window's latest row's).
/// The task's stream time alone closes nothing: as in Kafka Streams, the aggregate judges by
/// the rows that reach it (a row dropped by an upstream WHERE closes no window).
#[test]
fn emit_final_emits_a_window_once_the_stream_time_closes_it() {
    let mut op = aggregate(
        "CREATE TABLE OUT AS SELECT K, COUNT(*) AS C FROM S \
         WINDOW TUMBLING (SIZE 1 SECOND, GRACE PERIOD 0 SECONDS) GROUP BY K EMIT FINAL;",
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 100            | 0                    | 0                | a                       |
         | +  | b        | 1        | 900            | 0                    | 1                | b                       |
         | +  | a        | 1        | 999            | 0                    | 2                | a                       |",
    )
    .stream_time(5000);
    assert_eq!(op.output(), "(no output)\n", "no window closed yet");
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | b        | 1        | 1000           | 0                    | 3                | b                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
    | +  | a                       | 2                          | 0                  | 1000             | 999            |
    | +  | b                       | 1                          | 0                  | 1000             | 900            |
    ");
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 1999           | 0                    | 4                | a                       |",
    );
    assert_eq!(op.output(), "(no output)\n", "window [1000, 2000) is open");
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT | KSQL_GROUP_KEY_0:STRING |
         | +  | a        | 1        | 2000           | 0                    | 5                | a                       |",
    );
    insta::assert_snapshot!(op.output(), @r"
    | op | KSQL_GROUP_KEY_0:STRING | KSQL_AGG_VARIABLE_0:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
    | +  | a                       | 1                          | 1000               | 2000             | 1999           |
    | +  | b                       | 1                          | 1000               | 2000             | 1000           |
    ");
}
