//! Upgrades and their lifecycle events. A transition is checked against the
//! lifecycle in `selfup-core` and written with its event and audit row in
//! the caller's transaction.

use rusqlite::{Connection, OptionalExtension, Row, params};
use selfup_core::upgrade::{Actor, UpgradeKind, UpgradeState, check_transition};
use semver::Version;
use serde::Serialize;

use crate::tx::Tx;
use crate::{Store, StoreError, audit};

/// An upgrade as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Upgrade {
    /// Its id.
    pub id: i64,
    /// What it brings.
    pub kind: UpgradeKind,
    /// The capability it is about (the one rolled out).
    pub capability: String,
    /// The plugin it installs.
    pub plugin: String,
    /// The version it replaces (none for a new capability).
    pub from_version: Option<Version>,
    /// The version it installs.
    pub to_version: Version,
    /// Where the package comes from (a catalog location).
    pub source: String,
    /// Where it is in its lifecycle.
    pub state: UpgradeState,
    /// Opportunity score in [0, 1].
    pub opportunity: f64,
    /// Risk score in [0, 1].
    pub risk: f64,
    /// Everything learnt along the way (decision, plan, validation, gates), as JSON.
    pub evidence: serde_json::Value,
    /// When it was proposed.
    pub created_at_ms: i64,
    /// When it last changed.
    pub updated_at_ms: i64,
    /// When it entered its current state (or stage).
    pub state_since_ms: i64,
}

/// A proposal about to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUpgrade {
    /// What it brings.
    pub kind: UpgradeKind,
    /// The capability it is about.
    pub capability: String,
    /// The plugin it installs.
    pub plugin: String,
    /// The version it replaces.
    pub from_version: Option<Version>,
    /// The version it installs.
    pub to_version: Version,
    /// Where the package comes from.
    pub source: String,
    /// Opportunity score.
    pub opportunity: f64,
    /// Risk score.
    pub risk: f64,
    /// Why it was proposed.
    pub evidence: serde_json::Value,
}

/// One transition of an upgrade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpgradeEvent {
    /// When.
    pub ts_ms: i64,
    /// The state before (none for the proposal itself).
    pub from_state: Option<String>,
    /// The state after.
    pub to_state: String,
    /// Who or what caused it.
    pub actor: String,
    /// The evidence for it.
    pub detail: serde_json::Value,
}

const COLUMNS: &str = "id, kind, capability, plugin, from_version, to_version, source, state, stage, reason, \
                       opportunity, risk, evidence, created_at_ms, updated_at_ms, state_since_ms";

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt {
        table: "upgrades",
        detail,
    }
}

fn from_row(row: &Row<'_>) -> Result<Upgrade, StoreError> {
    let id: i64 = row.get(0)?;
    let kind: String = row.get(1)?;
    let from_version: Option<String> = row.get(4)?;
    let to_version: String = row.get(5)?;
    let state: String = row.get(7)?;
    let stage: Option<i64> = row.get(8)?;
    let reason: Option<String> = row.get(9)?;
    let evidence: String = row.get(12)?;
    let parse_version = |v: &str| {
        Version::parse(v).map_err(|e| corrupt(format!("upgrade {id}: version {v:?}: {e}")))
    };
    Ok(Upgrade {
        id,
        kind: UpgradeKind::parse(&kind)
            .ok_or_else(|| corrupt(format!("upgrade {id}: kind {kind:?}")))?,
        capability: row.get(2)?,
        plugin: row.get(3)?,
        from_version: from_version.as_deref().map(parse_version).transpose()?,
        to_version: parse_version(&to_version)?,
        source: row.get(6)?,
        state: UpgradeState::from_parts(&state, stage.map(|s| s as usize), reason)
            .ok_or_else(|| corrupt(format!("upgrade {id}: state {state:?}")))?,
        opportunity: row.get(10)?,
        risk: row.get(11)?,
        evidence: serde_json::from_str(&evidence)
            .map_err(|e| corrupt(format!("upgrade {id}: evidence: {e}")))?,
        created_at_ms: row.get(13)?,
        updated_at_ms: row.get(14)?,
        state_since_ms: row.get(15)?,
    })
}

fn load(conn: &Connection, id: i64) -> Result<Option<Upgrade>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM upgrades WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(row) => Ok(Some(from_row(row)?)),
        None => Ok(None),
    }
}

fn insert_event(
    conn: &Connection,
    id: i64,
    now_ms: i64,
    from: Option<&UpgradeState>,
    to: &UpgradeState,
    actor: &Actor,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO upgrade_events (upgrade_id, ts_ms, from_state, to_state, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, now_ms, from.map(|s| s.to_string()), to.to_string(), actor.to_string(), detail.to_string()],
    )?;
    audit::record(
        conn,
        now_ms,
        &actor.to_string(),
        &format!("upgrade:{}", to.name()),
        &format!("upgrade {id}"),
        detail,
    )
}

impl Tx<'_> {
    /// Stores a proposal and returns its id.
    pub fn insert_upgrade(&self, new: &NewUpgrade, actor: &Actor) -> Result<i64, StoreError> {
        let state = UpgradeState::Proposed;
        self.tx.execute(
            "INSERT INTO upgrades (kind, capability, plugin, from_version, to_version, source, state, opportunity, risk,
                                   evidence, created_at_ms, updated_at_ms, state_since_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?11)",
            params![
                new.kind.as_str(),
                new.capability,
                new.plugin,
                new.from_version.as_ref().map(|v| v.to_string()),
                new.to_version.to_string(),
                new.source,
                state.name(),
                new.opportunity,
                new.risk,
                new.evidence.to_string(),
                self.now_ms
            ],
        )?;
        let id = self.tx.last_insert_rowid();
        insert_event(
            &self.tx,
            id,
            self.now_ms,
            None,
            &state,
            actor,
            &new.evidence,
        )?;
        Ok(id)
    }

    /// The upgrade `id`, as of this transaction.
    pub fn upgrade(&self, id: i64) -> Result<Upgrade, StoreError> {
        load(&self.tx, id)?.ok_or_else(|| StoreError::NotInstalled {
            what: format!("upgrade {id}"),
        })
    }

    /// Moves upgrade `id` to `to`, if the lifecycle allows it (with
    /// `stage_count` rollout stages), recording who did it and why.
    pub fn transition(
        &self,
        id: i64,
        to: &UpgradeState,
        actor: &Actor,
        detail: &serde_json::Value,
        stage_count: usize,
    ) -> Result<Upgrade, StoreError> {
        let current = self.upgrade(id)?;
        check_transition(&current.state, to, stage_count)
            .map_err(|e| StoreError::Refused(format!("upgrade {id}: {e}")))?;
        self.tx.execute(
            "UPDATE upgrades SET state = ?2, stage = ?3, reason = ?4, updated_at_ms = ?5, state_since_ms = ?5 WHERE id = ?1",
            params![id, to.name(), to.stage().map(|s| s as i64), to.reason(), self.now_ms],
        )?;
        insert_event(
            &self.tx,
            id,
            self.now_ms,
            Some(&current.state),
            to,
            actor,
            detail,
        )?;
        self.upgrade(id)
    }

    /// Sets `evidence[key] = value` on upgrade `id`.
    pub fn merge_evidence(
        &self,
        id: i64,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut upgrade = self.upgrade(id)?;
        if !upgrade.evidence.is_object() {
            upgrade.evidence = serde_json::json!({});
        }
        if let Some(map) = upgrade.evidence.as_object_mut() {
            map.insert(key.to_owned(), value.clone());
        }
        self.tx.execute(
            "UPDATE upgrades SET evidence = ?2, updated_at_ms = ?3 WHERE id = ?1",
            params![id, upgrade.evidence.to_string(), self.now_ms],
        )?;
        Ok(())
    }
}

/// Which upgrades to list.
#[derive(Debug, Clone, Default)]
pub struct UpgradeFilter {
    /// Only these state names (`rolling_out`, …); all when empty.
    pub states: Vec<&'static str>,
    /// Only upgrades of this plugin.
    pub plugin: Option<String>,
}

impl Store {
    /// One upgrade.
    pub fn upgrade(&self, id: i64) -> Result<Option<Upgrade>, StoreError> {
        load(&self.conn(), id)
    }

    /// Upgrades matching `filter`, oldest first.
    pub fn upgrades(&self, filter: &UpgradeFilter) -> Result<Vec<Upgrade>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM upgrades WHERE (?1 IS NULL OR plugin = ?1) ORDER BY id"
        ))?;
        let mut rows = stmt.query([filter.plugin.as_deref()])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let upgrade = from_row(row)?;
            if filter.states.is_empty() || filter.states.contains(&upgrade.state.name()) {
                out.push(upgrade);
            }
        }
        Ok(out)
    }

    /// The latest upgrade that targets `plugin@version`, if any.
    pub fn upgrade_for_target(
        &self,
        plugin: &str,
        version: &Version,
    ) -> Result<Option<Upgrade>, StoreError> {
        let conn = self.conn();
        let id: Option<i64> = conn
            .query_row(
                "SELECT id FROM upgrades WHERE plugin = ?1 AND to_version = ?2 ORDER BY id DESC LIMIT 1",
                params![plugin, version.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => load(&conn, id),
            None => Ok(None),
        }
    }

    /// The transitions of upgrade `id`, oldest first.
    pub fn upgrade_events(&self, id: i64) -> Result<Vec<UpgradeEvent>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT ts_ms, from_state, to_state, actor, detail FROM upgrade_events WHERE upgrade_id = ?1 ORDER BY id",
        )?;
        let mut rows = stmt.query([id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let detail: String = row.get(4)?;
            out.push(UpgradeEvent {
                ts_ms: row.get(0)?,
                from_state: row.get(1)?,
                to_state: row.get(2)?,
                actor: row.get(3)?,
                detail: serde_json::from_str(&detail)
                    .map_err(|e| corrupt(format!("event of upgrade {id}: {e}")))?,
            });
        }
        Ok(out)
    }

    /// How many upgrades entered `planned` (were started) at or after `since_ms`.
    pub fn upgrades_started_since(&self, since_ms: i64) -> Result<u64, StoreError> {
        let conn = self.conn();
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM upgrade_events WHERE to_state = 'planned' AND ts_ms >= ?1",
            [since_ms],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}
