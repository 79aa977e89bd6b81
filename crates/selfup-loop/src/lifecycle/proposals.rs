//! Proposals: recording candidates with the engine's decision, and a
//! human's approval or rejection.

use selfup_core::upgrade::{Actor, UpgradeKind, UpgradeState};
use selfup_store::upgrades::NewUpgrade;

use crate::decide::{Decision, Outcome, SystemContext};
use crate::orchestrator::{Change, Orchestrator, OrchestratorError};
use crate::scan::Candidate;

/// How often a costly engine (an LLM) decides again on a deferred proposal.
pub const REDECIDE_COSTLY_MS: i64 = 86_400_000;

impl Orchestrator {
    /// What the engines are told about the loop.
    pub fn system_context(&self) -> Result<SystemContext, OrchestratorError> {
        use selfup_store::upgrades::UpgradeFilter;
        let now = self.now();
        let store = &self.ctx.store;
        let in_flight = store
            .upgrades(&UpgradeFilter {
                states: vec!["planned", "validating", "rolling_out"],
                plugin: None,
            })?
            .len();
        let pending = store
            .upgrades(&UpgradeFilter {
                states: vec!["awaiting_approval"],
                plugin: None,
            })?
            .len();
        let ended = store.upgrades(&UpgradeFilter {
            states: vec!["completed", "rolled_back", "failed"],
            plugin: None,
        })?;
        let recent: Vec<_> = ended
            .iter()
            .filter(|u| u.state_since_ms >= now - 30 * 86_400_000)
            .collect();
        let completed = recent
            .iter()
            .filter(|u| u.state.name() == "completed")
            .count();
        Ok(SystemContext {
            installed_plugins: store.list_plugins()?.len(),
            upgrades_in_flight: in_flight,
            pending_approvals: pending,
            started_today: store.upgrades_started_since(now - 86_400_000)?,
            daily_cap: self.ctx.config.cycle.max_upgrades_per_day,
            recent_success_rate: (!recent.is_empty())
                .then(|| completed as f64 / recent.len() as f64),
        })
    }

    /// Records each candidate (or re-decides a deferred one) with the
    /// engine's decision, and the decision itself in the trail.
    pub async fn decide_candidates(
        &self,
        candidates: &[Candidate],
    ) -> Result<Vec<Change>, OrchestratorError> {
        let stage_count = self.stages().len();
        let mut changes = Vec::new();
        let context = self.system_context()?;
        for (i, candidate) in candidates.iter().enumerate() {
            let m = &candidate.entry.manifest;
            let existing = self
                .ctx
                .store
                .upgrade_for_target(m.name.as_str(), &m.version)?;
            // An engine that costs money asks again about a deferred
            // proposal once a day, not every cycle.
            if self.ctx.engine.costly()
                && let Some(u) = &existing
                && matches!(u.state, UpgradeState::Deferred { .. })
                && self.now() - u.updated_at_ms < REDECIDE_COSTLY_MS
            {
                continue;
            }
            self.progress.step(&format!(
                "deciding {} of {}: {}",
                i + 1,
                candidates.len(),
                candidate.id()
            ));
            let decision = self.ctx.engine.decide(candidate, &context).await;
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
                    let detail = serde_json::to_value(&decision).unwrap_or_default();
                    tx.record_decision(
                        id,
                        decision.engine,
                        outcome_name(decision.outcome),
                        &detail,
                        decision.llm.as_ref().and_then(|l| l.call_id),
                    )?;
                    let to = outcome_state(&decision);
                    tx.transition(id, &to, &actor, &detail, stage_count)?;
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

    /// Defers the proposals that waited for a human longer than
    /// `decision.approval_expiry_hours`; a human may still approve them.
    pub fn expire_approvals(&self) -> Result<Vec<Change>, OrchestratorError> {
        use selfup_store::upgrades::UpgradeFilter;
        let hours = self.ctx.config.decision.approval_expiry_hours.max(1);
        let cutoff = self.now() - i64::from(hours) * 3_600_000;
        let stage_count = self.stages().len();
        let waiting = self.ctx.store.upgrades(&UpgradeFilter {
            states: vec!["awaiting_approval"],
            plugin: None,
        })?;
        let mut changes = Vec::new();
        for u in waiting.iter().filter(|u| u.state_since_ms <= cutoff) {
            let reason = format!(
                "no human decided within decision.approval_expiry_hours ({hours} h); approve it with `selfup upgrades approve {}`",
                u.id
            );
            let to = UpgradeState::Deferred {
                reason: reason.clone(),
            };
            let detail = serde_json::json!({ "reason": reason });
            self.ctx
                .store
                .write(self.now(), |tx| -> Result<(), OrchestratorError> {
                    // Only if no human decided in the meantime.
                    if tx.upgrade(u.id)?.state == UpgradeState::AwaitingApproval {
                        tx.transition(
                            u.id,
                            &to,
                            &Actor::Rule("approval_expiry".to_owned()),
                            &detail,
                            stage_count,
                        )?;
                    }
                    Ok(())
                })?;
            changes.push(self.change(Some(u.id), format!("deferred: {reason}")));
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

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Approve => "approve",
        Outcome::NeedsApproval => "needs_approval",
        Outcome::Defer => "defer",
        Outcome::Reject => "reject",
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
