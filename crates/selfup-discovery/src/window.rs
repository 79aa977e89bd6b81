//! The two periods runtime analysis compares: a baseline and the recent
//! hours after it.

use selfup_core::config::RuntimeAnalysisConfig;
use serde::Serialize;

const HOUR_MS: i64 = 3_600_000;

/// `[from_ms, to_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// Start, inclusive (ms since the Unix epoch).
    pub from_ms: i64,
    /// End, exclusive.
    pub to_ms: i64,
}

impl Period {
    /// Whether `ts_ms` falls inside.
    pub fn contains(&self, ts_ms: i64) -> bool {
        ts_ms >= self.from_ms && ts_ms < self.to_ms
    }
}

/// The baseline and the recent period, back to back, ending now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Windows {
    /// `baseline_window_hours` before the recent period.
    pub baseline: Period,
    /// The last `recent_window_hours`.
    pub recent: Period,
}

impl Windows {
    /// The windows of `config` ending at `now_ms`.
    pub fn ending_at(now_ms: i64, config: &RuntimeAnalysisConfig) -> Self {
        let recent_from = now_ms - i64::from(config.recent_window_hours) * HOUR_MS;
        let baseline_from = recent_from - i64::from(config.baseline_window_hours) * HOUR_MS;
        Windows {
            baseline: Period {
                from_ms: baseline_from,
                to_ms: recent_from,
            },
            recent: Period {
                from_ms: recent_from,
                to_ms: now_ms,
            },
        }
    }

    /// Both together.
    pub fn whole(&self) -> Period {
        Period {
            from_ms: self.baseline.from_ms,
            to_ms: self.recent.to_ms,
        }
    }
}
