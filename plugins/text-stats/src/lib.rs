//! `text-stats` 1.0.0: capability `text.stats` counts words, sentences,
//! characters and lines of a text (see [`stats`] for the definitions).
//!
//! Request `{"text": string}`, response `{"words": n, "sentences": n,
//! "characters": n, "characters_no_spaces": n, "lines": n,
//! "avg_word_length": float}`.

pub mod stats;

use pluginkit::{Plugin, PluginError, Request};

pluginkit::export_plugin!(TextStats);

/// The shape of a request, quoted in error messages.
const SHAPE: &str = r#"{"text": string}"#;

/// The text statistics plugin.
pub struct TextStats;

impl Plugin for TextStats {
    const CAPABILITIES: &'static [&'static str] = &["text.stats"];

    fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
        let request = Request::parse(request, SHAPE)?;
        let text = request.str("text", "the text to measure")?;
        let s = stats::Stats::of(text);
        Ok(serde_json::json!({
            "words": s.words,
            "sentences": s.sentences,
            "characters": s.characters,
            "characters_no_spaces": s.characters_no_spaces,
            "lines": s.lines,
            "avg_word_length": s.avg_word_length,
        })
        .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pluginkit::ErrorCode;
    use serde_json::{Value, json};

    #[test]
    fn response_fields() {
        let out = TextStats::execute("text.stats", r#"{"text": "Hi there. Bye!\nOk"}"#).unwrap();
        let out: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            out,
            json!({"words": 4, "sentences": 3, "characters": 17, "characters_no_spaces": 14,
                   "lines": 2, "avg_word_length": 3.0})
        );
    }

    #[test]
    fn bad_requests_are_invalid_input() {
        for bad in ["{}", r#"{"text": null}"#, "text", "[]"] {
            let err = TextStats::execute("text.stats", bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput, "{bad}");
        }
    }
}
