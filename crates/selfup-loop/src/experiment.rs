//! The experiment of a rollout, for people: per stage, both arms with
//! their counts, error rate and latency; each metric with its effect,
//! interval and p-value (fixed-horizon tests, for reading; the gates decide
//! with the sequential ones); the sample ratio; the stages compared
//! stratified, never pooled; and the decision.

use selfup_stats::fixed::hodges_lehmann::hodges_lehmann_sketch;
use selfup_stats::fixed::mann_whitney::mann_whitney_sketch;
use selfup_stats::fixed::proportions::{Pooling, two_proportion_z};
use selfup_stats::health::srm::srm;
use selfup_stats::health::stratified::{Stratum, stratified_difference};
use selfup_stats::{Alternative, Moments, Proportion};
use selfup_store::upgrades::Upgrade;
use selfup_store::{Store, StoreError};
use serde::Serialize;

use crate::rollout::stats::{ArmStats, RolloutStats};

/// One arm of one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmReport {
    /// `incumbent`, `candidate` or `shadow`.
    pub arm: &'static str,
    /// Calls.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// `errors / calls`.
    pub error_rate: f64,
    /// Median latency, ms.
    pub latency_p50_ms: Option<f64>,
    /// 99th percentile latency, ms.
    pub latency_p99_ms: Option<f64>,
    /// Shadow answers that differed from the incumbent's.
    pub mismatch_rate: Option<f64>,
}

/// A metric compared between the arms (candidate − incumbent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricReport {
    /// `error_rate` or `latency_ms`.
    pub metric: &'static str,
    /// The test used.
    pub test: &'static str,
    /// Candidate minus incumbent.
    pub effect: f64,
    /// Lower bound of the 1 − α interval.
    pub ci_low: Option<f64>,
    /// Upper bound.
    pub ci_high: Option<f64>,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// One stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageReport {
    /// Stage index.
    pub stage: u32,
    /// Both arms.
    pub arms: Vec<ArmReport>,
    /// The metrics compared (when both arms have data).
    pub metrics: Vec<MetricReport>,
    /// Sample-ratio check p-value on distinct subjects (live splits only).
    pub srm_p_value: Option<f64>,
    /// The gates' verdict recorded for the stage, if it ended.
    pub verdict: Option<serde_json::Value>,
}

/// The whole experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentReport {
    /// The upgrade.
    pub upgrade_id: i64,
    /// `plugin from → to`.
    pub title: String,
    /// The capability.
    pub capability: String,
    /// Per stage.
    pub stages: Vec<StageReport>,
    /// Error-rate difference across stages, stratified by stage.
    pub stratified_error_rate: Option<MetricReport>,
    /// The pooled difference, for contrast (wrong when stage weights differ).
    pub pooled_error_rate_difference: Option<f64>,
    /// The upgrade's state: the decision so far.
    pub decision: String,
}

fn arm_report(arm: &'static str, a: &ArmStats) -> ArmReport {
    ArmReport {
        arm,
        calls: a.calls,
        errors: a.failures,
        error_rate: a.error_rate(),
        latency_p50_ms: a.latency_quantile_ms(0.5),
        latency_p99_ms: a.latency_quantile_ms(0.99),
        mismatch_rate: a.mismatch_rate(),
    }
}

/// Reads every call of the upgrade's rollout and reports its experiment.
pub fn analyse(
    store: &Store,
    upgrade: &Upgrade,
    alpha: f64,
) -> Result<ExperimentReport, StoreError> {
    let mut stats = RolloutStats::default();
    loop {
        let calls = store.experiment_calls(upgrade.id, stats.last_rowid, 100_000)?;
        stats.ingest(&calls);
        if calls.len() < 100_000 {
            break;
        }
    }
    let mut stages = Vec::new();
    let mut strata = Vec::new();
    for (&index, s) in &stats.stages {
        // Shadow answers are compared with the incumbent's; live ones are not.
        let candidate_arm = if s.candidate.compared > 0 {
            "shadow"
        } else {
            "candidate"
        };
        let mut metrics = Vec::new();
        let (inc, cand) = (&s.incumbent, &s.candidate);
        if inc.calls >= 2 && cand.calls >= 2 {
            if let (Ok(x), Ok(y)) = (
                Proportion::new(cand.failures, cand.calls),
                Proportion::new(inc.failures, inc.calls),
            ) {
                strata.push(Stratum {
                    x: Moments::from_proportion(x),
                    y: Moments::from_proportion(y),
                });
                if let Ok(t) =
                    two_proportion_z(x, y, Pooling::Unpooled, Alternative::TwoSided, alpha)
                {
                    metrics.push(MetricReport {
                        metric: "error_rate",
                        test: "two-proportion z (unpooled)",
                        effect: t.effect,
                        ci_low: t.ci_low,
                        ci_high: t.ci_high,
                        p_value: t.p_value,
                    });
                }
            }
            if let (Ok(mw), Ok(hl)) = (
                mann_whitney_sketch(
                    &cand.latency_ms,
                    &inc.latency_ms,
                    Alternative::TwoSided,
                    true,
                ),
                hodges_lehmann_sketch(&cand.latency_ms, &inc.latency_ms, alpha),
            ) {
                metrics.push(MetricReport {
                    metric: "latency_ms",
                    test: "Mann–Whitney U, Hodges–Lehmann shift",
                    effect: hl.shift,
                    ci_low: Some(hl.ci_low),
                    ci_high: Some(hl.ci_high),
                    p_value: mw.p_value,
                });
            }
        }
        let verdict = upgrade.evidence.get(format!("stage_{index}")).cloned();
        let share = verdict
            .as_ref()
            .and_then(|v| v["traffic_percentage"].as_f64())
            .map(|p| p / 100.0);
        let srm_p_value = match share {
            Some(p) if p > 0.0 && p < 1.0 && candidate_arm == "candidate" => {
                srm(&[inc.calls, cand.calls], &[1.0 - p, p])
                    .ok()
                    .map(|r| r.p_value)
            }
            _ => None,
        };
        stages.push(StageReport {
            stage: index,
            arms: vec![
                arm_report("incumbent", inc),
                arm_report(candidate_arm, cand),
            ],
            metrics,
            srm_p_value,
            verdict,
        });
    }
    let stratified = stratified_difference(&strata, Alternative::TwoSided, alpha).ok();
    Ok(ExperimentReport {
        upgrade_id: upgrade.id,
        title: format!(
            "{} {} → {}",
            upgrade.plugin,
            upgrade
                .from_version
                .as_ref()
                .map_or("(new)".to_owned(), |v| v.to_string()),
            upgrade.to_version
        ),
        capability: upgrade.capability.clone(),
        stages,
        stratified_error_rate: stratified.as_ref().map(|s| MetricReport {
            metric: "error_rate",
            test: "stratified by stage (Mantel–Haenszel weights)",
            effect: s.combined.effect,
            ci_low: s.combined.ci_low,
            ci_high: s.combined.ci_high,
            p_value: s.combined.p_value,
        }),
        pooled_error_rate_difference: stratified.map(|s| s.pooled_difference),
        decision: upgrade.state.to_string(),
    })
}
