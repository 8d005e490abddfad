//! The background thread: periodic fsync for `FlushPolicy::Interval`, retention and compaction.
//! It holds only a weak reference, so it never keeps a closed log alive.

use super::config::{FlushPolicy, now_ms};
use super::embedded::LogInner;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

pub fn start(inner: &Arc<LogInner>) {
    let weak = Arc::downgrade(inner);
    let flush_every = match inner.config.flush {
        FlushPolicy::Interval(d) => Some(d),
        _ => None,
    };
    let maintain_every = inner.config.maintenance_interval;
    let tick = flush_every
        .map_or(maintain_every, |f| f.min(maintain_every))
        .max(Duration::from_millis(1));
    let spawned = std::thread::Builder::new()
        .name("brook-log-maintenance".into())
        .spawn(move || run(weak, tick, maintain_every));
    match spawned {
        Ok(handle) => inner.set_maintenance_thread(handle),
        Err(e) => tracing::error!("could not start the log maintenance thread: {e}"),
    }
}

fn run(weak: Weak<LogInner>, tick: Duration, maintain_every: Duration) {
    let mut last_maintenance = Instant::now();
    loop {
        std::thread::park_timeout(tick);
        let Some(inner) = weak.upgrade() else { return };
        if inner.is_closed() {
            return;
        }
        if let Err(e) = inner.flush_if_interval() {
            tracing::error!("background flush failed: {e}");
        }
        if last_maintenance.elapsed() >= maintain_every {
            last_maintenance = Instant::now();
            match inner.run_maintenance(now_ms()) {
                Ok(report) if report.segments_deleted + report.segments_compacted > 0 => {
                    tracing::info!(?report, "log maintenance")
                }
                Ok(_) => {}
                Err(e) => tracing::error!("log maintenance failed: {e}"),
            }
        }
    }
}
