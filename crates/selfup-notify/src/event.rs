//! Which upgrade state changes are notification events, and their names.

use selfup_core::config::NotificationEvent;

/// The event a transition into the stored state `to_state` is, if any:
/// `approved` → upgrade_approved, `awaiting_approval` → approval_requested,
/// `completed` → upgrade_deployed, `rolled_back(…)` → upgrade_rolled_back,
/// `failed(…)` → upgrade_failed.
pub fn event_for_state(to_state: &str) -> Option<NotificationEvent> {
    Some(match state_name(to_state) {
        "approved" => NotificationEvent::UpgradeApproved,
        "awaiting_approval" => NotificationEvent::ApprovalRequested,
        "completed" => NotificationEvent::UpgradeDeployed,
        "rolled_back" => NotificationEvent::UpgradeRolledBack,
        "failed" => NotificationEvent::UpgradeFailed,
        _ => return None,
    })
}

/// The event's name as configured and sent (`upgrade_deployed`, …).
pub fn event_name(event: NotificationEvent) -> &'static str {
    match event {
        NotificationEvent::UpgradeApproved => "upgrade_approved",
        NotificationEvent::UpgradeDeployed => "upgrade_deployed",
        NotificationEvent::UpgradeRolledBack => "upgrade_rolled_back",
        NotificationEvent::UpgradeFailed => "upgrade_failed",
        NotificationEvent::ApprovalRequested => "approval_requested",
    }
}

/// The state name of a stored state (`rolled_back(gate failed)` → `rolled_back`).
pub fn state_name(stored: &str) -> &str {
    stored.split_once('(').map_or(stored, |(name, _)| name)
}

/// What the parentheses of a stored state hold (a reason, or a stage).
pub fn state_argument(stored: &str) -> Option<&str> {
    let (_, rest) = stored.split_once('(')?;
    Some(rest.strip_suffix(')').unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_states_map_to_events() {
        use NotificationEvent as E;
        for (stored, event) in [
            ("approved", Some(E::UpgradeApproved)),
            ("awaiting_approval", Some(E::ApprovalRequested)),
            ("completed", Some(E::UpgradeDeployed)),
            (
                "rolled_back(p95 latency (ms) too high)",
                Some(E::UpgradeRolledBack),
            ),
            ("failed(package does not install)", Some(E::UpgradeFailed)),
            ("rolling_out(2)", None),
            ("proposed", None),
            ("planned", None),
        ] {
            assert_eq!(event_for_state(stored), event, "{stored}");
        }
        assert_eq!(
            state_argument("rolled_back(p95 latency (ms) too high)"),
            Some("p95 latency (ms) too high")
        );
        assert_eq!(state_argument("rolling_out(2)"), Some("2"));
        assert_eq!(state_argument("completed"), None);
    }

    #[test]
    fn names_match_the_configuration_spelling() {
        for e in [
            NotificationEvent::UpgradeApproved,
            NotificationEvent::UpgradeDeployed,
            NotificationEvent::UpgradeRolledBack,
            NotificationEvent::UpgradeFailed,
            NotificationEvent::ApprovalRequested,
        ] {
            assert_eq!(
                serde_json::to_value(e).expect("serialise"),
                serde_json::json!(event_name(e))
            );
        }
    }
}
