//! The audit trail: who or what changed what, written in the same
//! transaction as the change.

use rusqlite::{Connection, params};
use serde::Serialize;

use crate::{Store, StoreError};

/// One audit row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Row id (increasing).
    pub id: i64,
    /// When, in ms since the Unix epoch.
    pub ts_ms: i64,
    /// Who or what: `cli`, `http`, `rule`, `gate`, `human:<name>`, `recovery`.
    pub actor: String,
    /// What was done: `install`, `activate`, `remove`, …
    pub action: String,
    /// What it was done to, e.g. `text-summarize@2.0.0`.
    pub target: String,
    /// Details as JSON.
    pub detail: serde_json::Value,
}

/// Appends an audit row inside the caller's transaction.
pub(crate) fn record(
    conn: &Connection,
    ts_ms: i64,
    actor: &str,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit (ts_ms, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ts_ms, actor, action, target, detail.to_string()],
    )?;
    Ok(())
}

impl Store {
    /// The most recent `limit` audit rows, newest first.
    pub fn audit_trail(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, ts_ms, actor, action, target, detail FROM audit ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, ts_ms, actor, action, target, detail) = row?;
            let detail = serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt {
                table: "audit",
                detail: format!("row {id}: {e}"),
            })?;
            out.push(AuditEntry {
                id,
                ts_ms,
                actor,
                action,
                target,
                detail,
            });
        }
        Ok(out)
    }
}
