//! The sinks: a persistent query's topic (rows encoded through the sink's formats; a deletion
//! is a tombstone; `U-` rows are not written) and a push query's subscriber (rows handed to
//! the driver, which gives them to the client once the step succeeds). Neither owns the
//! producer or the client: records and rows go out through the operator's context.

use crate::common::change::{ChangeBatch, Op};
use crate::exec::encode::Encoder;
use crate::exec::operator::{Ctx, Operator, OperatorError};
use crate::plan::logical::LogicalPlan;
use arrow::array::BooleanArray;

pub struct TopicSinkOp {
    topic: std::sync::Arc<str>,
    encoder: Encoder,
}

impl TopicSinkOp {
    pub fn new(topic: &str, encoder: Encoder) -> TopicSinkOp {
        TopicSinkOp {
            topic: topic.into(),
            encoder,
        }
    }

    /// What the sink writing `topic` is, for EXPLAIN (its [`Operator::describe`]).
    pub fn describe_topic(topic: &str) -> String {
        format!("Sink topic {topic}")
    }
}

impl Operator for TopicSinkOp {
    fn describe(&self) -> String {
        TopicSinkOp::describe_topic(&self.topic)
    }

    fn process(
        &mut self,
        _input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        let records = self.encoder.encode(&batch, &self.topic, ctx.log());
        ctx.send(&self.topic, records);
        Ok(())
    }
}

/// Which changes a push query shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// Over a table: its rows and its deletions (as tombstone rows).
    TableChanges,
    /// Over a stream, or an aggregation: rows and each group's new row (a group that stops
    /// passing HAVING, or a merged-away session, is not shown).
    Upserts,
}

impl Shown {
    /// What a push query over `input` shows: a table's changes as they are; rows and new
    /// aggregates otherwise.
    pub fn of(input: &LogicalPlan) -> Shown {
        match input.is_changelog() && !input.aggregates() {
            true => Shown::TableChanges,
            false => Shown::Upserts,
        }
    }
}

pub struct SubscriberSinkOp {
    shown: Shown,
}

impl SubscriberSinkOp {
    pub fn new(shown: Shown) -> SubscriberSinkOp {
        SubscriberSinkOp { shown }
    }

    /// What the subscriber sink showing `shown` is, for EXPLAIN (its [`Operator::describe`]).
    pub fn describe_shown(shown: Shown) -> String {
        format!("Sink push query subscriber ({shown:?})")
    }

    fn keeps(&self, op: Op) -> bool {
        match (self.shown, op) {
            (_, Op::UpdateBefore) => false,
            (Shown::TableChanges, _) => true,
            (_, op) => op.is_upsert(),
        }
    }
}

impl Operator for SubscriberSinkOp {
    fn describe(&self) -> String {
        SubscriberSinkOp::describe_shown(self.shown)
    }

    fn process(
        &mut self,
        _input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        if batch.is_insert_only() {
            ctx.deliver(batch);
            return Ok(());
        }
        let keep: BooleanArray = (0..batch.num_rows())
            .map(|r| Some(self.keeps(batch.op(r))))
            .collect();
        ctx.deliver(batch.filter(&keep)?);
        Ok(())
    }
}
