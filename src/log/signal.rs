//! Wakes consumers waiting for new data (long poll) without busy looping: threads wait on a
//! condition variable, async tasks (the Kafka listener's Fetch) on a watch channel.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// A generation counter bumped on every append; waiters sleep until it moves.
pub struct AppendSignal {
    generation: Mutex<u64>,
    changed: Condvar,
    watch: tokio::sync::watch::Sender<u64>,
}

impl Default for AppendSignal {
    fn default() -> Self {
        AppendSignal {
            generation: Mutex::new(0),
            changed: Condvar::new(),
            watch: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl AppendSignal {
    pub fn current(&self) -> u64 {
        self.generation.lock().map(|g| *g).unwrap_or(0)
    }

    pub fn notify(&self) {
        if let Ok(mut g) = self.generation.lock() {
            *g += 1;
        }
        self.changed.notify_all();
        self.watch.send_modify(|g| *g += 1);
    }

    /// A receiver whose `changed()` resolves after the next append.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.watch.subscribe()
    }

    /// Sleeps until the generation differs from `seen` or `deadline` passes.
    pub fn wait_past(&self, seen: u64, deadline: Instant) {
        let Ok(mut g) = self.generation.lock() else {
            return;
        };
        while *g == seen {
            let left = deadline.saturating_duration_since(Instant::now());
            if left == Duration::ZERO {
                return;
            }
            match self.changed.wait_timeout(g, left) {
                Ok((next, _)) => g = next,
                Err(_) => return,
            }
        }
    }
}
