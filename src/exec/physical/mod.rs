//! Physical planning: a logical tree (`plan::logical`) becomes stages of tasks, each task an
//! operator graph (`exec::graph`) with its own operator instances and stores, one rule per
//! kind of node.
//!
//! A stage ends where rows must be regrouped by a new key: an aggregation's GROUP BY re-key is
//! followed by an exchange (`ops::ExchangeOp`) to the next stage, whose graph takes the
//! exchanged rows as its input. Stage 0 reads the sources: its task *p* reads partition *p* of
//! each source (partition *p* mod the task count, when there are fewer tasks). A stage has a
//! task per source partition, except:
//! - a stage whose stores already exist with another number of changelog partitions keeps
//!   that number (state written before tasks existed has one), so it restarts with its state;
//! - an aggregation over a table runs as one task: a table's deletions carry no old row, so
//!   the group a deletion retracts from is known only where the row's contribution is kept.
//!
//! Stateful operators open their stores in the query's state, created on first need.

use super::aggregate::Aggregator;
use super::describe::Described;
use super::encode::Encoder;
use super::graph::{Edge, Graph};
use super::join::{
    JoinSpec, StreamStreamJoinOp, StreamTableJoinOp, TableTableJoinOp, TemporalJoinOp,
};

mod join;
use super::operator::Operator;
use super::ops::{
    ExchangeOp, FilterOp, MaterializeOp, ProjectOp, RekeyOp, Shown, SubscriberSinkOp,
    TableFunctionOp, TopicSinkOp,
};
use super::query_state::{QueryState, QueryStateError, StateLocation, TaskSlot, changelog_topic};
use super::source::SourceReader;
use crate::plan::logical::{
    AggregateNode, JoinShape, LogicalPlan, RekeyReason, SinkNode, SinkTarget,
};
use crate::transport::Transport;

/// What physical planning needs besides the tree.
pub struct PhysicalContext<'a> {
    pub query_id: &'a str,
    /// `ksql.timestamp.throw.on.invalid` (see `exec::source`).
    pub fatal_timestamp_errors: bool,
    /// Where the query keeps its state, if it has any.
    pub state: &'a StateLocation,
    /// How many partitions the query's sources have.
    pub source_partitions: u32,
    /// How many partitions an existing changelog topic has (`None`: it does not exist).
    pub changelog_partitions: &'a dyn Fn(&str) -> Option<u32>,
    /// Plan only to describe (EXPLAIN): stateful operators are stand-ins that open nothing.
    pub describe_only: bool,
}

/// How many partitions topic `topic` has in `transport`, if it exists (for
/// [`PhysicalContext::changelog_partitions`]).
pub fn existing_partitions(transport: &dyn Transport, topic: &str) -> Option<u32> {
    let exists = transport.list_topics().ok()?.iter().any(|t| t == topic);
    exists
        .then(|| transport.partition_count(topic).ok())
        .flatten()
}

/// A source the query reads records from: its reader, and its topic.
pub struct SourceInput {
    pub reader: SourceReader,
    pub topic: String,
}

/// A planned query: its sources (stage 0's graph inputs, in order), its stages' tasks, and
/// the state its operators opened (to be restored before the graph runs).
pub struct PhysicalPlan {
    pub sources: Vec<SourceInput>,
    /// Per stage, its tasks' graphs (task *p* at position *p*).
    pub stages: Vec<Vec<Graph>>,
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

/// The stages and tasks of `root`.
pub fn plan(root: &LogicalPlan, ctx: &PhysicalContext<'_>) -> Result<PhysicalPlan, PhysicalError> {
    let mut state = None;
    let mut sources = Vec::new();
    let mut stages = Vec::new();
    let counts = task_counts(root, ctx);
    for (stage, count) in counts.iter().copied().enumerate() {
        let mut tasks = Vec::with_capacity(count as usize);
        for partition in 0..count {
            let task = plan_task(root, ctx, &counts, (stage, partition), &mut state)?;
            if stage == 0 && partition == 0 {
                sources = task.sources;
            }
            tasks.push(task.graph);
        }
        stages.push(tasks);
    }
    Ok(PhysicalPlan {
        sources,
        stages,
        state,
    })
}

/// One task's graph, and what it reads.
pub struct TaskPlan {
    pub graph: Graph,
    /// The sources a stage-0 task reads (its graph's inputs, in order); none for later stages.
    pub sources: Vec<SourceInput>,
    /// The exchanges of the task: each (stage, input) it sends rows to, and the repartition
    /// topic that carries them between servers.
    pub exchanges: Vec<((usize, usize), String)>,
}

/// How many tasks each stage of `root` runs (see the module header).
pub fn task_counts(root: &LogicalPlan, ctx: &PhysicalContext<'_>) -> Vec<u32> {
    (0..=stage_of(root))
        .map(|stage| task_count(root, stage, ctx))
        .collect()
}

/// The graph of task `partition` of stage `stage` (of `counts` tasks per stage), its stores
/// opened in `state` (made on first need).
pub fn plan_task(
    root: &LogicalPlan,
    ctx: &PhysicalContext<'_>,
    counts: &[u32],
    (stage, partition): (usize, u32),
    state: &mut Option<QueryState>,
) -> Result<TaskPlan, PhysicalError> {
    let slot = TaskSlot {
        partition,
        partitions: counts.get(stage).copied().unwrap_or(1),
    };
    let mut builder = Builder::new(ctx, stage, slot, state);
    builder.next_tasks = counts.get(stage + 1).copied().unwrap_or(1);
    builder.task_counts = counts.to_vec();
    builder.visit(root)?;
    Ok(TaskPlan {
        graph: builder.graph,
        sources: builder.sources,
        exchanges: builder.exchanges,
    })
}

/// How many tasks stage `stage` runs (see the module header).
fn task_count(root: &LogicalPlan, stage: usize, ctx: &PhysicalContext<'_>) -> u32 {
    if stage > stage_of(root) {
        return 1;
    }
    let mut stores = Vec::new();
    let mut over_table = false;
    stage_stores(root, stage, &mut stores, &mut over_table);
    if over_table {
        return 1;
    }
    let existing = ctx.state.changelog_prefix().and_then(|prefix| {
        stores
            .iter()
            .map(|name| changelog_topic(prefix, name))
            .find_map(|topic| (ctx.changelog_partitions)(&topic))
    });
    existing.unwrap_or(ctx.source_partitions).max(1)
}

/// The stage a node's rows are computed in: its inputs' (the largest), one more after an
/// exchange. A join's inputs are both exchanged by its key into its stage (so the two sides
/// of a key meet in one task, however their producers partitioned them).
fn stage_of(node: &LogicalPlan) -> usize {
    let inputs = node.inputs().into_iter().map(stage_of).max().unwrap_or(0);
    match node {
        LogicalPlan::Aggregate(n) if is_exchange(n) => inputs + 1,
        // A foreign-key join's subscriptions meet the right table in one stage, and its rows
        // are regrouped by the left key into the next.
        LogicalPlan::Join(n) if n.shape == JoinShape::ForeignKey => inputs + 2,
        LogicalPlan::Join(_) => inputs + 1,
        _ => inputs,
    }
}

/// Whether an aggregation's input is a GROUP BY re-key (rows reach it through an exchange).
fn is_exchange(node: &AggregateNode) -> bool {
    matches!(&*node.input, LogicalPlan::Rekey(r) if r.reason == RekeyReason::GroupBy)
}

/// The stores of the stateful nodes of stage `stage`, and whether it aggregates a table.
fn stage_stores(
    node: &LogicalPlan,
    stage: usize,
    stores: &mut Vec<&'static str>,
    table: &mut bool,
) {
    if stage_of(node) == stage {
        match node {
            LogicalPlan::Aggregate(n) => {
                stores.push(super::aggregate::GROUPS_STORE);
                *table |= n.table_keys.is_some();
            }
            LogicalPlan::Materialize(_) => stores.push(super::table_rows::ROWS),
            _ => {}
        }
    }
    for input in node.inputs() {
        stage_stores(input, stage, stores, table);
    }
}

/// What produces a node's rows in the task being built: a graph input, or an operator.
#[derive(Clone, Copy)]
enum Producer {
    Input(usize),
    Operator(usize),
}

/// Builds one task of one stage.
struct Builder<'a, 'b> {
    ctx: &'a PhysicalContext<'b>,
    stage: usize,
    slot: TaskSlot,
    /// How many tasks the next stage has (where exchanges send rows).
    next_tasks: u32,
    /// How many tasks each stage has.
    task_counts: Vec<u32>,
    graph: Graph,
    sources: Vec<SourceInput>,
    /// The exchanges added, with their repartition topics.
    exchanges: Vec<((usize, usize), String)>,
    state: &'a mut Option<QueryState>,
}

impl<'a, 'b> Builder<'a, 'b> {
    fn new(
        ctx: &'a PhysicalContext<'b>,
        stage: usize,
        slot: TaskSlot,
        state: &'a mut Option<QueryState>,
    ) -> Builder<'a, 'b> {
        Builder {
            ctx,
            stage,
            slot,
            next_tasks: 1,
            task_counts: Vec::new(),
            graph: Graph::default(),
            sources: Vec::new(),
            exchanges: Vec::new(),
            state,
        }
    }

    /// Adds the operators of `node` that belong to this stage; the producer of its rows if
    /// the node itself does.
    fn visit(&mut self, node: &LogicalPlan) -> Result<Option<Producer>, PhysicalError> {
        let stage = stage_of(node);
        if let LogicalPlan::Aggregate(n) = node
            && is_exchange(n)
        {
            return self.exchanged_aggregate(n, stage);
        }
        if let LogicalPlan::Join(n) = node {
            return self.join(n, stage);
        }
        if let LogicalPlan::Source(n) = node {
            if self.stage != 0 {
                return Ok(None);
            }
            let reader = SourceReader::new(n, self.ctx.query_id, self.ctx.fatal_timestamp_errors);
            let topic = n.source.topic.clone();
            self.sources.push(SourceInput { reader, topic });
            return Ok(Some(Producer::Input(self.graph.add_input())));
        }
        let mut inputs = Vec::new();
        for input in node.inputs() {
            inputs.push(self.visit(input)?);
        }
        if stage != self.stage {
            return Ok(None);
        }
        let op = self.operator(node)?;
        let inputs: Option<Vec<Producer>> = inputs.into_iter().collect();
        let Some(inputs) = inputs else {
            return Err(PhysicalError::Unsupported(
                "an operator whose inputs are in another stage".into(),
            ));
        };
        Ok(Some(self.add(op, &inputs)))
    }

    /// An aggregation fed by an exchange: in its own stage, it reads the exchanged rows; in
    /// the stage before, its input ends with the exchange.
    fn exchanged_aggregate(
        &mut self,
        node: &AggregateNode,
        stage: usize,
    ) -> Result<Option<Producer>, PhysicalError> {
        if stage == self.stage {
            let input = Producer::Input(self.graph.add_input());
            let op = self.stateful(&LogicalPlan::Aggregate(node.clone()))?;
            return Ok(Some(self.add(op, &[input])));
        }
        let keyed = self.visit(&node.input)?;
        if stage != self.stage + 1 {
            return Ok(None);
        }
        let Some(keyed) = keyed else {
            return Err(PhysicalError::Unsupported(
                "an aggregation whose re-key is not in the stage before it".into(),
            ));
        };
        {
            let schema = node.input.schema();
            let names = node
                .group_columns
                .iter()
                .filter_map(|c| schema.fields().get(*c).map(|f| f.name().clone()))
                .collect();
            let target = (stage, 0);
            let exchange =
                ExchangeOp::new(node.group_columns.clone(), names, target, self.next_tasks)
                    .through(self.repartition_topic("Aggregate-GroupBy-repartition"));
            self.add_exchange(exchange, keyed);
        }
        Ok(None)
    }

    /// Ends `from`'s rows with `exchange`, noting the repartition topic that carries them
    /// between servers: ksqlDB's where it has one, else one named after the target.
    fn add_exchange(&mut self, exchange: ExchangeOp, from: Producer) {
        let (stage, input) = exchange.target();
        let topic = match exchange.topic() {
            Some(topic) => topic.to_string(),
            None => self.repartition_topic(&format!("Exchange-{stage}-{input}-repartition")),
        };
        self.exchanges.push(((stage, input), topic));
        self.add(Box::new(exchange), &[from]);
    }

    fn add(&mut self, op: Box<dyn Operator>, inputs: &[Producer]) -> Producer {
        let at = self.graph.add(op);
        for (input, producer) in inputs.iter().enumerate() {
            let edge = Edge { to: at, input };
            match producer {
                Producer::Input(i) => self.graph.connect_input(*i, edge),
                Producer::Operator(o) => self.graph.connect(*o, edge),
            }
        }
        Producer::Operator(at)
    }

    /// A stateful node's operator over its task's stores (a stand-in when only describing).
    fn stateful(&mut self, node: &LogicalPlan) -> Result<Box<dyn Operator>, PhysicalError> {
        if self.ctx.describe_only
            && let Some(described) = Described::of(node)
        {
            return Ok(Box::new(described));
        }
        let slot = self.slot;
        Ok(match node {
            LogicalPlan::Aggregate(n) => Box::new(Aggregator::new(n, self.state()?, slot)?),
            LogicalPlan::Materialize(n) => Box::new(MaterializeOp::new(n, self.state()?, slot)?),
            LogicalPlan::Join(n) => {
                let spec = JoinSpec::from(n);
                let state = self.state()?;
                match n.shape {
                    JoinShape::StreamTable => Box::new(StreamTableJoinOp::new(spec, state, slot)?),
                    JoinShape::TableTable => Box::new(TableTableJoinOp::new(spec, state, slot)?),
                    JoinShape::Temporal { history_ms } => {
                        Box::new(TemporalJoinOp::new(spec, history_ms, state, slot)?)
                    }
                    JoinShape::ForeignKey => {
                        return Err(PhysicalError::Unsupported(
                            "a foreign-key join as one operator (it is two, planned by join())"
                                .into(),
                        ));
                    }
                    JoinShape::StreamStream {
                        before_ms,
                        after_ms,
                        grace_ms,
                    } => Box::new(StreamStreamJoinOp::new(
                        spec,
                        (before_ms, after_ms, grace_ms),
                        state,
                        slot,
                    )?),
                }
            }
            _ => return self.operator(node),
        })
    }

    fn operator(&mut self, node: &LogicalPlan) -> Result<Box<dyn Operator>, PhysicalError> {
        Ok(match node {
            LogicalPlan::Filter(n) => Box::new(FilterOp::new(n)),
            LogicalPlan::Project(n) => Box::new(ProjectOp::new(n)),
            LogicalPlan::TableFunction(n) => Box::new(TableFunctionOp::new(n)),
            LogicalPlan::Rekey(n) => Box::new(RekeyOp::new(n)),
            // Without an exchange before it, an aggregation sees every key only as one task.
            LogicalPlan::Aggregate(_) if self.slot.partitions > 1 => {
                return Err(PhysicalError::Unsupported(
                    "an aggregation without a re-key before it cannot run as several tasks".into(),
                ));
            }
            LogicalPlan::Aggregate(_) | LogicalPlan::Materialize(_) => self.stateful(node)?,
            LogicalPlan::Sink(n) => self.sink(n),
            LogicalPlan::Join(_) => self.stateful(node)?,
            LogicalPlan::Source(_) => {
                return Err(PhysicalError::Unsupported(
                    "a source below another node's stage".into(),
                ));
            }
        })
    }

    fn sink(&self, node: &SinkNode) -> Box<dyn Operator> {
        match &node.target {
            SinkTarget::Topic(sink) => {
                let encoder =
                    Encoder::new(&node.columns, node.source_keys, sink, self.ctx.query_id);
                Box::new(TopicSinkOp::new(&sink.topic, encoder))
            }
            SinkTarget::Subscriber => Box::new(SubscriberSinkOp::new(Shown::of(&node.input))),
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
