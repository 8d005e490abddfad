//! Reading a partition to its end: what a restore of state from a changelog and the replay of
//! the command log both do. The end is measured when the read starts; the position (the next
//! offset to read, past transaction markers) must reach it.

use super::{
    Consumer, OffsetSpec, Record, Result, StartFrom, TopicPartition, Transport, TransportError,
};
use std::time::{Duration, Instant};

/// Reads `tp` from `from` up to the end offset measured now, handing each record to `each`;
/// returns that end. Fails if the position stops short of it for `stall`.
pub fn read_to_end(
    transport: &dyn Transport,
    tp: &TopicPartition,
    from: StartFrom,
    stall: Duration,
    each: impl FnMut(&Record) -> Result<()>,
) -> Result<i64> {
    let end = transport.list_offset(tp, OffsetSpec::Latest)?;
    let mut consumer = transport.consumer(None)?;
    consumer.assign(&[(tp.clone(), from)])?;
    read_until(consumer.as_mut(), tp, end, stall, each)?;
    Ok(end)
}

/// Reads `tp` with `consumer` (which has it assigned) until its position reaches `end`,
/// handing each record to `each`. Fails if the position stops short of it for `stall`.
pub fn read_until(
    consumer: &mut dyn Consumer,
    tp: &TopicPartition,
    end: i64,
    stall: Duration,
    mut each: impl FnMut(&Record) -> Result<()>,
) -> Result<()> {
    let mut last_progress = Instant::now();
    loop {
        let position = consumer.position(tp).unwrap_or(end);
        if position >= end {
            return Ok(());
        }
        let polled = consumer.poll(10_000, Duration::from_millis(100))?;
        if consumer.position(tp) != Some(position) {
            last_progress = Instant::now();
        } else if last_progress.elapsed() > stall {
            return Err(TransportError::Stalled {
                partition: tp.to_string(),
                position,
                end,
                seconds: stall.as_secs(),
            });
        }
        for record in polled.iter().flat_map(|p| &p.records) {
            each(record)?;
        }
    }
}
