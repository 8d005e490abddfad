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
    /// Whether rows reach the next stage in the batch's row order across tasks, not task by
    /// task (`in_row_order`).
    row_order: bool,
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
            row_order: false,
        }
    }

    /// Delivers a batch's rows in their order across tasks: each run of consecutive rows bound
    /// for one task is delivered (and run through the next stages) before the next run. For
    /// rows of one key that fan out to several tasks whose answers meet again downstream (a
    /// foreign-key join's subscriptions): task by task, a later row's answer could overtake an
    /// earlier one's.
    pub fn in_row_order(mut self) -> ExchangeOp {
        self.row_order = true;
        self
    }

    /// The exchange, named after the repartition topic ksqlDB would use for it.
    pub fn through(mut self, topic: String) -> ExchangeOp {
        self.topic = Some(topic);
        self
    }

    /// The stage and graph input the rows go to.
    pub fn target(&self) -> (usize, usize) {
        (self.target_stage, self.target_input)
    }

    /// ksqlDB's repartition topic for these rows, if it has one.
    pub fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
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
        if self.row_order {
            let mut start = 0;
            while start < partitions.len() {
                let target = partitions[start];
                let end = (start..partitions.len())
                    .find(|r| partitions[*r] != target)
                    .unwrap_or(partitions.len());
                let rows: UInt32Array = (start as u32..end as u32).collect();
                ctx.exchange(
                    self.target_stage,
                    self.target_input,
                    target,
                    batch.take(&rows)?,
                );
                start = end;
            }
            return Ok(());
        }
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

    /// Rows of keys bound for two tasks, alternating: task by task, or run by run in row order.
    #[test]
    fn rows_go_task_by_task_or_in_row_order() {
        use crate::exec::testing::OpHarness;
        let probe = ExchangeOp::new(vec![0], vec![], (1, 0), 8);
        let one = from_pretty("| K:STRING |\n| a |").expect("batch");
        let task_a = probe.partitions_of(&one)[0];
        let other = ('b'..='z')
            .map(|c| c.to_string())
            .find(|k| {
                let batch = from_pretty(&format!("| K:STRING |\n| {k} |")).expect("batch");
                probe.partitions_of(&batch)[0] != task_a
            })
            .expect("a key of another task");
        let rows = format!("| K:STRING |\n| a |\n| a |\n| {other} |\n| a |");
        let task_b = probe
            .partitions_of(&from_pretty(&format!("| K:STRING |\n| {other} |")).expect("batch"))[0];
        let mut grouped = OpHarness::new(ExchangeOp::new(vec![0], vec![], (1, 0), 8));
        grouped.process(0, &rows);
        let mut by_task = vec![(task_a, 3), (task_b, 1)];
        by_task.sort();
        assert_eq!(grouped.take_exchanged(), by_task);
        let mut ordered =
            OpHarness::new(ExchangeOp::new(vec![0], vec![], (1, 0), 8).in_row_order());
        ordered.process(0, &rows);
        assert_eq!(
            ordered.take_exchanged(),
            vec![(task_a, 2), (task_b, 1), (task_a, 1)]
        );
    }
}
