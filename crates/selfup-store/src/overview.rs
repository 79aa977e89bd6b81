//! Read-only summaries for operators (`/metrics`, `selfup doctor`): upgrades
//! by state, and the recent transitions into given states.

use rusqlite::params;
use serde::Serialize;

use crate::{Store, StoreError};

/// One transition of an upgrade, with what the upgrade is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecentTransition {
    /// The upgrade.
    pub upgrade_id: i64,
    /// When.
    pub ts_ms: i64,
    /// The state entered.
    pub to_state: String,
    /// Who or what caused it.
    pub actor: String,
    /// The capability.
    pub capability: String,
    /// The plugin.
    pub plugin: String,
    /// The version it was installing.
    pub to_version: String,
    /// The upgrade's reason for its current state, if any.
    pub reason: Option<String>,
}

impl Store {
    /// How many upgrades are in each state (only states with upgrades).
    pub fn upgrade_state_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT state, COUNT(*) FROM upgrades GROUP BY state ORDER BY state")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Transitions into any of `states` at or after `since_ms`, newest first.
    pub fn transitions_since(
        &self,
        since_ms: i64,
        states: &[&str],
    ) -> Result<Vec<RecentTransition>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT e.upgrade_id, e.ts_ms, e.to_state, e.actor, u.capability, u.plugin, u.to_version, u.reason
             FROM upgrade_events e JOIN upgrades u ON u.id = e.upgrade_id
             WHERE e.ts_ms >= ?1 ORDER BY e.ts_ms DESC, e.id DESC",
        )?;
        let rows = stmt.query_map(params![since_ms], |r| {
            Ok(RecentTransition {
                upgrade_id: r.get(0)?,
                ts_ms: r.get(1)?,
                to_state: r.get(2)?,
                actor: r.get(3)?,
                capability: r.get(4)?,
                plugin: r.get(5)?,
                to_version: r.get(6)?,
                reason: r.get(7)?,
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            let t = row?;
            if states.contains(&t.to_state.as_str()) {
                out.push(t);
            }
        }
        Ok(out)
    }
}
