//! Physical planning: a logical tree (`plan::logical`) becomes an operator graph
//! (`exec::graph`), one rule per kind of node. Stateful operators open their stores in the
//! query's state, which is created on first need (a stateless query has none).

use super::aggregate::Aggregator;
use super::encode::Encoder;
use super::graph::{Edge, Graph};
use super::operator::Operator;
use super::ops::{
    FilterOp, MaterializeOp, ProjectOp, RekeyOp, Shown, SubscriberSinkOp, TableFunctionOp,
    TopicSinkOp,
};
use super::query_state::{QueryState, QueryStateError, StateLocation};
use super::source::SourceReader;
use crate::plan::logical::{LogicalPlan, SinkNode, SinkTarget};

/// What physical planning needs besides the tree.
pub struct PhysicalContext<'a> {
    pub query_id: &'a str,
    /// `ksql.timestamp.throw.on.invalid` (see `exec::source`).
    pub fatal_timestamp_errors: bool,
    /// Where the query keeps its state, if it has any.
    pub state: &'a StateLocation,
}

/// A planned query: its graph and, when an operator keeps state, the state it opened (to be
/// restored before the graph runs).
pub struct PhysicalPlan {
    pub graph: Graph,
    pub state: Option<QueryState>,
}

/// Why a tree could not become a graph.
#[derive(Debug, thiserror::Error)]
pub enum PhysicalError {
    #[error(transparent)]
    State(#[from] QueryStateError),
    /// The tree has a node Brook cannot run yet.
    #[error("{0}")]
    Unsupported(String),
}

/// The operator graph of `root`.
pub fn plan(root: &LogicalPlan, ctx: &PhysicalContext<'_>) -> Result<PhysicalPlan, PhysicalError> {
    let mut builder = Builder {
        ctx,
        graph: Graph::default(),
        state: None,
    };
    builder.build(root)?;
    Ok(PhysicalPlan {
        graph: builder.graph,
        state: builder.state,
    })
}

/// What produces a node's rows: a source, or an operator.
#[derive(Clone, Copy)]
enum Producer {
    Source(usize),
    Operator(usize),
}

struct Builder<'a, 'b> {
    ctx: &'a PhysicalContext<'b>,
    graph: Graph,
    state: Option<QueryState>,
}

impl Builder<'_, '_> {
    fn build(&mut self, node: &LogicalPlan) -> Result<Producer, PhysicalError> {
        let op: Box<dyn Operator> = match node {
            LogicalPlan::Source(n) => {
                let reader =
                    SourceReader::new(n, self.ctx.query_id, self.ctx.fatal_timestamp_errors);
                return Ok(Producer::Source(
                    self.graph.add_source(reader, &n.source.topic),
                ));
            }
            LogicalPlan::Filter(n) => Box::new(FilterOp::new(n)),
            LogicalPlan::Project(n) => Box::new(ProjectOp::new(n)),
            LogicalPlan::TableFunction(n) => Box::new(TableFunctionOp::new(n)),
            LogicalPlan::Rekey(n) => Box::new(RekeyOp::new(n)),
            LogicalPlan::Aggregate(n) => Box::new(Aggregator::new(n, self.state()?)?),
            LogicalPlan::Materialize(n) => Box::new(MaterializeOp::new(n, self.state()?)?),
            LogicalPlan::Sink(n) => self.sink(n),
            LogicalPlan::Join(_) => {
                return Err(PhysicalError::Unsupported(
                    "Joins are not supported yet.".into(),
                ));
            }
        };
        let inputs: Vec<Producer> = node
            .inputs()
            .into_iter()
            .map(|input| self.build(input))
            .collect::<Result<_, _>>()?;
        let at = self.graph.add(op);
        for (input, producer) in inputs.into_iter().enumerate() {
            let edge = Edge { to: at, input };
            match producer {
                Producer::Source(s) => self.graph.connect_source(s, edge),
                Producer::Operator(o) => self.graph.connect(o, edge),
            }
        }
        Ok(Producer::Operator(at))
    }

    fn sink(&self, node: &SinkNode) -> Box<dyn Operator> {
        match &node.target {
            SinkTarget::Topic(sink) => {
                let encoder =
                    Encoder::new(&node.columns, node.source_keys, sink, self.ctx.query_id);
                Box::new(TopicSinkOp::new(&sink.topic, encoder))
            }
            SinkTarget::Subscriber => {
                let table = node.input.is_changelog() && !node.input.aggregates();
                let shown = if table {
                    Shown::TableChanges
                } else {
                    Shown::Upserts
                };
                Box::new(SubscriberSinkOp::new(shown))
            }
        }
    }

    /// The query's state, opened on first need.
    fn state(&mut self) -> Result<&mut QueryState, QueryStateError> {
        let state = match self.state.take() {
            Some(state) => state,
            None => QueryState::open(self.ctx.state)?,
        };
        Ok(self.state.insert(state))
    }
}
