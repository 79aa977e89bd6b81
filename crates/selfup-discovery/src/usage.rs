//! Usage analytics: how the agent uses its capabilities over the analysis
//! period (baseline and recent windows together) — how often each is
//! called, which one follows which for the same subject (a candidate
//! composite capability), how often each fails (the specification's 10 %
//! HIGH and 25 % CRITICAL), and how long calls and tasks take.
//!
//! Mirrored shadow calls are left out: the agent never saw them.

use std::collections::{BTreeMap, HashMap, HashSet};

use selfup_core::config::DiscoveryConfig;
use selfup_core::pattern::{Pattern, PatternKind, Severity};
use selfup_core::telemetry::{AgentEventType, Arm, anonymous_subject_hash};
use selfup_stats::RankSketch;
use selfup_store::Store;
use serde::Serialize;

use crate::error::DiscoveryError;
use crate::window::{Period, Windows};

/// A capability serving at least this share of calls is a frequency pattern.
pub const FREQUENT_SHARE: f64 = 0.25;
/// "B follows A" this often (of A's calls) makes a sequence pattern.
pub const SEQUENCE_PROBABILITY: f64 = 0.5;
/// A p95 latency at this fraction of the time limit is "near the timeout".
pub const NEAR_TIMEOUT: f64 = 0.5;
/// Most calls kept in memory for the sequence analysis; beyond it the
/// sequences are computed on the first calls read and the report says so.
pub const MAX_SEQUENCE_CALLS: usize = 4_000_000;

/// How one capability was used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapabilityUsage {
    /// The capability.
    pub capability: String,
    /// Calls (all versions, shadow copies left out).
    pub calls: u64,
    /// Its share of all served calls.
    pub share: f64,
    /// Distinct identified subjects that called it.
    pub subjects: u64,
    /// Failed calls.
    pub failures: u64,
    /// `failures / calls`.
    pub failure_rate: f64,
    /// Failures by error kind.
    pub failures_by_kind: BTreeMap<String, u64>,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 95th percentile latency, ms.
    pub p95_ms: f64,
    /// The active provider's time limit, s, if it is installed.
    pub time_limit_s: Option<f64>,
}

/// "The same subject called `first`, then `then` within the gap."
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sequence {
    /// The first capability.
    pub first: String,
    /// The one called next.
    pub then: String,
    /// How many times.
    pub count: u64,
    /// By how many subjects.
    pub subjects: u64,
    /// Of the identified calls of `first`, the share followed by `then`.
    pub probability: f64,
    /// Mean time between the two, ms.
    pub mean_gap_ms: f64,
}

/// Outcomes the agent reported for one kind of task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskCompletion {
    /// The task's intent as reported (`"(none)"` when absent).
    pub intent: String,
    /// Outcomes reported.
    pub count: u64,
    /// Share reported with `"success": true`, of those that said.
    pub success_rate: Option<f64>,
    /// Median `duration_ms`, of those that said.
    pub p50_ms: Option<f64>,
    /// 95th percentile `duration_ms`.
    pub p95_ms: Option<f64>,
}

/// The usage report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageReport {
    /// The period analysed.
    pub period: Period,
    /// Served calls read (shadow copies included in this count).
    pub calls_read: u64,
    /// Per capability, most called first.
    pub capabilities: Vec<CapabilityUsage>,
    /// Sequences, most frequent first.
    pub sequences: Vec<Sequence>,
    /// Whether the sequence analysis saw only the first
    /// [`MAX_SEQUENCE_CALLS`] calls.
    pub sequences_truncated: bool,
    /// Task outcomes reported by the agent.
    pub tasks: Vec<TaskCompletion>,
    /// The patterns found.
    pub patterns: Vec<Pattern>,
}

struct CapabilityAcc {
    calls: u64,
    failures: u64,
    by_kind: BTreeMap<String, u64>,
    subjects: HashSet<i64>,
    latency_ms: RankSketch,
}

/// Analyses usage over the period ending at `now_ms`.
pub fn analyze_usage(
    store: &Store,
    config: &DiscoveryConfig,
    now_ms: i64,
) -> Result<UsageReport, DiscoveryError> {
    let runtime = &config.runtime_analysis;
    let period = Windows::ending_at(now_ms, runtime).whole();
    let anonymous = anonymous_subject_hash();

    let mut capabilities: BTreeMap<String, CapabilityAcc> = BTreeMap::new();
    let mut names: Vec<String> = Vec::new();
    let mut index_of: HashMap<String, u32> = HashMap::new();
    let mut trail: Vec<(i64, i64, u32)> = Vec::new();
    let mut truncated = false;
    let mut calls_read = 0;
    for target in store.call_targets_between(period.from_ms, period.to_ms)? {
        if target.plugin.is_empty() {
            continue; // unserved: gap analysis
        }
        let index = *index_of
            .entry(target.capability.clone())
            .or_insert_with(|| {
                names.push(target.capability.clone());
                (names.len() - 1) as u32
            });
        let acc = capabilities
            .entry(target.capability.clone())
            .or_insert_with(|| CapabilityAcc {
                calls: 0,
                failures: 0,
                by_kind: BTreeMap::new(),
                subjects: HashSet::new(),
                latency_ms: RankSketch::relative(0.01).unwrap_or_else(|_| RankSketch::exact()),
            });
        calls_read += store.for_each_call(target.id, period.from_ms, period.to_ms, |call| {
            if call.arm == Some(Arm::Shadow) {
                return;
            }
            acc.calls += 1;
            if call.failed {
                acc.failures += 1;
                let kind = call.error_kind.map_or("unknown", |k| k.as_str());
                *acc.by_kind.entry(kind.to_owned()).or_default() += 1;
            }
            let _ = acc.latency_ms.push(call.latency_us as f64 / 1000.0);
            if call.subject_hash != anonymous {
                acc.subjects.insert(call.subject_hash);
                if trail.len() < MAX_SEQUENCE_CALLS {
                    trail.push((call.subject_hash, call.ts_ms, index));
                } else {
                    truncated = true;
                }
            }
        })?;
    }

    let limits = time_limits(store)?;
    let total: u64 = capabilities.values().map(|c| c.calls).sum();
    let mut usage: Vec<CapabilityUsage> = capabilities
        .into_iter()
        .filter(|(_, acc)| acc.calls > 0)
        .map(|(capability, acc)| CapabilityUsage {
            share: acc.calls as f64 / total.max(1) as f64,
            calls: acc.calls,
            subjects: acc.subjects.len() as u64,
            failures: acc.failures,
            failure_rate: acc.failures as f64 / acc.calls as f64,
            failures_by_kind: acc.by_kind,
            p50_ms: acc.latency_ms.quantile(0.5).unwrap_or(0.0),
            p95_ms: acc.latency_ms.quantile(0.95).unwrap_or(0.0),
            time_limit_s: limits.get(&capability).copied(),
            capability,
        })
        .collect();
    usage.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then_with(|| a.capability.cmp(&b.capability))
    });

    let sequences = sequences(trail, &names, runtime.sequence_gap_seconds);
    let tasks = tasks(store, period)?;
    let mut patterns = Vec::new();
    usage_patterns(&usage, &sequences, config, &mut patterns);
    selfup_core::pattern::rank(&mut patterns);
    Ok(UsageReport {
        period,
        calls_read,
        capabilities: usage,
        sequences,
        sequences_truncated: truncated,
        tasks,
        patterns,
    })
}

/// The time limit of each capability's active provider.
fn time_limits(store: &Store) -> Result<HashMap<String, f64>, DiscoveryError> {
    let mut out = HashMap::new();
    for plugin in store.list_plugins()? {
        for capability in &plugin.active_for {
            out.insert(
                capability.clone(),
                plugin.manifest.resource_limits.max_execution_time_seconds,
            );
        }
    }
    Ok(out)
}

/// Counts "A then B by the same subject within the gap" over the calls
/// `(subject, ts, capability)`.
fn sequences(mut trail: Vec<(i64, i64, u32)>, names: &[String], gap_s: u32) -> Vec<Sequence> {
    trail.sort_unstable();
    let gap_ms = i64::from(gap_s) * 1000;
    let mut calls_of: HashMap<u32, u64> = HashMap::new();
    // (first, then) -> (count, subjects, sum of gaps)
    let mut pairs: HashMap<(u32, u32), (u64, u64, i64)> = HashMap::new();
    let mut last_subject_of_pair: HashMap<(u32, u32), i64> = HashMap::new();
    for (i, &(subject, ts, capability)) in trail.iter().enumerate() {
        *calls_of.entry(capability).or_default() += 1;
        let Some(&(next_subject, next_ts, next)) = trail.get(i + 1) else {
            continue;
        };
        if next_subject != subject || next == capability || next_ts - ts > gap_ms {
            continue;
        }
        let entry = pairs.entry((capability, next)).or_default();
        entry.0 += 1;
        entry.2 += next_ts - ts;
        if last_subject_of_pair.insert((capability, next), subject) != Some(subject) {
            entry.1 += 1; // trail is sorted by subject: a new subject for this pair
        }
    }
    let mut out: Vec<Sequence> = pairs
        .into_iter()
        .map(|((first, then), (count, subjects, gaps))| Sequence {
            first: names[first as usize].clone(),
            then: names[then as usize].clone(),
            count,
            subjects,
            probability: count as f64 / calls_of.get(&first).copied().unwrap_or(1).max(1) as f64,
            mean_gap_ms: gaps as f64 / count as f64,
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| (&a.first, &a.then).cmp(&(&b.first, &b.then)))
    });
    out
}

/// Task outcomes the agent reported in `period`, by intent. A
/// `task_outcome` event may carry `"duration_ms"` (a number) and
/// `"success"` (a boolean).
fn tasks(store: &Store, period: Period) -> Result<Vec<TaskCompletion>, DiscoveryError> {
    struct Acc {
        count: u64,
        told: u64,
        succeeded: u64,
        durations: Vec<f64>,
    }
    let mut by_intent: BTreeMap<String, Acc> = BTreeMap::new();
    for event in store.agent_events(Some(AgentEventType::TaskOutcome), period.from_ms)? {
        if event.ts_ms >= period.to_ms {
            continue;
        }
        let payload: serde_json::Value =
            serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null);
        let acc = by_intent
            .entry(event.intent.unwrap_or_else(|| "(none)".to_owned()))
            .or_insert(Acc {
                count: 0,
                told: 0,
                succeeded: 0,
                durations: Vec::new(),
            });
        acc.count += 1;
        if let Some(success) = payload.get("success").and_then(serde_json::Value::as_bool) {
            acc.told += 1;
            acc.succeeded += u64::from(success);
        }
        if let Some(d) = payload
            .get("duration_ms")
            .and_then(serde_json::Value::as_f64)
            .filter(|d| d.is_finite() && *d >= 0.0)
        {
            acc.durations.push(d);
        }
    }
    Ok(by_intent
        .into_iter()
        .map(|(intent, mut acc)| {
            acc.durations.sort_by(f64::total_cmp);
            TaskCompletion {
                intent,
                count: acc.count,
                success_rate: (acc.told > 0).then(|| acc.succeeded as f64 / acc.told as f64),
                p50_ms: nearest_rank(&acc.durations, 0.5),
                p95_ms: nearest_rank(&acc.durations, 0.95),
            }
        })
        .collect())
}

fn nearest_rank(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn usage_patterns(
    usage: &[CapabilityUsage],
    sequences: &[Sequence],
    config: &DiscoveryConfig,
    out: &mut Vec<Pattern>,
) {
    let min_calls = u64::from(config.runtime_analysis.min_calls);
    let min_frequency = u64::from(config.pattern_recognition.min_pattern_frequency);
    for u in usage.iter().filter(|u| u.calls >= min_calls) {
        // The specification's failure rates: above 10 % HIGH, above 25 % CRITICAL.
        if u.failure_rate > 0.10 {
            out.push(Pattern {
                id: format!("failure_rate:{}", u.capability),
                kind: PatternKind::PerformancePattern,
                signal: "failure_rate".into(),
                description: format!(
                    "High failure rate ({:.1}%) for {}: {} of {} calls failed",
                    u.failure_rate * 100.0,
                    u.capability,
                    u.failures,
                    u.calls
                ),
                severity: if u.failure_rate > 0.25 {
                    Severity::Critical
                } else {
                    Severity::High
                },
                confidence: (u.failure_rate * 4.0).min(1.0),
                affected_components: vec![u.capability.clone()],
                locations: Vec::new(),
                evidence: serde_json::json!({
                    "calls": u.calls,
                    "failures": u.failures,
                    "failure_rate": u.failure_rate,
                    "failures_by_kind": u.failures_by_kind,
                }),
            });
        }
        if u.share >= FREQUENT_SHARE {
            out.push(Pattern {
                id: format!("call_frequency:{}", u.capability),
                kind: PatternKind::UsagePattern,
                signal: "call_frequency".into(),
                description: format!(
                    "{} serves {:.0}% of calls ({} by {} subjects): an improvement there reaches the most requests",
                    u.capability,
                    u.share * 100.0,
                    u.calls,
                    u.subjects
                ),
                severity: if u.share >= 0.5 {
                    Severity::Medium
                } else {
                    Severity::Low
                },
                confidence: u.share,
                affected_components: vec![u.capability.clone()],
                locations: Vec::new(),
                evidence: serde_json::json!({ "calls": u.calls, "share": u.share, "subjects": u.subjects }),
            });
        }
        if let Some(limit_s) = u.time_limit_s.filter(|l| *l > 0.0) {
            let fraction = u.p95_ms / (limit_s * 1000.0);
            if fraction >= NEAR_TIMEOUT {
                out.push(Pattern {
                    id: format!("near_timeout:{}", u.capability),
                    kind: PatternKind::PerformancePattern,
                    signal: "near_timeout".into(),
                    description: format!(
                        "{} takes {:.0} ms at p95, {:.0}% of its {} s time limit: calls are close to timing out",
                        u.capability,
                        u.p95_ms,
                        fraction * 100.0,
                        limit_s
                    ),
                    severity: if fraction >= 0.8 {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    confidence: 0.9,
                    affected_components: vec![u.capability.clone()],
                    locations: Vec::new(),
                    evidence: serde_json::json!({
                        "p50_ms": u.p50_ms,
                        "p95_ms": u.p95_ms,
                        "time_limit_s": limit_s,
                    }),
                });
            }
        }
    }
    for s in sequences {
        if s.count < min_frequency || s.subjects < 2 || s.probability < SEQUENCE_PROBABILITY {
            continue;
        }
        out.push(Pattern {
            id: format!("call_sequence:{}>{}", s.first, s.then),
            kind: PatternKind::UsagePattern,
            signal: "call_sequence".into(),
            description: format!(
                "{} is followed by {} {} times by {} subjects ({:.0}% of its calls, {:.1} s apart on average): a composite capability could serve both in one call",
                s.first,
                s.then,
                s.count,
                s.subjects,
                s.probability * 100.0,
                s.mean_gap_ms / 1000.0
            ),
            severity: if s.probability >= 0.8 {
                Severity::Medium
            } else {
                Severity::Low
            },
            // As sure as the sequence is regular, and seen by enough subjects.
            confidence: s.probability.min(1.0) * (s.subjects.min(5) as f64 / 5.0),
            affected_components: vec![s.first.clone(), s.then.clone()],
            locations: Vec::new(),
            evidence: serde_json::json!({
                "count": s.count,
                "subjects": s.subjects,
                "probability": s.probability,
                "mean_gap_ms": s.mean_gap_ms,
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_count_pairs_within_the_gap_per_subject() {
        let names = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let trail = vec![
            // subject 1: a, b (1 s later), c (2 min later: too late)
            (1, 0, 0),
            (1, 1_000, 1),
            (1, 121_000, 2),
            // subject 2: a, b, a, b
            (2, 0, 0),
            (2, 500, 1),
            (2, 10_000, 0),
            (2, 10_500, 1),
            // subject 3: b alone, then a later by another subject's standards
            (3, 0, 1),
        ];
        let seqs = sequences(trail, &names, 60);
        let ab = seqs
            .iter()
            .find(|s| s.first == "a" && s.then == "b")
            .expect("a then b");
        assert_eq!((ab.count, ab.subjects), (3, 2));
        assert!(
            (ab.probability - 1.0).abs() < 1e-12,
            "every a is followed by b"
        );
        assert!((ab.mean_gap_ms - (1000.0 + 500.0 + 500.0) / 3.0).abs() < 1e-9);
        let ba = seqs
            .iter()
            .find(|s| s.first == "b" && s.then == "a")
            .expect("b then a");
        assert_eq!(
            (ba.count, ba.subjects),
            (1, 1),
            "subject 2's b at 500 then a at 10 000"
        );
        assert!(seqs.iter().all(|s| s.then != "c"), "c came after the gap");
    }
}
