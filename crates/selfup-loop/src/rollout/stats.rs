//! What a rollout has seen so far: per stage and arm, counts and
//! sufficient statistics, built incrementally from the calls the gateway
//! recorded (each evaluation reads only rows it has not seen).

use std::collections::{BTreeMap, HashSet};

use selfup_core::telemetry::Arm;
use selfup_stats::{Moments, RankSketch};
use selfup_store::telemetry::ExperimentCall;
use serde::Serialize;

/// Accuracy of the latency sketches (relative): 1 %.
const SKETCH_ACCURACY: f64 = 0.01;

/// One arm of one stage.
#[derive(Debug, Clone, Serialize)]
pub struct ArmStats {
    /// Calls recorded.
    pub calls: u64,
    /// Calls that failed.
    pub failures: u64,
    /// ln(latency µs + 1): latency compared as a ratio.
    #[serde(skip)]
    pub log_latency: Moments,
    /// Latencies in ms, for quantiles.
    #[serde(skip)]
    pub latency_ms: RankSketch,
    /// Largest memory high-water mark seen, bytes.
    pub peak_memory_bytes: u64,
    /// Busy CPU time, µs.
    #[serde(skip)]
    pub cpu_us: Moments,
    /// Shadow answers compared with the incumbent's.
    pub compared: u64,
    /// Shadow answers that differed.
    pub mismatches: u64,
    /// The distinct subjects seen: the units of assignment.
    #[serde(skip)]
    pub subjects: HashSet<i64>,
}

impl Default for ArmStats {
    fn default() -> Self {
        Self {
            calls: 0,
            failures: 0,
            log_latency: Moments::default(),
            latency_ms: RankSketch::relative(SKETCH_ACCURACY)
                .unwrap_or_else(|_| RankSketch::exact()),
            peak_memory_bytes: 0,
            cpu_us: Moments::default(),
            compared: 0,
            mismatches: 0,
            subjects: HashSet::new(),
        }
    }
}

impl ArmStats {
    fn push(&mut self, call: &ExperimentCall) {
        self.calls += 1;
        self.subjects.insert(call.subject_hash);
        if call.failed {
            self.failures += 1;
        }
        let latency_ms = call.latency_us as f64 / 1000.0;
        // Values are finite and non-negative, which is all push requires.
        let _ = self.log_latency.push((call.latency_us as f64 + 1.0).ln());
        let _ = self.latency_ms.push(latency_ms);
        let _ = self.cpu_us.push(call.cpu_us as f64);
        self.peak_memory_bytes = self.peak_memory_bytes.max(call.peak_memory_bytes);
        if let Some(mismatch) = call.mismatch {
            self.compared += 1;
            if mismatch {
                self.mismatches += 1;
            }
        }
    }

    /// `failures / calls`.
    pub fn error_rate(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.failures as f64 / self.calls as f64
        }
    }

    /// The `q` latency quantile in ms, if there are calls.
    pub fn latency_quantile_ms(&self, q: f64) -> Option<f64> {
        self.latency_ms.quantile(q)
    }

    /// Calls slower than `threshold_ms` (from the sketch; within 1 %).
    pub fn slower_than(&self, threshold_ms: f64) -> u64 {
        self.latency_ms
            .bins()
            .into_iter()
            .filter(|(value, _)| *value > threshold_ms)
            .map(|(_, count)| count)
            .sum()
    }

    /// `mismatches / compared`.
    pub fn mismatch_rate(&self) -> Option<f64> {
        (self.compared > 0).then(|| self.mismatches as f64 / self.compared as f64)
    }
}

/// Both arms of one stage.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StageStats {
    /// The version serving before the upgrade.
    pub incumbent: ArmStats,
    /// The candidate (live, or shadow answers in a 0 % stage).
    pub candidate: ArmStats,
}

/// Everything seen of one rollout.
#[derive(Debug, Clone, Default)]
pub struct RolloutStats {
    /// The last call row read.
    pub last_rowid: i64,
    /// Per stage index.
    pub stages: BTreeMap<u32, StageStats>,
}

impl RolloutStats {
    /// Adds calls (in row order).
    pub fn ingest(&mut self, calls: &[ExperimentCall]) {
        for call in calls {
            self.last_rowid = self.last_rowid.max(call.rowid);
            let stage = self.stages.entry(call.stage).or_default();
            match call.arm {
                Arm::Incumbent => stage.incumbent.push(call),
                Arm::Candidate | Arm::Shadow => stage.candidate.push(call),
            }
        }
    }

    /// The numbers of stage `stage` (empty if it saw no calls).
    pub fn stage(&self, stage: u32) -> StageStats {
        self.stages.get(&stage).cloned().unwrap_or_default()
    }
}
