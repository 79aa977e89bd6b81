//! Judging one rollout stage. A stage passes only when its duration has
//! elapsed, its minimum sample is reached, every gate holds, no guardrail
//! is a significant loser by the sequential (always-valid) test, and the
//! sample ratio is healthy. A significant failure rolls back at once, at
//! any look. "No data" is its own outcome: the stage goes on, and an
//! experiment undecided after `ab_testing.max_experiment_duration_days`
//! ends keeping the incumbent.

use std::collections::BTreeMap;

use selfup_core::config::{GateMetric, LoopConfig, Stage};
use selfup_stats::health::srm::{SrmPolicy, SrmVerdict};
use selfup_stats::sequential::monitor::{SequentialConfig, SequentialLook, SequentialTest};
use selfup_stats::{Alternative, StatsError};
use selfup_store::rollouts::Rollout;
use serde::{Deserialize, Serialize};

use super::stats::{ArmStats, StageStats};

/// Fewest observations before a sequential look is taken (the normal
/// approximation needs some data).
const MIN_LOOK: u64 = 30;

/// How one gate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateStatus {
    /// It holds.
    Pass,
    /// It is violated, significantly: roll back.
    Fail,
    /// Not decided yet (too little data, or over the limit but not significantly).
    Pending,
}

/// One gate at one look, with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateResult {
    /// Which gate (`error_rate <= 0.005`, `guardrail latency`, `sample ratio`, …).
    pub gate: String,
    /// How it stands.
    pub status: GateStatus,
    /// The measured value.
    pub value: Option<f64>,
    /// The limit.
    pub limit: Option<f64>,
    /// The effect tested (candidate minus the limit or the incumbent).
    pub effect: Option<f64>,
    /// Lower bound of its always-valid confidence sequence.
    pub ci_low: Option<f64>,
    /// Upper bound.
    pub ci_high: Option<f64>,
    /// Its always-valid p-value.
    pub p_value: Option<f64>,
    /// The numbers in words.
    pub detail: String,
}

/// What the controller should do with the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageDecision {
    /// Keep going.
    Continue,
    /// Move to the next stage (or complete after the last).
    Advance,
    /// A gate failed: roll back.
    RollBack,
    /// Undecided for too long: end, keeping the incumbent.
    Expire,
}

/// The verdict on a stage at one look.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageVerdict {
    /// The stage index.
    pub stage: usize,
    /// Its name.
    pub stage_name: String,
    /// Its traffic share.
    pub traffic_percentage: f64,
    /// What to do.
    pub decision: StageDecision,
    /// Why, in words.
    pub reason: String,
    /// Every gate and guardrail.
    pub gates: Vec<GateResult>,
    /// Incumbent calls in the stage.
    pub incumbent_calls: u64,
    /// Candidate (or shadow) calls in the stage.
    pub candidate_calls: u64,
    /// Shadow answers that differed from the incumbent's, if compared.
    pub mismatch_rate: Option<f64>,
    /// Hours the stage has run.
    pub elapsed_hours: f64,
    /// Hours it must run.
    pub duration_hours: f64,
    /// The minimum sample is not reached yet.
    pub no_data: bool,
}

/// The sequential tests of a rollout stage, persisted between looks (and
/// restarts) so that their p-values only ever fall.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    /// Tests by gate name.
    pub tests: BTreeMap<String, SequentialTest>,
}

impl Monitor {
    fn look(
        &mut self,
        key: &str,
        config: impl FnOnce() -> Result<SequentialConfig, StatsError>,
        estimate: f64,
        variance: f64,
    ) -> Option<SequentialLook> {
        if !self.tests.contains_key(key) {
            let config = config().ok()?;
            self.tests
                .insert(key.to_owned(), SequentialTest::new(config));
        }
        self.tests
            .get_mut(key)?
            .look_estimate(estimate, variance)
            .ok()
    }
}

/// A p-value for people: three decimals, or scientific notation when tiny.
pub fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// Evaluates `stage` (the rollout's current one) with what it has seen.
pub fn evaluate(
    config: &LoopConfig,
    stage: &Stage,
    rollout: &Rollout,
    stats: &StageStats,
    monitor: &mut Monitor,
    now_ms: i64,
) -> StageVerdict {
    let stage_index = rollout.stage;
    let alpha = config.ab_testing.default_significance_level;
    let min_sample = config.ab_testing.min_sample_size;
    let has_incumbent = rollout.incumbent.is_some();
    let live_split =
        has_incumbent && rollout.traffic_percentage > 0.0 && rollout.traffic_percentage < 100.0;
    let compares = has_incumbent && rollout.traffic_percentage < 100.0;
    let (inc, cand) = (&stats.incumbent, &stats.candidate);

    let mut gates = Vec::new();
    for gate in &stage.gates {
        gates.push(absolute_gate(
            gate.metric,
            gate.threshold,
            cand,
            monitor,
            alpha,
            min_sample,
        ));
    }
    if compares {
        gates.push(error_guardrail(
            config, inc, cand, monitor, alpha, min_sample,
        ));
        gates.push(latency_guardrail(
            config, inc, cand, monitor, alpha, min_sample,
        ));
    }
    if live_split {
        // Assignment is by subject, so the ratio is checked on subjects:
        // the calls of one subject are not independent draws.
        gates.push(sample_ratio(
            rollout.traffic_percentage,
            inc.subjects.len() as u64,
            cand.subjects.len() as u64,
        ));
    }

    let elapsed_hours = (now_ms - rollout.stage_started_at_ms).max(0) as f64 / 3_600_000.0;
    let total_days = (now_ms - rollout.started_at_ms).max(0) as f64 / 86_400_000.0;
    let no_data = cand.calls < min_sample || (compares && inc.calls < min_sample);
    let mut verdict = StageVerdict {
        stage: stage_index,
        stage_name: stage.name.clone(),
        traffic_percentage: rollout.traffic_percentage,
        decision: StageDecision::Continue,
        reason: String::new(),
        incumbent_calls: inc.calls,
        candidate_calls: cand.calls,
        mismatch_rate: cand.mismatch_rate(),
        elapsed_hours,
        duration_hours: stage.duration_hours,
        no_data,
        gates,
    };
    let failed: Vec<&GateResult> = verdict
        .gates
        .iter()
        .filter(|g| g.status == GateStatus::Fail)
        .collect();
    if let Some(first) = failed.first() {
        verdict.decision = StageDecision::RollBack;
        verdict.reason = format!("gate \"{}\" failed: {}", first.gate, first.detail);
        return verdict;
    }
    let max_days = f64::from(config.ab_testing.max_experiment_duration_days);
    if total_days >= max_days {
        verdict.decision = StageDecision::Expire;
        verdict.reason = format!(
            "undecided after {total_days:.1} days (ab_testing.max_experiment_duration_days = {max_days}) in stage \"{}\" ({}); the incumbent is kept",
            stage.name,
            if no_data {
                "not enough data"
            } else {
                "gates not yet holding"
            }
        );
        return verdict;
    }
    if elapsed_hours < stage.duration_hours {
        verdict.reason = format!(
            "stage \"{}\" runs {:.1} of {:.1} hours",
            stage.name, elapsed_hours, stage.duration_hours
        );
        return verdict;
    }
    if no_data {
        verdict.reason = format!(
            "no data: {} candidate and {} incumbent calls, {} per arm needed (ab_testing.min_sample_size); the stage goes on",
            cand.calls, inc.calls, min_sample
        );
        return verdict;
    }
    if let Some(pending) = verdict
        .gates
        .iter()
        .find(|g| g.status == GateStatus::Pending)
    {
        verdict.reason = format!(
            "gate \"{}\" does not hold yet: {}; the stage goes on",
            pending.gate, pending.detail
        );
        return verdict;
    }
    verdict.decision = StageDecision::Advance;
    verdict.reason = format!(
        "stage \"{}\" passed: {:.1} hours, {} candidate calls, every gate holds",
        stage.name, elapsed_hours, cand.calls
    );
    verdict
}

fn result(gate: String, status: GateStatus, detail: String) -> GateResult {
    GateResult {
        gate,
        status,
        value: None,
        limit: None,
        effect: None,
        ci_low: None,
        ci_high: None,
        p_value: None,
        detail,
    }
}

fn with_look(mut r: GateResult, look: Option<&SequentialLook>) -> GateResult {
    if let Some(look) = look {
        r.effect = Some(look.effect);
        r.ci_low = look.ci_low;
        r.ci_high = look.ci_high;
        r.p_value = Some(look.p_value);
    }
    r
}

/// A stage gate on the candidate alone: `error_rate` or a latency quantile
/// at or below its threshold. Tested as a proportion (the share of failed,
/// or of slower-than-threshold, calls) against the share the threshold
/// allows, one-sided: it fails when significantly above.
fn absolute_gate(
    metric: GateMetric,
    threshold: f64,
    cand: &ArmStats,
    monitor: &mut Monitor,
    alpha: f64,
    min_sample: u64,
) -> GateResult {
    let (name, q) = match metric {
        GateMetric::ErrorRate => (format!("error_rate <= {threshold}"), None),
        GateMetric::LatencyP99 => (format!("latency_p99 <= {threshold} ms"), Some(0.99)),
        GateMetric::LatencyP95 => (format!("latency_p95 <= {threshold} ms"), Some(0.95)),
        GateMetric::LatencyP50 => (format!("latency_p50 <= {threshold} ms"), Some(0.50)),
    };
    let n = cand.calls;
    if n == 0 {
        return result(
            name,
            GateStatus::Pending,
            "no candidate calls yet".to_owned(),
        );
    }
    // Share observed and the share the threshold allows.
    let (observed, allowed, value, holds, what) = match q {
        None => {
            let rate = cand.error_rate();
            (
                rate,
                threshold,
                rate,
                rate <= threshold,
                format!(
                    "{} of {n} calls failed ({:.2}%)",
                    cand.failures,
                    rate * 100.0
                ),
            )
        }
        Some(q) => {
            let slower = cand.slower_than(threshold) as f64 / n as f64;
            let quantile = cand.latency_quantile_ms(q).unwrap_or(0.0);
            (
                slower,
                1.0 - q,
                quantile,
                quantile <= threshold,
                format!("p{:.0} = {quantile:.3} ms over {n} calls", q * 100.0),
            )
        }
    };
    let estimate = observed - allowed;
    let p0 = allowed.clamp(1e-4, 1.0 - 1e-4);
    let variance = p0 * (1.0 - p0) / n as f64;
    let look = (n >= MIN_LOOK)
        .then(|| {
            monitor.look(
                &format!("gate:{name}"),
                || {
                    SequentialConfig::for_horizon(
                        alpha,
                        Alternative::Greater,
                        (p0 * (1.0 - p0)).sqrt(),
                        min_sample.max(200),
                    )
                },
                estimate,
                variance,
            )
        })
        .flatten();
    let significant = look.as_ref().is_some_and(|l| l.reject);
    let status = if significant {
        GateStatus::Fail
    } else if holds && n >= min_sample {
        GateStatus::Pass
    } else {
        GateStatus::Pending
    };
    let detail = match &look {
        Some(l) => format!(
            "{what}; limit {threshold}; {} (excess over the allowed share {:+.4}, {:.0}% lower bound {}; always-valid p = {})",
            if significant {
                "significantly over"
            } else if holds {
                "within"
            } else {
                "over, not significantly"
            },
            l.effect,
            (1.0 - alpha) * 100.0,
            l.ci_low.map_or("-".to_owned(), |v| format!("{v:+.4}")),
            fmt_p(l.p_value)
        ),
        None => format!("{what}; limit {threshold}; too few calls to test"),
    };
    let mut r = with_look(result(name, status, detail), look.as_ref());
    r.value = Some(value);
    r.limit = Some(threshold);
    r
}

/// Guardrail: the candidate's error rate must not exceed the incumbent's
/// times `performance.max_error_rate_regression_multiplier`, significantly.
fn error_guardrail(
    config: &LoopConfig,
    inc: &ArmStats,
    cand: &ArmStats,
    monitor: &mut Monitor,
    alpha: f64,
    min_sample: u64,
) -> GateResult {
    let multiplier = config.performance.max_error_rate_regression_multiplier;
    let name = "guardrail error_rate".to_owned();
    if inc.calls < MIN_LOOK || cand.calls < MIN_LOOK {
        return result(
            name,
            GateStatus::Pending,
            format!(
                "{} incumbent and {} candidate calls; {MIN_LOOK} each needed to compare",
                inc.calls, cand.calls
            ),
        );
    }
    let (pc, pi) = (cand.error_rate(), inc.error_rate());
    let estimate = pc - multiplier * pi;
    let variance = pc * (1.0 - pc) / cand.calls as f64
        + multiplier * multiplier * pi * (1.0 - pi) / inc.calls as f64;
    let what = format!(
        "candidate {:.2}% ({} of {}) vs incumbent {:.2}% ({} of {}), at most ×{multiplier}",
        pc * 100.0,
        cand.failures,
        cand.calls,
        pi * 100.0,
        inc.failures,
        inc.calls
    );
    if variance <= 0.0 {
        let status = if estimate > 0.0 || cand.calls < min_sample {
            GateStatus::Pending
        } else {
            GateStatus::Pass
        };
        let mut r = result(name, status, format!("{what}; no errors on either side"));
        r.value = Some(pc);
        return r;
    }
    let look = monitor.look(
        "guardrail:error_rate",
        || SequentialConfig::for_horizon(alpha, Alternative::Greater, 0.2, min_sample.max(1000)),
        estimate,
        variance,
    );
    let significant = look.as_ref().is_some_and(|l| l.reject);
    let status = if significant {
        GateStatus::Fail
    } else if estimate <= 0.0 && cand.calls >= min_sample {
        GateStatus::Pass
    } else {
        GateStatus::Pending
    };
    let p = look.as_ref().map_or(1.0, |l| l.p_value);
    let mut r = with_look(
        result(
            name,
            status,
            format!(
                "{what}; {} (excess {:+.4}, {:.0}% lower bound {}; always-valid p = {})",
                if significant {
                    "significantly worse"
                } else {
                    "not significantly worse"
                },
                estimate,
                (1.0 - alpha) * 100.0,
                look.as_ref()
                    .and_then(|l| l.ci_low)
                    .map_or("-".to_owned(), |v| format!("{v:+.4}")),
                fmt_p(p)
            ),
        ),
        look.as_ref(),
    );
    r.value = Some(pc);
    r.limit = Some(multiplier * pi);
    r
}

/// Guardrail: the candidate must not be slower than the incumbent by more
/// than `performance.max_latency_regression_percent`, significantly
/// (compared on log latency, so the effect is a ratio).
fn latency_guardrail(
    config: &LoopConfig,
    inc: &ArmStats,
    cand: &ArmStats,
    monitor: &mut Monitor,
    alpha: f64,
    min_sample: u64,
) -> GateResult {
    let tolerance = config.performance.max_latency_regression_percent;
    let name = "guardrail latency".to_owned();
    if inc.calls < MIN_LOOK || cand.calls < MIN_LOOK {
        return result(
            name,
            GateStatus::Pending,
            format!(
                "{} incumbent and {} candidate calls; {MIN_LOOK} each needed to compare",
                inc.calls, cand.calls
            ),
        );
    }
    let allowed = (1.0 + tolerance / 100.0).ln();
    let ratio = (cand.log_latency.mean - inc.log_latency.mean).exp();
    let estimate = cand.log_latency.mean - inc.log_latency.mean - allowed;
    let variance = cand.log_latency.variance_of_mean() + inc.log_latency.variance_of_mean();
    let what = format!(
        "candidate/incumbent latency (geometric mean) ×{ratio:.3}, at most ×{:.2}; p50 {:.3} vs {:.3} ms",
        1.0 + tolerance / 100.0,
        cand.latency_quantile_ms(0.5).unwrap_or(0.0),
        inc.latency_quantile_ms(0.5).unwrap_or(0.0)
    );
    if !(variance > 0.0 && variance.is_finite()) {
        let status = if estimate > 0.0 || cand.calls < min_sample {
            GateStatus::Pending
        } else {
            GateStatus::Pass
        };
        return result(name, status, what);
    }
    let look = monitor.look(
        "guardrail:latency",
        || SequentialConfig::for_horizon(alpha, Alternative::Greater, 0.5, min_sample.max(1000)),
        estimate,
        variance,
    );
    // A slower candidate counts only if its median also rises by more than
    // performance.min_latency_regression_ms: ×2 of 5 µs is nothing a user notices.
    let floor = config.performance.min_latency_regression_ms;
    let rise =
        cand.latency_quantile_ms(0.5).unwrap_or(0.0) - inc.latency_quantile_ms(0.5).unwrap_or(0.0);
    let noticeable = rise > floor;
    let significant = look.as_ref().is_some_and(|l| l.reject);
    let status = if significant && noticeable {
        GateStatus::Fail
    } else if (estimate <= 0.0 || !noticeable) && cand.calls >= min_sample {
        GateStatus::Pass
    } else {
        GateStatus::Pending
    };
    let p = look.as_ref().map_or(1.0, |l| l.p_value);
    let judgement = match (significant, noticeable) {
        (true, true) => "significantly slower".to_owned(),
        (true, false) => format!(
            "significantly slower, but the median rises by only {rise:.3} ms (floor {floor} ms)"
        ),
        (false, _) => "not significantly slower".to_owned(),
    };
    let mut r = with_look(
        result(
            name,
            status,
            format!("{what}; {judgement} (always-valid p = {})", fmt_p(p)),
        ),
        look.as_ref(),
    );
    r.value = Some(ratio);
    r.limit = Some(1.0 + tolerance / 100.0);
    r
}

/// Sample-ratio check of a live split: the arms' distinct subjects must
/// match the configured weights (χ², alarm at p < 0.001 once each arm
/// expects 30).
fn sample_ratio(traffic_percentage: f64, incumbent: u64, candidate: u64) -> GateResult {
    let name = "sample ratio".to_owned();
    let share = traffic_percentage / 100.0;
    let weights = [1.0 - share, share];
    let counts = [incumbent, candidate];
    match SrmPolicy::default().check(&counts, &weights) {
        Ok(SrmVerdict::Mismatch(s)) => {
            let mut r = result(
                name,
                GateStatus::Fail,
                format!(
                    "{incumbent}/{candidate} subjects against weights {:.0}/{:.0}: χ² = {:.1}, p = {}; the routing is broken",
                    weights[0] * 100.0,
                    weights[1] * 100.0,
                    s.statistic,
                    fmt_p(s.p_value)
                ),
            );
            r.p_value = Some(s.p_value);
            r
        }
        Ok(SrmVerdict::Healthy(s)) => {
            let mut r = result(
                name,
                GateStatus::Pass,
                format!("{incumbent}/{candidate} subjects, p = {}", fmt_p(s.p_value)),
            );
            r.p_value = Some(s.p_value);
            r
        }
        // Too few subjects for the χ² approximation (an arm expects fewer
        // than 30): the check cannot speak, and a small population must not
        // hold a stage forever, so it does not block.
        Ok(SrmVerdict::NotEnoughData(_)) => result(
            name,
            GateStatus::Pass,
            format!(
                "{incumbent}/{candidate} subjects: too few to check (an arm expects fewer than 30)"
            ),
        ),
        Err(e) => result(name, GateStatus::Pending, format!("cannot check: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use selfup_core::config::{Config, Gate};
    use selfup_core::telemetry::Arm;
    use selfup_store::telemetry::ExperimentCall;

    use super::*;
    use crate::rollout::stats::RolloutStats;

    const HOUR: i64 = 3_600_000;

    fn config() -> LoopConfig {
        let mut c = Config::default().self_upgrading_loop;
        c.ab_testing.min_sample_size = 100;
        c
    }

    fn stage(traffic: f64, hours: f64, gates: Vec<Gate>) -> Stage {
        Stage {
            name: "s".into(),
            traffic_percentage: traffic,
            duration_hours: hours,
            gates,
        }
    }

    fn rollout(traffic: f64, started_hours_ago: i64, now: i64) -> Rollout {
        Rollout {
            capability: "a.b".into(),
            upgrade_id: 1,
            incumbent: Some(("p".into(), semver::Version::new(1, 0, 0))),
            candidate_plugin: "p".into(),
            candidate_version: semver::Version::new(2, 0, 0),
            stage: 0,
            traffic_percentage: traffic,
            seed: "s".into(),
            started_at_ms: now - started_hours_ago * HOUR,
            stage_started_at_ms: now - started_hours_ago * HOUR,
            monitor: serde_json::json!({}),
        }
    }

    /// `n` calls of `arm`, `failures` of them failed, latency `latency_us`.
    fn calls(stats: &mut RolloutStats, arm: Arm, n: u64, failures: u64, latency_us: u64) {
        let start = stats.last_rowid;
        let batch: Vec<ExperimentCall> = (0..n)
            .map(|i| ExperimentCall {
                rowid: start + i as i64 + 1,
                ts_ms: 0,
                stage: 0,
                arm,
                failed: i < failures,
                error_kind: None,
                latency_us: latency_us + i % 7,
                peak_memory_bytes: 1 << 20,
                cpu_us: latency_us,
                mismatch: None,
                subject_hash: start + i as i64 + 1,
            })
            .collect();
        stats.ingest(&batch);
    }

    fn judge(traffic: f64, hours_ago: i64, stage: &Stage, stats: &RolloutStats) -> StageVerdict {
        let now = 1_000 * HOUR;
        let mut monitor = Monitor::default();
        evaluate(
            &config(),
            stage,
            &rollout(traffic, hours_ago, now),
            &stats.stage(0),
            &mut monitor,
            now,
        )
    }

    #[test]
    fn a_healthy_stage_passes_once_its_duration_and_sample_are_reached() {
        let mut stats = RolloutStats::default();
        calls(&mut stats, Arm::Incumbent, 1900, 2, 2000);
        calls(&mut stats, Arm::Candidate, 100, 0, 2000);
        let gates = vec![Gate {
            metric: GateMetric::ErrorRate,
            threshold: 0.01,
        }];
        let v = judge(5.0, 48, &stage(5.0, 48.0, gates.clone()), &stats);
        assert_eq!(v.decision, StageDecision::Advance, "{v:#?}");
        let early = judge(5.0, 10, &stage(5.0, 48.0, gates), &stats);
        assert_eq!(early.decision, StageDecision::Continue);
        assert!(
            early.reason.contains("runs 10.0 of 48.0 hours"),
            "{}",
            early.reason
        );
    }

    #[test]
    fn a_significantly_failing_gate_rolls_back_before_the_stage_ends() {
        let mut stats = RolloutStats::default();
        calls(&mut stats, Arm::Incumbent, 200, 0, 2000);
        calls(&mut stats, Arm::Shadow, 200, 30, 2000);
        let gates = vec![Gate {
            metric: GateMetric::ErrorRate,
            threshold: 0.01,
        }];
        let v = judge(0.0, 1, &stage(0.0, 24.0, gates), &stats);
        assert_eq!(v.decision, StageDecision::RollBack);
        assert!(
            v.reason
                .starts_with("gate \"error_rate <= 0.01\" failed: 30 of 200 calls failed (15.00%)"),
            "{}",
            v.reason
        );
        let gate = &v.gates[0];
        assert!(
            gate.p_value.expect("p") < 0.05 && gate.ci_low.expect("low") > 0.0,
            "{gate:?}"
        );
    }

    #[test]
    fn too_little_data_extends_the_stage() {
        let mut stats = RolloutStats::default();
        calls(&mut stats, Arm::Incumbent, 60, 0, 2000);
        calls(&mut stats, Arm::Candidate, 40, 0, 2000);
        let v = judge(5.0, 100, &stage(5.0, 48.0, Vec::new()), &stats);
        assert_eq!(v.decision, StageDecision::Continue);
        assert!(v.no_data);
        assert!(
            v.reason
                .starts_with("no data: 40 candidate and 60 incumbent calls"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn a_broken_split_is_a_sample_ratio_mismatch() {
        let mut stats = RolloutStats::default();
        // 25 % configured, 50 % observed.
        calls(&mut stats, Arm::Incumbent, 1000, 0, 2000);
        calls(&mut stats, Arm::Candidate, 1000, 0, 2000);
        let v = judge(25.0, 1, &stage(25.0, 72.0, Vec::new()), &stats);
        assert_eq!(v.decision, StageDecision::RollBack, "{v:#?}");
        assert!(
            v.reason.contains("sample ratio") && v.reason.contains("the routing is broken"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn an_experiment_undecided_for_too_long_ends_keeping_the_incumbent() {
        let mut stats = RolloutStats::default();
        calls(&mut stats, Arm::Incumbent, 10, 0, 2000);
        calls(&mut stats, Arm::Candidate, 1, 0, 2000);
        let v = judge(5.0, 15 * 24, &stage(5.0, 48.0, Vec::new()), &stats);
        assert_eq!(v.decision, StageDecision::Expire);
        assert!(
            v.reason.contains("undecided after 15.0 days")
                && v.reason.contains("the incumbent is kept"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn a_gate_over_its_limit_but_not_significantly_keeps_the_stage_going() {
        let mut stats = RolloutStats::default();
        calls(&mut stats, Arm::Incumbent, 2000, 20, 2000);
        calls(&mut stats, Arm::Candidate, 100, 1, 2000);
        // 1 % observed against a 0.5 % limit: over, but 100 calls prove nothing.
        let gates = vec![Gate {
            metric: GateMetric::ErrorRate,
            threshold: 0.005,
        }];
        let v = judge(5.0, 48, &stage(5.0, 48.0, gates), &stats);
        assert_eq!(v.decision, StageDecision::Continue, "{v:#?}");
        assert!(v.reason.contains("does not hold yet"), "{}", v.reason);
    }

    #[test]
    fn slower_only_counts_above_the_floor() {
        let mut tiny = RolloutStats::default();
        calls(&mut tiny, Arm::Incumbent, 500, 0, 5);
        calls(&mut tiny, Arm::Shadow, 500, 0, 12);
        let v = judge(0.0, 24, &stage(0.0, 24.0, Vec::new()), &tiny);
        assert_eq!(v.decision, StageDecision::Advance, "{v:#?}");
        let mut big = RolloutStats::default();
        calls(&mut big, Arm::Incumbent, 500, 0, 5_000);
        calls(&mut big, Arm::Shadow, 500, 0, 12_000);
        let v = judge(0.0, 2, &stage(0.0, 24.0, Vec::new()), &big);
        assert_eq!(v.decision, StageDecision::RollBack, "{v:#?}");
        assert!(v.reason.contains("guardrail latency"), "{}", v.reason);
    }

    #[test]
    fn p_values_are_readable() {
        assert_eq!(fmt_p(0.0123), "0.012");
        assert_eq!(fmt_p(0.00001234), "1.2e-5");
    }
}
