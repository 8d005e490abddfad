//! Test-only: one operator of a query planned from SQL, in an [`OpHarness`]. A test names the
//! sources' DDL and the query as a user writes them; the fixture plans the logical tree
//! (`plan::testing::tree`), builds the operator of the node kind the test asks for from that
//! node (as `exec::physical` does), and checks that every batch fed to it has the layout the
//! node's input produces (its columns' names and types, in order).
//!
//! May import: what `exec` may.

use crate::common::change::ChangeBatch;
use crate::common::change_pretty::{from_pretty, to_pretty};
use crate::exec::aggregate::Aggregator;
use crate::exec::encode::Encoder;
use crate::exec::operator::{Materialized, Operator};
use crate::exec::ops::{
    FilterOp, MaterializeOp, ProjectOp, RekeyOp, Shown, SubscriberSinkOp, TableFunctionOp,
    TopicSinkOp,
};
use crate::exec::query_state::{QueryState, StateLocation, TaskSlot};
use crate::exec::testing::{OpHarness, QUERY_ID};
use crate::plan::logical::{LogicalPlan, SinkTarget};
use crate::plan::testing::tree;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

/// `S`: a stream keyed by `K` with a BIGINT value `V`. Its batches are
/// `| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |`.
pub const STREAM_S: &str =
    "CREATE STREAM S (K STRING KEY, V BIGINT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');";

/// `T`: a table keyed by `K` with a BIGINT value `V` (the same batch layout as `S`).
pub const TABLE_T: &str =
    "CREATE TABLE T (K STRING PRIMARY KEY, V BIGINT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');";

/// The kinds of operator a test can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Filter,
    Project,
    TableFunction,
    Rekey,
    Aggregate,
    Materialize,
    Sink,
}

/// An operator under test, the layout of its input, and the query state its stores live in.
pub struct OpUnderTest {
    pub harness: OpHarness,
    input: SchemaRef,
    /// Declared after the harness: the stores' directory outlives the operator.
    state: Option<QueryState>,
}

impl OpUnderTest {
    /// The operator of the first node of `kind` under the root (the root included) of the
    /// query `sql` over the sources of `ddl`; a stateful one opened on a temporary state.
    pub fn new(ddl: &[&str], sql: &str, kind: Kind) -> OpUnderTest {
        let root = tree(ddl, sql);
        let node = find(&root, kind).unwrap_or_else(|| {
            panic!("no {kind:?} node in:\n{}", root.tree_text());
        });
        let input = match node.inputs().first() {
            Some(input) => input.schema(),
            None => panic!("a {kind:?} node without an input"),
        };
        let mut state = None;
        let op = build(node, &mut state);
        let mut harness = OpHarness::boxed(op);
        harness.open();
        OpUnderTest {
            harness,
            input,
            state,
        }
    }

    /// Hands the operator the batch `text`, which must have the layout of its input.
    pub fn feed(&mut self, text: &str) -> &mut Self {
        let batch = from_pretty(text).unwrap_or_else(|e| panic!("input batch: {e}"));
        self.feed_batches(vec![batch])
    }

    /// Hands the operator batches another operator emitted (`take_emitted`), which must
    /// have the layout of its input.
    pub fn feed_batches(&mut self, batches: Vec<ChangeBatch>) -> &mut Self {
        for batch in batches {
            let batch = self.in_layout(batch);
            self.harness.process_batch(0, batch);
        }
        self
    }

    /// The batches emitted since the last call, to feed another operator.
    pub fn take_emitted(&mut self) -> Vec<ChangeBatch> {
        self.harness.take_emitted()
    }

    /// Moves the stream time (see [`OpHarness::stream_time`]).
    pub fn stream_time(&mut self, time: i64) -> &mut Self {
        self.harness.stream_time(time);
        self
    }

    /// Everything produced since the last call, as text (see [`OpHarness::output`]).
    pub fn output(&mut self) -> String {
        self.harness.output()
    }

    /// The step committed: `on_commit`, then the stores' writes become visible to readers of
    /// committed rows (as after the driver's transaction).
    pub fn commit(&mut self) -> &mut Self {
        self.harness.commit();
        if let Some(state) = &mut self.state {
            state.committed(&[]).expect("the state flushes");
        }
        self
    }

    /// The committed rows of a Materialize operator, as text (`(no rows)` when none).
    pub fn materialized_rows(&mut self) -> String {
        let Some(Materialized::Rows(rows)) = self.harness.operator().materialized() else {
            panic!("the operator materializes no rows");
        };
        match rows.read().expect("rows read") {
            Some(batch) => to_pretty(&ChangeBatch::inserts(batch)),
            None => "(no rows)\n".to_string(),
        }
    }

    /// `batch` in the input's schema; panics, naming both, if its columns are not the
    /// input's.
    fn in_layout(&self, batch: ChangeBatch) -> ChangeBatch {
        let columns = |schema: &SchemaRef| -> Vec<String> {
            let fields = schema.fields().iter();
            fields
                .map(|f| format!("{}:{}", f.name(), f.data_type()))
                .collect()
        };
        let (got, want) = (columns(&batch.schema()), columns(&self.input));
        assert_eq!(
            got, want,
            "the input batch's columns are not the operator's"
        );
        let data = RecordBatch::try_new(self.input.clone(), batch.data().columns().to_vec())
            .unwrap_or_else(|e| panic!("input batch in the operator's schema: {e}"));
        batch.with_data(data).expect("as many rows")
    }
}

/// The first node of `kind`, depth-first from `node`.
fn find(node: &LogicalPlan, kind: Kind) -> Option<&LogicalPlan> {
    let is = match node {
        LogicalPlan::Filter(_) => kind == Kind::Filter,
        LogicalPlan::Project(_) => kind == Kind::Project,
        LogicalPlan::TableFunction(_) => kind == Kind::TableFunction,
        LogicalPlan::Rekey(_) => kind == Kind::Rekey,
        LogicalPlan::Aggregate(_) => kind == Kind::Aggregate,
        LogicalPlan::Materialize(_) => kind == Kind::Materialize,
        LogicalPlan::Sink(_) => kind == Kind::Sink,
        LogicalPlan::Source(_) | LogicalPlan::Join(_) => false,
    };
    match is {
        true => Some(node),
        false => node.inputs().into_iter().find_map(|i| find(i, kind)),
    }
}

/// The operator of `node` (its stores in `state`, opened on first need).
fn build(node: &LogicalPlan, state: &mut Option<QueryState>) -> Box<dyn Operator> {
    match node {
        LogicalPlan::Filter(n) => Box::new(FilterOp::new(n)),
        LogicalPlan::Project(n) => Box::new(ProjectOp::new(n)),
        LogicalPlan::TableFunction(n) => Box::new(TableFunctionOp::new(n)),
        LogicalPlan::Rekey(n) => Box::new(RekeyOp::new(n)),
        LogicalPlan::Aggregate(n) => {
            Box::new(Aggregator::new(n, opened(state), TaskSlot::SINGLE).expect("aggregator"))
        }
        LogicalPlan::Materialize(n) => {
            Box::new(MaterializeOp::new(n, opened(state), TaskSlot::SINGLE).expect("materialize"))
        }
        LogicalPlan::Sink(n) => match &n.target {
            SinkTarget::Topic(sink) => {
                let encoder = Encoder::new(&n.columns, n.source_keys, sink, QUERY_ID);
                Box::new(TopicSinkOp::new(&sink.topic, encoder))
            }
            SinkTarget::Subscriber => panic!("build a subscriber sink with subscriber_sink()"),
        },
        LogicalPlan::Source(_) | LogicalPlan::Join(_) => panic!("no operator for this node"),
    }
}

/// The query state, opened (in a temporary directory, without changelogs) on first need.
fn opened(state: &mut Option<QueryState>) -> &mut QueryState {
    let location = StateLocation::Temporary {
        changelog_prefix: None,
    };
    state.get_or_insert_with(|| QueryState::open(&location).expect("state"))
}

/// A push query's sink showing `shown` (which one a query gets is `exec::physical`'s choice,
/// tested through it), fed batches of the query's output layout.
pub fn subscriber_sink(ddl: &[&str], sql: &str, shown: Shown) -> OpUnderTest {
    let root = tree(ddl, sql);
    let input = match root.inputs().first() {
        Some(input) => input.schema(),
        None => panic!("a query without a sink"),
    };
    OpUnderTest {
        harness: OpHarness::new(SubscriberSinkOp::new(shown)),
        input,
        state: None,
    }
}
