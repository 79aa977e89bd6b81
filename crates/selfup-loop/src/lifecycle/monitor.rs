//! Watching rollouts: every evaluation reads the calls recorded since the
//! last one, judges the current stage, and advances, completes or rolls
//! back — in every state of the rollout, so a failing gate is never missed.

use selfup_core::upgrade::{Actor, UpgradeState};
use selfup_store::rollouts::Rollout;
use selfup_store::upgrades::Upgrade;

use crate::orchestrator::{Change, Orchestrator, OrchestratorError};
use crate::rollout::gates::{Monitor, StageDecision, StageVerdict, evaluate};

/// Calls read per query while catching up.
const READ_BATCH: usize = 50_000;

impl Orchestrator {
    /// Evaluates every rollout once.
    pub async fn evaluate_rollouts(&self) -> Result<Vec<Change>, OrchestratorError> {
        let mut changes = Vec::new();
        for rollout in self.ctx.store.rollouts()? {
            let Some(upgrade) = self.ctx.store.upgrade(rollout.upgrade_id)? else {
                continue;
            };
            if upgrade.state.stage() != Some(rollout.stage) {
                continue;
            }
            let verdict = self.look(&rollout)?;
            let acted = self.act(&upgrade, &rollout, verdict)?;
            if !acted.is_empty() {
                self.pause().await;
            }
            changes.extend(acted);
        }
        Ok(changes)
    }

    /// Brings the rollout's numbers up to date and judges its stage.
    fn look(&self, rollout: &Rollout) -> Result<StageVerdict, OrchestratorError> {
        let mut all = self.rollout_stats.lock().unwrap_or_else(|p| p.into_inner());
        let stats = all.entry(rollout.upgrade_id).or_default();
        loop {
            let calls = self.ctx.store.experiment_calls(
                rollout.upgrade_id,
                stats.last_rowid,
                READ_BATCH,
            )?;
            stats.ingest(&calls);
            if calls.len() < READ_BATCH {
                break;
            }
        }
        let stage_stats = stats.stage(rollout.stage as u32);
        drop(all);
        let mut monitor: Monitor =
            serde_json::from_value(rollout.monitor.clone()).unwrap_or_default();
        let stages = self.stages();
        let stage =
            stages
                .get(rollout.stage)
                .cloned()
                .unwrap_or_else(|| selfup_core::config::Stage {
                    name: format!("stage {}", rollout.stage),
                    traffic_percentage: rollout.traffic_percentage,
                    duration_hours: 0.0,
                    gates: Vec::new(),
                });
        let verdict = evaluate(
            &self.ctx.config,
            &stage,
            rollout,
            &stage_stats,
            &mut monitor,
            self.now(),
        );
        let monitor = serde_json::to_value(&monitor).unwrap_or_default();
        self.ctx.store.write(self.now(), |tx| {
            tx.set_rollout_monitor(&rollout.capability, &monitor)
        })?;
        Ok(verdict)
    }

    fn act(
        &self,
        upgrade: &Upgrade,
        rollout: &Rollout,
        verdict: StageVerdict,
    ) -> Result<Vec<Change>, OrchestratorError> {
        let stages = self.stages();
        let stage_count = stages.len();
        let verdict_json = serde_json::to_value(&verdict).unwrap_or_default();
        let key = format!("stage_{}", rollout.stage);
        match verdict.decision {
            StageDecision::Continue => {
                // Remember "no data" and the latest numbers for `upgrades show`.
                if verdict.no_data
                    && verdict.elapsed_hours >= verdict.duration_hours
                    && upgrade.evidence[&key]["no_data"] != true
                {
                    self.ctx.store.write(self.now(), |tx| {
                        tx.merge_evidence(upgrade.id, &key, &verdict_json)
                    })?;
                    return Ok(vec![self.change(Some(upgrade.id), verdict.reason.clone())]);
                }
                Ok(Vec::new())
            }
            StageDecision::Advance => {
                let next = rollout.stage + 1;
                let actor = Actor::Gate(format!("stage:{}", verdict.stage_name));
                if next < stage_count {
                    let stage = &stages[next];
                    self.ctx
                        .store
                        .write(self.now(), |tx| -> Result<(), OrchestratorError> {
                            tx.merge_evidence(upgrade.id, &key, &verdict_json)?;
                            tx.set_rollout_stage(
                                &rollout.capability,
                                next,
                                stage.traffic_percentage,
                            )?;
                            tx.transition(
                                upgrade.id,
                                &UpgradeState::RollingOut { stage: next },
                                &actor,
                                &verdict_json,
                                stage_count,
                            )?;
                            Ok(())
                        })?;
                    self.routing_changed();
                    Ok(vec![self.change(
                        Some(upgrade.id),
                        format!(
                            "{} → stage \"{}\" ({}% of traffic)",
                            verdict.reason, stage.name, stage.traffic_percentage
                        ),
                    )])
                } else {
                    self.complete(upgrade, rollout, &key, &verdict_json, &actor)?;
                    Ok(vec![self.change(
                        Some(upgrade.id),
                        format!(
                            "{} → completed: {}@{} serves all of {}",
                            verdict.reason, upgrade.plugin, upgrade.to_version, upgrade.capability
                        ),
                    )])
                }
            }
            StageDecision::RollBack | StageDecision::Expire => {
                let auto = self.ctx.config.rollback.auto_rollback_enabled
                    && self.ctx.config.rollout.auto_rollback_on_failure;
                if verdict.decision == StageDecision::RollBack && !auto {
                    if upgrade.evidence["paused"]["reason"] != verdict.reason.as_str() {
                        self.ctx.store.write(self.now(), |tx| {
                            tx.merge_evidence(upgrade.id, "paused", &verdict_json)
                        })?;
                        return Ok(vec![self.change(
                            Some(upgrade.id),
                            format!(
                                "{}; automatic rollback is off (rollback.auto_rollback_enabled / rollout.auto_rollback_on_failure): roll back with `selfup rollback {}`",
                                verdict.reason, upgrade.id
                            ),
                        )]);
                    }
                    return Ok(Vec::new());
                }
                let gate = verdict
                    .gates
                    .iter()
                    .find(|g| g.status == crate::rollout::gates::GateStatus::Fail)
                    .map_or("max_experiment_duration".to_owned(), |g| g.gate.clone());
                let actor = Actor::Gate(gate);
                let reason = format!("stage \"{}\": {}", verdict.stage_name, verdict.reason);
                self.roll_back_partial(upgrade, &reason, &actor, Some((&key, &verdict_json)))?;
                Ok(vec![self.change(
                    Some(upgrade.id),
                    format!("rolled back automatically: {reason}"),
                )])
            }
        }
    }

    /// RollingOut(last) → Completed: the candidate becomes the active
    /// provider of the capabilities the incumbent served; the rollout ends.
    fn complete(
        &self,
        upgrade: &Upgrade,
        rollout: &Rollout,
        key: &str,
        verdict: &serde_json::Value,
        actor: &Actor,
    ) -> Result<(), OrchestratorError> {
        let stage_count = self.stages().len();
        let candidate = self
            .ctx
            .store
            .plugin(&upgrade.plugin, &upgrade.to_version)?;
        let mut capabilities = vec![rollout.capability.clone()];
        if let Some((name, version)) = &rollout.incumbent
            && let Some(old) = self.ctx.store.plugin(name, version)?
        {
            capabilities.extend(old.active_for);
        }
        capabilities.sort();
        capabilities.dedup();
        let provided: Vec<String> = candidate
            .map(|c| {
                c.manifest
                    .provided_capabilities
                    .iter()
                    .map(|c| c.to_string())
                    .collect()
            })
            .unwrap_or_default();
        self.ctx
            .store
            .write(self.now(), |tx| -> Result<(), OrchestratorError> {
                tx.merge_evidence(upgrade.id, key, verdict)?;
                for cap in capabilities.iter().filter(|c| provided.contains(c)) {
                    tx.activate(cap, &upgrade.plugin, &upgrade.to_version)?;
                }
                tx.delete_rollout(&rollout.capability)?;
                tx.transition(
                    upgrade.id,
                    &UpgradeState::Completed,
                    actor,
                    verdict,
                    stage_count,
                )?;
                Ok(())
            })?;
        self.rollout_stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&upgrade.id);
        self.routing_changed();
        Ok(())
    }
}
