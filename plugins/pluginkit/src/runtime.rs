//! The per-instance state behind the WIT exports: the plugin identity given
//! to `initialize` and the call counters reported by `health`.
//!
//! A component instance is single-threaded and has its own statics, so the
//! counters are exactly "this instance so far".

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::{Value, json};

use crate::{Plugin, PluginError};

static IDENTITY: OnceLock<(String, String)> = OnceLock::new();
static CALLS_SERVED: AtomicU64 = AtomicU64::new(0);
static CALLS_FAILED: AtomicU64 = AtomicU64::new(0);
static SHUT_DOWN: AtomicBool = AtomicBool::new(false);

/// WIT `initialize`: `context` must be a JSON object with string fields
/// `name` and `version`; they are remembered for `health`.
pub fn initialize(context: &str) -> Result<(), PluginError> {
    let value: Value = serde_json::from_str(context).map_err(|e| {
        PluginError::invalid_input(format!(
            "initialize context is not valid JSON ({e}); expected an object {{\"name\": string, \"version\": string}}"
        ))
    })?;
    let field = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                PluginError::invalid_input(format!(
                    "initialize context needs a string field `{key}`; expected an object {{\"name\": string, \"version\": string}}"
                ))
            })
    };
    let identity = (field("name")?, field("version")?);
    // A second initialize of the same instance keeps the first identity.
    let _ = IDENTITY.set(identity);
    Ok(())
}

/// WIT `capabilities`.
pub fn capabilities<P: Plugin>() -> Vec<String> {
    P::CAPABILITIES.iter().map(|c| (*c).to_owned()).collect()
}

/// WIT `execute`: refuses unknown capabilities, then runs the plugin and
/// counts the outcome.
pub fn execute<P: Plugin>(capability: &str, request: &str) -> Result<String, PluginError> {
    if !P::CAPABILITIES.contains(&capability) {
        CALLS_FAILED.fetch_add(1, Ordering::Relaxed);
        return Err(PluginError::unsupported(capability, P::CAPABILITIES));
    }
    let outcome = P::execute(capability, request);
    let counter = if outcome.is_ok() {
        &CALLS_SERVED
    } else {
        &CALLS_FAILED
    };
    counter.fetch_add(1, Ordering::Relaxed);
    outcome
}

/// WIT `health`: always healthy; details as a JSON object text.
pub fn health<P: Plugin>() -> (bool, String) {
    let (name, version) = IDENTITY
        .get()
        .map(|(n, v)| (Value::from(n.as_str()), Value::from(v.as_str())))
        .unwrap_or((Value::Null, Value::Null));
    let mut details = json!({
        "name": name,
        "version": version,
        "initialized": IDENTITY.get().is_some(),
        "calls_served": CALLS_SERVED.load(Ordering::Relaxed),
        "calls_failed": CALLS_FAILED.load(Ordering::Relaxed),
    });
    if let Value::Object(map) = &mut details {
        map.extend(P::health_details());
    }
    (true, details.to_string())
}

/// WIT `shutdown`: only records that it happened; nothing is released.
pub fn shutdown() {
    SHUT_DOWN.store(true, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    struct Upper;

    impl Plugin for Upper {
        const CAPABILITIES: &'static [&'static str] = &["text.upper"];

        fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
            Ok(request.to_uppercase())
        }
    }

    #[test]
    fn dispatch_checks_capability_and_counts() {
        let served = CALLS_SERVED.load(Ordering::Relaxed);
        assert_eq!(execute::<Upper>("text.upper", "ab").unwrap(), "AB");
        let err = execute::<Upper>("text.lower", "ab").unwrap_err();
        assert_eq!(err.code, ErrorCode::UnsupportedCapability);
        assert!(err.message.contains("text.upper"));
        assert!(CALLS_SERVED.load(Ordering::Relaxed) > served);
        assert_eq!(capabilities::<Upper>(), vec!["text.upper".to_owned()]);
    }

    #[test]
    fn initialize_validates_context() {
        assert!(initialize("nope").is_err());
        assert!(initialize(r#"{"name": "x"}"#).is_err());
        initialize(r#"{"name": "upper", "version": "1.0.0", "extra": 1}"#).unwrap();
        let (healthy, details) = health::<Upper>();
        assert!(healthy);
        let details: Value = serde_json::from_str(&details).unwrap();
        assert_eq!(details["name"], "upper");
        assert_eq!(details["initialized"], true);
    }
}
