//! `test-spin` 1.0.0 (tests only): capability `test.spin` with request
//! `{"spin": true}` loops forever, so the host's execution-time limit must
//! stop it; `{"spin": false}` returns `{"ok": true}`, so a test can show the
//! replaced instance serves again.

use pluginkit::{Plugin, PluginError, Request};

pluginkit::export_plugin!(Spin);

/// The shape of a request, quoted in error messages.
const SHAPE: &str = r#"{"spin": bool}"#;

/// The spinning plugin.
pub struct Spin;

impl Plugin for Spin {
    const CAPABILITIES: &'static [&'static str] = &["test.spin"];

    fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
        let request = Request::parse(request, SHAPE)?;
        if request.bool("spin", "true to loop forever, false to answer at once")? {
            spin_forever();
        }
        Ok(r#"{"ok":true}"#.to_owned())
    }
}

/// Burn CPU without end; `black_box` keeps the optimiser from removing or
/// collapsing the loop.
fn spin_forever() -> ! {
    let mut counter = 0u64;
    loop {
        counter = std::hint::black_box(counter.wrapping_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harmless_mode_and_bad_input() {
        assert_eq!(
            Spin::execute("test.spin", r#"{"spin": false}"#).unwrap(),
            r#"{"ok":true}"#
        );
        assert!(Spin::execute("test.spin", r#"{"spin": "yes"}"#).is_err());
        assert!(Spin::execute("test.spin", "{}").is_err());
    }
}
