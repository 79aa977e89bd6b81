//! Runtime behaviour: how each capability version behaves now against how
//! it behaved before — latency degradation, error-rate spikes, growth of
//! memory or CPU per call. A difference is a pattern only when it is large
//! (a ratio), large enough to matter (the `min_*_increase` floors: a call
//! going from 5 µs to 100 µs of CPU is a busy machine, not a finding) and
//! unlikely to be chance (a one-sided test at
//! `runtime_analysis.significance`).
//!
//! One pass over each version's calls in the two windows feeds mergeable
//! rank sketches (1 % relative accuracy), so a day of millions of calls is
//! read once and kept in kilobytes.

use selfup_core::config::RuntimeAnalysisConfig;
use selfup_core::pattern::{Pattern, PatternKind, Severity};
use selfup_stats::fixed::mann_whitney::mann_whitney_sketch;
use selfup_stats::fixed::proportions::{Pooling, two_proportion_z};
use selfup_stats::{Alternative, Proportion, RankSketch};
use selfup_store::Store;
use selfup_store::calls::{CallRow, CallTarget};
use serde::Serialize;

use crate::error::DiscoveryError;
use crate::window::Windows;

/// A p95 latency this many times the baseline's is a degradation (the
/// specification's 1.5); twice is HIGH.
pub const LATENCY_RATIO: f64 = 1.5;
/// A median memory or CPU per call this many times the baseline's is growth.
pub const RESOURCE_RATIO: f64 = 1.5;
/// An error rate at least this many times the baseline's, and this many
/// points above it, is a spike.
pub const ERROR_RATIO: f64 = 2.0;
/// See [`ERROR_RATIO`].
pub const ERROR_MIN_INCREASE: f64 = 0.05;

/// Relative accuracy of the sketches.
const ACCURACY: f64 = 0.01;

/// What one window of one version looked like.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowStats {
    /// Calls.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// `errors / calls`.
    pub error_rate: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 95th percentile latency, ms.
    pub p95_ms: f64,
    /// Median peak memory, bytes.
    pub median_memory_bytes: f64,
    /// Median busy CPU time, µs.
    pub median_cpu_us: f64,
}

/// One capability version in both windows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionBehavior {
    /// The capability.
    pub capability: String,
    /// The plugin serving it.
    pub plugin: String,
    /// Its version.
    pub version: String,
    /// The baseline window.
    pub baseline: WindowStats,
    /// The recent window.
    pub recent: WindowStats,
}

impl VersionBehavior {
    /// `capability@plugin@version`, the component patterns name.
    pub fn component(&self) -> String {
        format!("{}:{}@{}", self.capability, self.plugin, self.version)
    }
}

/// Behaviour of every version called in the windows, and the patterns found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BehaviorReport {
    /// The windows compared.
    pub windows: Windows,
    /// Calls read.
    pub calls_read: u64,
    /// Every version with calls in either window.
    pub versions: Vec<VersionBehavior>,
    /// What changed, for the worse.
    pub patterns: Vec<Pattern>,
}

/// Sketches of one window.
struct Accumulator {
    calls: u64,
    errors: u64,
    latency_ms: RankSketch,
    memory: RankSketch,
    cpu: RankSketch,
}

impl Accumulator {
    fn new() -> Self {
        let sketch = || RankSketch::relative(ACCURACY).unwrap_or_else(|_| RankSketch::exact());
        Accumulator {
            calls: 0,
            errors: 0,
            latency_ms: sketch(),
            memory: sketch(),
            cpu: sketch(),
        }
    }

    fn push(&mut self, call: &CallRow) {
        self.calls += 1;
        self.errors += u64::from(call.failed);
        // Values are finite integers, so pushing cannot fail.
        let _ = self.latency_ms.push(call.latency_us as f64 / 1000.0);
        let _ = self.memory.push(call.peak_memory_bytes as f64);
        let _ = self.cpu.push(call.cpu_us as f64);
    }

    fn stats(&self) -> WindowStats {
        let q = |s: &RankSketch, p: f64| s.quantile(p).unwrap_or(0.0);
        WindowStats {
            calls: self.calls,
            errors: self.errors,
            error_rate: if self.calls == 0 {
                0.0
            } else {
                self.errors as f64 / self.calls as f64
            },
            p50_ms: q(&self.latency_ms, 0.5),
            p95_ms: q(&self.latency_ms, 0.95),
            median_memory_bytes: q(&self.memory, 0.5),
            median_cpu_us: q(&self.cpu, 0.5),
        }
    }
}

/// Reads every served call in the windows ending at `now_ms` and judges
/// each version's recent behaviour against its baseline.
pub fn analyze_behavior(
    store: &Store,
    config: &RuntimeAnalysisConfig,
    now_ms: i64,
) -> Result<BehaviorReport, DiscoveryError> {
    let windows = Windows::ending_at(now_ms, config);
    let whole = windows.whole();
    let mut report = BehaviorReport {
        windows,
        calls_read: 0,
        versions: Vec::new(),
        patterns: Vec::new(),
    };
    for target in store.call_targets_between(whole.from_ms, whole.to_ms)? {
        if target.plugin.is_empty() {
            continue; // nobody served these: gap analysis looks at them
        }
        let mut baseline = Accumulator::new();
        let mut recent = Accumulator::new();
        report.calls_read +=
            store.for_each_call(target.id, whole.from_ms, whole.to_ms, |call| {
                if windows.recent.contains(call.ts_ms) {
                    recent.push(call);
                } else {
                    baseline.push(call);
                }
            })?;
        let behavior = behavior_of(&target, &baseline, &recent);
        judge(&behavior, &baseline, &recent, config, &mut report.patterns);
        report.versions.push(behavior);
    }
    selfup_core::pattern::rank(&mut report.patterns);
    Ok(report)
}

fn behavior_of(
    target: &CallTarget,
    baseline: &Accumulator,
    recent: &Accumulator,
) -> VersionBehavior {
    VersionBehavior {
        capability: target.capability.clone(),
        plugin: target.plugin.clone(),
        version: target.version.clone(),
        baseline: baseline.stats(),
        recent: recent.stats(),
    }
}

/// Adds the patterns `behavior` shows.
fn judge(
    behavior: &VersionBehavior,
    baseline: &Accumulator,
    recent: &Accumulator,
    config: &RuntimeAnalysisConfig,
    out: &mut Vec<Pattern>,
) {
    let min = u64::from(config.min_calls);
    if baseline.calls < min || recent.calls < min {
        return;
    }
    let alpha = config.significance;
    let (b, r) = (&behavior.baseline, &behavior.recent);
    let component = behavior.component();

    // Latency: the specification's p95 ratio, confirmed by Mann–Whitney.
    if b.p95_ms > 0.0
        && r.p95_ms > b.p95_ms * LATENCY_RATIO
        && r.p95_ms - b.p95_ms >= config.min_latency_increase_ms
        && let Some(p) = shifted_up(&recent.latency_ms, &baseline.latency_ms, alpha)
    {
        let ratio = r.p95_ms / b.p95_ms;
        out.push(pattern(
                &component,
                PatternKind::Bottleneck,
                "latency_degradation",
                format!(
                    "{} is slower: p95 latency {:.2} ms over the last {} h against {:.2} ms before ({:.1}×, Mann–Whitney p = {:.2e})",
                    component, r.p95_ms, config.recent_window_hours, b.p95_ms, ratio, p
                ),
                if ratio > 2.0 { Severity::High } else { Severity::Medium },
                p,
                serde_json::json!({
                    "metric": "latency_p95_ms",
                    "baseline_value": b.p95_ms,
                    "current_value": r.p95_ms,
                    "degradation_percent": (ratio - 1.0) * 100.0,
                    "p_value": p,
                    "baseline_calls": b.calls,
                    "recent_calls": r.calls,
                }),
            ));
    }

    // Errors: a large, significant rise in the failure rate.
    if r.error_rate >= b.error_rate * ERROR_RATIO
        && r.error_rate - b.error_rate >= ERROR_MIN_INCREASE
    {
        let test = Proportion::new(r.errors, r.calls).and_then(|recent_p| {
            Proportion::new(b.errors, b.calls).and_then(|base_p| {
                two_proportion_z(
                    recent_p,
                    base_p,
                    Pooling::Pooled,
                    Alternative::Greater,
                    alpha,
                )
            })
        });
        if let Ok(test) = test
            && test.significant(alpha)
        {
            let severity = if r.error_rate > 0.25 {
                Severity::Critical
            } else if r.error_rate > 0.10 {
                Severity::High
            } else {
                Severity::Medium
            };
            out.push(pattern(
                &component,
                PatternKind::PerformancePattern,
                "error_spike",
                format!(
                    "{} fails more: {:.1}% of calls over the last {} h against {:.1}% before (z-test p = {:.2e})",
                    component,
                    r.error_rate * 100.0,
                    config.recent_window_hours,
                    b.error_rate * 100.0,
                    test.p_value
                ),
                severity,
                test.p_value,
                serde_json::json!({
                    "metric": "error_rate",
                    "baseline_value": b.error_rate,
                    "current_value": r.error_rate,
                    "p_value": test.p_value,
                    "baseline_calls": b.calls,
                    "recent_calls": r.calls,
                }),
            ));
        }
    }

    // Resources per call: memory and CPU medians.
    for (signal, metric, unit, base, now, floor, base_sketch, now_sketch) in [
        (
            "memory_growth",
            "median_peak_memory_bytes",
            "bytes",
            b.median_memory_bytes,
            r.median_memory_bytes,
            config.min_memory_increase_mb * 1_048_576.0,
            &baseline.memory,
            &recent.memory,
        ),
        (
            "cpu_growth",
            "median_cpu_us",
            "µs",
            b.median_cpu_us,
            r.median_cpu_us,
            config.min_cpu_increase_ms * 1000.0,
            &baseline.cpu,
            &recent.cpu,
        ),
    ] {
        if base > 0.0
            && now > base * RESOURCE_RATIO
            && now - base >= floor
            && let Some(p) = shifted_up(now_sketch, base_sketch, alpha)
        {
            let ratio = now / base;
            out.push(pattern(
                    &component,
                    PatternKind::PerformancePattern,
                    signal,
                    format!(
                        "{} uses more per call: median {} {:.0} {} against {:.0} before ({:.1}×, Mann–Whitney p = {:.2e})",
                        component,
                        if signal == "memory_growth" { "peak memory" } else { "CPU time" },
                        now,
                        unit,
                        base,
                        ratio,
                        p
                    ),
                    if ratio > 2.0 { Severity::High } else { Severity::Medium },
                    p,
                    serde_json::json!({
                        "metric": metric,
                        "baseline_value": base,
                        "current_value": now,
                        "p_value": p,
                    }),
                ));
        }
    }
}

/// The p-value of "`recent` tends to be larger than `baseline`", when it
/// is below `alpha`.
fn shifted_up(recent: &RankSketch, baseline: &RankSketch, alpha: f64) -> Option<f64> {
    let test = mann_whitney_sketch(recent, baseline, Alternative::Greater, true).ok()?;
    (test.p_value < alpha).then_some(test.p_value)
}

fn pattern(
    component: &str,
    kind: PatternKind,
    signal: &str,
    description: String,
    severity: Severity,
    p_value: f64,
    evidence: serde_json::Value,
) -> Pattern {
    Pattern {
        id: format!("{signal}:{component}"),
        kind,
        signal: signal.to_owned(),
        description,
        severity,
        // The chance the change is not noise, capped below certainty.
        confidence: (1.0 - p_value).clamp(0.0, 0.99),
        affected_components: vec![component.to_owned()],
        locations: Vec::new(),
        evidence,
    }
}
