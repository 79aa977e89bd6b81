//! The history of what discovery found: each scan (of code, runtime
//! behaviour or usage) and the patterns it found, so that `patterns list`
//! shows the latest and `patterns trends` how they changed.

use rusqlite::{OptionalExtension, params};
use selfup_core::pattern::Pattern;
use serde::Serialize;

use crate::{Store, StoreError};

/// Most patterns kept per scan (the best by opportunity score); a code scan
/// of a large tree can find many thousands of small clones.
pub const MAX_PATTERNS_PER_SCAN: usize = 2_000;

/// One recorded scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternScan {
    /// Its id.
    pub id: i64,
    /// What was scanned: `code`, `runtime` or `usage`.
    pub source: String,
    /// When.
    pub at_ms: i64,
    /// Numbers about the scan itself (files, calls, time taken).
    pub summary: serde_json::Value,
}

/// A pattern as history keeps it for trends (without its evidence).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatternSighting {
    /// The scan that found it.
    pub scan_id: i64,
    /// The scan's source.
    pub source: String,
    /// When.
    pub at_ms: i64,
    /// The pattern's stable id.
    pub pattern_id: String,
    /// Its kind (`CODE_REPETITION`, …).
    pub kind: String,
    /// Its signal (`renamed_clone`, …).
    pub signal: String,
    /// Its severity (`high`, …).
    pub severity: String,
    /// Its confidence.
    pub confidence: f64,
    /// Its opportunity score.
    pub score: f64,
}

impl Store {
    /// Records one scan of `source` and the patterns it found (the best
    /// [`MAX_PATTERNS_PER_SCAN`] by opportunity score; duplicate ids keep
    /// the first). Returns the scan's id.
    pub fn record_patterns(
        &self,
        source: &str,
        at_ms: i64,
        summary: &serde_json::Value,
        patterns: &[Pattern],
    ) -> Result<i64, StoreError> {
        let mut ranked: Vec<&Pattern> = patterns.iter().collect();
        ranked.sort_by(|a, b| {
            b.opportunity_score()
                .total_cmp(&a.opportunity_score())
                .then_with(|| a.id.cmp(&b.id))
        });
        ranked.truncate(MAX_PATTERNS_PER_SCAN);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO pattern_scans (source, at_ms, summary) VALUES (?1, ?2, ?3)",
            params![source, at_ms, summary.to_string()],
        )?;
        let scan_id = tx.last_insert_rowid();
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO patterns (scan_id, pattern_id, kind, signal, severity, confidence, score, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for p in ranked {
                let body = serde_json::to_string(p).map_err(|e| StoreError::Corrupt {
                    table: "patterns",
                    detail: format!("pattern {} does not serialise: {e}", p.id),
                })?;
                insert.execute(params![
                    scan_id,
                    p.id,
                    p.kind.label(),
                    p.signal,
                    as_str(&p.severity),
                    finite(p.confidence),
                    p.opportunity_score(),
                    body
                ])?;
            }
        }
        tx.commit()?;
        Ok(scan_id)
    }

    /// The latest scan of each source, with its patterns.
    pub fn latest_patterns(&self) -> Result<Vec<(PatternScan, Vec<Pattern>)>, StoreError> {
        let conn = self.conn();
        let mut scans = Vec::new();
        {
            let mut stmt = conn.prepare(
                "SELECT id, source, at_ms, summary FROM pattern_scans s
                 WHERE id = (SELECT MAX(id) FROM pattern_scans WHERE source = s.source)
                 ORDER BY source",
            )?;
            let rows = stmt.query_map([], scan_row)?;
            for row in rows {
                scans.push(row?);
            }
        }
        let mut out = Vec::new();
        let mut stmt = conn.prepare_cached(
            "SELECT body FROM patterns WHERE scan_id = ?1 ORDER BY score DESC, pattern_id",
        )?;
        for scan in scans {
            let scan = scan?;
            let bodies = stmt.query_map([scan.id], |r| r.get::<_, String>(0))?;
            let mut patterns = Vec::new();
            for body in bodies {
                let body = body?;
                patterns.push(
                    serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                        table: "patterns",
                        detail: format!("scan {}: {e}", scan.id),
                    })?,
                );
            }
            out.push((scan, patterns));
        }
        Ok(out)
    }

    /// Every pattern found by scans at or after `since_ms`, oldest scan first.
    pub fn pattern_sightings(&self, since_ms: i64) -> Result<Vec<PatternSighting>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT s.id, s.source, s.at_ms, p.pattern_id, p.kind, p.signal, p.severity, p.confidence, p.score
             FROM pattern_scans s JOIN patterns p ON p.scan_id = s.id
             WHERE s.at_ms >= ?1 ORDER BY s.at_ms, s.id, p.pattern_id",
        )?;
        let rows = stmt.query_map([since_ms], |r| {
            Ok(PatternSighting {
                scan_id: r.get(0)?,
                source: r.get(1)?,
                at_ms: r.get(2)?,
                pattern_id: r.get(3)?,
                kind: r.get(4)?,
                signal: r.get(5)?,
                severity: r.get(6)?,
                confidence: r.get(7)?,
                score: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Scans at or after `since_ms`, oldest first.
    pub fn pattern_scans(&self, since_ms: i64) -> Result<Vec<PatternScan>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, source, at_ms, summary FROM pattern_scans WHERE at_ms >= ?1 ORDER BY at_ms, id",
        )?;
        let rows = stmt.query_map([since_ms], scan_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// When `source` was last scanned, if ever.
    pub fn last_pattern_scan_ms(&self, source: &str) -> Result<Option<i64>, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT MAX(at_ms) FROM pattern_scans WHERE source = ?1",
                [source],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }

    /// Deletes scans older than `before_ms`, except the latest of each
    /// source; returns how many were deleted.
    pub fn prune_pattern_scans(&self, before_ms: i64) -> Result<usize, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let keep = "(SELECT MAX(id) FROM pattern_scans GROUP BY source)";
        tx.execute(
            &format!(
                "DELETE FROM patterns WHERE scan_id IN
                 (SELECT id FROM pattern_scans WHERE at_ms < ?1 AND id NOT IN {keep})"
            ),
            [before_ms],
        )?;
        let deleted = tx.execute(
            &format!("DELETE FROM pattern_scans WHERE at_ms < ?1 AND id NOT IN {keep}"),
            [before_ms],
        )?;
        tx.commit()?;
        Ok(deleted)
    }
}

type ScanRow = Result<PatternScan, StoreError>;

fn scan_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScanRow> {
    let (id, source, at_ms, summary): (i64, String, i64, String) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    Ok(serde_json::from_str(&summary)
        .map(|summary| PatternScan {
            id,
            source,
            at_ms,
            summary,
        })
        .map_err(|e| StoreError::Corrupt {
            table: "pattern_scans",
            detail: format!("scan {id}: {e}"),
        }))
}

fn as_str(severity: &selfup_core::pattern::Severity) -> String {
    serde_json::to_value(severity)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use selfup_core::pattern::{PatternKind, Severity};

    use super::*;

    fn pattern(id: &str, severity: Severity, confidence: f64) -> Pattern {
        Pattern {
            id: id.into(),
            kind: PatternKind::Bottleneck,
            signal: "latency_degradation".into(),
            description: format!("pattern {id}"),
            severity,
            confidence,
            affected_components: vec!["text.stats".into()],
            locations: Vec::new(),
            evidence: serde_json::json!({ "ratio": 2.5 }),
        }
    }

    #[test]
    fn the_latest_scan_of_each_source_is_listed_and_old_ones_pruned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&crate::Home::new(dir.path())).expect("store");
        let summary = serde_json::json!({ "calls": 10 });
        store
            .record_patterns(
                "runtime",
                1_000,
                &summary,
                &[pattern("a", Severity::Low, 0.5)],
            )
            .expect("first");
        store
            .record_patterns(
                "runtime",
                2_000,
                &summary,
                &[
                    pattern("a", Severity::Low, 0.5),
                    pattern("b", Severity::Critical, 0.9),
                    pattern("b", Severity::Low, 0.1),
                ],
            )
            .expect("second");
        store
            .record_patterns("code", 1_500, &summary, &[])
            .expect("code");

        let latest = store.latest_patterns().expect("latest");
        assert_eq!(latest.len(), 2);
        let (scan, patterns) = &latest[1];
        assert_eq!((scan.source.as_str(), scan.at_ms), ("runtime", 2_000));
        assert_eq!(scan.summary, summary);
        let ids: Vec<&str> = patterns.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["b", "a"], "best score first, duplicate id kept once");
        assert_eq!(patterns[0].severity, Severity::Critical);
        assert_eq!(patterns[1].evidence["ratio"], 2.5);

        let sightings = store.pattern_sightings(0).expect("sightings");
        assert_eq!(sightings.len(), 3);
        assert_eq!(sightings[0].severity, "low");
        assert_eq!(
            store.last_pattern_scan_ms("runtime").expect("last"),
            Some(2_000)
        );
        assert_eq!(store.last_pattern_scan_ms("usage").expect("last"), None);

        // Pruning keeps the latest scan of each source, however old.
        assert_eq!(store.prune_pattern_scans(10_000).expect("prune"), 1);
        assert_eq!(store.pattern_scans(0).expect("scans").len(), 2);
        assert_eq!(store.pattern_sightings(0).expect("sightings").len(), 2);
    }
}
