//! Capabilities as MCP tools, and call outcomes as tool results.

use std::borrow::Cow;
use std::sync::Arc;

use rmcp::model::{CallToolResult, ContentBlock, JsonObject, MetaObject, Tool};
use serde_json::Value;

use crate::dispatch::CallOutcome;
use crate::router::{RouteTarget, RoutingTable};

/// The schema of a capability that declares none: any JSON object.
fn any_object() -> JsonObject {
    let mut schema = JsonObject::new();
    schema.insert("type".into(), Value::String("object".into()));
    schema
}

/// The version that answers most calls of a route: the incumbent, or the
/// candidate of a new capability.
fn serving(table: &RoutingTable, capability: &str) -> Option<RouteTarget> {
    let route = table.get(capability)?;
    route
        .primary
        .clone()
        .or_else(|| route.rollout.as_ref().map(|r| r.candidate.clone()))
}

/// Every routed capability as a tool, sorted by name.
pub fn list(table: &RoutingTable) -> Vec<Tool> {
    table
        .capabilities()
        .into_iter()
        .filter_map(|capability| {
            let target = serving(table, capability)?;
            let manifest = &target.manifest;
            let schema = manifest
                .input_schemas
                .iter()
                .find(|(name, _)| name.as_str() == capability)
                .and_then(|(_, schema)| schema.as_object().cloned())
                .unwrap_or_else(any_object);
            let description = if manifest.description.is_empty() {
                format!("{capability} ({}@{})", target.plugin, target.version)
            } else {
                format!(
                    "{} ({}@{})",
                    manifest.description, target.plugin, target.version
                )
            };
            Some(Tool::new_with_raw(
                capability.to_owned(),
                Some(Cow::Owned(description)),
                Arc::new(schema),
            ))
        })
        .collect()
}

/// A dispatched call as a tool result: the output as JSON text (and as
/// `structuredContent` when it is an object), or the error as
/// `"<kind>: <message>"` with `isError`. `_meta` names the plugin version
/// that answered.
pub fn result(outcome: CallOutcome) -> CallToolResult {
    let mut result = match outcome.output {
        Ok(raw) => {
            let mut result = CallToolResult::success(vec![ContentBlock::text(raw.get())]);
            if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(raw.get()) {
                result.structured_content = Some(value);
            }
            result
        }
        Err(e) => CallToolResult::error(vec![ContentBlock::text(format!(
            "{}: {}",
            e.kind.as_str(),
            e.message
        ))]),
    };
    if let (Some(plugin), Some(version)) = (outcome.plugin, outcome.version) {
        let mut meta = MetaObject::default();
        meta.0
            .insert("selfup/plugin".into(), Value::String(plugin.to_string()));
        meta.0
            .insert("selfup/version".into(), Value::String(version.to_string()));
        meta.0.insert(
            "selfup/latency_ms".into(),
            serde_json::json!(outcome.cost.latency_us as f64 / 1000.0),
        );
        result.meta = Some(meta);
    }
    result
}
