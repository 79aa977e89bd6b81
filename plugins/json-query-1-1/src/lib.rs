//! `json-query` 1.1.0: capability `json.query` like 1.0.0, plus wildcards.
//!
//! Request `{"document": any JSON, "path": string}`, response
//! `{"result": value or null, "found": bool, "matches": [value]}`. Paths
//! are 1.0.0's (`$`, `.key`, `["key"]`, `[index]`, `[-1]`) plus the
//! wildcards `.*` and `[*]` (syntax in [`path`]). `matches` lists every
//! selected value; `result` is the single match of a path without
//! wildcards (or null), and the whole `matches` array for a path with
//! wildcards. `found` says whether anything matched.
//!
//! # Deliberate regression
//!
//! This version is the demo's *bad upgrade*: the rewritten tokenizer
//! ([`lexer`]) makes `-` a token of its own (for `[-1]`) and no longer
//! reads it as part of a `.key` name. The parser assumes a `-` can only
//! follow `[` and treats any other `-` as an impossible state, so:
//!
//! **Trigger**: the path contains a `-` that is not directly after `[` —
//! in realistic paths, a dot-notation key containing a hyphen, such as
//! `$.headers.content-type`, `$.x-request-id` or `$.scripts.pre-build`.
//!
//! **Effect**: `execute` returns an `internal` error ("parser reached an
//! impossible state: stray '-' token at position N") where 1.0.0 returned
//! the member. The same keys in bracket notation (`$.headers["content-type"]`)
//! work. The outcome depends only on the path, so it is deterministic.
//!
//! Over realistic, varied requests (API responses, HTTP headers, configs
//! and manifests, where kebab-case keys are common) roughly one request in
//! ten hits it: the `regression` test generates 1000 such requests (84 of
//! them, 8.4%, fail; other seeds give 7.7–8.7%) and asserts a failure rate
//! between 5% and 15%, that only requests with the trigger fail, and that
//! every other request without a wildcard gets exactly 1.0.0's result. Speed is unchanged: parsing and look-up
//! are linear in the path and the selected values, as in 1.0.0.

pub mod lexer;
pub mod path;

#[cfg(test)]
mod regression;

use pluginkit::{Plugin, PluginError, Request};
use serde_json::Value;

pluginkit::export_plugin!(JsonQuery);

/// The shape of a request, quoted in error messages.
const SHAPE: &str = r#"{"document": any JSON, "path": string such as "$.items[*].name"}"#;

/// The JSON path look-up plugin, with wildcards.
pub struct JsonQuery;

impl Plugin for JsonQuery {
    const CAPABILITIES: &'static [&'static str] = &["json.query"];

    fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
        let request = Request::parse(request, SHAPE)?;
        let document = request.value("document", "the JSON document to query")?;
        let path_text = request.str("path", "a path such as \"$.items[*].name\"")?;
        let segments = path::parse(path_text).map_err(|e| e.into_plugin_error(path_text))?;
        let matches = path::select(document, &segments);
        let result = if segments.contains(&path::Segment::Wildcard) {
            Value::Array(matches.iter().map(|v| (*v).clone()).collect())
        } else {
            matches.first().map_or(Value::Null, |v| (*v).clone())
        };
        Ok(serde_json::json!({
            "result": result,
            "found": !matches.is_empty(),
            "matches": matches,
        })
        .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pluginkit::ErrorCode;
    use serde_json::json;

    fn run(request: Value) -> Result<Value, PluginError> {
        JsonQuery::execute("json.query", &request.to_string())
            .map(|s| serde_json::from_str(&s).unwrap())
    }

    #[test]
    fn plain_and_wildcard_responses() {
        let doc = json!({"users": [{"name": "Ada"}, {"name": "Lin"}]});
        let out = run(json!({"document": doc, "path": "$.users[-1].name"})).unwrap();
        assert_eq!(
            out,
            json!({"result": "Lin", "found": true, "matches": ["Lin"]})
        );
        let out = run(json!({"document": doc, "path": "$.users[*].name"})).unwrap();
        assert_eq!(
            out,
            json!({"result": ["Ada", "Lin"], "found": true, "matches": ["Ada", "Lin"]})
        );
        let out = run(json!({"document": doc, "path": "$.nobody[*]"})).unwrap();
        assert_eq!(out, json!({"result": [], "found": false, "matches": []}));
        let out = run(json!({"document": doc, "path": "$.nobody"})).unwrap();
        assert_eq!(out, json!({"result": null, "found": false, "matches": []}));
    }

    #[test]
    fn bad_requests_are_invalid_input() {
        let cases = [
            (json!({"path": "$"}), "missing field `document`"),
            (
                json!({"document": 1, "path": false}),
                "field `path` must be a string",
            ),
            (json!({"document": 1, "path": "$.a[*"}), "at position 5"),
        ];
        for (request, needle) in cases {
            let err = run(request).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput);
            assert!(err.message.contains(needle), "{}", err.message);
        }
    }

    #[test]
    fn hyphenated_dot_key_is_an_internal_error() {
        let doc = json!({"headers": {"content-type": "text/html"}});
        let err = run(json!({"document": doc, "path": "$.headers.content-type"})).unwrap_err();
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(err.message.contains("stray '-'"), "{}", err.message);
        let out = run(json!({"document": doc, "path": "$.headers[\"content-type\"]"})).unwrap();
        assert_eq!(out["result"], "text/html");
    }
}
