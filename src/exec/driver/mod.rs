//! The query driver: owns a query's loop around its tasks' operator graphs. It polls the
//! source partitions, reads each partition's records into a change batch for the stage-0 task
//! of that partition, takes each task's batches in timestamp order (`order`; records a task
//! must hold back for that order are read again by the next step, `resume`), routes them
//! through the task's graph (`exec::graph`), delivers rows an exchange sends to the next
//! stage's tasks before the next batch, tracks each task's stream time, and commits: a
//! persistent query's sink
//! records, its state's changelog records and the consumed offsets in one transaction (so a
//! crash neither loses nor duplicates output), or a push query's rows handed to its
//! subscriber. A step that fails before its commit is rolled back: its state writes are
//! dropped, the operators re-read their state, and the input is read again; a step whose
//! evaluation passes its budget is rolled back and run again with fewer records (`step`).
//!
//! The same driver runs a query on its own thread (production) and stepped by hand (the
//! conformance runner and tests). It has no case for a particular operator.

mod membership;
mod order;
mod repartition;
mod resume;
mod step;
mod types;

pub use types::{MemberStart, QueryCounters, QueryStart, RowSubscriber, StartError, StepError};

use super::graph::Graph;
use super::materialized::CommittedRows;
use super::operator::{Ctx, Materialized, Origin, Outputs};
use super::physical::{self, PhysicalContext, SourceInput};
use super::processing_log::ProcessingLog;
use super::query_state::QueryState;
use crate::common::change::ChangeBatch;
use crate::common::limits;
use crate::plan::QueryPlan;
use crate::plan::SourceDef;
use crate::plan::logical::{LogicalPlan, SinkTarget, logical_plan};
use crate::plan::schema::ROWTIME;
use crate::transport::{
    Consumer, OffsetSpec, PartitionRecords, StartFrom, TopicPartition, TransactionalProducer,
    Transport,
};
use arrow::array::Array;
use order::Queue;

/// One task: its operator graph and its stream time (the largest ROWTIME it has taken,
/// Kafka Streams' task stream time).
struct Task {
    graph: Graph,
    stream_time: i64,
    /// The stream time at the last commit (where a rolled-back step puts it back).
    committed_stream_time: i64,
}

impl Task {
    fn new(graph: Graph) -> Task {
        Task {
            graph,
            stream_time: i64::MIN,
            committed_stream_time: i64::MIN,
        }
    }
}

pub struct QueryDriver {
    pub id: String,
    counters: std::sync::Arc<QueryCounters>,
    group: String,
    /// The sources whose records stage 0's tasks read (its graphs' inputs, in order).
    sources: Vec<SourceInput>,
    /// Per stage, its tasks (task *p* at position *p*); `None` for a task another server
    /// runs (a query whose work is split, `membership`).
    stages: Vec<Vec<Option<Task>>>,
    consumer: Box<dyn Consumer>,
    /// A persistent query's transactional producer.
    producer: Option<Box<dyn TransactionalProducer>>,
    /// A push query's subscriber.
    subscriber: Option<RowSubscriber>,
    partitions: Vec<TopicPartition>,
    state: Option<QueryState>,
    finished: bool,
    /// The step in progress: its sink records and a push query's rows.
    outputs: Outputs,
    /// The bytes of values one step may keep ([`limits::MAX_STEP_WORK_BYTES`]).
    step_budget: usize,
    /// The most records a step takes: lowered when a step passed its budget, raised again
    /// while steps keep well within it.
    step_cap: usize,
    /// A query whose work is split among the servers of its group.
    membership: Option<membership::Membership>,
}

impl QueryDriver {
    /// A persistent query writing to `sink`.
    pub fn to_topic(
        transport: &dyn Transport,
        start: QueryStart<'_>,
        sink: &SourceDef,
    ) -> Result<QueryDriver, StartError> {
        let root = logical_plan(start.plan, SinkTarget::Topic(sink.clone()));
        if let Some(member) = start.member.clone() {
            return Self::new_member(start, root, member);
        }
        let producer = transport.transactional_producer(start.group)?;
        let mut query = Self::new(transport, start, root)?;
        query.producer = Some(producer);
        // Pin the start position now, so a restart before the first commit resumes here
        // instead of re-resolving `latest` and skipping what arrived in between.
        query.consumer.commit()?;
        Ok(query)
    }

    /// A push query handing its rows to `subscriber`.
    pub fn to_subscriber(
        transport: &dyn Transport,
        start: QueryStart<'_>,
        subscriber: RowSubscriber,
    ) -> Result<QueryDriver, StartError> {
        let root = logical_plan(start.plan, SinkTarget::Subscriber);
        let mut query = Self::new(transport, start, root)?;
        query.subscriber = Some(subscriber);
        Ok(query)
    }

    fn new(
        transport: &dyn Transport,
        start: QueryStart<'_>,
        root: LogicalPlan,
    ) -> Result<QueryDriver, StartError> {
        let topic = &start.plan.source.topic;
        let source_partitions = transport.partition_count(topic)?;
        let changelog_partitions = |topic: &str| physical::existing_partitions(transport, topic);
        let ctx = PhysicalContext {
            query_id: start.id,
            fatal_timestamp_errors: start.fatal_timestamp_errors,
            state: &start.state,
            source_partitions,
            changelog_partitions: &changelog_partitions,
            describe_only: false,
        };
        let physical = physical::plan(&root, &ctx)?;
        let mut state = physical.state;
        if let Some(state) = &mut state {
            state.restore(transport)?;
        }
        let mut stages = Vec::with_capacity(physical.stages.len());
        for graphs in physical.stages {
            let mut tasks = Vec::with_capacity(graphs.len());
            for mut graph in graphs {
                graph.open()?;
                tasks.push(Some(Task::new(graph)));
            }
            stages.push(tasks);
        }
        // Each topic once, though several inputs may read it (a self-join).
        let mut partitions: Vec<TopicPartition> = Vec::new();
        for source in &physical.sources {
            if partitions.iter().any(|tp| *tp.topic == *source.topic) {
                continue;
            }
            let count = transport.partition_count(&source.topic)?;
            partitions.extend((0..count).map(|p| TopicPartition::new(&source.topic, p)));
        }
        let mut consumer = transport.consumer(Some(start.group))?;
        let from = StartFrom::Committed {
            fallback: start.reset,
        };
        let assignment: Vec<(TopicPartition, StartFrom)> =
            partitions.iter().map(|tp| (tp.clone(), from)).collect();
        consumer.assign(&assignment)?;
        Ok(QueryDriver {
            id: start.id.to_string(),
            counters: Default::default(),
            group: start.group.to_string(),
            sources: physical.sources,
            stages,
            consumer,
            producer: None,
            subscriber: None,
            partitions,
            state,
            finished: false,
            outputs: Outputs::default(),
            step_budget: limits::MAX_STEP_WORK_BYTES,
            step_cap: usize::MAX,
            membership: None,
        })
    }

    /// The same query with another step budget than [`limits::MAX_STEP_WORK_BYTES`] (tests).
    pub fn with_step_budget(mut self, bytes: usize) -> QueryDriver {
        self.step_budget = bytes;
        self
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Routes the polled records through the tasks, until the step passes its budget; then
    /// lets every operator flush before the commit. With `hold_back`, a task stops where a
    /// partition with unpolled records runs out (`order`) and the consumer goes back to what
    /// the tasks did not take: returns where each such partition resumes.
    fn process_polled(
        &mut self,
        polled: &[PartitionRecords],
        hold_back: bool,
        log: &mut dyn ProcessingLog,
    ) -> Result<Vec<(TopicPartition, i64)>, StepError> {
        self.begin()?;
        let mut queues = self.read_polled(polled, hold_back, log)?;
        // One timestamp order over every stage-0 task (driver/order.rs).
        {
            let mut tasks: Vec<order::QueuesOf<'_>> =
                queues.iter_mut().map(|q| order::QueuesOf(q)).collect();
            while let Some((task, q, slice)) = order::next_slice_of_tasks(&mut tasks) {
                let (input, partition) = (tasks[task].0[q].input, tasks[task].0[q].partition);
                self.run_source_slice(task, input, partition, slice, log)?;
                if limits::step_exceeded() {
                    return Ok(Vec::new());
                }
            }
        }
        let resumed = self.resume(&mut queues, log)?;
        // Rows other tasks exchanged to this server's tasks of later stages (`membership`).
        for (stage, input, partition, batch, origin) in self.read_repartitioned(polled, log) {
            self.run(stage, partition as usize, input, batch, &origin, log)?;
            if limits::step_exceeded() {
                return Ok(Vec::new());
            }
        }
        self.commit_operators(log)?;
        Ok(resumed)
    }

    /// Runs rows of source input `input`, partition `partition`, through stage-0 task `task`.
    fn run_source_slice(
        &mut self,
        task: usize,
        input: usize,
        partition: u32,
        slice: ChangeBatch,
        log: &mut dyn ProcessingLog,
    ) -> Result<(), StepError> {
        let origin = Origin {
            topic: self.sources[input].topic.clone(),
            partition,
        };
        self.run(0, task, input, slice, &origin, log)
    }

    /// Each polled partition's records as a change batch, queued for its stage-0 task. With
    /// `hold_back`, a queue is marked when its partition has records beyond those polled (an
    /// empty queue then holds the task back, even if none of its records decoded).
    fn read_polled(
        &self,
        polled: &[PartitionRecords],
        hold_back: bool,
        log: &mut dyn ProcessingLog,
    ) -> Result<Vec<Vec<Queue>>, StepError> {
        let tasks = self.stages.first().map_or(0, Vec::len);
        let mut queues: Vec<Vec<Queue>> = (0..tasks).map(|_| Vec::new()).collect();
        for part in polled {
            if self.is_repartition_topic(&part.topic) {
                continue;
            }
            // Every input that reads the topic gets its records (a self-join reads one twice).
            let inputs: Vec<usize> = (0..self.sources.len())
                .filter(|i| *self.sources[*i].topic == *part.topic)
                .collect();
            if inputs.is_empty() {
                return Err(StepError::Internal(format!(
                    "polled records of topic {}, which the query does not read",
                    part.topic
                )));
            }
            let more = hold_back && self.has_more(&part.topic, part.partition);
            for input in inputs {
                let reader = &self.sources[input].reader;
                let batch = reader
                    .read(&part.topic, part.partition, &part.records, log)
                    .map_err(StepError::Fatal)?;
                let batch = match batch {
                    Some(batch) => batch,
                    None if more => ChangeBatch::empty(reader.schema()),
                    None => continue,
                };
                if let Some(task) = task_of(part.partition, tasks) {
                    queue(&mut queues[task], input, part.partition, batch, more)?;
                }
            }
        }
        if hold_back {
            self.hold_back_unpolled(polled, &mut queues)?;
        }
        Ok(queues)
    }

    /// A source partition with records in the log that no poll of the step returned (on
    /// Kafka, not fetched yet) holds its task back as an empty queue would: its next record,
    /// unknown, could come first (Kafka Streams waits likewise for a partition whose lag it
    /// knows to be above zero).
    fn hold_back_unpolled(
        &self,
        polled: &[PartitionRecords],
        queues: &mut [Vec<Queue>],
    ) -> Result<(), StepError> {
        let tasks = queues.len();
        for tp in &self.partitions {
            let seen = polled
                .iter()
                .any(|p| *p.topic == *tp.topic && p.partition == tp.partition);
            if seen
                || self.is_repartition_topic(&tp.topic)
                || !self.has_more(&tp.topic, tp.partition)
            {
                continue;
            }
            let Some(task) = task_of(tp.partition, tasks) else {
                continue;
            };
            for input in (0..self.sources.len()).filter(|i| self.sources[*i].topic == tp.topic) {
                let empty = ChangeBatch::empty(self.sources[input].reader.schema());
                queue(&mut queues[task], input, tp.partition, empty, true)?;
            }
        }
        Ok(())
    }

    /// Runs a batch through one task's graph (input `input`), moves the task's stream time,
    /// and delivers what its exchanges sent to the next stage.
    fn run(
        &mut self,
        stage: usize,
        task: usize,
        input: usize,
        batch: ChangeBatch,
        origin: &Origin,
        log: &mut dyn ProcessingLog,
    ) -> Result<(), StepError> {
        let found = self.stages.get_mut(stage).and_then(|s| s.get_mut(task));
        let Some(t) = found.and_then(Option::as_mut) else {
            return Err(StepError::Internal(format!(
                "no task {task} in stage {stage} here"
            )));
        };
        let latest = latest_rowtime(&batch);
        let mut ctx = Ctx::new(&self.id, origin, log, &mut self.outputs);
        ctx.stream_time = t.stream_time;
        t.graph.push_input(input, batch, &mut ctx)?;
        if latest > t.stream_time {
            t.stream_time = latest;
            ctx.stream_time = latest;
            t.graph.stream_time(latest, &mut ctx)?;
        }
        self.deliver_exchanged(stage, origin, log)
    }

    /// Rows exchanged by stage `stage`'s operators, to their tasks in the next stage.
    fn deliver_exchanged(
        &mut self,
        stage: usize,
        origin: &Origin,
        log: &mut dyn ProcessingLog,
    ) -> Result<(), StepError> {
        let exchanged = std::mem::take(&mut self.outputs.exchanged);
        if self.membership.is_some() {
            return self.send_exchanged(exchanged);
        }
        for e in exchanged {
            let tasks = self.stages.get(e.stage).map_or(0, Vec::len);
            let task = task_of(e.partition, tasks).filter(|_| e.stage > stage);
            let Some(task) = task else {
                return Err(StepError::Internal(format!(
                    "rows exchanged from stage {stage} to stage {} of a query of {} stages",
                    e.stage,
                    self.stages.len()
                )));
            };
            self.run(e.stage, task, e.input, e.batch, origin, log)?;
        }
        Ok(())
    }

    /// Lets every task's operators, stage by stage, flush what they buffer before a commit.
    fn commit_operators(&mut self, log: &mut dyn ProcessingLog) -> Result<(), StepError> {
        let origin = Origin::default();
        for stage in 0..self.stages.len() {
            for task in 0..self.stages[stage].len() {
                let Some(t) = &mut self.stages[stage][task] else {
                    continue;
                };
                let mut ctx = Ctx::new(&self.id, &origin, log, &mut self.outputs);
                ctx.stream_time = t.stream_time;
                t.graph.commit(&mut ctx)?;
                self.deliver_exchanged(stage, &origin, log)?;
            }
        }
        Ok(())
    }

    /// Every task's graph.
    fn graphs_mut(&mut self) -> impl Iterator<Item = &mut Task> {
        self.stages.iter_mut().flatten().flatten()
    }

    /// The committed rows of the table the query writes, if it keeps them: an aggregation's
    /// groups, or a table query's written rows (what pull queries read).
    pub fn committed_rows(&self, plan: &QueryPlan) -> Option<CommittedRows> {
        let (mut groups, mut rows) = (Vec::new(), Vec::new());
        let operators = self
            .stages
            .iter()
            .flatten()
            .flatten()
            .flat_map(|t| t.graph.operators());
        for materialized in operators.filter_map(|op| op.materialized()) {
            match materialized {
                Materialized::Groups(g) => groups.push(g),
                Materialized::Rows(r) => rows.push(r),
            }
        }
        match (groups.is_empty(), rows.is_empty()) {
            (false, _) => Some(CommittedRows::groups(plan, groups)),
            (true, false) => Some(CommittedRows::Written(rows)),
            (true, true) => None,
        }
    }

    /// Each stage's tasks' stream times (`i64::MIN` for a task that has taken nothing).
    pub fn stream_times(&self) -> Vec<Vec<i64>> {
        let times = |tasks: &Vec<Option<Task>>| {
            let time = |t: &Option<Task>| t.as_ref().map_or(i64::MIN, |t| t.stream_time);
            tasks.iter().map(time).collect()
        };
        self.stages.iter().map(times).collect()
    }

    /// The end offset of each partition the query reads, measured now.
    pub fn end_offsets(
        &self,
        transport: &dyn Transport,
    ) -> Result<Vec<(TopicPartition, i64)>, crate::transport::TransportError> {
        let mut ends = Vec::new();
        for tp in &self.partitions {
            ends.push((tp.clone(), transport.list_offset(tp, OffsetSpec::Latest)?));
        }
        Ok(ends)
    }

    /// The partitions whose position is still before the given end offsets, and where.
    pub fn behind(&self, ends: &[(TopicPartition, i64)]) -> Vec<(TopicPartition, i64)> {
        ends.iter()
            .filter_map(|(tp, end)| {
                let position = self.consumer.position(tp).unwrap_or(i64::MIN);
                (position < *end).then(|| (tp.clone(), position))
            })
            .collect()
    }

    /// The query's record counts (shared: they go on counting).
    pub fn counters(&self) -> std::sync::Arc<QueryCounters> {
        self.counters.clone()
    }
}

/// Queues a partition's batch for its task: records of one partition and input stay one
/// queue, in offset order.
fn queue(
    queues: &mut Vec<Queue>,
    input: usize,
    partition: u32,
    batch: ChangeBatch,
    more: bool,
) -> Result<(), StepError> {
    match queues
        .iter_mut()
        .find(|q| (q.input, q.partition) == (input, partition))
    {
        Some(queue) => {
            queue.more = more;
            queue
                .append(batch)
                .map_err(|e| StepError::Internal(e.to_string()))
        }
        None => {
            let mut queue = Queue::new(input, partition, batch);
            queue.more = more;
            queues.push(queue);
            Ok(())
        }
    }
}

/// The task of a partition among `tasks` (partition mod the count; `None` without tasks).
fn task_of(partition: u32, tasks: usize) -> Option<usize> {
    (tasks > 0).then(|| partition as usize % tasks)
}

/// The largest ROWTIME of a batch (`i64::MIN` without one).
fn latest_rowtime(batch: &ChangeBatch) -> i64 {
    batch
        .int64(ROWTIME)
        .and_then(|times| arrow::compute::max(times).filter(|_| times.null_count() < times.len()))
        .unwrap_or(i64::MIN)
}
