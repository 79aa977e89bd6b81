//! The performance assessor: replays recorded call inputs against the
//! incumbent and the candidate, in the sandbox, and compares latency
//! (Mann–Whitney, with the Hodges–Lehmann shift), error rate, memory and
//! CPU with the limits of `performance.*`. The verdict carries the numbers.

use std::sync::Arc;

use selfup_core::config::PerformanceConfig;
use selfup_plugins::RunningPlugin;
use selfup_stats::Alternative;
use selfup_stats::fixed::hodges_lehmann::hodges_lehmann;
use selfup_stats::fixed::mann_whitney::mann_whitney;
use serde::Serialize;

/// How one side did on the replay.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SideStats {
    /// Calls made.
    pub calls: u64,
    /// Calls that failed.
    pub errors: u64,
    /// `errors / calls`.
    pub error_rate: f64,
    /// Median latency, ms.
    pub latency_p50_ms: f64,
    /// 95th percentile latency, ms.
    pub latency_p95_ms: f64,
    /// Linear memory high-water mark, bytes.
    pub peak_memory_bytes: u64,
    /// Median busy CPU time, µs.
    pub cpu_p50_us: f64,
}

/// One comparison with its limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// What was compared (`latency`, `error_rate`, `memory`, `cpu`).
    pub name: &'static str,
    /// The candidate's change or value.
    pub value: f64,
    /// The largest allowed.
    pub limit: f64,
    /// Whether it holds.
    pub passed: bool,
    /// The numbers in words.
    pub detail: String,
}

/// The assessor's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerfVerdict {
    /// Whether every check holds.
    pub passed: bool,
    /// Distinct inputs replayed.
    pub inputs: usize,
    /// Replays per input and side.
    pub rounds: u32,
    /// The incumbent's numbers (none for a new capability).
    pub incumbent: Option<SideStats>,
    /// The candidate's numbers.
    pub candidate: SideStats,
    /// The comparisons.
    pub checks: Vec<Check>,
    /// Why some checks could not be made.
    pub notes: Vec<String>,
}

struct Samples {
    latencies_ms: Vec<f64>,
    cpu_us: Vec<f64>,
    errors: u64,
    peak_memory: u64,
}

impl Samples {
    fn new() -> Self {
        Self {
            latencies_ms: Vec::new(),
            cpu_us: Vec::new(),
            errors: 0,
            peak_memory: 0,
        }
    }

    fn stats(&self) -> SideStats {
        let calls = self.latencies_ms.len() as u64;
        SideStats {
            calls,
            errors: self.errors,
            error_rate: if calls == 0 {
                0.0
            } else {
                self.errors as f64 / calls as f64
            },
            latency_p50_ms: quantile(&self.latencies_ms, 0.5),
            latency_p95_ms: quantile(&self.latencies_ms, 0.95),
            peak_memory_bytes: self.peak_memory,
            cpu_p50_us: quantile(&self.cpu_us, 0.5),
        }
    }
}

fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[rank]
}

async fn replay(
    plugin: &Arc<dyn RunningPlugin>,
    capability: &str,
    input: &str,
    into: &mut Samples,
) {
    let result = plugin.call(capability, input).await;
    into.latencies_ms
        .push(result.cost.latency_us as f64 / 1000.0);
    into.cpu_us.push(result.cost.cpu_us as f64);
    into.peak_memory = into.peak_memory.max(result.cost.peak_memory_bytes);
    if result.output.is_err() {
        into.errors += 1;
    }
}

/// Replays `inputs` `rounds` times on each side (interleaved, so drift in
/// the machine's load affects both alike) and judges the candidate.
pub async fn assess(
    capability: &str,
    incumbent: Option<&Arc<dyn RunningPlugin>>,
    candidate: &Arc<dyn RunningPlugin>,
    inputs: &[String],
    rounds: u32,
    limits: &PerformanceConfig,
    alpha: f64,
) -> PerfVerdict {
    let mut old = Samples::new();
    let mut new = Samples::new();
    // One warm-up call each, so instantiation is not measured.
    if let Some(first) = inputs.first() {
        if let Some(incumbent) = incumbent {
            incumbent.call(capability, first).await;
        }
        candidate.call(capability, first).await;
    }
    for _ in 0..rounds.max(1) {
        for input in inputs {
            if let Some(incumbent) = incumbent {
                replay(incumbent, capability, input, &mut old).await;
            }
            replay(candidate, capability, input, &mut new).await;
        }
    }
    let candidate_stats = new.stats();
    let mut checks = Vec::new();
    let mut notes = Vec::new();
    if inputs.is_empty() {
        notes.push(format!(
            "no recorded inputs of {capability} to replay; the rollout's gates will judge the candidate on live traffic"
        ));
    }
    let incumbent_stats = incumbent.map(|_| old.stats());
    match &incumbent_stats {
        None if !inputs.is_empty() => {
            notes.push(
                "no incumbent to compare with; the candidate's own numbers are recorded".to_owned(),
            );
        }
        Some(old_stats) if !inputs.is_empty() => {
            checks.push(latency_check(&old, &new, limits, alpha));
            checks.push(error_check(old_stats, &candidate_stats, limits));
            checks.push(increase_check(
                "memory",
                old_stats.peak_memory_bytes as f64,
                candidate_stats.peak_memory_bytes as f64,
                limits.max_memory_increase_percent,
                "peak linear memory",
                "bytes",
            ));
            let mut cpu = increase_check(
                "cpu",
                old_stats.cpu_p50_us,
                candidate_stats.cpu_p50_us,
                limits.max_cpu_increase_percent,
                "median busy CPU time",
                "µs",
            );
            let floor_us = limits.min_cpu_regression_ms * 1000.0;
            if !cpu.passed && candidate_stats.cpu_p50_us - old_stats.cpu_p50_us <= floor_us {
                cpu.passed = true;
                cpu.detail.push_str(&format!(
                    "; under the {} ms floor",
                    limits.min_cpu_regression_ms
                ));
            }
            checks.push(cpu);
        }
        _ => {}
    }
    PerfVerdict {
        passed: checks.iter().all(|c| c.passed),
        inputs: inputs.len(),
        rounds: rounds.max(1),
        incumbent: incumbent_stats,
        candidate: candidate_stats,
        checks,
        notes,
    }
}

fn latency_check(old: &Samples, new: &Samples, limits: &PerformanceConfig, alpha: f64) -> Check {
    let limit = limits.max_latency_regression_percent;
    let (old_p50, new_p50) = (
        quantile(&old.latencies_ms, 0.5),
        quantile(&new.latencies_ms, 0.5),
    );
    let change = if old_p50 > 0.0 {
        (new_p50 - old_p50) / old_p50 * 100.0
    } else {
        0.0
    };
    // Slower only counts when it is significant: Mann–Whitney, one-sided.
    let test = mann_whitney(
        &new.latencies_ms,
        &old.latencies_ms,
        Alternative::Greater,
        true,
    );
    let shift = hodges_lehmann(&new.latencies_ms, &old.latencies_ms, alpha);
    let (significant, p_text) = match &test {
        Ok(t) => (
            t.p_value < alpha,
            format!("p = {}", crate::rollout::gates::fmt_p(t.p_value)),
        ),
        Err(e) => (false, format!("no test ({e})")),
    };
    let shift_text = match &shift {
        Ok(h) => format!(
            "shift {:+.3} ms [{:+.3}, {:+.3}]",
            h.shift, h.ci_low, h.ci_high
        ),
        Err(_) => "no shift estimate".to_owned(),
    };
    let floor = limits.min_latency_regression_ms;
    let noticeable = new_p50 - old_p50 > floor;
    let passed = change <= limit || !significant || !noticeable;
    Check {
        name: "latency",
        value: change,
        limit,
        passed,
        detail: format!(
            "median {old_p50:.3} ms → {new_p50:.3} ms ({change:+.1}%, limit +{limit}% and +{floor} ms); {shift_text}; Mann–Whitney (slower) {p_text}"
        ),
    }
}

fn error_check(old: &SideStats, new: &SideStats, limits: &PerformanceConfig) -> Check {
    let multiplier = limits.max_error_rate_regression_multiplier;
    let allowed = old.error_rate * multiplier;
    // With no incumbent errors, ×N of zero is zero: any candidate error fails.
    let passed = new.error_rate <= allowed;
    Check {
        name: "error_rate",
        value: new.error_rate,
        limit: allowed,
        passed,
        detail: format!(
            "{} of {} replays failed ({:.1}%) vs {} of {} ({:.1}%) for the incumbent; at most ×{multiplier} allowed",
            new.errors,
            new.calls,
            new.error_rate * 100.0,
            old.errors,
            old.calls,
            old.error_rate * 100.0
        ),
    }
}

fn increase_check(
    name: &'static str,
    old: f64,
    new: f64,
    limit: f64,
    what: &str,
    unit: &str,
) -> Check {
    let change = if old > 0.0 {
        (new - old) / old * 100.0
    } else {
        0.0
    };
    Check {
        name,
        value: change,
        limit,
        passed: change <= limit,
        detail: format!("{what} {old:.0} → {new:.0} {unit} ({change:+.1}%, limit +{limit}%)"),
    }
}
