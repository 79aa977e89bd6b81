//! From approved to rolling out: plan (dependencies, snapshot), install the
//! plan's packages (not active), validate (performance replay), and start
//! the rollout at its first stage.

use std::sync::Arc;

use selfup_core::dependencies::{AvailablePlugin, Universe, resolve};
use selfup_core::names::CapabilityName;
use selfup_core::upgrade::{Actor, UpgradeKind, UpgradeState};
use selfup_gateway::PluginLoader;
use selfup_plugins::RunningPlugin;
use selfup_store::registry::Route;
use selfup_store::rollouts::Rollout;
use selfup_store::upgrades::{Upgrade, UpgradeFilter};

use crate::catalog::{Catalog, fetch};
use crate::install::{InstallPolicy, install};
use crate::orchestrator::{Change, Orchestrator, OrchestratorError};
use crate::perf::assess;

impl Orchestrator {
    /// Carries upgrades forward: validating ones are validated, planned
    /// ones installed and validated, approved ones started while
    /// `cycle.max_concurrent_upgrades` and `cycle.max_upgrades_per_day` allow.
    pub async fn advance(&self, catalog: &Catalog) -> Result<Vec<Change>, OrchestratorError> {
        let mut changes = Vec::new();
        let store = &self.ctx.store;
        for upgrade in store.upgrades(&UpgradeFilter {
            states: vec!["validating"],
            plugin: None,
        })? {
            changes.extend(self.validate(&upgrade).await?);
        }
        for upgrade in store.upgrades(&UpgradeFilter {
            states: vec!["planned"],
            plugin: None,
        })? {
            changes.extend(self.install_plan(&upgrade, catalog).await?);
        }
        let approved = store.upgrades(&UpgradeFilter {
            states: vec!["approved"],
            plugin: None,
        })?;
        for upgrade in approved {
            let in_flight = store.upgrades(&UpgradeFilter {
                states: vec!["planned", "validating", "rolling_out"],
                plugin: None,
            })?;
            let cycle = &self.ctx.config.cycle;
            if in_flight.len() as u32 >= cycle.max_concurrent_upgrades {
                changes.push(self.change(
                    Some(upgrade.id),
                    format!(
                        "waits: {} upgrades in flight (cycle.max_concurrent_upgrades = {})",
                        in_flight.len(),
                        cycle.max_concurrent_upgrades
                    ),
                ));
                break;
            }
            let started = store.upgrades_started_since(self.now() - 86_400_000)?;
            if started >= u64::from(cycle.max_upgrades_per_day) {
                changes.push(self.change(
                    Some(upgrade.id),
                    format!(
                        "waits: {started} upgrades started in the last 24 hours (cycle.max_upgrades_per_day = {})",
                        cycle.max_upgrades_per_day
                    ),
                ));
                break;
            }
            if in_flight.iter().any(|u| u.capability == upgrade.capability) {
                continue;
            }
            changes.extend(self.plan(&upgrade, catalog)?);
            self.pause().await;
            if let Some(planned) = store.upgrade(upgrade.id)?
                && planned.state == UpgradeState::Planned
            {
                changes.extend(self.install_plan(&planned, catalog).await?);
            }
        }
        Ok(changes)
    }

    fn fail(
        &self,
        upgrade: &Upgrade,
        reason: String,
        detail: serde_json::Value,
    ) -> Result<Change, OrchestratorError> {
        let stage_count = self.stages().len();
        self.ctx
            .store
            .write(self.now(), |tx| -> Result<(), OrchestratorError> {
                tx.transition(
                    upgrade.id,
                    &UpgradeState::Failed {
                        reason: reason.clone(),
                    },
                    &Actor::Orchestrator,
                    &detail,
                    stage_count,
                )?;
                Ok(())
            })?;
        Ok(self.change(Some(upgrade.id), format!("failed: {reason}")))
    }

    /// Approved → Planned: resolve the dependencies, take the snapshot.
    fn plan(&self, upgrade: &Upgrade, catalog: &Catalog) -> Result<Vec<Change>, OrchestratorError> {
        let Some(entry) = catalog.entries.iter().find(|e| {
            e.manifest.name.as_str() == upgrade.plugin && e.manifest.version == upgrade.to_version
        }) else {
            let reason = format!(
                "{}@{} is no longer in the catalog",
                upgrade.plugin, upgrade.to_version
            );
            return Ok(vec![self.fail(upgrade, reason, serde_json::json!({}))?]);
        };
        let installed = self.ctx.store.list_plugins()?;
        let mut universe = Universe::new();
        for p in &installed {
            let active = p
                .active_for
                .iter()
                .filter_map(|c| CapabilityName::new(c).ok())
                .collect();
            universe.push(AvailablePlugin::installed(p.manifest.clone(), active));
        }
        for e in &catalog.entries {
            if !installed.iter().any(|p| {
                p.manifest.name == e.manifest.name && p.manifest.version == e.manifest.version
            }) {
                universe.push(AvailablePlugin::catalog(e.manifest.clone()));
            }
        }
        let plan = match resolve(&universe, &entry.manifest) {
            Ok(plan) => plan,
            Err(e) => {
                let reason = format!("dependencies: {e}");
                return Ok(vec![self.fail(
                    upgrade,
                    reason,
                    serde_json::json!({ "dependencies": e.to_string() }),
                )?]);
            }
        };
        let steps: Vec<serde_json::Value> = plan
            .steps
            .iter()
            .map(|s| {
                serde_json::json!({
                    "plugin": s.name.as_str(),
                    "version": s.version.to_string(),
                    "install": s.install,
                    "replaces": s.replaces.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                    "reason": format!("{:?}", s.reason),
                })
            })
            .collect();
        let stage_count = self.stages().len();
        let snapshot =
            self.ctx
                .store
                .write(self.now(), |tx| -> Result<i64, OrchestratorError> {
                    let snapshot = tx.create_snapshot(upgrade.id)?;
                    let detail = serde_json::json!({ "plan": steps, "snapshot": snapshot });
                    tx.merge_evidence(upgrade.id, "plan", &detail)?;
                    tx.transition(
                        upgrade.id,
                        &UpgradeState::Planned,
                        &Actor::Orchestrator,
                        &detail,
                        stage_count,
                    )?;
                    Ok(snapshot)
                })?;
        let summary: Vec<String> = plan
            .steps
            .iter()
            .map(|s| {
                format!(
                    "{}@{}{}",
                    s.name,
                    s.version,
                    if s.install { " (install)" } else { "" }
                )
            })
            .collect();
        Ok(vec![self.change(
            Some(upgrade.id),
            format!("planned: {}; snapshot {snapshot} taken", summary.join(", ")),
        )])
    }

    /// Planned → Validating: install every package the plan needs (not
    /// active). Installs are idempotent, so a crash in between is resumed.
    async fn install_plan(
        &self,
        upgrade: &Upgrade,
        catalog: &Catalog,
    ) -> Result<Vec<Change>, OrchestratorError> {
        let mut changes = Vec::new();
        let steps = upgrade.evidence["plan"]["plan"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let download_dir = self.ctx.store.home().cache_dir().join("downloads");
        for step in steps.iter().filter(|s| s["install"] == true) {
            let (Some(name), Some(version)) = (step["plugin"].as_str(), step["version"].as_str())
            else {
                continue;
            };
            self.progress.step(&format!(
                "installing {name}@{version} for upgrade {} (download, verify, compile)",
                upgrade.id
            ));
            let Ok(version) = semver::Version::parse(version) else {
                continue;
            };
            if self.ctx.store.plugin(name, &version)?.is_some() {
                continue;
            }
            let Some(entry) = catalog
                .entries
                .iter()
                .find(|e| e.manifest.name.as_str() == name && e.manifest.version == version)
            else {
                let reason = format!("{name}@{version} of the plan is no longer in the catalog");
                changes.push(self.fail(upgrade, reason, serde_json::json!({}))?);
                return Ok(changes);
            };
            let path = match fetch(&entry.location, &download_dir, &self.ctx.http).await {
                Ok(path) => path,
                Err(e) => {
                    changes.push(self.fail(
                        upgrade,
                        format!("fetching {name}@{version}: {e}"),
                        serde_json::json!({}),
                    )?);
                    return Ok(changes);
                }
            };
            let policy = match InstallPolicy::from_config(&self.ctx.config.security) {
                Ok(policy) => policy,
                Err(e) => {
                    let reason = format!("security.trusted_keys: {e}");
                    changes.push(self.fail(upgrade, reason, serde_json::json!({}))?);
                    return Ok(changes);
                }
            };
            match install(
                &self.ctx.store,
                &self.ctx.host,
                &path,
                false,
                "orchestrator",
                self.ctx.clock.as_ref(),
                &policy,
            ) {
                Ok(done) => changes.push(self.change(
                    Some(upgrade.id),
                    format!("installed {} (not active)", done.id),
                )),
                Err(e) if e.is_package_fault() => {
                    changes.push(self.fail(upgrade, e.to_string(), serde_json::json!({}))?);
                    return Ok(changes);
                }
                Err(e) => return Err(e.into()),
            }
        }
        let stage_count = self.stages().len();
        self.ctx
            .store
            .write(self.now(), |tx| -> Result<(), OrchestratorError> {
                tx.transition(
                    upgrade.id,
                    &UpgradeState::Validating,
                    &Actor::Orchestrator,
                    &serde_json::json!({}),
                    stage_count,
                )?;
                Ok(())
            })?;
        if let Some(validating) = self.ctx.store.upgrade(upgrade.id)? {
            self.pause().await;
            changes.extend(self.validate(&validating).await?);
        }
        Ok(changes)
    }

    fn runner(
        &self,
        loader: &PluginLoader,
        plugin: &str,
        version: &semver::Version,
        capability: &str,
    ) -> Result<Option<Arc<dyn RunningPlugin>>, OrchestratorError> {
        let Some(installed) = self.ctx.store.plugin(plugin, version)? else {
            return Ok(None);
        };
        let route = Route {
            capability: capability.to_owned(),
            manifest: Arc::new(installed.manifest),
            entry_hash: installed.entry_hash,
        };
        loader
            .load(&route)
            .map(Some)
            .map_err(OrchestratorError::Refused)
    }

    /// Validating → RollingOut(0), or Failed: replay recorded inputs
    /// against the incumbent and the candidate and judge the regressions.
    async fn validate(&self, upgrade: &Upgrade) -> Result<Vec<Change>, OrchestratorError> {
        self.progress.step(&format!(
            "validating upgrade {} ({}@{}): replaying recorded inputs",
            upgrade.id, upgrade.plugin, upgrade.to_version
        ));
        let loader = PluginLoader::new(self.ctx.store.home(), self.ctx.host.clone());
        let capability = &upgrade.capability;
        let candidate = match self.runner(&loader, &upgrade.plugin, &upgrade.to_version, capability)
        {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Ok(vec![self.fail(
                    upgrade,
                    format!("{}@{} is not installed", upgrade.plugin, upgrade.to_version),
                    serde_json::json!({}),
                )?]);
            }
            Err(e) => {
                return Ok(vec![self.fail(
                    upgrade,
                    e.to_string(),
                    serde_json::json!({}),
                )?]);
            }
        };
        let incumbent = match (&upgrade.kind, &upgrade.from_version) {
            (UpgradeKind::NewVersion, Some(from)) => self
                .runner(&loader, &upgrade.plugin, from, capability)
                .ok()
                .flatten(),
            _ => None,
        };
        let perf_config = &self.ctx.config.performance;
        let inputs = self
            .ctx
            .store
            .input_samples(capability, perf_config.replay_samples as usize)?;
        let verdict = if perf_config.enabled {
            Some(
                assess(
                    capability,
                    incumbent.as_ref(),
                    &candidate,
                    &inputs,
                    perf_config.replay_rounds,
                    perf_config,
                    self.ctx.config.ab_testing.default_significance_level,
                )
                .await,
            )
        } else {
            None
        };
        candidate.shutdown().await;
        if let Some(i) = &incumbent {
            i.shutdown().await;
        }
        let runtime = self
            .ctx
            .store
            .plugin(&upgrade.plugin, &upgrade.to_version)?
            .map(|p| p.manifest.runtime);
        let code = match runtime {
            Some(selfup_core::manifest::Runtime::Process) => {
                "an MCP server process: scanned at install; started under the process limits for the replay"
            }
            _ => {
                "a component: compiled; imports only WASI cli, clocks, filesystem, io and random (no network)"
            }
        };
        let validation = serde_json::json!({
            "code": code,
            "performance": verdict,
        });
        if let Some(v) = &verdict
            && !v.passed
        {
            let failed: Vec<String> = v
                .checks
                .iter()
                .filter(|c| !c.passed)
                .map(|c| format!("{}: {}", c.name, c.detail))
                .collect();
            let reason = format!(
                "performance replay of {} inputs: {}",
                v.inputs,
                failed.join("; ")
            );
            let change = self.fail(
                upgrade,
                reason,
                serde_json::json!({ "validation": validation }),
            )?;
            self.ctx.store.write(self.now(), |tx| {
                tx.merge_evidence(upgrade.id, "validation", &validation)
            })?;
            // The candidate was installed for this upgrade only: take it out.
            if let Err(e) = self.ctx.store.remove_plugin(
                &upgrade.plugin,
                Some(&upgrade.to_version),
                "orchestrator",
                self.now(),
            ) {
                tracing::warn!(error = %e, "cannot remove the candidate of a failed upgrade");
            }
            return Ok(vec![change]);
        }
        let stages = self.stages();
        let Some(first) = stages.first() else {
            return Ok(vec![self.fail(
                upgrade,
                "rollout.stages is empty".to_owned(),
                serde_json::json!({}),
            )?]);
        };
        let rollout = Rollout {
            capability: capability.clone(),
            upgrade_id: upgrade.id,
            incumbent: match (&upgrade.kind, &upgrade.from_version) {
                (UpgradeKind::NewVersion, Some(v)) => Some((upgrade.plugin.clone(), v.clone())),
                _ => None,
            },
            candidate_plugin: upgrade.plugin.clone(),
            candidate_version: upgrade.to_version.clone(),
            stage: 0,
            traffic_percentage: first.traffic_percentage,
            seed: format!("selfup-upgrade-{}", upgrade.id),
            started_at_ms: self.now(),
            stage_started_at_ms: self.now(),
            monitor: serde_json::json!({}),
        };
        let stage_count = stages.len();
        self.ctx
            .store
            .write(self.now(), |tx| -> Result<(), OrchestratorError> {
                tx.merge_evidence(upgrade.id, "validation", &validation)?;
                if rollout.incumbent.is_none() {
                    tx.activate(capability, &upgrade.plugin, &upgrade.to_version)?;
                }
                tx.put_rollout(&rollout)?;
                tx.transition(
                    upgrade.id,
                    &UpgradeState::RollingOut { stage: 0 },
                    &Actor::Orchestrator,
                    &serde_json::json!({ "validation": validation, "stage": first.name }),
                    stage_count,
                )?;
                Ok(())
            })?;
        self.routing_changed();
        self.pause().await;
        let perf_text = match &verdict {
            Some(v) if v.inputs > 0 => format!(
                "replayed {} recorded inputs ×{}: {}",
                v.inputs,
                v.rounds,
                v.checks
                    .iter()
                    .map(|c| match c.name {
                        "error_rate" => format!("errors {:.1}%", c.value * 100.0),
                        name => format!("{name} {:+.1}%", c.value),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(v) => v.notes.join("; "),
            None => "performance checks disabled".to_owned(),
        };
        Ok(vec![
            self.change(Some(upgrade.id), format!("validated: {perf_text}")),
            self.change(
                Some(upgrade.id),
                format!(
                    "rollout started: stage \"{}\" ({}% of traffic{})",
                    first.name,
                    first.traffic_percentage,
                    if first.traffic_percentage == 0.0 && rollout.incumbent.is_some() {
                        ", shadow"
                    } else {
                        ""
                    }
                ),
            ),
        ])
    }
}
