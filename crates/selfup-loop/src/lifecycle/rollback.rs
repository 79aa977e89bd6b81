//! Rolling back: automatically when a gate fails (partial), or by hand
//! with a strategy — full (the whole snapshot), partial (only the
//! capabilities the upgrade touched) or compensating (the plugin's
//! declared compensating call first, then partial). And recovery after a
//! crash: nothing is left half-applied.

use std::sync::Arc;

use selfup_core::upgrade::{Actor, UpgradeState};
use selfup_gateway::PluginLoader;
use selfup_store::artifacts::ArtifactStore;
use selfup_store::registry::Route;
use selfup_store::snapshots::SnapshotState;
use selfup_store::upgrades::{Upgrade, UpgradeFilter};
use serde::Serialize;

use crate::orchestrator::{Change, Orchestrator, OrchestratorError};

/// How a manual rollback undoes an upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackStrategy {
    /// Restore the whole registry as the snapshot holds it.
    Full,
    /// Restore only the capabilities the upgrade touched.
    Partial,
    /// Call the plugin's compensating action, then restore partially.
    Compensating,
}

impl Orchestrator {
    /// The capabilities an upgrade touched: its own, and every capability
    /// its candidate serves now.
    fn touched(&self, upgrade: &Upgrade) -> Result<Vec<String>, OrchestratorError> {
        let mut caps = vec![upgrade.capability.clone()];
        if let Some(candidate) = self
            .ctx
            .store
            .plugin(&upgrade.plugin, &upgrade.to_version)?
        {
            caps.extend(candidate.active_for);
        }
        caps.sort();
        caps.dedup();
        Ok(caps)
    }

    /// Rolls back the capabilities `upgrade` touched to its snapshot, in one
    /// transaction with the transition.
    pub(crate) fn roll_back_partial(
        &self,
        upgrade: &Upgrade,
        reason: &str,
        actor: &Actor,
        evidence: Option<(&str, &serde_json::Value)>,
    ) -> Result<(), OrchestratorError> {
        let stage_count = self.stages().len();
        let snapshot = self.ctx.store.snapshot_of_upgrade(upgrade.id)?;
        let touched = self.touched(upgrade)?;
        self.ctx
            .store
            .write(self.now(), |tx| -> Result<(), OrchestratorError> {
                if let Some((key, value)) = evidence {
                    tx.merge_evidence(upgrade.id, key, value)?;
                }
                match &snapshot {
                    Some(s) => tx.restore_partial(&s.state, &touched)?,
                    None => {
                        // No snapshot (cannot happen for upgrades planned by this
                        // loop): end the rollout and put the incumbent back.
                        tx.delete_rollout(&upgrade.capability)?;
                        match &upgrade.from_version {
                            Some(v) => tx.activate(&upgrade.capability, &upgrade.plugin, v)?,
                            None => tx.deactivate(&upgrade.capability)?,
                        }
                    }
                }
                tx.transition(
                    upgrade.id,
                    &UpgradeState::RolledBack {
                        reason: reason.to_owned(),
                    },
                    actor,
                    &serde_json::json!({ "reason": reason, "capabilities": touched }),
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

    /// Rolls back upgrade `id` by hand. An upgrade that has not reached its
    /// rollout yet is cancelled (failed) instead.
    pub async fn rollback(
        &self,
        id: i64,
        strategy: RollbackStrategy,
        who: &str,
        reason: &str,
    ) -> Result<Change, OrchestratorError> {
        let upgrade = self.ctx.store.upgrade(id)?.ok_or_else(|| {
            OrchestratorError::Refused(format!(
                "there is no upgrade {id}; see `selfup upgrades list`"
            ))
        })?;
        let actor = Actor::Human(who.to_owned());
        let strategy_name = match strategy {
            RollbackStrategy::Full => "full",
            RollbackStrategy::Partial => "partial",
            RollbackStrategy::Compensating => "compensating",
        };
        let reason_text = format!("by {who} ({strategy_name} rollback): {reason}");
        match upgrade.state {
            UpgradeState::Approved | UpgradeState::Planned | UpgradeState::Validating => {
                let stage_count = self.stages().len();
                self.ctx
                    .store
                    .write(self.now(), |tx| -> Result<(), OrchestratorError> {
                        tx.transition(
                            id,
                            &UpgradeState::Failed {
                                reason: format!("cancelled {reason_text}"),
                            },
                            &actor,
                            &serde_json::json!({ "reason": reason }),
                            stage_count,
                        )?;
                        Ok(())
                    })?;
                if self
                    .ctx
                    .store
                    .plugin(&upgrade.plugin, &upgrade.to_version)?
                    .is_some_and(|p| p.active_for.is_empty())
                {
                    let _ = self.ctx.store.remove_plugin(
                        &upgrade.plugin,
                        Some(&upgrade.to_version),
                        who,
                        self.now(),
                    );
                }
                return Ok(self.change(
                    Some(id),
                    format!("cancelled before its rollout {reason_text}"),
                ));
            }
            UpgradeState::RollingOut { .. } | UpgradeState::Completed => {}
            other => {
                return Err(OrchestratorError::Refused(format!(
                    "upgrade {id} is {other}; only an upgrade that is rolling out or completed can be rolled back"
                )));
            }
        }
        if let Some(snapshot) = self.ctx.store.snapshot_of_upgrade(id)? {
            let scope = match strategy {
                RollbackStrategy::Full => None,
                _ => Some(self.touched(&upgrade)?),
            };
            self.check_restorable(&snapshot.state, scope.as_deref())?;
        }
        match strategy {
            RollbackStrategy::Partial => {
                self.roll_back_partial(&upgrade, &reason_text, &actor, None)?
            }
            RollbackStrategy::Compensating => {
                let outcome = self.compensate(&upgrade, reason).await?;
                self.roll_back_partial(
                    &upgrade,
                    &reason_text,
                    &actor,
                    Some(("compensation", &outcome)),
                )?;
            }
            RollbackStrategy::Full => {
                let in_flight: Vec<i64> = self
                    .ctx
                    .store
                    .upgrades(&UpgradeFilter {
                        states: vec!["planned", "validating", "rolling_out"],
                        plugin: None,
                    })?
                    .into_iter()
                    .map(|u| u.id)
                    .filter(|other| *other != id)
                    .collect();
                if !in_flight.is_empty() {
                    return Err(OrchestratorError::Refused(format!(
                        "a full rollback restores the whole registry and would undo upgrades {in_flight:?}, which are in flight; roll those back first or use --strategy partial"
                    )));
                }
                let snapshot = self.ctx.store.snapshot_of_upgrade(id)?.ok_or_else(|| {
                    OrchestratorError::Refused(format!(
                        "upgrade {id} has no snapshot; use --strategy partial"
                    ))
                })?;
                let stage_count = self.stages().len();
                self.ctx
                    .store
                    .write(self.now(), |tx| -> Result<(), OrchestratorError> {
                        tx.restore_full(&snapshot.state)?;
                        // The snapshot may hold the rollout of an upgrade that
                        // has ended since: it must not serve again.
                        for r in &snapshot.state.rollouts {
                            let live = tx
                                .upgrade(r.upgrade_id)
                                .is_ok_and(|u| u.state.stage() == Some(r.stage));
                            if !live {
                                tx.delete_rollout(&r.capability)?;
                            }
                        }
                        tx.transition(
                            id,
                            &UpgradeState::RolledBack {
                                reason: reason_text.clone(),
                            },
                            &actor,
                            &serde_json::json!({ "reason": reason, "snapshot": snapshot.id }),
                            stage_count,
                        )?;
                        Ok(())
                    })?;
                self.rollout_stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&id);
                self.routing_changed();
            }
        }
        Ok(self.change(Some(id), format!("rolled back {reason_text}")))
    }

    /// Refuses a restore from `state` (of every plugin, or of the active
    /// providers of `capabilities`) that would register again a version
    /// removed since whose files retention has deleted.
    fn check_restorable(
        &self,
        state: &SnapshotState,
        capabilities: Option<&[String]>,
    ) -> Result<(), OrchestratorError> {
        let artifacts = ArtifactStore::new(self.ctx.store.home().artifacts_dir());
        for p in &state.plugins {
            let (name, version) = (p.manifest.name.as_str(), &p.manifest.version);
            let needed = capabilities.is_none_or(|caps| {
                caps.iter().any(|c| {
                    state
                        .active
                        .get(c)
                        .is_some_and(|(n, v)| n == name && v == version)
                })
            });
            if !needed || self.ctx.store.plugin(name, version)?.is_some() {
                continue;
            }
            let missing: Vec<&str> = p
                .files
                .iter()
                .filter(|f| !artifacts.contains(&f.hash))
                .map(|f| f.path.as_str())
                .collect();
            if !missing.is_empty() {
                return Err(OrchestratorError::Refused(format!(
                    "{} was removed since the snapshot and retention has deleted its files ({}); it cannot be restored: reinstall it, then activate it",
                    p.manifest.id(),
                    missing.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Calls the candidate's compensating action; refuses if it has none or
    /// it fails (nothing is rolled back then).
    async fn compensate(
        &self,
        upgrade: &Upgrade,
        reason: &str,
    ) -> Result<serde_json::Value, OrchestratorError> {
        let candidate = self
            .ctx
            .store
            .plugin(&upgrade.plugin, &upgrade.to_version)?
            .ok_or_else(|| {
                OrchestratorError::Refused(format!(
                    "{}@{} is not installed",
                    upgrade.plugin, upgrade.to_version
                ))
            })?;
        let Some(action) = candidate.manifest.compensating_action.clone() else {
            return Err(OrchestratorError::Refused(format!(
                "{} declares no compensating_action in its manifest; use --strategy partial or full",
                candidate.manifest.id()
            )));
        };
        let mut input = match action.input {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        input.insert("upgrade_id".into(), upgrade.id.into());
        input.insert("reason".into(), reason.into());
        let input = serde_json::Value::Object(input).to_string();
        let loader = PluginLoader::new(self.ctx.store.home(), self.ctx.host.clone());
        let runner = loader
            .load(&Route {
                capability: action.capability.to_string(),
                manifest: Arc::new(candidate.manifest.clone()),
                entry_hash: candidate.entry_hash.clone(),
            })
            .map_err(OrchestratorError::Refused)?;
        let result = runner.call(action.capability.as_str(), &input).await;
        runner.shutdown().await;
        match result.output {
            Ok(output) => Ok(serde_json::json!({
                "capability": action.capability,
                "output": serde_json::from_str::<serde_json::Value>(&output).unwrap_or(serde_json::Value::String(output)),
            })),
            Err(e) => Err(OrchestratorError::Refused(format!(
                "the compensating action {} failed ({e}); nothing was rolled back — retry, or use --strategy partial",
                action.capability
            ))),
        }
    }

    /// Start-up recovery: every upgrade in flight either continues from its
    /// persisted state or, where that cannot be done safely, is rolled back.
    pub fn recover(&self) -> Result<Vec<Change>, OrchestratorError> {
        let mut changes = Vec::new();
        let rollouts = self.ctx.store.rollouts()?;
        for upgrade in self.ctx.store.upgrades(&UpgradeFilter {
            states: vec!["approved", "planned", "validating", "rolling_out"],
            plugin: None,
        })? {
            match upgrade.state {
                UpgradeState::RollingOut { stage } => {
                    match rollouts.iter().find(|r| r.upgrade_id == upgrade.id) {
                        Some(r) if r.stage == stage => {
                            changes.push(self.change(
                                Some(upgrade.id),
                                format!("resumed: rolling out, stage {stage}"),
                            ));
                        }
                        _ => {
                            let reason = "its rollout state was missing after a restart".to_owned();
                            self.roll_back_partial(&upgrade, &reason, &Actor::Recovery, None)?;
                            changes.push(self.change(
                                Some(upgrade.id),
                                format!("rolled back on recovery: {reason}"),
                            ));
                        }
                    }
                }
                ref state => changes.push(self.change(
                    Some(upgrade.id),
                    format!("resumed: {} (carried on by the next step)", state.name()),
                )),
            }
        }
        // A rollout whose upgrade is no longer rolling out cannot be served safely.
        for r in rollouts {
            let live = self
                .ctx
                .store
                .upgrade(r.upgrade_id)?
                .is_some_and(|u| u.state.stage() == Some(r.stage));
            if !live {
                self.ctx
                    .store
                    .write(self.now(), |tx| tx.delete_rollout(&r.capability))?;
                self.routing_changed();
                changes.push(self.change(
                    Some(r.upgrade_id),
                    format!("removed a stale rollout of {}", r.capability),
                ));
            }
        }
        Ok(changes)
    }
}
