//! `text-summarize` 2.0.0: capability `text.summarize` summarises a text by
//! extractive term-frequency scoring (see [`tf`]), instead of 1.0.0's lead
//! sentences. Same request and response as 1.0.0, with `"method": "tf"`.
//!
//! Request `{"text": string, "max_sentences": int}` (default 3), response
//! `{"summary": string, "sentences": [string], "method": "tf"}`.
//!
//! On the corpus in `plugins/testdata/summaries.json` (texts whose key
//! content is not in the lead) its keyword recall beats the lead method;
//! the `corpus` test measures and prints both.

pub mod tf;

#[cfg(test)]
mod corpus;

use pluginkit::{Plugin, PluginError, Request};

pluginkit::export_plugin!(Summarize);

/// The shape of a request, quoted in error messages.
const SHAPE: &str = r#"{"text": string, "max_sentences": int (optional, default 3)}"#;

/// The term-frequency summariser.
pub struct Summarize;

impl Plugin for Summarize {
    const CAPABILITIES: &'static [&'static str] = &["text.summarize"];

    fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
        let request = Request::parse(request, SHAPE)?;
        let text = request.str("text", "the text to summarise")?;
        let max = request.positive_int_or("max_sentences", "how many sentences to keep", 3)?;
        let picked = tf::summarize(text, usize::try_from(max).unwrap_or(usize::MAX));
        Ok(serde_json::json!({
            "summary": picked.join(" "),
            "sentences": picked,
            "method": "tf",
        })
        .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pluginkit::ErrorCode;
    use serde_json::Value;

    fn run(request: &str) -> Result<Value, PluginError> {
        Summarize::execute("text.summarize", request).map(|s| serde_json::from_str(&s).unwrap())
    }

    #[test]
    fn response_shape() {
        let out = run(
            r#"{"text": "Cats sleep. Dogs bark. Cats purr when cats sleep.", "max_sentences": 1}"#,
        )
        .unwrap();
        assert_eq!(out["sentences"], serde_json::json!(["Cats sleep."]));
        assert_eq!(out["summary"], "Cats sleep.");
        assert_eq!(out["method"], "tf");
    }

    #[test]
    fn bad_requests_are_invalid_input() {
        for bad in [
            r#"{}"#,
            r#"{"text": []}"#,
            r#"{"text": "x", "max_sentences": -2}"#,
            "",
            "\"x\"",
        ] {
            let err = run(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput, "{bad}: {}", err.message);
        }
    }
}
