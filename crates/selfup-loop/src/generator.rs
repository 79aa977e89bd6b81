//! The seed's LLM capability generator: for a gap no catalog package
//! closes, the LLM writes a capability specification — name, description,
//! input and output JSON schemas, dependencies, approach, testing and
//! security considerations — stored as a proposal for a human or a plugin
//! author (`selfup specs list|show`). Nothing is built or installed from
//! it: a specification is text for people.

use selfup_core::pattern::Severity;
use selfup_discovery::gaps::Gap;
use selfup_llm::{JsonRequest, LlmClient};
use selfup_store::Store;

use crate::orchestrator::{Change, OrchestratorError};

/// Specifications written per cycle at most (each is one LLM call).
pub const SPECS_PER_CYCLE: usize = 2;

/// The strict JSON schema of a specification. The capability's own
/// schemas come back as JSON text (strict structured outputs cannot leave
/// an object open), and are parsed and checked here.
pub fn spec_schema() -> serde_json::Value {
    let strings = serde_json::json!({ "type": "array", "items": { "type": "string" } });
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "description", "input_schema_json", "output_schema_json",
                     "dependencies", "approach", "testing", "security_considerations"],
        "properties": {
            "name": { "type": "string", "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$" },
            "description": { "type": "string" },
            "input_schema_json": { "type": "string" },
            "output_schema_json": { "type": "string" },
            "dependencies": strings,
            "approach": { "type": "string" },
            "testing": strings,
            "security_considerations": strings,
        }
    })
}

const SYSTEM_PROMPT: &str = "You design capabilities for an AI agent. A capability is a \
sandboxed WebAssembly plugin function with a dotted name (e.g. unit.convert) that takes one \
JSON object and returns one JSON object, with no network or file access unless it is declared. \
From the unmet requests below, write the specification of the capability that would serve \
them: name, description, input and output JSON Schemas (as JSON text), dependencies (other \
capabilities or libraries), the implementation approach, how to test it, and security \
considerations.";

/// Writes specifications for the gaps at or above `min_severity` that no
/// catalog package closes and that have none yet (at most
/// [`SPECS_PER_CYCLE`]). A failed call is logged and left for a later cycle.
pub async fn write_specs(
    store: &Store,
    client: &LlmClient,
    gaps: &[Gap],
    min_severity: Severity,
    now_ms: i64,
) -> Result<Vec<Change>, OrchestratorError> {
    let mut changes = Vec::new();
    let mut asked = 0;
    for gap in gaps {
        if asked >= SPECS_PER_CYCLE {
            break;
        }
        if gap.severity < min_severity
            || !gap.candidates.is_empty()
            || store.capability_spec_for_gap(&gap.id)?.is_some()
        {
            continue;
        }
        asked += 1;
        let request = spec_request(gap);
        match client.complete_json(&request).await {
            Ok(answer) => match checked_spec(answer.value) {
                Ok(spec) => {
                    let name = spec["name"].as_str().unwrap_or_default().to_owned();
                    let id = store.record_capability_spec(
                        now_ms,
                        &gap.id,
                        &name,
                        &spec,
                        answer.call_id,
                    )?;
                    changes.push(Change {
                        ts_ms: now_ms,
                        upgrade_id: None,
                        text: format!(
                            "capability specification {id} written for gap \"{}\": {name} (see `selfup specs show {id}`)",
                            gap.title
                        ),
                    });
                }
                Err(why) => tracing::warn!(gap = %gap.id, %why, "capability specification refused"),
            },
            Err(failure) => {
                tracing::warn!(gap = %gap.id, error = %failure.error, "capability specification not written")
            }
        }
    }
    Ok(changes)
}

/// The request for one gap.
pub fn spec_request(gap: &Gap) -> JsonRequest {
    let facts = serde_json::json!({
        "gap": gap.title,
        "capability_named": gap.capability,
        "severity": gap.severity.label(),
        "requests": gap.demand,
        "distinct_users": gap.subjects,
        "examples": gap.examples,
        "terms": gap.terms,
    });
    JsonRequest {
        purpose: "capability_spec".to_owned(),
        system: SYSTEM_PROMPT.to_owned(),
        user: format!(
            "## UNMET DEMAND\n{}\n\nWrite the capability specification.",
            serde_json::to_string_pretty(&facts).unwrap_or_default()
        ),
        schema_name: "capability_specification".to_owned(),
        schema: spec_schema(),
    }
}

/// The answer with its schemas parsed: each must be a JSON Schema object
/// describing an object.
pub fn checked_spec(mut answer: serde_json::Value) -> Result<serde_json::Value, String> {
    for (text_key, key) in [
        ("input_schema_json", "input_schema"),
        ("output_schema_json", "output_schema"),
    ] {
        let text = answer[text_key]
            .as_str()
            .ok_or_else(|| format!("{text_key} is missing"))?;
        let schema: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("{text_key} is not JSON: {e}"))?;
        if schema["type"] != "object" {
            return Err(format!("{text_key} does not describe a JSON object"));
        }
        if let Some(map) = answer.as_object_mut() {
            map.remove(text_key);
            map.insert(key.to_owned(), schema);
        }
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_come_back_parsed() {
        let spec = checked_spec(serde_json::json!({
            "name": "unit.convert",
            "input_schema_json": "{\"type\":\"object\",\"properties\":{\"value\":{\"type\":\"number\"}}}",
            "output_schema_json": "{\"type\":\"object\"}",
        }))
        .expect("valid");
        assert_eq!(
            spec["input_schema"]["properties"]["value"]["type"],
            "number"
        );
        assert!(spec.get("input_schema_json").is_none());
        assert!(
            checked_spec(serde_json::json!({
                "input_schema_json": "[1]", "output_schema_json": "{}"
            }))
            .is_err()
        );
        assert!(
            checked_spec(serde_json::json!({
                "input_schema_json": "not json", "output_schema_json": "{}"
            }))
            .is_err()
        );
    }
}
