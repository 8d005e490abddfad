//! The order in which a task takes its inputs' records, as a Kafka Streams task does
//! (`PartitionGroup.nextRecord`): of the task's input partitions that have records buffered,
//! the one whose next record has the smallest timestamp goes first (ties: the lower input,
//! then the lower partition). Records are taken in slices, not one by one: from the chosen
//! partition, every record up to the first that another partition's next record would go
//! before — the same order record-at-a-time choice gives.
//!
//! The buffer is what the step polled. A partition with records left in the log beyond them
//! (`Queue::more`) holds the others back once its buffer is empty: its next record, unknown,
//! could go first (Kafka Streams waits for such a partition, `max.task.idle.ms`, when it knows
//! its lag), so the task stops there and the rest is read again by the next step. The order
//! therefore depends only on the records, not on how many a poll returned: a restarted query
//! takes them in the order an uninterrupted one did. A partition with nothing left beyond its
//! buffer is caught up and holds nothing back.
//!
//! Over several stage-0 tasks the same rule picks across all their partitions
//! ([`next_slice_of_tasks`]), so rows exchanged into a later stage (a join's, an aggregation's)
//! arrive there in timestamp order whichever source partitions they came from; a partition of
//! any task that holds back holds back all of them.

use crate::common::change::ChangeBatch;
use crate::plan::schema::{ROWOFFSET, ROWTIME};
use arrow::array::{Array, Int64Array};

/// One input partition's polled rows of a task, and how many of them were taken.
pub struct Queue {
    pub input: usize,
    pub partition: u32,
    pub batch: ChangeBatch,
    /// The batch's ROWTIME column.
    times: Option<Int64Array>,
    /// The batch's ROWOFFSET column (the records' offsets).
    offsets: Option<Int64Array>,
    taken: usize,
    /// The partition has records beyond the batch, not polled yet: an empty queue with more
    /// holds the task's other queues back.
    pub more: bool,
}

impl Queue {
    pub fn new(input: usize, partition: u32, batch: ChangeBatch) -> Queue {
        Queue {
            input,
            partition,
            times: batch.int64(ROWTIME).cloned(),
            offsets: batch.int64(ROWOFFSET).cloned(),
            batch,
            taken: 0,
            more: false,
        }
    }

    /// More polled rows of the queue's partition, after those it has.
    pub fn append(&mut self, more: ChangeBatch) -> Result<(), arrow::error::ArrowError> {
        let schema = self.batch.schema();
        self.batch = ChangeBatch::concat(&schema, &[self.batch.clone(), more])?;
        self.times = self.batch.int64(ROWTIME).cloned();
        self.offsets = self.batch.int64(ROWOFFSET).cloned();
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.taken >= self.batch.num_rows()
    }

    /// The offset of the first row not taken; `None` when every row was taken.
    pub fn resume_offset(&self) -> Result<Option<i64>, String> {
        if self.is_empty() {
            return Ok(None);
        }
        match &self.offsets {
            Some(offsets) if self.taken < offsets.len() => Ok(Some(offsets.value(self.taken))),
            _ => Err(format!("source rows without their {ROWOFFSET}")),
        }
    }

    /// Takes the rows not taken yet whose offset is below `offset` (records another input of
    /// the same partition has taken already); `None` when there are none.
    pub fn take_below(&mut self, offset: i64) -> Option<ChangeBatch> {
        let offsets = self.offsets.as_ref()?;
        let start = self.taken;
        let mut end = start;
        while end < offsets.len() && offsets.value(end) < offset {
            end += 1;
        }
        self.taken = end;
        (end > start).then(|| self.batch.slice(start, end - start))
    }

    /// The rank of row `row`: its timestamp, then the queue's input and partition.
    fn rank(&self, row: usize) -> (i64, usize, u32) {
        let time = self
            .times
            .as_ref()
            .filter(|t| row < t.len())
            .map_or(i64::MIN, |t| t.value(row));
        (time, self.input, self.partition)
    }
}

/// The next slice of one task's queues: the position of its queue and its rows; `None` when
/// every queue is empty, or when an empty queue has more records in the log (its next record
/// is not known).
#[cfg(test)]
pub fn next_slice(queues: &mut [Queue]) -> Option<(usize, ChangeBatch)> {
    next_slice_of_tasks(std::slice::from_mut(&mut QueuesOf(queues))).map(|(_, q, slice)| (q, slice))
}

/// One task's queues, for [`next_slice_of_tasks`].
pub struct QueuesOf<'a>(pub &'a mut [Queue]);

/// The next slice over several tasks' queues, as if they were one task's (the smallest next
/// timestamp first; ties: the lower input, partition, then task): its task, the position of
/// its queue in the task and its rows. Rows reach the tasks of a later stage in one timestamp
/// order however many tasks read the sources.
pub fn next_slice_of_tasks(tasks: &mut [QueuesOf<'_>]) -> Option<(usize, usize, ChangeBatch)> {
    let held_back = |t: &QueuesOf<'_>| t.0.iter().any(|q| q.more && q.is_empty());
    if tasks.iter().any(held_back) {
        return None;
    }
    let rank = |t: usize, q: &Queue, row: usize| {
        let (time, input, partition) = q.rank(row);
        (time, input, partition, t)
    };
    let heads = || {
        tasks.iter().enumerate().flat_map(|(t, queues)| {
            queues
                .0
                .iter()
                .enumerate()
                .filter(|(_, q)| !q.is_empty())
                .map(move |(i, q)| (t, i, rank(t, q, q.taken)))
        })
    };
    let (task, chosen, _) = heads().min_by_key(|(_, _, r)| *r)?;
    let bound = heads()
        .filter(|(t, i, _)| (*t, *i) != (task, chosen))
        .map(|(_, _, r)| r)
        .min();
    let queue = &tasks[task].0[chosen];
    let start = queue.taken;
    let mut end = start + 1;
    while end < queue.batch.num_rows() && bound.is_none_or(|b| rank(task, queue, end) < b) {
        end += 1;
    }
    let slice = queue.batch.slice(start, end - start);
    tasks[task].0[chosen].taken = end;
    Some((task, chosen, slice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::change_pretty::from_pretty;

    fn queue(partition: u32, times: &[i64]) -> Queue {
        let rows: Vec<String> = times.iter().map(|t| format!("| {t} |")).collect();
        let text = format!("| ROWTIME:BIGINT |\n{}", rows.join("\n"));
        Queue::new(0, partition, from_pretty(&text).expect("batch"))
    }

    /// The (partition, timestamps) of every slice, in order.
    fn slices(mut queues: Vec<Queue>) -> Vec<(u32, Vec<i64>)> {
        let mut out = Vec::new();
        while let Some((q, slice)) = next_slice(&mut queues) {
            let times = slice.int64(ROWTIME).expect("ROWTIME").values().to_vec();
            out.push((queues[q].partition, times));
        }
        out
    }

    /// Two tasks' queues are taken in one timestamp order, as one task's would be.
    #[test]
    fn slices_of_several_tasks_interleave_by_timestamp() {
        let mut a = vec![queue(0, &[1, 5, 6])];
        let mut b = vec![queue(1, &[2, 3, 9])];
        let mut tasks = vec![QueuesOf(&mut a), QueuesOf(&mut b)];
        let mut order = Vec::new();
        while let Some((task, _, slice)) = next_slice_of_tasks(&mut tasks) {
            let times = slice.int64(ROWTIME).expect("ROWTIME").values().to_vec();
            order.push((task, times));
        }
        assert_eq!(
            order,
            vec![(0, vec![1]), (1, vec![2, 3]), (0, vec![5, 6]), (1, vec![9])]
        );
    }

    #[test]
    fn the_smallest_next_timestamp_goes_first_in_slices() {
        let order = slices(vec![queue(0, &[1, 2, 6, 7]), queue(1, &[3, 4, 8])]);
        assert_eq!(
            order,
            vec![
                (0, vec![1, 2]),
                (1, vec![3, 4]),
                (0, vec![6, 7]),
                (1, vec![8])
            ]
        );
    }

    #[test]
    fn slices_give_the_record_at_a_time_order() {
        let (a, b) = ([5, 1, 9, 9, 2], [3, 9, 4]);
        // Record at a time: the partition whose next record is smallest (ties: partition 0).
        let (mut i, mut j, mut expected) = (0, 0, Vec::new());
        while i < a.len() || j < b.len() {
            let take_a = j >= b.len() || (i < a.len() && a[i] <= b[j]);
            if take_a {
                expected.push((0, a[i]));
                i += 1;
            } else {
                expected.push((1, b[j]));
                j += 1;
            }
        }
        let got: Vec<(u32, i64)> = slices(vec![queue(0, &a), queue(1, &b)])
            .into_iter()
            .flat_map(|(p, times)| times.into_iter().map(move |t| (p, t)))
            .collect();
        assert_eq!(got, expected);
    }

    /// A queue of rows (timestamp, offset).
    fn queue_at(partition: u32, rows: &[(i64, i64)], more: bool) -> Queue {
        let rows: Vec<String> = rows.iter().map(|(t, o)| format!("| {t} | {o} |")).collect();
        let text = format!("| ROWTIME:BIGINT | ROWOFFSET:BIGINT |\n{}", rows.join("\n"));
        let mut queue = Queue::new(0, partition, from_pretty(&text).expect("batch"));
        queue.more = more;
        queue
    }

    #[test]
    fn an_empty_queue_with_records_left_in_the_log_holds_the_others_back() {
        let mut queues = vec![
            queue_at(0, &[(1, 10), (5, 11)], true),
            queue_at(1, &[(2, 20), (3, 21), (8, 22)], false),
        ];
        let mut order = Vec::new();
        while let Some((q, slice)) = next_slice(&mut queues) {
            let times = slice.int64(ROWTIME).expect("ROWTIME").values().to_vec();
            order.push((queues[q].partition, times));
        }
        // Partition 0's next record, not polled, could go before 8.
        assert_eq!(order, vec![(0, vec![1]), (1, vec![2, 3]), (0, vec![5])]);
        assert_eq!(queues[0].resume_offset(), Ok(None));
        assert_eq!(queues[1].resume_offset(), Ok(Some(22)));
        // Caught up, partition 0 holds nothing back.
        queues[0].more = false;
        assert!(next_slice(&mut queues).is_some());
        assert_eq!(queues[1].resume_offset(), Ok(None));
    }

    #[test]
    fn rows_below_an_offset_are_taken_once() {
        let mut q = queue_at(0, &[(1, 3), (2, 5), (3, 9)], false);
        assert!(q.take_below(3).is_none());
        let taken = q.take_below(9).expect("rows");
        assert_eq!(taken.int64(ROWOFFSET).expect("offsets").values(), &[3, 5]);
        assert_eq!(q.resume_offset(), Ok(Some(9)));
        assert!(q.take_below(9).is_none());
        assert_eq!(q.take_below(i64::MAX).map(|b| b.num_rows()), Some(1));
        assert_eq!(q.resume_offset(), Ok(None));
        let without_offsets = queue(0, &[1]);
        assert!(without_offsets.resume_offset().is_err());
    }

    #[test]
    fn ties_go_to_the_lower_partition_and_one_queue_is_one_slice() {
        let order = slices(vec![queue(1, &[5, 5]), queue(0, &[5])]);
        assert_eq!(order, vec![(0, vec![5]), (1, vec![5, 5])]);
        assert_eq!(slices(vec![queue(3, &[9, 1, 4])]), vec![(3, vec![9, 1, 4])]);
        assert!(slices(Vec::new()).is_empty());
    }
}
