//! Events the agent reports about itself (unmet requests, corrections,
//! task outcomes), kept for gap analysis.

use rusqlite::{Connection, params};
use selfup_core::telemetry::{AgentEvent, AgentEventType};

use crate::{Store, StoreError};

/// Inserts one event; used by the telemetry writer inside its batch.
pub(crate) fn insert(conn: &Connection, event: &AgentEvent) -> Result<i64, StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO agent_events (ts_ms, event_type, subject_hash, intent, text, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    stmt.execute(params![
        event.ts_ms,
        event.event_type.as_str(),
        event.subject_hash,
        event.intent,
        event.text,
        event.payload
    ])?;
    Ok(conn.last_insert_rowid())
}

impl Store {
    /// Events of `event_type` (all when `None`) received at or after
    /// `since_ms`, oldest first.
    pub fn agent_events(
        &self,
        event_type: Option<AgentEventType>,
        since_ms: i64,
    ) -> Result<Vec<AgentEvent>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT ts_ms, event_type, subject_hash, intent, text, payload FROM agent_events
             WHERE (?1 IS NULL OR event_type = ?1) AND ts_ms >= ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![event_type.map(|t| t.as_str()), since_ms], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (ts_ms, kind, subject_hash, intent, text, payload) = row?;
            let event_type = serde_json::from_value(serde_json::Value::String(kind.clone()))
                .map_err(|_| StoreError::Corrupt {
                    table: "agent_events",
                    detail: format!("unknown event type {kind:?}"),
                })?;
            out.push(AgentEvent {
                ts_ms,
                event_type,
                subject_hash,
                intent,
                text,
                payload,
            });
        }
        Ok(out)
    }
}
