//! Rollouts: which candidate serves how much of a capability's traffic,
//! read by the router. Every change bumps the registry generation so the
//! router reloads within one refresh.

use std::sync::Arc;

use rusqlite::{Row, params};
use selfup_core::manifest::PluginManifest;
use semver::Version;
use serde::Serialize;

use crate::registry::{bump_generation, set_active};
use crate::tx::Tx;
use crate::{Store, StoreError};

/// A rollout of one capability.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Rollout {
    /// The capability.
    pub capability: String,
    /// The upgrade being rolled out.
    pub upgrade_id: i64,
    /// The version serving before (`None` for a new capability).
    pub incumbent: Option<(String, Version)>,
    /// The candidate plugin.
    pub candidate_plugin: String,
    /// The candidate version.
    pub candidate_version: Version,
    /// The stage index.
    pub stage: usize,
    /// Share of subjects the candidate serves (0 = shadow only).
    pub traffic_percentage: f64,
    /// Seed of the sticky assignment hash.
    pub seed: String,
    /// When the rollout started.
    pub started_at_ms: i64,
    /// When the current stage started.
    pub stage_started_at_ms: i64,
    /// The controller's persisted monitoring state (sequential tests), JSON.
    pub monitor: serde_json::Value,
}

/// A rollout with what the router needs to load the candidate.
#[derive(Debug, Clone)]
pub struct RolloutRoute {
    /// The rollout.
    pub rollout: Rollout,
    /// The candidate's manifest.
    pub candidate_manifest: Arc<PluginManifest>,
    /// Artifact hash of the candidate's entry point.
    pub candidate_entry_hash: String,
}

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        table: "rollouts",
        detail,
    }
}

fn version(text: &str) -> Result<Version, StoreError> {
    Version::parse(text).map_err(|e| corrupt(format!("version {text:?}: {e}")))
}

pub(crate) const COLUMNS: &str = "r.capability, r.upgrade_id, r.incumbent_plugin, r.incumbent_version, r.candidate_plugin, \
    r.candidate_version, r.stage, r.traffic_percentage, r.seed, r.started_at_ms, r.stage_started_at_ms, r.monitor";

pub(crate) fn from_row(row: &Row<'_>) -> Result<Rollout, StoreError> {
    let incumbent_plugin: Option<String> = row.get(2)?;
    let incumbent_version: Option<String> = row.get(3)?;
    let candidate_version: String = row.get(5)?;
    let monitor: String = row.get(11)?;
    Ok(Rollout {
        capability: row.get(0)?,
        upgrade_id: row.get(1)?,
        incumbent: match (incumbent_plugin, incumbent_version) {
            (Some(p), Some(v)) => Some((p, version(&v)?)),
            _ => None,
        },
        candidate_plugin: row.get(4)?,
        candidate_version: version(&candidate_version)?,
        stage: row.get::<_, i64>(6)? as usize,
        traffic_percentage: row.get(7)?,
        seed: row.get(8)?,
        started_at_ms: row.get(9)?,
        stage_started_at_ms: row.get(10)?,
        monitor: serde_json::from_str(&monitor).map_err(|e| corrupt(format!("monitor: {e}")))?,
    })
}

impl Tx<'_> {
    /// Starts (or replaces) the rollout of a capability.
    pub fn put_rollout(&self, r: &Rollout) -> Result<(), StoreError> {
        self.tx.execute(
            "INSERT OR REPLACE INTO rollouts (capability, upgrade_id, incumbent_plugin, incumbent_version, candidate_plugin,
                 candidate_version, stage, traffic_percentage, seed, started_at_ms, stage_started_at_ms, monitor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                r.capability,
                r.upgrade_id,
                r.incumbent.as_ref().map(|i| i.0.clone()),
                r.incumbent.as_ref().map(|i| i.1.to_string()),
                r.candidate_plugin,
                r.candidate_version.to_string(),
                r.stage as i64,
                r.traffic_percentage,
                r.seed,
                r.started_at_ms,
                r.stage_started_at_ms,
                r.monitor.to_string()
            ],
        )?;
        bump_generation(&self.tx)
    }

    /// Moves a rollout to `stage` with `traffic_percentage`, starting the
    /// stage now and clearing the monitor (each stage is judged on its own).
    pub fn set_rollout_stage(
        &self,
        capability: &str,
        stage: usize,
        traffic_percentage: f64,
    ) -> Result<(), StoreError> {
        let changed = self.tx.execute(
            "UPDATE rollouts SET stage = ?2, traffic_percentage = ?3, stage_started_at_ms = ?4, monitor = '{}' WHERE capability = ?1",
            params![capability, stage as i64, traffic_percentage, self.now_ms],
        )?;
        if changed == 0 {
            return Err(StoreError::Refused(format!(
                "there is no rollout of {capability}"
            )));
        }
        bump_generation(&self.tx)
    }

    /// Saves the controller's monitoring state (does not affect routing).
    pub fn set_rollout_monitor(
        &self,
        capability: &str,
        monitor: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE rollouts SET monitor = ?2 WHERE capability = ?1",
            params![capability, monitor.to_string()],
        )?;
        Ok(())
    }

    /// Ends the rollout of a capability: traffic goes back to the active provider.
    pub fn delete_rollout(&self, capability: &str) -> Result<(), StoreError> {
        self.tx
            .execute("DELETE FROM rollouts WHERE capability = ?1", [capability])?;
        bump_generation(&self.tx)
    }

    /// Makes `plugin@version` the active provider of `capability`.
    pub fn activate(
        &self,
        capability: &str,
        plugin: &str,
        version: &Version,
    ) -> Result<(), StoreError> {
        let provides: bool = self.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM plugin_capabilities WHERE capability = ?1 AND name = ?2 AND version = ?3)",
            params![capability, plugin, version.to_string()],
            |r| r.get(0),
        )?;
        if !provides {
            return Err(StoreError::Refused(format!(
                "{plugin}@{version} is not installed as a provider of {capability}"
            )));
        }
        set_active(
            &self.tx,
            capability,
            plugin,
            &version.to_string(),
            self.now_ms,
        )?;
        bump_generation(&self.tx)
    }

    /// Leaves `capability` without an active provider.
    pub fn deactivate(&self, capability: &str) -> Result<(), StoreError> {
        self.tx.execute(
            "DELETE FROM active_capabilities WHERE capability = ?1",
            [capability],
        )?;
        bump_generation(&self.tx)
    }

    /// The rollout of upgrade `id`, as of this transaction.
    pub fn rollout_of(&self, upgrade_id: i64) -> Result<Option<Rollout>, StoreError> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM rollouts r WHERE r.upgrade_id = ?1"
        ))?;
        let mut rows = stmt.query([upgrade_id])?;
        match rows.next()? {
            Some(row) => Ok(Some(from_row(row)?)),
            None => Ok(None),
        }
    }
}

impl Store {
    /// Every rollout.
    pub fn rollouts(&self) -> Result<Vec<Rollout>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM rollouts r ORDER BY r.capability"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(from_row(row)?);
        }
        Ok(out)
    }

    /// Every rollout with its candidate's manifest and entry hash.
    pub fn rollout_routes(&self) -> Result<Vec<RolloutRoute>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS}, p.manifest, p.entry_hash FROM rollouts r
             JOIN plugins p ON p.name = r.candidate_plugin AND p.version = r.candidate_version
             ORDER BY r.capability"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let rollout = from_row(row)?;
            let manifest: String = row.get(12)?;
            let manifest: PluginManifest = serde_json::from_str(&manifest).map_err(|e| {
                corrupt(format!("candidate manifest of {}: {e}", rollout.capability))
            })?;
            out.push(RolloutRoute {
                rollout,
                candidate_manifest: Arc::new(manifest),
                candidate_entry_hash: row.get(13)?,
            });
        }
        Ok(out)
    }
}
