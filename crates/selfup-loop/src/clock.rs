//! A virtual clock: the same controller code runs a 14-day rollout in a
//! test or the demo in seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use selfup_core::clock::Clock;

/// A clock that moves only when told to.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    now_ms: Arc<AtomicI64>,
}

impl VirtualClock {
    /// A clock reading `start_ms`.
    pub fn starting_at(start_ms: i64) -> Self {
        Self {
            now_ms: Arc::new(AtomicI64::new(start_ms)),
        }
    }

    /// Moves the clock forward by `ms`.
    pub fn advance_ms(&self, ms: i64) {
        self.now_ms.fetch_add(ms.max(0), Ordering::SeqCst);
    }

    /// Moves the clock forward by `hours`.
    pub fn advance_hours(&self, hours: f64) {
        self.advance_ms((hours * 3_600_000.0) as i64);
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}
