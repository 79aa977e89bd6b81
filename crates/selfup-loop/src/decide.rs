//! Deciding on a candidate: an opportunity score, a risk score, and an
//! outcome. The rule-based engine is here; the LLM and hybrid engines
//! (`llm_engine.rs`) implement the same trait, and every engine's outcome
//! passes [`within_limits`], which no answer of an LLM can get around.
//!
//! Outcomes: risk above `decision.require_human_approval_above_risk` waits
//! for a human; otherwise opportunity at or above
//! `decision.auto_approve_threshold` is approved; otherwise the candidate
//! is deferred and looked at again in later cycles (a human may still
//! approve it).

use std::future::Future;
use std::pin::Pin;

use selfup_core::config::DecisionConfig;
use selfup_core::manifest::PluginManifest;
use selfup_core::upgrade::UpgradeKind;
use serde::Serialize;

use crate::scan::Candidate;

/// What an engine decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Go ahead.
    Approve,
    /// A human must decide.
    NeedsApproval,
    /// Not now.
    Defer,
    /// Never.
    Reject,
}

/// A decision with its reasons.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The engine that decided (`rule_based`, …).
    pub engine: &'static str,
    /// The outcome.
    pub outcome: Outcome,
    /// How much there is to gain, in [0, 1].
    pub opportunity: f64,
    /// How much could go wrong, in [0, 1].
    pub risk: f64,
    /// Each rule that contributed, in words.
    pub reasons: Vec<String>,
    /// What the LLM was asked and answered (LLM and hybrid engines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmTrail>,
}

/// The LLM's part in a decision, for the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmTrail {
    /// The model that answered (or was asked).
    pub model: String,
    /// SHA-256 of the request (messages and schema).
    pub prompt_sha256: String,
    /// The row of the call in the LLM call log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<i64>,
    /// Wall time of the call, retries included.
    pub latency_ms: f64,
    /// Requests sent.
    pub attempts: u32,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Answer tokens.
    pub completion_tokens: u64,
    /// What it cost in US dollars.
    pub cost_usd: f64,
    /// The structured answer, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<serde_json::Value>,
    /// Why there was none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the loop looks like when it decides (the seed's system context).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SystemContext {
    /// Plugins installed.
    pub installed_plugins: usize,
    /// Upgrades rolling out now.
    pub upgrades_in_flight: usize,
    /// Proposals waiting for a human.
    pub pending_approvals: usize,
    /// Upgrades started in the last 24 hours, and the daily cap.
    pub started_today: u64,
    /// `cycle.max_upgrades_per_day`.
    pub daily_cap: u32,
    /// Completed ÷ (completed + rolled back + failed) over the last 30 days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recent_success_rate: Option<f64>,
}

/// A decision on its way.
pub type DecisionFuture<'a> = Pin<Box<dyn Future<Output = Decision> + Send + 'a>>;

/// Decides on candidates.
pub trait DecisionEngine: Send + Sync {
    /// The decision on `candidate`. Never fails: an engine that cannot
    /// decide falls back to something conservative and says why.
    fn decide<'a>(
        &'a self,
        candidate: &'a Candidate,
        context: &'a SystemContext,
    ) -> DecisionFuture<'a>;

    /// Whether a decision costs money (an LLM call): deferred proposals
    /// are then decided again once a day instead of every cycle.
    fn costly(&self) -> bool {
        false
    }
}

/// The limits no engine crosses: a risk above
/// `decision.require_human_approval_above_risk` is never approved (nor
/// deferred out of a human's sight: it waits for one unless it is
/// rejected). Validation, gates and the daily cap come after approval in
/// the lifecycle, so no decision can skip them.
pub fn within_limits(config: &DecisionConfig, mut decision: Decision) -> Decision {
    let line = config.require_human_approval_above_risk;
    if decision.risk > line && matches!(decision.outcome, Outcome::Approve | Outcome::Defer) {
        decision.reasons.push(format!(
            "risk {:.2} is above decision.require_human_approval_above_risk {line:.2}: a human decides, whatever the engine said",
            decision.risk
        ));
        decision.outcome = Outcome::NeedsApproval;
    }
    decision
}

/// The rule-based engine.
#[derive(Debug, Clone)]
pub struct RuleBased {
    config: DecisionConfig,
}

impl RuleBased {
    /// An engine with the thresholds of `config`.
    pub fn new(config: DecisionConfig) -> Self {
        Self { config }
    }
}

impl DecisionEngine for RuleBased {
    fn decide<'a>(
        &'a self,
        candidate: &'a Candidate,
        _context: &'a SystemContext,
    ) -> DecisionFuture<'a> {
        Box::pin(std::future::ready(self.decide_now(candidate)))
    }
}

impl RuleBased {
    /// The rules' decision (synchronous: the rules need nothing remote).
    pub fn decide_now(&self, c: &Candidate) -> Decision {
        let mut reasons = Vec::new();
        let (opportunity, risk) = match (c.kind, &c.incumbent) {
            (UpgradeKind::NewVersion, Some(incumbent)) => {
                score_new_version(c, &incumbent.manifest, &mut reasons)
            }
            _ => score_new_capability(c, &mut reasons),
        };
        let (opportunity, risk) = (opportunity.clamp(0.0, 1.0), risk.clamp(0.0, 1.0));
        let outcome = if risk > self.config.require_human_approval_above_risk {
            reasons.push(format!(
                "risk {risk:.2} is above decision.require_human_approval_above_risk {:.2}: a human decides",
                self.config.require_human_approval_above_risk
            ));
            Outcome::NeedsApproval
        } else if opportunity >= self.config.auto_approve_threshold {
            reasons.push(format!(
                "opportunity {opportunity:.2} reaches decision.auto_approve_threshold {:.2}: approved",
                self.config.auto_approve_threshold
            ));
            Outcome::Approve
        } else {
            reasons.push(format!(
                "opportunity {opportunity:.2} is below decision.auto_approve_threshold {:.2}: deferred (approve by hand with `selfup upgrades approve`)",
                self.config.auto_approve_threshold
            ));
            Outcome::Defer
        };
        Decision {
            engine: "rule_based",
            outcome,
            opportunity,
            risk,
            reasons,
            llm: None,
        }
    }
}

fn score_new_version(
    c: &Candidate,
    incumbent: &PluginManifest,
    reasons: &mut Vec<String>,
) -> (f64, f64) {
    let (from, to) = (&incumbent.version, &c.entry.manifest.version);
    let (mut opportunity, mut risk) = if to.major != from.major {
        reasons.push(format!(
            "major version {from} → {to}: new behaviour (opportunity 0.70, risk 0.35)"
        ));
        (0.70, 0.35)
    } else if to.minor != from.minor {
        reasons.push(format!(
            "minor version {from} → {to}: new features (opportunity 0.65, risk 0.15)"
        ));
        (0.65, 0.15)
    } else {
        reasons.push(format!(
            "patch version {from} → {to}: fixes (opportunity 0.60, risk 0.05)"
        ));
        (0.60, 0.05)
    };
    if let Some(h) = &c.incumbent_health {
        if h.calls >= 20 && h.error_rate > 0.01 {
            let bonus = (h.error_rate * 2.0).min(0.3);
            opportunity += bonus;
            reasons.push(format!(
                "the incumbent failed {:.1}% of {} calls lately (+{bonus:.2} opportunity)",
                h.error_rate * 100.0,
                h.calls
            ));
        }
        if h.calls >= 1000 {
            risk += 0.10;
            reasons.push(format!(
                "{} calls lately: many users would notice a regression (+0.10 risk)",
                h.calls
            ));
        }
    }
    risk += permission_risk(Some(incumbent), &c.entry.manifest, reasons);
    (opportunity, risk)
}

fn score_new_capability(c: &Candidate, reasons: &mut Vec<String>) -> (f64, f64) {
    let opportunity = 1.0 - (-(c.demand as f64) / 10.0).exp();
    reasons.push(format!(
        "\"{}\" was asked for {} times and nobody serves it (opportunity {opportunity:.2})",
        c.capability, c.demand
    ));
    let mut risk = 0.20;
    reasons.push("a new plugin with no incumbent to fall back on (risk 0.20)".to_owned());
    risk += permission_risk(None, &c.entry.manifest, reasons);
    (opportunity, risk)
}

/// Risk from what the candidate may touch beyond the incumbent.
fn permission_risk(
    incumbent: Option<&PluginManifest>,
    candidate: &PluginManifest,
    reasons: &mut Vec<String>,
) -> f64 {
    let mut risk = 0.0;
    let (old_paths, old_hosts, old_mem) = incumbent.map_or((0, 0, 0), |m| {
        (
            m.security_profile.allowed_file_paths.len(),
            m.security_profile.allowed_network_hosts.len(),
            m.resource_limits.max_memory_mb,
        )
    });
    let sp = &candidate.security_profile;
    if sp.allowed_file_paths.len() > old_paths {
        risk += 0.20;
        reasons.push(format!(
            "it may read and write {} more directories (+0.20 risk)",
            sp.allowed_file_paths.len() - old_paths
        ));
    }
    if sp.allowed_network_hosts.len() > old_hosts {
        risk += 0.25;
        reasons.push(format!(
            "it may reach {} more network hosts (+0.25 risk)",
            sp.allowed_network_hosts.len() - old_hosts
        ));
    }
    if incumbent.is_some() && candidate.resource_limits.max_memory_mb > old_mem {
        risk += 0.05;
        reasons.push(format!(
            "its memory cap rises from {old_mem} to {} MiB (+0.05 risk)",
            candidate.resource_limits.max_memory_mb
        ));
    }
    risk
}
