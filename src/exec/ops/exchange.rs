//! The exchange operator: the end of a stage whose rows the next stage needs by a new key (a
//! GROUP BY's re-key before the aggregation). Each row goes to the next stage's task of its
//! key's partition — Kafka's partitioner (murmur2) over the key's encoded values, so a key
//! always reaches the same task and its state — through the context; the driver delivers the
//! rows to those tasks before the next batch. (Between servers this becomes ksqlDB's
//! repartition topic; the operators around it do not change.)

use crate::common::change::ChangeBatch;
use crate::common::{Value, codec};
use crate::exec::operator::{Ctx, Operator, OperatorError};
use crate::transport::partition_for_key;
use arrow::array::UInt32Array;

pub struct ExchangeOp {
    /// Input positions of the key columns.
    key_columns: Vec<usize>,
    /// Their names (EXPLAIN).
    key_names: Vec<String>,
    /// The stage the rows go to, and its input they arrive on.
    target_stage: usize,
    target_input: usize,
    /// How many tasks that stage has.
    partitions: u32,
    /// The repartition topic ksqlDB would write these rows to (EXPLAIN; between servers the
    /// exchange becomes it).
    topic: Option<String>,
}

impl ExchangeOp {
    /// Rows keyed by the input columns at `key_columns` (named `key_names`) to input
    /// `target_input` of the `partitions` tasks of stage `target_stage`.
    pub fn new(
        key_columns: Vec<usize>,
        key_names: Vec<String>,
        (target_stage, target_input): (usize, usize),
        partitions: u32,
    ) -> ExchangeOp {
        ExchangeOp {
            key_columns,
            key_names,
            target_stage,
            target_input,
            partitions: partitions.max(1),
            topic: None,
        }
    }

    /// The exchange, named after the repartition topic ksqlDB would use for it.
    pub fn through(mut self, topic: String) -> ExchangeOp {
        self.topic = Some(topic);
        self
    }

    /// The task partition of each row.
    fn partitions_of(&self, batch: &ChangeBatch) -> Vec<u32> {
        let data = batch.data();
        (0..batch.num_rows())
            .map(|row| {
                let key: Vec<Value> = self
                    .key_columns
                    .iter()
                    .map(|c| Value::from_array(data.column(*c).as_ref(), row))
                    .collect();
                partition_for_key(&codec::encode_values(&key), self.partitions)
            })
            .collect()
    }
}

impl Operator for ExchangeOp {
    fn describe(&self) -> String {
        let by = match self.key_names.is_empty() {
            true => "(no key: one group)".to_string(),
            false => self.key_names.join(", "),
        };
        let (stage, tasks) = (self.target_stage, self.partitions);
        let exchange = format!("Exchange by {by} to stage {stage}'s {tasks} task(s)");
        match &self.topic {
            Some(topic) => format!("{exchange} in process (ksqlDB: repartition topic {topic})"),
            None => exchange,
        }
    }

    fn process(
        &mut self,
        _input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        if self.partitions == 1 {
            ctx.exchange(self.target_stage, self.target_input, 0, batch);
            return Ok(());
        }
        let partitions = self.partitions_of(&batch);
        for target in 0..self.partitions {
            let rows: UInt32Array = (0..batch.num_rows() as u32)
                .filter(|r| partitions[*r as usize] == target)
                .collect();
            if !rows.is_empty() {
                let rows = batch.take(&rows)?;
                ctx.exchange(self.target_stage, self.target_input, target, rows);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::change_pretty::from_pretty;

    /// The task of a key must not change between versions: a restarted query finds a key's
    /// state only in the task that kept it. These partitions were computed when the exchange
    /// was written (murmur2 over the postcard encoding of the key's values); a change to
    /// `Value`'s variants or to the codec that moves them breaks every query's state.
    #[test]
    fn keys_keep_their_task_across_versions() {
        let batch = from_pretty(
            "| K:STRING | N:BIGINT | I:INTEGER | B:BOOLEAN | D:DOUBLE |
             | a        | 1        | 7         | true      | 1.5      |
             | home     | -42      | 0         | false     | -0.25    |
             | null     | null     | null      | null      | null     |",
        )
        .expect("batch");
        let op = |columns: Vec<usize>| ExchangeOp::new(columns, vec![], (1, 0), 8);
        let by_column = |c: usize| op(vec![c]).partitions_of(&batch);
        let all = op(vec![0, 1, 2, 3, 4]).partitions_of(&batch);
        let got: Vec<Vec<u32>> = (0..5).map(by_column).chain([all]).collect();
        insta::assert_debug_snapshot!(got);
    }
}
