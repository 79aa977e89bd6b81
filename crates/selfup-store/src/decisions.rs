//! What the decision engines decided, per upgrade, with the LLM call behind
//! each (the reasoning trail of `selfup upgrades show`), and the capability
//! specifications written for gaps.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::tx::Tx;
use crate::{Store, StoreError};

/// One decision on an upgrade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRecord {
    /// Row id.
    pub id: i64,
    /// The upgrade decided on.
    pub upgrade_id: i64,
    /// When.
    pub ts_ms: i64,
    /// `rule_based`, `llm` or `hybrid`.
    pub engine: String,
    /// `approve`, `needs_approval`, `defer` or `reject`.
    pub outcome: String,
    /// The whole decision (scores, reasons, the LLM's trail) as JSON.
    pub detail: serde_json::Value,
    /// The LLM call behind it, if any.
    pub llm_call_id: Option<i64>,
}

/// A capability specification written for a gap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapabilitySpec {
    /// Row id.
    pub id: i64,
    /// When it was written.
    pub created_at_ms: i64,
    /// The gap it closes.
    pub gap_id: String,
    /// The capability's proposed name.
    pub name: String,
    /// The specification (description, schemas, approach, …).
    pub spec: serde_json::Value,
    /// `proposed` until someone acts on it.
    pub status: String,
    /// The LLM call that wrote it.
    pub llm_call_id: Option<i64>,
}

impl Tx<'_> {
    /// Records a decision on `upgrade_id` in this transaction.
    pub fn record_decision(
        &self,
        upgrade_id: i64,
        engine: &str,
        outcome: &str,
        detail: &serde_json::Value,
        llm_call_id: Option<i64>,
    ) -> Result<i64, StoreError> {
        self.tx.execute(
            "INSERT INTO decisions (upgrade_id, ts_ms, engine, outcome, detail, llm_call_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                upgrade_id,
                self.now_ms,
                engine,
                outcome,
                detail.to_string(),
                llm_call_id
            ],
        )?;
        Ok(self.tx.last_insert_rowid())
    }
}

impl Store {
    /// The decisions on `upgrade_id`, oldest first.
    pub fn decisions(&self, upgrade_id: i64) -> Result<Vec<DecisionRecord>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, upgrade_id, ts_ms, engine, outcome, detail, llm_call_id
             FROM decisions WHERE upgrade_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([upgrade_id], |r| {
            let detail: String = r.get(5)?;
            Ok(DecisionRecord {
                id: r.get(0)?,
                upgrade_id: r.get(1)?,
                ts_ms: r.get(2)?,
                engine: r.get(3)?,
                outcome: r.get(4)?,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                llm_call_id: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a capability specification for `gap_id`.
    pub fn record_capability_spec(
        &self,
        now_ms: i64,
        gap_id: &str,
        name: &str,
        spec: &serde_json::Value,
        llm_call_id: Option<i64>,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO capability_specs (created_at_ms, gap_id, name, spec, llm_call_id)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now_ms, gap_id, name, spec.to_string(), llm_call_id],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// The newest specification written for `gap_id`, if any.
    pub fn capability_spec_for_gap(
        &self,
        gap_id: &str,
    ) -> Result<Option<CapabilitySpec>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT id, created_at_ms, gap_id, name, spec, status, llm_call_id
                 FROM capability_specs WHERE gap_id = ?1 ORDER BY id DESC LIMIT 1",
                [gap_id],
                spec_row,
            )
            .optional()?)
    }

    /// Every capability specification, newest first.
    pub fn capability_specs(&self) -> Result<Vec<CapabilitySpec>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, created_at_ms, gap_id, name, spec, status, llm_call_id
             FROM capability_specs ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([], spec_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn spec_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CapabilitySpec> {
    let spec: String = r.get(4)?;
    Ok(CapabilitySpec {
        id: r.get(0)?,
        created_at_ms: r.get(1)?,
        gap_id: r.get(2)?,
        name: r.get(3)?,
        spec: serde_json::from_str(&spec).unwrap_or(serde_json::Value::Null),
        status: r.get(5)?,
        llm_call_id: r.get(6)?,
    })
}
