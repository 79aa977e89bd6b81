//! Snapshots: the registry as it was before an upgrade (installed versions
//! with their files, active providers, rollouts), so that an upgrade can be
//! undone fully or for the capabilities it touched. A live snapshot keeps
//! its artifacts from being collected.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::params;
use semver::Version;
use serde::{Deserialize, Serialize};

use crate::registry::{InstalledPlugin, bump_generation, load_plugins, set_active};
use crate::rollouts::{COLUMNS as ROLLOUT_COLUMNS, Rollout, from_row as rollout_from_row};
use crate::tx::Tx;
use crate::{Store, StoreError};

/// The registry state a snapshot holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotState {
    /// Every installed plugin version.
    pub plugins: Vec<InstalledPlugin>,
    /// The active provider of each capability.
    pub active: BTreeMap<String, (String, Version)>,
    /// The rollouts in progress.
    pub rollouts: Vec<Rollout>,
}

impl SnapshotState {
    /// Every artifact hash the snapshot needs.
    pub fn artifacts(&self) -> BTreeSet<String> {
        self.plugins
            .iter()
            .flat_map(|p| p.files.iter().map(|f| f.hash.clone()))
            .collect()
    }
}

/// A stored snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    /// Its id.
    pub id: i64,
    /// The upgrade it was taken for.
    pub upgrade_id: Option<i64>,
    /// When it was taken.
    pub created_at_ms: i64,
    /// What it holds.
    pub state: SnapshotState,
    /// When retention released it (its artifacts may then be collected).
    pub released_at_ms: Option<i64>,
}

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        table: "snapshots",
        detail,
    }
}

impl Tx<'_> {
    /// The registry state now.
    pub fn registry_state(&self) -> Result<SnapshotState, StoreError> {
        let plugins = load_plugins(&self.tx, None)?;
        let mut active = BTreeMap::new();
        for p in &plugins {
            for cap in &p.active_for {
                active.insert(
                    cap.clone(),
                    (p.manifest.name.to_string(), p.manifest.version.clone()),
                );
            }
        }
        let mut stmt = self.tx.prepare(&format!(
            "SELECT {ROLLOUT_COLUMNS} FROM rollouts r ORDER BY r.capability"
        ))?;
        let mut rows = stmt.query([])?;
        let mut rollouts = Vec::new();
        while let Some(row) = rows.next()? {
            rollouts.push(rollout_from_row(row)?);
        }
        Ok(SnapshotState {
            plugins,
            active,
            rollouts,
        })
    }

    /// Takes a snapshot of the registry for upgrade `upgrade_id`.
    pub fn create_snapshot(&self, upgrade_id: i64) -> Result<i64, StoreError> {
        let state = self.registry_state()?;
        let json =
            serde_json::to_string(&state).map_err(|e| corrupt(format!("cannot serialise: {e}")))?;
        self.tx.execute(
            "INSERT INTO snapshots (upgrade_id, created_at_ms, state) VALUES (?1, ?2, ?3)",
            params![upgrade_id, self.now_ms, json],
        )?;
        let id = self.tx.last_insert_rowid();
        for hash in state.artifacts() {
            self.tx.execute(
                "INSERT INTO snapshot_artifacts (snapshot_id, hash) VALUES (?1, ?2)",
                params![id, hash],
            )?;
        }
        Ok(id)
    }

    /// Restores the whole registry to `state`: plugins installed since are
    /// removed, plugins removed since are registered again (their artifacts
    /// must still exist), active providers and rollouts are as they were.
    pub fn restore_full(&self, state: &SnapshotState) -> Result<(), StoreError> {
        self.tx.execute("DELETE FROM rollouts", [])?;
        self.tx.execute("DELETE FROM active_capabilities", [])?;
        let now = load_plugins(&self.tx, None)?;
        let wanted: BTreeSet<(String, String)> = state
            .plugins
            .iter()
            .map(|p| (p.manifest.name.to_string(), p.manifest.version.to_string()))
            .collect();
        for p in &now {
            let key = (p.manifest.name.to_string(), p.manifest.version.to_string());
            if !wanted.contains(&key) {
                self.tx.execute(
                    "DELETE FROM plugins WHERE name = ?1 AND version = ?2",
                    params![key.0, key.1],
                )?;
            }
        }
        for p in &state.plugins {
            self.ensure_registered(p)?;
        }
        for (cap, (plugin, version)) in &state.active {
            set_active(&self.tx, cap, plugin, &version.to_string(), self.now_ms)?;
        }
        for rollout in &state.rollouts {
            self.put_rollout(rollout)?;
        }
        bump_generation(&self.tx)
    }

    /// Restores only `capabilities`: their active provider as in `state`
    /// (registering it again if it was removed), and no rollout.
    pub fn restore_partial(
        &self,
        state: &SnapshotState,
        capabilities: &[String],
    ) -> Result<(), StoreError> {
        for cap in capabilities {
            self.tx
                .execute("DELETE FROM rollouts WHERE capability = ?1", [cap])?;
            match state.active.get(cap) {
                Some((plugin, version)) => {
                    if let Some(p) = state.plugins.iter().find(|p| {
                        p.manifest.name.as_str() == plugin && &p.manifest.version == version
                    }) {
                        self.ensure_registered(p)?;
                    }
                    set_active(&self.tx, cap, plugin, &version.to_string(), self.now_ms)?;
                }
                None => {
                    self.tx.execute(
                        "DELETE FROM active_capabilities WHERE capability = ?1",
                        [cap],
                    )?;
                }
            }
        }
        bump_generation(&self.tx)
    }

    /// Registers `p` (its rows, not its artifacts) if it is not installed.
    fn ensure_registered(&self, p: &InstalledPlugin) -> Result<(), StoreError> {
        let (name, version) = (p.manifest.name.as_str(), p.manifest.version.to_string());
        let exists: bool = self.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM plugins WHERE name = ?1 AND version = ?2)",
            params![name, version],
            |r| r.get(0),
        )?;
        if exists {
            return Ok(());
        }
        let manifest =
            serde_json::to_string(&p.manifest).map_err(|e| corrupt(format!("manifest: {e}")))?;
        self.tx.execute(
            "INSERT INTO plugins (name, version, manifest, entry_hash, installed_at_ms, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![name, version, manifest, p.entry_hash, p.installed_at_ms, p.status],
        )?;
        for f in &p.files {
            self.tx.execute(
                "INSERT INTO plugin_files (name, version, path, hash, size) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, version, f.path, f.hash, f.size as i64],
            )?;
        }
        for cap in &p.manifest.provided_capabilities {
            self.tx.execute(
                "INSERT INTO plugin_capabilities (capability, name, version) VALUES (?1, ?2, ?3)",
                params![cap.as_str(), name, version],
            )?;
        }
        Ok(())
    }

    /// Marks a snapshot released: its artifacts no longer keep it alive.
    pub fn release_snapshot(&self, id: i64) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE snapshots SET released_at_ms = ?2 WHERE id = ?1 AND released_at_ms IS NULL",
            params![id, self.now_ms],
        )?;
        self.tx.execute(
            "DELETE FROM snapshot_artifacts WHERE snapshot_id = ?1",
            [id],
        )?;
        Ok(())
    }
}

impl Store {
    /// A snapshot by id.
    pub fn snapshot(&self, id: i64) -> Result<Option<Snapshot>, StoreError> {
        self.snapshots_where("id = ?1", id).map(|mut v| v.pop())
    }

    /// The newest snapshot taken for upgrade `upgrade_id`.
    pub fn snapshot_of_upgrade(&self, upgrade_id: i64) -> Result<Option<Snapshot>, StoreError> {
        self.snapshots_where("upgrade_id = ?1", upgrade_id)
            .map(|mut v| v.pop())
    }

    /// Unreleased snapshots taken before `before_ms` whose upgrade is no
    /// longer in flight: what retention may release.
    pub fn expired_snapshots(&self, before_ms: i64) -> Result<Vec<i64>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT s.id FROM snapshots s LEFT JOIN upgrades u ON u.id = s.upgrade_id
             WHERE s.released_at_ms IS NULL AND s.created_at_ms < ?1
               AND (u.id IS NULL OR u.state NOT IN ('approved', 'planned', 'validating', 'rolling_out'))
             ORDER BY s.id",
        )?;
        let rows = stmt.query_map([before_ms], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Of `hashes`, those that neither an installed plugin nor a live
    /// snapshot needs: safe to delete.
    pub fn unreferenced_artifacts(&self, hashes: &[String]) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM plugin_files WHERE hash = ?1)
                 OR EXISTS (SELECT 1 FROM snapshot_artifacts WHERE hash = ?1)",
        )?;
        let mut out = Vec::new();
        for hash in hashes {
            let referenced: bool = stmt.query_row([hash], |r| r.get(0))?;
            if !referenced {
                out.push(hash.clone());
            }
        }
        Ok(out)
    }

    fn snapshots_where(&self, condition: &str, value: i64) -> Result<Vec<Snapshot>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT id, upgrade_id, created_at_ms, state, released_at_ms FROM snapshots WHERE {condition} ORDER BY id"
        ))?;
        let mut rows = stmt.query([value])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let state: String = row.get(3)?;
            out.push(Snapshot {
                id,
                upgrade_id: row.get(1)?,
                created_at_ms: row.get(2)?,
                state: serde_json::from_str(&state)
                    .map_err(|e| corrupt(format!("snapshot {id}: {e}")))?,
                released_at_ms: row.get(4)?,
            });
        }
        Ok(out)
    }
}
