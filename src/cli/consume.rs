//! `brook consume TOPIC`: prints records. Without `--follow` it stops at the end offsets the
//! partitions had when it started; with `--group` it resumes from and commits the group's offsets.

use super::format::RecordFormat;
use brook::transport::{AutoOffsetReset, OffsetSpec, StartFrom, TopicPartition, Transport};
use clap::Args;
use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ConsumeArgs {
    pub topic: String,
    /// Start at the earliest offset (default: the end, or the group's committed offset).
    #[arg(long, conflicts_with = "offset")]
    pub from_beginning: bool,
    /// Start at this offset in every selected partition.
    #[arg(long)]
    pub offset: Option<i64>,
    /// Read only this partition.
    #[arg(long)]
    pub partition: Option<u32>,
    /// Consumer group: start from its committed offsets and commit what was printed.
    #[arg(long)]
    pub group: Option<String>,
    /// Stop after this many records.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Keep waiting for new records instead of stopping at the end.
    #[arg(long)]
    pub follow: bool,
    /// Output format; see `brook consume --help`: %t %p %o %T %k %v %h %K %S.
    #[arg(long, default_value = "%v")]
    pub format: String,
}

impl ConsumeArgs {
    fn start(&self) -> StartFrom {
        let fallback = if self.from_beginning {
            AutoOffsetReset::Earliest
        } else {
            AutoOffsetReset::Latest
        };
        match (self.offset, &self.group) {
            (Some(o), _) => StartFrom::Offset(o),
            (None, Some(_)) => StartFrom::Committed { fallback },
            (None, None) if self.from_beginning => StartFrom::Earliest,
            (None, None) => StartFrom::Latest,
        }
    }
}

pub fn run(log: &dyn Transport, args: ConsumeArgs) -> anyhow::Result<()> {
    let format = RecordFormat::parse(&args.format)?;
    let count = log.partition_count(&args.topic)?;
    let partitions: Vec<u32> = match args.partition {
        Some(p) if p >= count => anyhow::bail!(
            "topic '{}' has no partition {p} (it has {count})",
            args.topic
        ),
        Some(p) => vec![p],
        None => (0..count).collect(),
    };
    let tps: Vec<TopicPartition> = partitions
        .iter()
        .map(|p| TopicPartition::new(&args.topic, *p))
        .collect();
    let mut ends: HashMap<u32, i64> = HashMap::new();
    for tp in &tps {
        ends.insert(tp.partition, log.list_offset(tp, OffsetSpec::Latest)?);
    }
    let mut consumer = log.consumer(args.group.as_deref())?;
    let start = args.start();
    consumer.assign(&tps.iter().map(|tp| (tp.clone(), start)).collect::<Vec<_>>())?;
    let mut printed = 0usize;
    let mut out = std::io::stdout().lock();
    let mut buf = Vec::with_capacity(1 << 16);
    loop {
        let remaining = args.limit.map_or(usize::MAX, |l| l - printed);
        if remaining == 0 || (!args.follow && caught_up(&*consumer, &tps, &ends)) {
            break;
        }
        let batches = consumer.poll(remaining.min(10_000), Duration::from_millis(500))?;
        for batch in &batches {
            for r in &batch.records {
                if !args.follow && r.offset >= ends[&batch.partition] {
                    continue;
                }
                format.render(&batch.topic, batch.partition, r, &mut buf);
                printed += 1;
            }
        }
        out.write_all(&buf)?;
        out.flush()?;
        buf.clear();
        if args.group.is_some() && !batches.is_empty() {
            consumer.commit()?;
        }
    }
    Ok(())
}

fn caught_up(
    consumer: &dyn brook::transport::Consumer,
    tps: &[TopicPartition],
    ends: &HashMap<u32, i64>,
) -> bool {
    tps.iter().all(|tp| {
        consumer
            .position(tp)
            .is_none_or(|p| p >= ends[&tp.partition])
    })
}
