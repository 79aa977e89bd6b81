//! Reading calls back in bulk, for discovery: which capability versions
//! were called in a period, and each of their calls in it, streamed so that
//! a day of traffic never has to fit in memory at once.

use rusqlite::{OptionalExtension, params};
use selfup_core::call::ErrorKind;
use selfup_core::telemetry::Arm;
use serde::Serialize;

use crate::{Store, StoreError};

/// A capability version calls were recorded for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CallTarget {
    /// Its id in the store.
    pub id: i64,
    /// The capability.
    pub capability: String,
    /// The plugin that served it (empty for calls nobody could serve).
    pub plugin: String,
    /// Its version (empty when nobody served it).
    pub version: String,
}

/// One call, as discovery reads it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CallRow {
    /// When it was made.
    pub ts_ms: i64,
    /// The hash of its subject.
    pub subject_hash: i64,
    /// Whether it failed.
    pub failed: bool,
    /// Why, if it failed.
    pub error_kind: Option<ErrorKind>,
    /// Its latency, µs.
    pub latency_us: u64,
    /// Peak linear memory, bytes.
    pub peak_memory_bytes: u64,
    /// Busy CPU time, µs.
    pub cpu_us: u64,
    /// The experiment arm, during a rollout (`Shadow`: a mirrored copy the
    /// agent never saw).
    pub arm: Option<Arm>,
}

/// Latest calls of a target looked at for distinct subjects.
pub const SUBJECT_SAMPLE: i64 = 100_000;

/// A target's calls in a period, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSummary {
    /// How many (whole hours at the edges of the period).
    pub calls: u64,
    /// When the first was made.
    pub first_ms: Option<i64>,
    /// When the last was made.
    pub last_ms: Option<i64>,
    /// Distinct subjects (at most the number asked for).
    pub subjects: Vec<i64>,
}

impl Store {
    /// The capability versions with calls in the hours overlapping
    /// `[from_ms, to_ms)` (from the hourly counts), by capability.
    pub fn call_targets_between(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<CallTarget>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT t.id, t.capability, t.plugin, t.version FROM call_targets t
             WHERE EXISTS (SELECT 1 FROM call_hourly h WHERE h.target_id = t.id AND h.hour >= ?1 AND h.hour <= ?2)
             ORDER BY t.capability, t.plugin, t.version",
        )?;
        let rows = stmt.query_map(
            params![
                from_ms.div_euclid(3_600_000),
                (to_ms - 1).div_euclid(3_600_000)
            ],
            |r| {
                Ok(CallTarget {
                    id: r.get(0)?,
                    capability: r.get(1)?,
                    plugin: r.get(2)?,
                    version: r.get(3)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many calls `target_id` had in `[from_ms, to_ms)` (from the hourly
    /// counts, so whole hours at the edges), when the first and last were
    /// made, and up to `max_subjects` distinct subjects among its latest
    /// [`SUBJECT_SAMPLE`] calls other than `excluded_subject` — without
    /// reading every call.
    pub fn target_summary(
        &self,
        target_id: i64,
        from_ms: i64,
        to_ms: i64,
        excluded_subject: i64,
        max_subjects: usize,
    ) -> Result<TargetSummary, StoreError> {
        let conn = self.conn();
        let calls: i64 = conn.query_row(
            "SELECT COALESCE(SUM(calls), 0) FROM call_hourly
             WHERE target_id = ?1 AND hour >= ?2 AND hour <= ?3",
            params![
                target_id,
                from_ms.div_euclid(3_600_000),
                (to_ms - 1).div_euclid(3_600_000)
            ],
            |r| r.get(0),
        )?;
        let bound = |order: &str| -> Result<Option<i64>, StoreError> {
            Ok(conn
                .query_row(
                    &format!(
                    "SELECT ts_ms FROM calls WHERE target_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3
                     ORDER BY ts_ms {order} LIMIT 1"
                ),
                    params![target_id, from_ms, to_ms],
                    |r| r.get(0),
                )
                .optional()?)
        };
        let (first_ms, last_ms) = (bound("ASC")?, bound("DESC")?);
        let mut stmt = conn.prepare(
            "SELECT DISTINCT subject_hash FROM (
                 SELECT subject_hash FROM calls
                 WHERE target_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3
                 ORDER BY ts_ms DESC LIMIT ?4)
             WHERE subject_hash != ?5 LIMIT ?6",
        )?;
        let subjects = stmt
            .query_map(
                params![
                    target_id,
                    from_ms,
                    to_ms,
                    SUBJECT_SAMPLE,
                    excluded_subject,
                    max_subjects as i64
                ],
                |r| r.get(0),
            )?
            .collect::<Result<Vec<i64>, _>>()?;
        Ok(TargetSummary {
            calls: calls.max(0) as u64,
            first_ms,
            last_ms,
            subjects,
        })
    }

    /// Calls `visit` with every call of `target_id` made in `[from_ms,
    /// to_ms)`, in time order (one indexed range read).
    pub fn for_each_call(
        &self,
        target_id: i64,
        from_ms: i64,
        to_ms: i64,
        mut visit: impl FnMut(&CallRow),
    ) -> Result<u64, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT ts_ms, subject_hash, outcome, error_kind, latency_us, peak_memory_bytes, cpu_us, arm
             FROM calls WHERE target_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 ORDER BY ts_ms",
        )?;
        let mut rows = stmt.query(params![target_id, from_ms, to_ms])?;
        let mut seen = 0;
        while let Some(r) = rows.next()? {
            let kind: Option<i64> = r.get(3)?;
            let arm: Option<i64> = r.get(7)?;
            visit(&CallRow {
                ts_ms: r.get(0)?,
                subject_hash: r.get(1)?,
                failed: r.get::<_, i64>(2)? != 0,
                error_kind: kind
                    .and_then(|k| u8::try_from(k).ok())
                    .and_then(ErrorKind::from_code),
                latency_us: r.get::<_, i64>(4)?.max(0) as u64,
                peak_memory_bytes: r.get::<_, i64>(5)?.max(0) as u64,
                cpu_us: r.get::<_, i64>(6)?.max(0) as u64,
                arm: arm
                    .and_then(|a| u8::try_from(a).ok())
                    .and_then(Arm::from_code),
            });
            seen += 1;
        }
        Ok(seen)
    }
}
