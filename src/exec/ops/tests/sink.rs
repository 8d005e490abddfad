//! The sinks: a persistent query's topic (rows encoded with the sink's formats; `-` a
//! tombstone, `U-` not written) and a push query's subscriber (which changes it shows).

use crate::exec::StateLocation;
use crate::exec::ops::Shown;
use crate::exec::ops::fixture::{Kind, OpUnderTest, STREAM_S, TABLE_T, subscriber_sink};
use crate::exec::physical::{PhysicalContext, plan};
use crate::plan::testing::tree;

/// `+` and `U+` are records (KAFKA key, JSON value, ROWTIME as the timestamp), `-` a
/// tombstone (the key, a null value), `U-` is not written.
#[test]
fn topic_sink_writes_upserts_and_tombstones_and_skips_update_befores() {
    let mut op = OpUnderTest::new(
        &[TABLE_T],
        "CREATE TABLE OUT AS SELECT * FROM T;",
        Kind::Sink,
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT |
         | +  | a        | 1        | 10             |
         | U- | a        | 1        | 10             |
         | U+ | a        | 2        | 11             |
         | -  | b        | null     | 12             |",
    );
    insta::assert_snapshot!(op.output(), @r#"
    records:
    OUT key=a value={"V":1} timestamp=10
    OUT key=a value={"V":2} timestamp=11
    OUT key=b value=<null> timestamp=12
    "#);
}

/// A windowed aggregation's records are keyed by the group key followed by the window start
/// (8 bytes, big-endian: ksqlDB's time-windowed key), for deletions too.
#[test]
fn topic_sink_writes_windowed_keys() {
    let mut op = OpUnderTest::new(
        &[STREAM_S],
        "CREATE TABLE OUT AS SELECT K, COUNT(*) AS C FROM S \
         WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY K;",
        Kind::Sink,
    );
    op.feed(
        "| op | K:STRING | C:BIGINT | WINDOWSTART:BIGINT | WINDOWEND:BIGINT | ROWTIME:BIGINT |
         | +  | a        | 1        | 1000               | 2000             | 1500           |
         | -  | b        | null     | 0                  | 1000             | 900            |",
    );
    insta::assert_snapshot!(op.output(), @r#"
    records:
    OUT key=a\x00\x00\x00\x00\x00\x00\x03\xe8 value={"C":1} timestamp=1500
    OUT key=b\x00\x00\x00\x00\x00\x00\x00\x00 value=<null> timestamp=900
    "#);
}

/// A row whose record cannot be made (here its TIMESTAMP column gives a negative time) is
/// reported and not written; the other rows are.
#[test]
fn topic_sink_reports_a_row_it_cannot_write() {
    let mut op = OpUnderTest::new(
        &[STREAM_S],
        "CREATE STREAM OUT WITH (TIMESTAMP='TS') AS SELECT K, V AS TS FROM S;",
        Kind::Sink,
    );
    op.feed(
        "| op | K:STRING | TS:BIGINT | ROWTIME:BIGINT |
         | +  | a        | 5         | 10             |
         | +  | b        | -5        | 11             |",
    );
    insta::assert_snapshot!(op.output(), @r#"
    records:
    OUT key=a value={"TS":5} timestamp=5

    processing log:
    bad offset=-1: The TIMESTAMP column gives a negative timestamp (-5); the row is skipped
    "#);
}

/// Over a table, a push query shows its changes: rows and deletions (as tombstone rows), not
/// the `U-` half of an update.
#[test]
fn subscriber_sink_over_a_table_shows_deletions_but_not_update_befores() {
    let mut op = subscriber_sink(
        &[TABLE_T],
        "SELECT * FROM T EMIT CHANGES;",
        Shown::TableChanges,
    );
    op.feed(
        "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT |
         | +  | a        | 1        | 10             |
         | -  | b        | null     | 11             |
         | U- | a        | 1        | 10             |
         | U+ | a        | 2        | 12             |",
    );
    insta::assert_snapshot!(op.output(), @r"
    delivered rows:
    | op | K:STRING | V:BIGINT | ROWTIME:BIGINT |
    | +  | a        | 1        | 10             |
    | -  | b        | null     | 11             |
    | U+ | a        | 2        | 12             |
    ");
}

/// Over an aggregation, a push query shows each group's new row only: not its old one, nor a
/// deletion (a group that stopped passing HAVING, a merged-away session).
#[test]
fn subscriber_sink_over_an_aggregation_shows_upserts_only() {
    let mut op = subscriber_sink(
        &[STREAM_S],
        "SELECT K, COUNT(*) AS C FROM S GROUP BY K EMIT CHANGES;",
        Shown::Upserts,
    );
    op.feed(
        "| op | K:STRING | C:BIGINT | ROWTIME:BIGINT |
         | +  | a        | 1        | 10             |
         | U- | a        | 1        | 10             |
         | U+ | a        | 2        | 11             |
         | -  | b        | 3        | 12             |",
    );
    insta::assert_snapshot!(op.output(), @r"
    delivered rows:
    | op | K:STRING | C:BIGINT | ROWTIME:BIGINT |
    | +  | a        | 1        | 10             |
    | U+ | a        | 2        | 11             |
    ");
}

/// Which changes a push query shows is the physical planner's choice: a table's changes over
/// a table, upserts over a stream or an aggregation.
#[test]
fn push_queries_show_table_changes_only_over_tables() {
    let sink_of = |ddl: &str, sql: &str| {
        let location = StateLocation::Temporary {
            changelog_prefix: None,
        };
        let ctx = PhysicalContext {
            query_id: "q",
            fatal_timestamp_errors: false,
            state: &location,
            source_partitions: 1,
            changelog_partitions: &|_| None,
            describe_only: false,
        };
        let planned = plan(&tree(&[ddl], sql), &ctx).expect("plans");
        let last_stage = planned.stages.last().and_then(|tasks| tasks.first());
        let last = last_stage.and_then(|g| g.operators().last().map(|op| op.describe()));
        last.expect("a sink")
    };
    let shown = [
        sink_of(TABLE_T, "SELECT * FROM T WHERE V > 1 EMIT CHANGES;"),
        sink_of(STREAM_S, "SELECT * FROM S EMIT CHANGES;"),
        sink_of(
            STREAM_S,
            "SELECT K, COUNT(*) AS C FROM S GROUP BY K EMIT CHANGES;",
        ),
        sink_of(
            TABLE_T,
            "SELECT V, COUNT(*) AS C FROM T GROUP BY V EMIT CHANGES;",
        ),
    ];
    insta::assert_snapshot!(shown.join("\n"), @r"
    Sink push query subscriber (TableChanges)
    Sink push query subscriber (Upserts)
    Sink push query subscriber (Upserts)
    Sink push query subscriber (Upserts)
    ");
}
