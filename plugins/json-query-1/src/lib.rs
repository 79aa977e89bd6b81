//! `json-query` 1.0.0: capability `json.query` looks a value up in a JSON
//! document by a path (syntax in [`path`]).
//!
//! Request `{"document": any JSON, "path": string}`, response
//! `{"result": value or null, "found": bool}`. A path with bad syntax is
//! `invalid-input` naming the character position.

pub mod path;

use pluginkit::{Plugin, PluginError, Request};

pluginkit::export_plugin!(JsonQuery);

/// The shape of a request, quoted in error messages.
const SHAPE: &str = r#"{"document": any JSON, "path": string such as "$.items[0].name"}"#;

/// The JSON path look-up plugin.
pub struct JsonQuery;

impl Plugin for JsonQuery {
    const CAPABILITIES: &'static [&'static str] = &["json.query"];

    fn execute(_capability: &str, request: &str) -> Result<String, PluginError> {
        let request = Request::parse(request, SHAPE)?;
        let document = request.value("document", "the JSON document to query")?;
        let path_text = request.str("path", "a path such as \"$.items[0].name\"")?;
        let segments = path::parse(path_text).map_err(|e| {
            PluginError::invalid_input(format!(
                "invalid path {path_text:?} at position {}: {}",
                e.position, e.message
            ))
        })?;
        let found = path::lookup(document, &segments);
        Ok(serde_json::json!({
            "result": found.unwrap_or(&serde_json::Value::Null),
            "found": found.is_some(),
        })
        .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pluginkit::ErrorCode;
    use serde_json::{Value, json};

    fn run(request: Value) -> Result<Value, PluginError> {
        JsonQuery::execute("json.query", &request.to_string())
            .map(|s| serde_json::from_str(&s).unwrap())
    }

    #[test]
    fn found_and_not_found() {
        let doc = json!({"users": [{"name": "Ada"}, {"name": "Lin"}]});
        let out = run(json!({"document": doc, "path": "$.users[-1].name"})).unwrap();
        assert_eq!(out, json!({"result": "Lin", "found": true}));
        let out = run(json!({"document": doc, "path": "$.users[5]"})).unwrap();
        assert_eq!(out, json!({"result": null, "found": false}));
        let out = run(json!({"document": null, "path": "$"})).unwrap();
        assert_eq!(out, json!({"result": null, "found": true}));
    }

    #[test]
    fn bad_requests_are_invalid_input() {
        let cases = [
            (json!({"path": "$"}), "missing field `document`"),
            (json!({"document": 1}), "missing field `path`"),
            (
                json!({"document": 1, "path": 3}),
                "field `path` must be a string",
            ),
            (json!({"document": 1, "path": "$.a["}), "at position 4"),
        ];
        for (request, needle) in cases {
            let err = run(request).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput);
            assert!(err.message.contains(needle), "{}", err.message);
        }
    }
}
