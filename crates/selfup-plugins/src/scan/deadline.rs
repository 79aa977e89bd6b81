//! The time budget of one scan (`security.max_scan_time_seconds`).

use std::time::{Duration, Instant};

/// The scan ran past its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the scan ran out of time")]
pub(crate) struct TimedOut;

/// When the scan must stop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    start: Instant,
    limit: Duration,
}

impl Deadline {
    /// Starts the clock now.
    pub(crate) fn start(limit: Duration) -> Self {
        Self {
            start: Instant::now(),
            limit,
        }
    }

    /// Time since the scan started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// The budget.
    pub(crate) fn limit(&self) -> Duration {
        self.limit
    }

    /// `Err(TimedOut)` once the budget is spent.
    pub(crate) fn check(&self) -> Result<(), TimedOut> {
        if self.start.elapsed() >= self.limit {
            Err(TimedOut)
        } else {
            Ok(())
        }
    }
}
