//! `test-trap` 1.0.0 (tests only): capability `test.trap` with request
//! `{"trap": true}` executes the wasm `unreachable` instruction (a real
//! trap); `{"trap": false}` returns `{"ok": true, "calls": n}` where `n`
//! counts the `execute` calls this instance has received, this one included
//! — so after a trap, a fresh instance answers `"calls": 1` again.

use std::sync::atomic::{AtomicU64, Ordering};

use pluginkit::{Plugin, PluginError, Request};

pluginkit::export_plugin!(Trap);

/// The shape of a request, quoted in error messages.
const SHAPE: &str = r#"{"trap": bool}"#;

/// `execute` calls received by this instance.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// The trapping plugin.
pub struct Trap;

impl Plugin for Trap {
    const CAPABILITIES: &'static [&'static str] = &["test.trap"];

    fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
        let calls = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
        let request = Request::parse(request, SHAPE)?;
        if request.bool("trap", "true to trap, false to answer with the call count")? {
            trap();
        }
        Ok(serde_json::json!({"ok": true, "calls": calls}).to_string())
    }
}

/// Execute the wasm `unreachable` instruction.
#[cfg(target_arch = "wasm32")]
fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

/// Natively (unit tests only) the nearest thing is an abort.
#[cfg(not(target_arch = "wasm32"))]
fn trap() -> ! {
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_calls() {
        let first = Trap::execute("test.trap", r#"{"trap": false}"#).unwrap();
        let second = Trap::execute("test.trap", r#"{"trap": false}"#).unwrap();
        let n = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap()["calls"].as_u64();
        assert_eq!(n(&second), n(&first).map(|c| c + 1));
        assert!(Trap::execute("test.trap", "{}").is_err());
    }
}
