//! Unit tests of the aggregation operator: each built from a query planned from SQL
//! (`exec::ops::fixture`), fed the re-keyed rows it receives (the source's columns, then the
//! GROUP BY key) as pretty-printed batches, its changes compared as text with insta against
//! what ksqlDB (Kafka Streams' aggregate processors, caching off) emits for the same input.

mod emit_final;
mod session;
mod table;
mod time_windows;
mod unwindowed;

use crate::exec::ops::fixture::{Kind, OpUnderTest, STREAM_S};

/// The aggregation of `sql` over the stream `S`.
fn aggregate(sql: &str) -> OpUnderTest {
    OpUnderTest::new(&[STREAM_S], sql, Kind::Aggregate)
}
