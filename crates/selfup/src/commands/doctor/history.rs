//! Recent trouble in the upgrade history: rollbacks and failed upgrades in
//! the last 24 hours.

use selfup_store::overview::RecentTransition;
use selfup_store::{Store, StoreError};

use super::check::Check;

const DAY_MS: i64 = 24 * 3_600_000;

/// The rollback and failure checks.
pub fn check(store: &Store, now_ms: i64) -> Result<Vec<Check>, StoreError> {
    let recent = store.transitions_since(now_ms - DAY_MS, &["rolled_back", "failed"])?;
    let (rollbacks, failures): (Vec<_>, Vec<_>) =
        recent.iter().partition(|t| t.to_state == "rolled_back");
    Ok(vec![
        summarise(
            "upgrades.rollbacks",
            &rollbacks,
            "rollback",
            "no upgrade was rolled back in the last 24 h",
        ),
        summarise(
            "upgrades.failures",
            &failures,
            "failed upgrade",
            "no upgrade failed in the last 24 h",
        ),
    ])
}

fn summarise(name: &'static str, items: &[&RecentTransition], noun: &str, none: &str) -> Check {
    let Some(latest) = items.first() else {
        return Check::ok(name, none);
    };
    let reason = latest
        .reason
        .as_deref()
        .map(|r| format!(": {}", r.lines().next().unwrap_or_default()))
        .unwrap_or_default();
    let plural = if items.len() == 1 { "" } else { "s" };
    Check::warn(
        name,
        format!(
            "{} {noun}{plural} in the last 24 h; latest #{} {} {}@{} by {}{reason}",
            items.len(),
            latest.upgrade_id,
            latest.capability,
            latest.plugin,
            latest.to_version,
            latest.actor
        ),
        format!(
            "read the gates and evidence: `selfup upgrades show {}`",
            latest.upgrade_id
        ),
    )
}
