//! The records a Kafka consumer fetched for one partition, kept so that it can hand them out
//! fairly across partitions and move back among them without fetching again. librdkafka hands
//! out one queue of whatever each fetch brought, partition after partition, and a seek throws
//! away what was fetched; Brook's driver takes partitions in turns and moves back to the first
//! record a step did not take (`exec::driver::resume`) or to the step's start (a rolled-back
//! step), so without this a step could wait for ever on a partition whose records sit behind
//! another's in librdkafka's queue, or fetch the same records again and again.
//!
//! May import what `kafka` does.

use crate::transport::Record;
use std::collections::VecDeque;

/// How many records handed out a buffer keeps, for moving back to them.
const HISTORY: usize = 100_000;

/// One partition's fetched records and the consumer's position among them.
#[derive(Debug, Default)]
pub struct PartitionBuffer {
    records: VecDeque<Record>,
    /// The next record to hand out.
    next: usize,
    /// The position once every buffered record is handed out: where the partition started
    /// (assigned, sought), or past the last record fetched and past the transaction markers
    /// librdkafka skipped after it.
    after: i64,
}

impl PartitionBuffer {
    /// An empty buffer whose position is `offset`.
    pub fn starting_at(offset: i64) -> PartitionBuffer {
        PartitionBuffer {
            records: VecDeque::new(),
            next: 0,
            after: offset,
        }
    }

    /// The next offset to read.
    pub fn position(&self) -> i64 {
        self.records.get(self.next).map_or(self.after, |r| r.offset)
    }

    /// A record fetched after those buffered.
    pub fn push(&mut self, record: Record) {
        self.after = self.after.max(record.offset + 1);
        self.records.push_back(record);
    }

    /// librdkafka's position after the records it handed out: past the markers it skipped.
    pub fn fetched_to(&mut self, position: i64) {
        self.after = self.after.max(position);
    }

    /// Records fetched and not handed out yet.
    pub fn available(&self) -> usize {
        self.records.len() - self.next
    }

    /// Hands out up to `n` records.
    pub fn take(&mut self, n: usize) -> Vec<Record> {
        let end = (self.next + n).min(self.records.len());
        let taken = self.records.range(self.next..end).cloned().collect();
        self.next = end;
        taken
    }

    /// Moves the position to `offset` among the records kept; false when `offset` is outside
    /// them (the caller seeks and starts a new buffer).
    pub fn rewind(&mut self, offset: i64) -> bool {
        let first = self.records.front().map_or(self.after, |r| r.offset);
        if offset < first || offset > self.after {
            return false;
        }
        self.next = self.records.partition_point(|r| r.offset < offset);
        true
    }

    /// Forgets records handed out beyond the last [`HISTORY`].
    pub fn trim(&mut self) {
        let drop = self.next.saturating_sub(HISTORY);
        self.records.drain(..drop);
        self.next -= drop;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(offset: i64) -> Record {
        Record {
            offset,
            timestamp: 0,
            key: None,
            value: None,
            headers: Vec::new(),
        }
    }

    #[test]
    fn positions_pass_markers_and_rewinds_stay_among_the_records_kept() {
        let mut buffer = PartitionBuffer::starting_at(10);
        assert_eq!(buffer.position(), 10);
        // Records 10, 11, then a commit marker at 12 that librdkafka skipped; 13.
        for offset in [10, 11, 13] {
            buffer.push(record(offset));
        }
        buffer.fetched_to(14);
        let offsets = |rs: Vec<Record>| rs.iter().map(|r| r.offset).collect::<Vec<_>>();
        assert_eq!(offsets(buffer.take(2)), [10, 11]);
        assert_eq!(buffer.position(), 13);
        assert_eq!(offsets(buffer.take(5)), [13]);
        assert_eq!(buffer.position(), 14, "past the last record");
        assert!(buffer.rewind(11));
        assert_eq!(buffer.position(), 11);
        assert_eq!(buffer.available(), 2);
        assert!(
            buffer.rewind(12),
            "the marker's offset: the next record is 13"
        );
        assert_eq!(buffer.position(), 13);
        assert!(!buffer.rewind(9), "before what is kept");
        assert!(!buffer.rewind(15), "past what was fetched");
    }
}
