//! The JSON document a notification carries: the webhook body, and what
//! the email is written from.

use std::time::{Duration, UNIX_EPOCH};

use selfup_core::config::NotificationEvent;
use selfup_store::notifications::SourceEvent;
use selfup_store::upgrades::Upgrade;
use serde_json::{Value, json};

use crate::event::{event_name, state_argument, state_name};

/// The payload of delivery `delivery_id` of `event`, from the upgrade event
/// `source` and the upgrade it is about (as read when enqueued):
///
/// `{"id", "event", "occurred_at" (RFC 3339), "upgrade": {"id", "capability",
/// "plugin", "from_version", "to_version", "state", "stage", "reason"},
/// "actor", "detail"}`. The upgrade's state, stage and reason are those the
/// event moved it to, not whatever it has reached since.
pub fn build(
    delivery_id: &str,
    event: NotificationEvent,
    source: &SourceEvent,
    upgrade: Option<&Upgrade>,
) -> Value {
    let state = state_name(&source.to_state);
    let argument = state_argument(&source.to_state);
    let (stage, reason) = match state {
        "rolling_out" => (argument.and_then(|s| s.parse::<u64>().ok()), None),
        _ => (None, argument),
    };
    json!({
        "id": delivery_id,
        "event": event_name(event),
        "occurred_at": rfc3339(source.ts_ms),
        "upgrade": {
            "id": source.upgrade_id,
            "capability": upgrade.map(|u| u.capability.as_str()),
            "plugin": upgrade.map(|u| u.plugin.as_str()),
            "from_version": upgrade.and_then(|u| u.from_version.as_ref()).map(|v| v.to_string()),
            "to_version": upgrade.map(|u| u.to_version.to_string()),
            "state": state,
            "stage": stage,
            "reason": reason,
        },
        "actor": source.actor,
        "detail": source.detail,
    })
}

/// `ms` since the Unix epoch as RFC 3339 UTC with milliseconds.
pub fn rfc3339(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(at).to_string()
}

/// A string field of the payload's `upgrade` object ("" when absent).
pub(crate) fn upgrade_field<'a>(payload: &'a Value, key: &str) -> &'a str {
    payload
        .get("upgrade")
        .and_then(|u| u.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A top-level string field of the payload ("" when absent).
pub(crate) fn field<'a>(payload: &'a Value, key: &str) -> &'a str {
    payload.get(key).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rollback_carries_its_reason_and_the_time_in_rfc3339() {
        let source = SourceEvent {
            id: 7,
            upgrade_id: 3,
            ts_ms: 1_767_225_600_250,
            from_state: Some("rolling_out(1)".into()),
            to_state: "rolled_back(error rate (5xx) above 2%)".into(),
            actor: "gate:error_rate".into(),
            detail: json!({"p": 0.001}),
        };
        let p = build("7-0", NotificationEvent::UpgradeRolledBack, &source, None);
        assert_eq!(p["event"], "upgrade_rolled_back");
        assert_eq!(p["occurred_at"], "2026-01-01T00:00:00.250Z");
        assert_eq!(p["upgrade"]["state"], "rolled_back");
        assert_eq!(p["upgrade"]["reason"], "error rate (5xx) above 2%");
        assert_eq!(p["upgrade"]["stage"], Value::Null);
        assert_eq!(p["actor"], "gate:error_rate");
        assert_eq!(p["detail"]["p"], 0.001);
    }
}
