//! The `llm` and `hybrid` decision engines.
//!
//! Both ask the LLM the seed's question (approve, reject or defer, with a
//! confidence, reasoning, a risk assessment and recommendations) as a
//! structured output, and both keep the rules' risk score: the LLM may make
//! a decision more careful, never less.
//!
//! - `llm`: the LLM decides. An approval counts only at or above
//!   `decision.auto_approve_threshold` confidence (below, it is deferred); a
//!   "high" security risk in its own assessment sends the proposal to a
//!   human. When the call fails (error, refusal, truncation, JSON that does
//!   not fit, budget spent) the proposal is deferred with the reason — it is
//!   decided again next cycle, and a human may approve it meanwhile.
//! - `hybrid`: the rules decide first and veto: what they send to a human
//!   or reject stays so (the LLM's opinion is attached as advice); what they
//!   approve the LLM may approve, defer or reject; what they defer the LLM
//!   may defer or reject. When the call fails, the rules' decision stands.
//!
//! Every outcome then passes [`within_limits`].

use std::sync::Arc;

use selfup_core::config::DecisionConfig;
use selfup_core::upgrade::UpgradeKind;
use selfup_llm::{JsonRequest, LlmAnswer, LlmClient, LlmFailure};
use serde::Deserialize;

use crate::decide::{
    Decision, DecisionEngine, DecisionFuture, LlmTrail, Outcome, RuleBased, SystemContext,
    within_limits,
};
use crate::scan::Candidate;

/// Which of the two LLM engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The LLM decides within the hard limits.
    Llm,
    /// The rules veto; the LLM decides inside what they allow.
    Hybrid,
}

/// The `llm` or `hybrid` engine.
pub struct LlmEngine {
    mode: Mode,
    config: DecisionConfig,
    rules: RuleBased,
    client: Arc<LlmClient>,
}

impl LlmEngine {
    /// An engine asking `client`, with the thresholds of `config`.
    pub fn new(mode: Mode, config: DecisionConfig, client: Arc<LlmClient>) -> Self {
        Self {
            mode,
            rules: RuleBased::new(config.clone()),
            config,
            client,
        }
    }

    async fn decide_async(&self, candidate: &Candidate, context: &SystemContext) -> Decision {
        let rules = self.rules.decide_now(candidate);
        let request = evaluation_request(candidate, context, &rules);
        let decision = match self.client.complete_json(&request).await {
            Ok(answer) => match serde_json::from_value::<Evaluation>(answer.value.clone()) {
                Ok(evaluation) => self.combine(rules, &evaluation, trail_of_answer(&answer)),
                Err(e) => {
                    let mut trail = trail_of_answer(&answer);
                    trail.error = Some(format!("the answer does not fit the evaluation: {e}"));
                    self.fall_back(rules, trail)
                }
            },
            Err(failure) => self.fall_back(rules, trail_of_failure(&failure, self.model())),
        };
        within_limits(&self.config, decision)
    }

    fn model(&self) -> &str {
        &self.config.llm.model
    }

    fn engine_name(&self) -> &'static str {
        match self.mode {
            Mode::Llm => "llm",
            Mode::Hybrid => "hybrid",
        }
    }

    /// The LLM's answer applied to the rules' decision.
    fn combine(&self, rules: Decision, e: &Evaluation, trail: LlmTrail) -> Decision {
        let mut reasons = rules.reasons.clone();
        reasons.push(format!(
            "LLM ({}): {} with confidence {:.2} — {}",
            trail.model,
            e.decision.word(),
            e.confidence,
            e.reasoning.trim()
        ));
        let threshold = self.config.auto_approve_threshold;
        let llm_outcome = match e.decision {
            Verdict::Approve if e.confidence >= threshold => Outcome::Approve,
            Verdict::Approve => {
                reasons.push(format!(
                    "the LLM's confidence {:.2} is below decision.auto_approve_threshold {threshold:.2}: deferred",
                    e.confidence
                ));
                Outcome::Defer
            }
            Verdict::Defer => Outcome::Defer,
            Verdict::Reject => Outcome::Reject,
        };
        let llm_outcome = if e.risk_assessment.security == Level::High
            && matches!(llm_outcome, Outcome::Approve | Outcome::Defer)
        {
            reasons.push("the LLM rates the security risk high: a human decides".to_owned());
            Outcome::NeedsApproval
        } else {
            llm_outcome
        };
        let outcome = match self.mode {
            Mode::Llm => llm_outcome,
            Mode::Hybrid => {
                let allowed = match rules.outcome {
                    Outcome::NeedsApproval | Outcome::Reject => rules.outcome,
                    Outcome::Approve => llm_outcome,
                    Outcome::Defer => match llm_outcome {
                        Outcome::Approve => Outcome::Defer,
                        other => other,
                    },
                };
                if allowed != llm_outcome {
                    reasons.push(format!(
                        "hybrid: the rules' {} stands over the LLM's {}",
                        outcome_word(rules.outcome),
                        outcome_word(llm_outcome)
                    ));
                }
                allowed
            }
        };
        Decision {
            engine: self.engine_name(),
            outcome,
            opportunity: rules.opportunity,
            risk: rules.risk,
            reasons,
            llm: Some(trail),
        }
    }

    /// The conservative fallback when the LLM gave no usable answer.
    fn fall_back(&self, rules: Decision, trail: LlmTrail) -> Decision {
        let error = trail.error.clone().unwrap_or_default();
        let mut reasons = rules.reasons.clone();
        let outcome = match self.mode {
            Mode::Llm => {
                reasons.push(format!(
                    "the LLM gave no decision ({error}): deferred, to be decided again next cycle (a human may approve it)"
                ));
                if rules.outcome == Outcome::NeedsApproval {
                    Outcome::NeedsApproval
                } else {
                    Outcome::Defer
                }
            }
            Mode::Hybrid => {
                reasons.push(format!(
                    "the LLM gave no decision ({error}): the rules' {} stands",
                    outcome_word(rules.outcome)
                ));
                rules.outcome
            }
        };
        Decision {
            engine: self.engine_name(),
            outcome,
            opportunity: rules.opportunity,
            risk: rules.risk,
            reasons,
            llm: Some(trail),
        }
    }
}

impl DecisionEngine for LlmEngine {
    fn decide<'a>(
        &'a self,
        candidate: &'a Candidate,
        context: &'a SystemContext,
    ) -> DecisionFuture<'a> {
        Box::pin(self.decide_async(candidate, context))
    }

    fn costly(&self) -> bool {
        true
    }
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Approve => "approve",
        Outcome::NeedsApproval => "human approval",
        Outcome::Defer => "defer",
        Outcome::Reject => "reject",
    }
}

/// What the LLM answers (the seed's response format).
#[derive(Debug, Clone, Deserialize)]
struct Evaluation {
    decision: Verdict,
    confidence: f64,
    reasoning: String,
    risk_assessment: RiskAssessment,
    #[allow(dead_code)]
    recommendations: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Verdict {
    Approve,
    Reject,
    Defer,
}

impl Verdict {
    fn word(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Reject => "reject",
            Verdict::Defer => "defer",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[allow(dead_code)]
struct RiskAssessment {
    technical: Level,
    security: Level,
    performance: Level,
    operational: Level,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Level {
    Low,
    Medium,
    High,
}

/// The strict JSON schema of [`Evaluation`].
pub fn evaluation_schema() -> serde_json::Value {
    let level = serde_json::json!({ "type": "string", "enum": ["low", "medium", "high"] });
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["decision", "confidence", "reasoning", "risk_assessment", "recommendations"],
        "properties": {
            "decision": { "type": "string", "enum": ["approve", "reject", "defer"] },
            "confidence": { "type": "number", "minimum": 0, "maximum": 1 },
            "reasoning": { "type": "string" },
            "risk_assessment": {
                "type": "object",
                "additionalProperties": false,
                "required": ["technical", "security", "performance", "operational"],
                "properties": {
                    "technical": level,
                    "security": level,
                    "performance": level,
                    "operational": level,
                }
            },
            "recommendations": { "type": "array", "items": { "type": "string" } }
        }
    })
}

const SYSTEM_PROMPT: &str = "You are an expert AI systems architect evaluating a potential upgrade \
of an AI agent's capabilities (sandboxed WebAssembly plugins). Decide whether to proceed: \
approve, reject or defer. Approving starts validation (signature, static scan, dependency \
resolution, replay of recorded inputs) and a staged rollout with automatic rollback; it never \
skips them. Be conservative: reject what looks harmful, defer what lacks evidence. Answer with \
the JSON object the schema describes: decision, confidence (0 to 1), reasoning, a risk \
assessment per category (technical, security, performance, operational: low, medium or high) \
and recommendations.";

/// The request for one candidate: the seed's evaluation prompt, as data.
pub fn evaluation_request(
    candidate: &Candidate,
    context: &SystemContext,
    rules: &Decision,
) -> JsonRequest {
    let m = &candidate.entry.manifest;
    let opportunity = serde_json::json!({
        "type": match candidate.kind {
            UpgradeKind::NewVersion => "new_version",
            UpgradeKind::NewCapability => "new_capability",
        },
        "capability": candidate.capability,
        "package": candidate.id(),
        "description": m.description,
        "incumbent": candidate.incumbent.as_ref().map(|i| i.manifest.id()),
        "incumbent_health": candidate.incumbent_health,
        "unmet_requests": candidate.demand,
        "request_examples": candidate.examples,
        "permissions": {
            "file_paths": m.security_profile.allowed_file_paths,
            "network_hosts": m.security_profile.allowed_network_hosts,
            "max_memory_mb": m.resource_limits.max_memory_mb,
        },
        "rules": {
            "estimated_value": rules.opportunity,
            "estimated_risk": rules.risk,
            "reasons": rules.reasons,
        },
    });
    let user = format!(
        "## UPGRADE OPPORTUNITY\n{}\n\n## SYSTEM CONTEXT\n{}\n\nEvaluate this upgrade opportunity.",
        serde_json::to_string_pretty(&opportunity).unwrap_or_default(),
        serde_json::to_string_pretty(context).unwrap_or_default()
    );
    JsonRequest {
        purpose: "decision".to_owned(),
        system: SYSTEM_PROMPT.to_owned(),
        user,
        schema_name: "upgrade_evaluation".to_owned(),
        schema: evaluation_schema(),
    }
}

fn trail_of_answer(a: &LlmAnswer) -> LlmTrail {
    LlmTrail {
        model: a.model.clone(),
        prompt_sha256: a.prompt_sha256.clone(),
        call_id: a.call_id,
        latency_ms: a.latency_ms,
        attempts: a.attempts,
        prompt_tokens: a.prompt_tokens,
        completion_tokens: a.completion_tokens,
        cost_usd: a.cost_usd,
        answer: Some(a.value.clone()),
        error: None,
    }
}

fn trail_of_failure(f: &LlmFailure, model: &str) -> LlmTrail {
    LlmTrail {
        model: model.to_owned(),
        prompt_sha256: f.prompt_sha256.clone(),
        call_id: f.call_id,
        latency_ms: f.latency_ms,
        attempts: f.attempts,
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_usd: 0.0,
        answer: None,
        error: Some(f.error.to_string()),
    }
}
