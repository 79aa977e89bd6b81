//! Tools and capabilities: which tool serves a capability, and how a
//! `tools/call` result becomes a call's output.
//!
//! The rule: capability `text.echo` is served by the tool named exactly
//! `text.echo` if the server lists one, otherwise by `text_echo` (every
//! `.` and `-` replaced by `_`, the form most MCP servers use). Every
//! provided capability must have a tool, or the process does not serve.

use std::collections::{BTreeMap, BTreeSet};

use rmcp::model::{CallToolResult, ContentBlock};
use selfup_core::call::{CallError, ErrorKind};

use super::ProcessError;

/// Longest error text taken from a tool's result, in bytes.
const MAX_ERROR_TEXT: usize = 2000;

/// The tool name tried second for `capability`: `.` and `-` become `_`.
pub fn underscored(capability: &str) -> String {
    capability.replace(['.', '-'], "_")
}

/// Maps each capability to the tool serving it, from the tools the server
/// lists.
pub fn map_tools<'a>(
    capabilities: impl IntoIterator<Item = &'a str>,
    tools: &BTreeSet<String>,
) -> Result<BTreeMap<String, String>, ProcessError> {
    let mut map = BTreeMap::new();
    for capability in capabilities {
        let alt = underscored(capability);
        let tool = if tools.contains(capability) {
            capability.to_owned()
        } else if tools.contains(&alt) {
            alt
        } else {
            return Err(ProcessError::MissingTool {
                capability: capability.to_owned(),
                exact: capability.to_owned(),
                underscored: alt,
                available: tools.iter().cloned().collect::<Vec<_>>().join(", "),
            });
        };
        map.insert(capability.to_owned(), tool);
    }
    Ok(map)
}

/// A tool's result as a call's output (JSON text): the structured content
/// if there is some; otherwise the text content, as JSON if it parses, or
/// as a JSON string. A result flagged `isError` is a `plugin_error` whose
/// message is its text.
pub fn output(result: &CallToolResult) -> Result<String, CallError> {
    let text = result
        .content
        .iter()
        .filter_map(|c| match c {
            ContentBlock::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    if result.is_error == Some(true) {
        let mut message = text;
        if message.len() > MAX_ERROR_TEXT {
            let mut end = MAX_ERROR_TEXT;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        return Err(CallError::new(
            ErrorKind::PluginError,
            format!("the tool failed: {message}"),
        ));
    }
    if let Some(value) = &result.structured_content {
        return Ok(value.to_string());
    }
    if serde_json::from_str::<serde_json::Value>(&text).is_ok() {
        return Ok(text);
    }
    Ok(serde_json::Value::String(text).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_map_to_exact_then_underscored_tools() {
        let tools: BTreeSet<String> = ["text.echo", "clock_now"].map(String::from).into();
        let map = map_tools(["text.echo", "clock.now"], &tools).expect("mapped");
        assert_eq!(map["text.echo"], "text.echo");
        assert_eq!(map["clock.now"], "clock_now");
        let err = map_tools(["unit-convert.length"], &tools).expect_err("missing");
        assert!(err.to_string().contains("unit_convert_length"), "{err}");
    }

    #[test]
    fn results_become_json_outputs_or_plugin_errors() {
        let structured = CallToolResult::structured(serde_json::json!({"a": 1}));
        assert_eq!(output(&structured).expect("ok"), r#"{"a":1}"#);
        let json_text = CallToolResult::success(vec![ContentBlock::text("[1,2]")]);
        assert_eq!(output(&json_text).expect("ok"), "[1,2]");
        let plain = CallToolResult::success(vec![ContentBlock::text("hi")]);
        assert_eq!(output(&plain).expect("ok"), r#""hi""#);
        let failed = CallToolResult::error(vec![ContentBlock::text("boom")]);
        let err = output(&failed).expect_err("error");
        assert_eq!(err.kind, ErrorKind::PluginError);
        assert!(err.message.contains("boom"));
    }
}
