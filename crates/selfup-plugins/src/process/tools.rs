//! Tools and capabilities: which tool serves a capability, and how a
//! `tools/call` result becomes a call's output.
//!
//! The rule: a capability the manifest names a tool for (`tool_names`,
//! e.g. `time.now` → `get_current_time`) is served by that tool and no
//! other. Any other capability `text.echo` is served by the tool named
//! exactly `text.echo` if the server lists one, otherwise by `text_echo`
//! (every `.` and `-` replaced by `_`, the form most MCP servers use).
//! Every provided capability must have a tool, or the process does not
//! serve.

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

/// Maps each capability to the tool serving it, from the tool names the
/// manifest declares (`declared`, by capability) and the tools the server
/// lists.
pub fn map_tools<'a>(
    capabilities: impl IntoIterator<Item = &'a str>,
    declared: &BTreeMap<&str, &str>,
    tools: &BTreeSet<String>,
) -> Result<BTreeMap<String, String>, ProcessError> {
    let available = || tools.iter().cloned().collect::<Vec<_>>().join(", ");
    let mut map = BTreeMap::new();
    for capability in capabilities {
        if let Some(&tool) = declared.get(capability) {
            if !tools.contains(tool) {
                return Err(ProcessError::MissingDeclaredTool {
                    capability: capability.to_owned(),
                    tool: tool.to_owned(),
                    available: available(),
                });
            }
            map.insert(capability.to_owned(), tool.to_owned());
            continue;
        }
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
                available: available(),
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
        let none = BTreeMap::new();
        let map = map_tools(["text.echo", "clock.now"], &none, &tools).expect("mapped");
        assert_eq!(map["text.echo"], "text.echo");
        assert_eq!(map["clock.now"], "clock_now");
        let err = map_tools(["unit-convert.length"], &none, &tools).expect_err("missing");
        assert!(err.to_string().contains("unit_convert_length"), "{err}");
    }

    #[test]
    fn a_declared_tool_name_wins_and_must_exist() {
        let tools: BTreeSet<String> = ["get_current_time", "time_now", "text.echo"]
            .map(String::from)
            .into();
        let declared = BTreeMap::from([("time.now", "get_current_time")]);
        let map = map_tools(["time.now", "text.echo"], &declared, &tools).expect("mapped");
        assert_eq!(
            map["time.now"], "get_current_time",
            "declared beats time_now"
        );
        assert_eq!(map["text.echo"], "text.echo");
        let declared = BTreeMap::from([("time.now", "current_time")]);
        let err = map_tools(["time.now"], &declared, &tools).expect_err("declared is missing");
        assert_eq!(
            err.to_string(),
            "the server has no tool \"current_time\", which tool_names names for capability \"time.now\" (it has: get_current_time, text.echo, time_now)"
        );
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
