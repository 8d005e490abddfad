//! `brook topic create|list|describe|verify|delete`.

use super::remote::Target;
use brook::transport::{CleanupPolicy, TopicConfig, Transport};
use clap::{Args, Subcommand};
use std::io::Write;

#[derive(Subcommand, Debug)]
pub enum TopicCommand {
    /// Create a topic.
    Create(CreateArgs),
    /// List topic names.
    List,
    /// Show a topic's settings and, per partition, its offsets, size and segments.
    Describe { name: String },
    /// Read every record of a topic, checking every checksum.
    Verify { name: String },
    /// Delete a topic and its data.
    Delete { name: String },
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    pub name: String,
    #[arg(long, default_value_t = 1)]
    pub partitions: u32,
    /// Keep only the latest record per key (for table topics) instead of deleting by age.
    #[arg(long)]
    pub compact: bool,
    /// Delete segments whose newest record is older than this many ms (-1: keep forever).
    #[arg(long, allow_negative_numbers = true)]
    pub retention_ms: Option<i64>,
    /// Delete the oldest segments while a partition is larger than this.
    #[arg(long)]
    pub retention_bytes: Option<u64>,
    /// Roll to a new segment file past this size.
    #[arg(long)]
    pub segment_bytes: Option<u64>,
    /// Roll to a new segment file after this many ms.
    #[arg(long)]
    pub segment_ms: Option<i64>,
    /// How long compaction keeps tombstones, in ms.
    #[arg(long)]
    pub delete_retention_ms: Option<i64>,
}

impl CreateArgs {
    fn config(&self) -> TopicConfig {
        let mut c = if self.compact {
            TopicConfig::compacted(self.partitions)
        } else {
            TopicConfig::with_partitions(self.partitions)
        };
        if let Some(ms) = self.retention_ms {
            c.retention_ms = (ms >= 0).then_some(ms);
        }
        c.retention_bytes = self.retention_bytes.or(c.retention_bytes);
        c.segment_bytes = self.segment_bytes.unwrap_or(c.segment_bytes);
        c.segment_ms = self.segment_ms.or(c.segment_ms);
        c.delete_retention_ms = self.delete_retention_ms.unwrap_or(c.delete_retention_ms);
        c
    }
}

pub fn run(target: &Target, cmd: TopicCommand) -> anyhow::Result<()> {
    let log = target.transport();
    let mut out = std::io::stdout().lock();
    match cmd {
        TopicCommand::Create(args) => {
            log.create_topic(&args.name, &args.config())?;
            writeln!(
                out,
                "created topic {} with {} partition(s)",
                args.name, args.partitions
            )?;
        }
        TopicCommand::List => {
            for name in log.list_topics()? {
                writeln!(out, "{name}")?;
            }
        }
        TopicCommand::Describe { name } => describe(log, &name, &mut out)?,
        TopicCommand::Verify { name } => {
            let Target::Local(local) = target else {
                anyhow::bail!(
                    "topic verify reads the segment files, which the running server owns: stop it first"
                );
            };
            let verified = local.verify_topic(&name)?;
            if verified.damage.is_empty() {
                writeln!(
                    out,
                    "{name}: {} records read, every checksum valid",
                    verified.records
                )?;
            } else {
                writeln!(
                    out,
                    "{name}: {} records read; damaged partitions:",
                    verified.records
                )?;
                for damage in &verified.damage {
                    writeln!(out, "  {damage}")?;
                }
                anyhow::bail!(
                    "topic {name} is damaged in {} partition(s)",
                    verified.damage.len()
                );
            }
        }
        TopicCommand::Delete { name } => {
            log.delete_topic(&name)?;
            writeln!(out, "deleted topic {name}")?;
        }
    }
    Ok(())
}

fn describe(log: &dyn Transport, name: &str, out: &mut impl Write) -> anyhow::Result<()> {
    let d = log.describe_topic(name)?;
    let c = &d.config;
    let policy = match c.cleanup_policy {
        CleanupPolicy::Delete => "delete",
        CleanupPolicy::Compact => "compact",
    };
    let opt = |v: Option<i64>| v.map_or("unlimited".to_string(), |v| v.to_string());
    writeln!(
        out,
        "topic: {}  partitions: {}  cleanup.policy: {policy}",
        d.name, c.partitions
    )?;
    writeln!(
        out,
        "retention.ms: {}  retention.bytes: {}  segment.bytes: {}  segment.ms: {}  delete.retention.ms: {}",
        opt(c.retention_ms),
        c.retention_bytes
            .map_or("unlimited".to_string(), |v| v.to_string()),
        c.segment_bytes,
        opt(c.segment_ms),
        c.delete_retention_ms
    )?;
    writeln!(
        out,
        "{:>9} {:>14} {:>14} {:>14} {:>8}",
        "partition", "start_offset", "end_offset", "size_bytes", "segments"
    )?;
    for p in &d.partitions {
        writeln!(
            out,
            "{:>9} {:>14} {:>14} {:>14} {:>8}",
            p.partition,
            p.start_offset,
            p.end_offset,
            p.size_bytes.map_or("-".into(), |b| b.to_string()),
            p.segments.map_or("-".into(), |s| s.to_string())
        )?;
    }
    Ok(())
}
