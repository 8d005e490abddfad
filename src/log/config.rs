//! Settings of the embedded log as a whole.

use std::time::Duration;

/// When appended data is fsynced to disk, and so how much a power loss can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushPolicy {
    /// fsync before acknowledging every append: nothing acknowledged is ever lost.
    EveryAppend,
    /// fsync dirty partitions every interval: a power loss or OS crash loses at most the last
    /// interval of acknowledged appends (a crash of Brook alone loses nothing: the data is in the
    /// OS page cache).
    Interval(Duration),
    /// Leave it to the OS (plus fsync on segment roll and clean shutdown): a power loss loses
    /// whatever the OS had not written back yet, typically up to ~30 s.
    Never,
}

impl std::str::FromStr for FlushPolicy {
    type Err = String;

    /// `always`, `never`, or an interval in milliseconds such as `100` or `100ms`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "always" | "every-append" => Ok(FlushPolicy::EveryAppend),
            "never" => Ok(FlushPolicy::Never),
            other => other
                .trim_end_matches("ms")
                .parse::<u64>()
                .map(|ms| FlushPolicy::Interval(Duration::from_millis(ms.max(1))))
                .map_err(|_| {
                    format!(
                        "flush policy '{s}' is not 'always', 'never' or milliseconds like '100ms'"
                    )
                }),
        }
    }
}

/// Settings shared by every topic of an embedded log.
#[derive(Clone, Debug)]
pub struct LogConfig {
    pub flush: FlushPolicy,
    /// Bytes of log between two sparse index entries.
    pub index_interval_bytes: u64,
    /// How often retention, compaction and (for `Interval`) flushing run in the background.
    pub maintenance_interval: Duration,
    /// Largest fetch a consumer poll reads per partition.
    pub max_fetch_bytes: usize,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            flush: FlushPolicy::Interval(Duration::from_millis(100)),
            index_interval_bytes: 4096,
            maintenance_interval: Duration::from_secs(30),
            max_fetch_bytes: 1 << 20,
        }
    }
}

/// Milliseconds since the Unix epoch by the wall clock (for append timestamps and retention).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flush_policies() {
        assert_eq!("always".parse(), Ok(FlushPolicy::EveryAppend));
        assert_eq!("never".parse(), Ok(FlushPolicy::Never));
        assert_eq!(
            "250ms".parse(),
            Ok(FlushPolicy::Interval(Duration::from_millis(250)))
        );
        assert!("sometimes".parse::<FlushPolicy>().is_err());
    }
}
