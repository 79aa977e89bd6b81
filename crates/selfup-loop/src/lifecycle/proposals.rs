//! Proposals: recording candidates with the engine's decision, and a
//! human's approval or rejection.

use selfup_core::upgrade::{Actor, UpgradeKind, UpgradeState};
use selfup_store::upgrades::NewUpgrade;

use crate::decide::{Decision, Outcome};
use crate::orchestrator::{Change, Orchestrator, OrchestratorError};
use crate::scan::Candidate;

impl Orchestrator {
    /// Records each candidate (or re-decides a deferred one) with the
    /// engine's decision.
    pub fn decide_candidates(
        &self,
        candidates: &[Candidate],
    ) -> Result<Vec<Change>, OrchestratorError> {
        let stage_count = self.stages().len();
        let mut changes = Vec::new();
        for candidate in candidates {
            let decision = self.ctx.engine.decide(candidate);
            let m = &candidate.entry.manifest;
            let existing = self
                .ctx
                .store
                .upgrade_for_target(m.name.as_str(), &m.version)?;
            let evidence = serde_json::json!({
                "candidate": {
                    "package": candidate.id(),
                    "source": candidate.entry.location.to_string(),
                    "incumbent": candidate.incumbent.as_ref().map(|i| i.manifest.id()),
                    "incumbent_health": candidate.incumbent_health,
                    "demand": candidate.demand,
                    "examples": candidate.examples,
                },
                "decision": decision,
            });
            let actor = Actor::Rule(decision.engine.to_owned());
            let id = self
                .ctx
                .store
                .write(self.now(), |tx| -> Result<i64, OrchestratorError> {
                    let id = match &existing {
                        Some(u) if matches!(u.state, UpgradeState::Deferred { .. }) => {
                            tx.merge_evidence(u.id, "decision", &evidence["decision"])?;
                            match decision.outcome {
                                Outcome::Defer => return Ok(u.id),
                                Outcome::Approve => {}
                                _ => {
                                    tx.transition(
                                        u.id,
                                        &UpgradeState::Proposed,
                                        &actor,
                                        &evidence,
                                        stage_count,
                                    )?;
                                }
                            }
                            u.id
                        }
                        _ => tx.insert_upgrade(
                            &NewUpgrade {
                                kind: candidate.kind,
                                capability: candidate.capability.clone(),
                                plugin: m.name.to_string(),
                                from_version: candidate
                                    .incumbent
                                    .as_ref()
                                    .map(|i| i.manifest.version.clone()),
                                to_version: m.version.clone(),
                                source: candidate.entry.location.to_string(),
                                opportunity: decision.opportunity,
                                risk: decision.risk,
                                evidence: evidence.clone(),
                            },
                            &actor,
                        )?,
                    };
                    let to = outcome_state(&decision);
                    tx.transition(
                        id,
                        &to,
                        &actor,
                        &serde_json::to_value(&decision).unwrap_or_default(),
                        stage_count,
                    )?;
                    Ok(id)
                })?;
            let what = match candidate.kind {
                UpgradeKind::NewVersion => format!(
                    "{} → {} for {}",
                    candidate
                        .incumbent
                        .as_ref()
                        .map_or_else(String::new, |i| i.manifest.id()),
                    candidate.id(),
                    candidate.capability
                ),
                UpgradeKind::NewCapability => format!(
                    "{} to serve {} (asked for {} times)",
                    candidate.id(),
                    candidate.capability,
                    candidate.demand
                ),
            };
            changes.push(self.change(
                Some(id),
                format!(
                    "proposed {what}: opportunity {:.2}, risk {:.2} → {}",
                    decision.opportunity,
                    decision.risk,
                    outcome_state(&decision)
                ),
            ));
        }
        Ok(changes)
    }

    /// A human approves upgrade `id` (awaiting approval, or deferred).
    pub fn approve(&self, id: i64, who: &str, reason: &str) -> Result<Change, OrchestratorError> {
        let stage_count = self.stages().len();
        let detail = serde_json::json!({ "reason": reason });
        self.ctx.store.write(self.now(), |tx| -> Result<(), OrchestratorError> {
            let upgrade = tx.upgrade(id)?;
            if !matches!(upgrade.state, UpgradeState::AwaitingApproval | UpgradeState::Deferred { .. } | UpgradeState::Proposed) {
                return Err(OrchestratorError::Refused(format!(
                    "upgrade {id} is {}; only proposed, deferred or awaiting upgrades can be approved",
                    upgrade.state
                )));
            }
            tx.merge_evidence(id, "approval", &serde_json::json!({ "by": who, "reason": reason }))?;
            tx.transition(id, &UpgradeState::Approved, &Actor::Human(who.to_owned()), &detail, stage_count)?;
            Ok(())
        })?;
        Ok(self.change(Some(id), format!("approved by {who}: {reason}")))
    }

    /// A human rejects upgrade `id`.
    pub fn reject(&self, id: i64, who: &str, reason: &str) -> Result<Change, OrchestratorError> {
        let stage_count = self.stages().len();
        let detail = serde_json::json!({ "reason": reason });
        self.ctx.store.write(self.now(), |tx| -> Result<(), OrchestratorError> {
            let upgrade = tx.upgrade(id)?;
            if !matches!(upgrade.state, UpgradeState::AwaitingApproval | UpgradeState::Deferred { .. } | UpgradeState::Proposed) {
                return Err(OrchestratorError::Refused(format!(
                    "upgrade {id} is {}; only proposed, deferred or awaiting upgrades can be rejected (roll back one that is rolling out)",
                    upgrade.state
                )));
            }
            let to = UpgradeState::Rejected {
                reason: format!("rejected by {who}: {reason}"),
            };
            tx.transition(id, &to, &Actor::Human(who.to_owned()), &detail, stage_count)?;
            Ok(())
        })?;
        Ok(self.change(Some(id), format!("rejected by {who}: {reason}")))
    }
}

fn outcome_state(decision: &Decision) -> UpgradeState {
    let reason = decision.reasons.last().cloned().unwrap_or_default();
    match decision.outcome {
        Outcome::Approve => UpgradeState::Approved,
        Outcome::NeedsApproval => UpgradeState::AwaitingApproval,
        Outcome::Defer => UpgradeState::Deferred { reason },
        Outcome::Reject => UpgradeState::Rejected { reason },
    }
}
