//! A query whose work is split among the servers of its consumer group (a persistent query of
//! a catalog shared on Kafka), as Kafka Streams splits an application's tasks:
//!
//! - The consumer subscribes to the query's sources and repartition topics; the group's range
//!   assignment gives a server partition *p* of every topic with as many partitions, so task
//!   *p* of a stage (which reads partition *p* of its input topics) is whole on one server.
//! - A task is made when its partitions are assigned here: its graph built, its stores replayed
//!   from their changelogs (from the checkpoint this server's directory kept, if it ran the
//!   task before) and opened; when they are revoked it is dropped, and its stores stop logging
//!   here. Rebalances happen inside the step's poll, before anything of the step is processed,
//!   and records polled before a partition was revoked are not returned.
//! - An exchange does not hand rows to the next stage in process: they become records of the
//!   stage's repartition topic (`repartition`), partition = the target task, written in the
//!   step's transaction, and the server that has that task reads them.
//!
//! The state's checkpoint is per changelog partition, so a task that comes back replays only
//! what other servers wrote meanwhile.
//!
//! May import what `exec::driver` does.

use super::types::MemberStart;
use super::{QueryDriver, StartError, StepError, Task, repartition};
use crate::common::change::ChangeBatch;
use crate::exec::materialized::SharedRows;
use crate::exec::operator::{Exchanged, Origin, Outputs};
use crate::exec::physical::{self, PhysicalContext};
use crate::exec::processing_log::{ProcessingError, ProcessingLog};
use crate::exec::query_state::StateLocation;
use crate::plan::logical::LogicalPlan;
use crate::transport::{PartitionRecords, Rebalance, TopicConfig, TopicPartition, TransportError};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a server needs to make the tasks assigned to it.
pub(super) struct Membership {
    member: MemberStart,
    root: LogicalPlan,
    /// How many tasks each stage has.
    counts: Vec<u32>,
    fatal_timestamp_errors: bool,
    location: StateLocation,
    /// Each exchange's target (stage, input) and the repartition topic that carries its rows.
    exchanges: BTreeMap<(usize, usize), String>,
    /// Tasks assigned here but not made yet (a restore failed: the next step tries again).
    pending: Vec<(usize, u32)>,
    /// The query's plan (what its committed rows are made of).
    plan: crate::plan::QueryPlan,
    /// The committed rows of the tasks that run here, for pull queries.
    published: SharedRows,
}

impl Membership {
    /// The stage and input whose rows repartition topic `topic` carries.
    fn exchange_of(&self, topic: &str) -> Option<(usize, usize)> {
        self.exchanges
            .iter()
            .find(|(_, t)| t.as_str() == topic)
            .map(|(target, _)| *target)
    }
}

impl QueryDriver {
    /// A query that takes part in its group (module header): subscribed, no task yet.
    pub(super) fn new_member(
        start: super::QueryStart<'_>,
        root: LogicalPlan,
        member: MemberStart,
    ) -> Result<QueryDriver, StartError> {
        let transport = member.transport.clone();
        let source_partitions = transport.partition_count(&start.plan.source.topic)?;
        let no_changelogs = |_: &str| None;
        let ctx = PhysicalContext {
            query_id: start.id,
            fatal_timestamp_errors: start.fatal_timestamp_errors,
            state: &start.state,
            source_partitions,
            changelog_partitions: &no_changelogs,
            describe_only: true,
        };
        let counts = physical::task_counts(&root, &ctx);
        let mut sources = Vec::new();
        let mut exchanges = BTreeMap::new();
        for stage in 0..counts.len() {
            let task = physical::plan_task(&root, &ctx, &counts, (stage, 0), &mut None)?;
            if stage == 0 {
                sources = task.sources;
            }
            exchanges.extend(task.exchanges);
        }
        let mut topics: Vec<String> = Vec::new();
        for source in &sources {
            let count = transport.partition_count(&source.topic)?;
            if count != counts.first().copied().unwrap_or(1) {
                return Err(StartError::Unsupported(format!(
                    "the query reads topic '{}' ({count} partitions) in {} task(s): split among servers, each task must read one partition of each source",
                    source.topic,
                    counts.first().copied().unwrap_or(1)
                )));
            }
            if !topics.contains(&source.topic) {
                topics.push(source.topic.clone());
            }
        }
        for ((stage, _), topic) in &exchanges {
            let partitions = counts.get(*stage).copied().unwrap_or(1);
            match transport.create_topic(topic, &TopicConfig::with_partitions(partitions)) {
                Ok(()) | Err(TransportError::TopicExists(_)) => {}
                Err(e) => return Err(e.into()),
            }
            topics.push(topic.clone());
        }
        let mut consumer = transport.consumer(Some(start.group))?;
        consumer.subscribe(&topics, start.reset)?;
        let producer = transport.transactional_producer(&member.transactional_id)?;
        let stages = counts
            .iter()
            .map(|count| (0..*count).map(|_| None).collect())
            .collect();
        Ok(QueryDriver {
            id: start.id.to_string(),
            counters: Default::default(),
            group: start.group.to_string(),
            sources,
            stages,
            consumer,
            producer: Some(producer),
            subscriber: None,
            partitions: Vec::new(),
            state: None,
            finished: false,
            outputs: Outputs::default(),
            step_budget: crate::common::limits::MAX_STEP_WORK_BYTES,
            step_cap: usize::MAX,
            membership: Some(Membership {
                member,
                root,
                counts,
                fatal_timestamp_errors: start.fatal_timestamp_errors,
                location: start.state.clone(),
                exchanges,
                pending: Vec::new(),
                plan: start.plan.clone(),
                published: SharedRows::default(),
            }),
        })
    }

    /// Where the committed rows of this server's tasks are published (a query whose work is
    /// split; they change as tasks move).
    pub fn shared_rows(&self) -> Option<SharedRows> {
        self.membership.as_ref().map(|m| m.published.clone())
    }

    /// Takes the rebalances the step's poll met: tasks of revoked partitions are dropped,
    /// tasks of assigned ones made (state restored). Records of partitions not ours are
    /// dropped from `polled`; `positions` (where the step began) gains the start of each
    /// partition new to it, so a rolled-back step goes back there too.
    pub(super) fn apply_rebalances(
        &mut self,
        polled: &mut Vec<PartitionRecords>,
        positions: &mut Vec<(TopicPartition, i64)>,
    ) -> Result<(), StepError> {
        let Some(mut membership) = self.membership.take() else {
            return Ok(());
        };
        let applied = self.apply_with(&mut membership, polled, positions);
        self.membership = Some(membership);
        applied
    }

    fn apply_with(
        &mut self,
        membership: &mut Membership,
        polled: &mut Vec<PartitionRecords>,
        positions: &mut Vec<(TopicPartition, i64)>,
    ) -> Result<(), StepError> {
        let running = self.tasks_running();
        for change in self.consumer.take_rebalances() {
            match change {
                Rebalance::Revoked(tps) => {
                    for tp in tps {
                        let task = (self.stage_reading(membership, &tp.topic), tp.partition);
                        membership.pending.retain(|t| *t != task);
                        self.drop_task(task);
                    }
                }
                Rebalance::Assigned(tps) => {
                    for tp in tps {
                        let task = (self.stage_reading(membership, &tp.topic), tp.partition);
                        if !membership.pending.contains(&task) {
                            membership.pending.push(task);
                        }
                    }
                }
            }
        }
        self.partitions = self.consumer.assignment();
        polled.retain(|p| {
            self.partitions
                .iter()
                .any(|tp| *tp.topic == *p.topic && tp.partition == p.partition)
        });
        positions.retain(|(tp, _)| self.partitions.contains(tp));
        for tp in &self.partitions {
            if positions.iter().any(|(known, _)| known == tp) {
                continue;
            }
            let first = polled
                .iter()
                .find(|p| *p.topic == *tp.topic && p.partition == tp.partition)
                .and_then(|p| p.records.first())
                .map(|r| r.offset);
            if let Some(start) = first.or_else(|| self.consumer.position(tp)) {
                positions.push((tp.clone(), start));
            }
        }
        let changed = !membership.pending.is_empty();
        while let Some(&task) = membership.pending.first() {
            self.make_task(membership, task)?;
            membership.pending.remove(0);
        }
        if changed || running != self.tasks_running() {
            let rows = self.committed_rows(&membership.plan);
            if let Ok(mut published) = membership.published.write() {
                *published = rows;
            }
        }
        Ok(())
    }

    /// How many tasks run here.
    fn tasks_running(&self) -> usize {
        self.stages.iter().flatten().flatten().count()
    }

    /// The stage that reads `topic`: 0 for a source, the exchange's stage for a repartition
    /// topic.
    fn stage_reading(&self, membership: &Membership, topic: &str) -> usize {
        membership.exchange_of(topic).map_or(0, |(stage, _)| stage)
    }

    /// Makes task `partition` of `stage` here: its graph, its stores restored and opened.
    fn make_task(
        &mut self,
        membership: &Membership,
        (stage, partition): (usize, u32),
    ) -> Result<(), StepError> {
        let exists = self
            .stages
            .get(stage)
            .and_then(|s| s.get(partition as usize))
            .is_some_and(Option::is_some);
        if exists {
            return Ok(());
        }
        let no_changelogs = |_: &str| None;
        let source_partitions = membership.counts.first().copied().unwrap_or(1);
        let ctx = PhysicalContext {
            query_id: &self.id,
            fatal_timestamp_errors: membership.fatal_timestamp_errors,
            state: &membership.location,
            source_partitions,
            changelog_partitions: &no_changelogs,
            describe_only: false,
        };
        let mark = self.state.as_ref().map_or(0, |s| s.store_count());
        let made = physical::plan_task(
            &membership.root,
            &ctx,
            &membership.counts,
            (stage, partition),
            &mut self.state,
        )
        .map_err(|e| {
            StepError::Internal(format!("making task {partition} of stage {stage}: {e}"))
        })?;
        if let Some(state) = &mut self.state {
            state.own_since(mark, (stage, partition));
            let transport = membership.member.transport.clone();
            if let Err(e) = state.restore(transport.as_ref()) {
                state.release_task((stage, partition));
                return Err(StepError::Transport(TransportError::Backend(format!(
                    "restoring the state of task {partition} of stage {stage}: {e}"
                ))));
            }
        }
        let mut task = Task::new(made.graph);
        task.graph.open()?;
        let slot = self
            .stages
            .get_mut(stage)
            .and_then(|s| s.get_mut(partition as usize))
            .ok_or_else(|| StepError::Internal(format!("no task {partition} in stage {stage}")))?;
        *slot = Some(task);
        tracing::info!(query = %self.id, "task {partition} of stage {stage} runs here");
        Ok(())
    }

    /// Drops task (stage, partition): its partitions went to another server.
    fn drop_task(&mut self, (stage, partition): (usize, u32)) {
        let slot = self
            .stages
            .get_mut(stage)
            .and_then(|s| s.get_mut(partition as usize));
        if let Some(slot) = slot
            && slot.take().is_some()
        {
            tracing::info!(query = %self.id, "task {partition} of stage {stage} moved away");
        }
        if let Some(state) = &mut self.state {
            state.release_task((stage, partition));
        }
    }

    /// Exchanged rows as records of their repartition topics, for the step's transaction.
    pub(super) fn send_exchanged(&mut self, exchanged: Vec<Exchanged>) -> Result<(), StepError> {
        let Some(membership) = &self.membership else {
            return Err(StepError::Internal(
                "repartitioning a query run in one place".into(),
            ));
        };
        for e in exchanged {
            let topic = membership
                .exchanges
                .get(&(e.stage, e.input))
                .ok_or_else(|| {
                    StepError::Internal(format!(
                        "no repartition topic for stage {} input {}",
                        e.stage, e.input
                    ))
                })?;
            let record = repartition::encode(&e.batch)
                .map_err(|e| StepError::Internal(format!("encoding exchanged rows: {e}")))?;
            let topic: Arc<str> = Arc::from(topic.as_str());
            self.outputs
                .repartitioned
                .push((topic, e.partition, record));
        }
        Ok(())
    }

    /// The exchanged rows a step polled from repartition topics, in timestamp order (then
    /// stage, input, partition, offset): (stage, input, partition, rows, origin). A record that
    /// is not a batch goes to the processing log.
    pub(super) fn read_repartitioned(
        &self,
        polled: &[PartitionRecords],
        log: &mut dyn ProcessingLog,
    ) -> Vec<(usize, usize, u32, ChangeBatch, Origin)> {
        let Some(membership) = &self.membership else {
            return Vec::new();
        };
        let mut rows = Vec::new();
        for part in polled {
            let Some((stage, input)) = membership.exchange_of(&part.topic) else {
                continue;
            };
            for record in &part.records {
                let bytes = record.value.as_deref().unwrap_or_default();
                match repartition::decode(bytes) {
                    Ok(batch) => {
                        let key = (
                            record.timestamp,
                            stage,
                            input,
                            part.partition,
                            record.offset,
                        );
                        let origin = Origin {
                            topic: part.topic.to_string(),
                            partition: part.partition,
                        };
                        rows.push((key, (stage, input, part.partition, batch, origin)));
                    }
                    Err(e) => log.report(ProcessingError::bad(
                        &self.id,
                        &part.topic,
                        part.partition,
                        record.offset,
                        format!("a repartition record that is not a batch of rows: {e}"),
                    )),
                }
            }
        }
        rows.sort_by_key(|(key, _)| *key);
        rows.into_iter().map(|(_, r)| r).collect()
    }

    /// Whether `topic` is one of the query's repartition topics.
    pub(super) fn is_repartition_topic(&self, topic: &str) -> bool {
        self.membership
            .as_ref()
            .is_some_and(|m| m.exchange_of(topic).is_some())
    }

    /// After a fenced transaction (this server's producer was replaced), a new producer.
    pub(super) fn renew_producer(&mut self) -> Result<(), StepError> {
        let Some(membership) = &self.membership else {
            return Ok(());
        };
        let member = &membership.member;
        self.producer = Some(
            member
                .transport
                .transactional_producer(&member.transactional_id)?,
        );
        Ok(())
    }
}
