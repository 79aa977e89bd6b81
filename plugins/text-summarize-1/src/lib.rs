//! `text-summarize` 1.0.0: capability `text.summarize` summarises a text by
//! its lead sentences (the first `max_sentences`, default 3).
//!
//! Request `{"text": string, "max_sentences": int}`, response
//! `{"summary": string, "sentences": [string], "method": "lead"}`.

mod lead;

use pluginkit::{Plugin, PluginError, Request};

pluginkit::export_plugin!(Summarize);

/// The shape of a request, quoted in error messages.
const SHAPE: &str = r#"{"text": string, "max_sentences": int (optional, default 3)}"#;

/// The lead-sentence summariser.
pub struct Summarize;

impl Plugin for Summarize {
    const CAPABILITIES: &'static [&'static str] = &["text.summarize"];

    fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
        let request = Request::parse(request, SHAPE)?;
        let text = request.str("text", "the text to summarise")?;
        let max = request.positive_int_or("max_sentences", "how many sentences to keep", 3)?;
        let picked = lead::summarize(text, usize::try_from(max).unwrap_or(usize::MAX));
        Ok(serde_json::json!({
            "summary": picked.join(" "),
            "sentences": picked,
            "method": "lead",
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
    fn takes_the_lead_sentences() {
        let out = run(
            r#"{"text": "Dr. Who left. It rained 3.5 mm! Why? Nobody knows.", "max_sentences": 2}"#,
        )
        .unwrap();
        assert_eq!(
            out["sentences"],
            serde_json::json!(["Dr. Who left.", "It rained 3.5 mm!"])
        );
        assert_eq!(out["summary"], "Dr. Who left. It rained 3.5 mm!");
        assert_eq!(out["method"], "lead");
    }

    #[test]
    fn default_is_three_and_empty_text_is_fine() {
        let out = run(r#"{"text": "One. Two. Three. Four. Five."}"#).unwrap();
        assert_eq!(out["sentences"].as_array().unwrap().len(), 3);
        let out = run(r#"{"text": ""}"#).unwrap();
        assert_eq!(out["summary"], "");
    }

    #[test]
    fn bad_requests_are_invalid_input() {
        for bad in [
            r#"{}"#,
            r#"{"text": 5}"#,
            r#"{"text": "x", "max_sentences": 0}"#,
            "[",
            "null",
        ] {
            let err = run(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput, "{bad}: {}", err.message);
        }
        let err = run(r#"{"txt": "x"}"#).unwrap_err();
        assert!(
            err.message.contains("missing field `text`"),
            "{}",
            err.message
        );
    }
}
