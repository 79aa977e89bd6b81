//! `test-echo` 1.0.0: capability `test.echo` returns the request text
//! unchanged, without parsing it. It is the trivial capability that
//! benchmarks use to measure the host's own per-call overhead.

use pluginkit::{Plugin, PluginError};

pluginkit::export_plugin!(Echo);

/// The echo plugin.
pub struct Echo;

impl Plugin for Echo {
    const CAPABILITIES: &'static [&'static str] = &["test.echo"];

    fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
        Ok(request.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_verbatim() {
        let request = r#"{"a": [1, 2], "b": "x"}"#;
        assert_eq!(Echo::execute("test.echo", request).unwrap(), request);
        assert_eq!(Echo::execute("test.echo", "not json").unwrap(), "not json");
    }
}
