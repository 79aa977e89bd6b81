//! The dashboard's overview: what the store says now, in one read.

use selfup_core::pattern::Pattern;
use selfup_store::audit::AuditEntry;
use selfup_store::registry::CapabilityInfo;
use selfup_store::rollouts::Rollout;
use selfup_store::telemetry::TelemetrySummary;
use selfup_store::upgrades::{Upgrade, UpgradeFilter};
use selfup_store::{Store, StoreError};
use serde::Serialize;

/// Audit rows shown.
pub const AUDIT_ROWS: usize = 200;
/// Patterns shown (best opportunity first).
pub const PATTERN_ROWS: usize = 100;
/// The telemetry summary covers this many hours.
pub const SUMMARY_HOURS: i64 = 24;

/// A pattern with where it was found and its score.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredPattern {
    /// The analysis that found it (`runtime`, `usage`, `code`, …).
    pub source: String,
    /// Its opportunity score.
    pub opportunity_score: f64,
    /// The pattern.
    pub pattern: Pattern,
}

/// Everything the dashboard shows that the store alone answers.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// The gateway's clock, ms since the Unix epoch.
    pub now_ms: i64,
    /// Every capability with its active and installed providers.
    pub capabilities: Vec<CapabilityInfo>,
    /// The rollouts in flight (without the controller's internal state).
    pub rollouts: Vec<Rollout>,
    /// Every upgrade, newest first.
    pub upgrades: Vec<Upgrade>,
    /// Calls, errors and latency per capability version over the last
    /// [`SUMMARY_HOURS`] hours.
    pub telemetry: Vec<TelemetrySummary>,
    /// The latest audit rows, newest first.
    pub audit: Vec<AuditEntry>,
    /// The latest patterns of each analysis, best opportunity first.
    pub patterns: Vec<ScoredPattern>,
}

/// Reads the overview at `now_ms` (blocking: run it on the blocking pool).
pub fn overview(store: &Store, now_ms: i64) -> Result<Overview, StoreError> {
    let mut rollouts = store.rollouts()?;
    for r in &mut rollouts {
        r.monitor = serde_json::Value::Null;
    }
    let mut upgrades = store.upgrades(&UpgradeFilter::default())?;
    upgrades.sort_by_key(|u| std::cmp::Reverse(u.id));
    let mut patterns: Vec<ScoredPattern> = store
        .latest_patterns()?
        .into_iter()
        .flat_map(|(scan, found)| {
            found.into_iter().map(move |p| ScoredPattern {
                source: scan.source.clone(),
                opportunity_score: p.opportunity_score(),
                pattern: p,
            })
        })
        .collect();
    patterns.sort_by(|a, b| {
        b.opportunity_score
            .total_cmp(&a.opportunity_score)
            .then_with(|| a.pattern.id.cmp(&b.pattern.id))
    });
    patterns.truncate(PATTERN_ROWS);
    Ok(Overview {
        now_ms,
        capabilities: store.capabilities()?,
        rollouts,
        upgrades,
        telemetry: store.telemetry_summary(now_ms - SUMMARY_HOURS * 3_600_000)?,
        audit: store.audit_trail(AUDIT_ROWS)?,
        patterns,
    })
}
