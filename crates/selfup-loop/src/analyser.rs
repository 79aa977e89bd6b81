//! The seed's LLM-powered pattern analyser: the code patterns of the latest
//! scan, with samples of their code, go to the LLM, which answers with
//! structured refactoring opportunities. Each becomes a pattern of the
//! history (source [`LLM_SOURCE`]), keeping the original's locations and
//! components, so `selfup patterns list` ranks them with the rest.

use std::collections::BTreeMap;

use selfup_core::pattern::{Pattern, PatternKind, Severity};
use selfup_llm::{JsonRequest, LlmClient};
use selfup_store::Store;

/// The pattern history's source for what the LLM found.
pub const LLM_SOURCE: &str = "llm";

/// Lines of code sent per location at most.
pub const SAMPLE_LINES: usize = 60;

/// Locations sampled per pattern at most.
pub const SAMPLES_PER_PATTERN: usize = 2;

/// Why an analysis could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// No code scan is recorded yet.
    #[error(
        "no code scan in the pattern history yet; run `selfup patterns scan` (with code_paths configured) first"
    )]
    NoScan,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] selfup_store::StoreError),
    /// The LLM gave no usable answer.
    #[error("the LLM gave no analysis: {0}")]
    Llm(String),
}

/// What one analysis found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Analysis {
    /// The code patterns sent.
    pub analysed: Vec<String>,
    /// The opportunities, as patterns.
    pub patterns: Vec<Pattern>,
    /// The LLM call in the log.
    pub call_id: Option<i64>,
    /// The model that answered.
    pub model: String,
    /// What it cost in US dollars.
    pub cost_usd: f64,
}

/// The strict JSON schema of the answer.
pub fn analysis_schema() -> serde_json::Value {
    let level = serde_json::json!({ "type": "string", "enum": ["low", "medium", "high"] });
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["opportunities"],
        "properties": {
            "opportunities": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["pattern_id", "title", "refactoring", "kind", "benefit", "effort", "risk"],
                    "properties": {
                        "pattern_id": { "type": "string" },
                        "title": { "type": "string" },
                        "refactoring": { "type": "string" },
                        "kind": { "type": "string", "enum": [
                            "extract_function", "parameterize", "introduce_interface",
                            "merge_duplicates", "other"
                        ]},
                        "benefit": level,
                        "effort": level,
                        "risk": level,
                    }
                }
            }
        }
    })
}

const SYSTEM_PROMPT: &str = "You are a senior engineer reviewing code patterns a clone \
detector found in an AI agent's code base. For each pattern worth acting on, propose one \
concrete refactoring: what to extract or introduce, with what name and parameters, and where \
the copies go. Rate its benefit, effort and risk. Leave out patterns that are idiomatic or \
not worth the change. Refer to each pattern by its pattern_id.";

/// Analyses the best `limit` code patterns of the latest code scan and
/// records the opportunities in the history.
pub async fn analyse(
    store: &Store,
    client: &LlmClient,
    limit: usize,
    now_ms: i64,
) -> Result<Analysis, AnalysisError> {
    let latest = store.latest_patterns()?;
    let (_, code) = latest
        .into_iter()
        .find(|(scan, _)| scan.source == selfup_discovery::CODE_SOURCE)
        .ok_or(AnalysisError::NoScan)?;
    let chosen: Vec<Pattern> = code.into_iter().take(limit.max(1)).collect();
    let request = analysis_request(&chosen);
    let answer = client
        .complete_json(&request)
        .await
        .map_err(|f| AnalysisError::Llm(f.error.to_string()))?;
    let by_id: BTreeMap<&str, &Pattern> = chosen.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut patterns = Vec::new();
    for o in answer.value["opportunities"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(original) = o["pattern_id"].as_str().and_then(|id| by_id.get(id)) else {
            continue; // an id the model made up
        };
        patterns.push(opportunity(original, o, answer.call_id, &answer.model));
    }
    let summary = serde_json::json!({
        "analysed": chosen.len(),
        "opportunities": patterns.len(),
        "model": answer.model,
        "call_id": answer.call_id,
        "cost_usd": answer.cost_usd,
    });
    store.record_patterns(LLM_SOURCE, now_ms, &summary, &patterns)?;
    Ok(Analysis {
        analysed: chosen.iter().map(|p| p.id.clone()).collect(),
        patterns,
        call_id: answer.call_id,
        model: answer.model,
        cost_usd: answer.cost_usd,
    })
}

/// The request: each pattern with its description and code samples.
pub fn analysis_request(patterns: &[Pattern]) -> JsonRequest {
    let mut user = String::from("## CODE PATTERNS\n");
    for p in patterns {
        user.push_str(&format!(
            "\n### pattern_id: {}\n{} ({}, {})\n",
            p.id,
            p.description,
            p.kind.label(),
            p.signal
        ));
        if let Some(s) = p
            .evidence
            .get("suggested_abstraction")
            .and_then(|v| v.as_str())
        {
            user.push_str(&format!("detector's suggestion: {s}\n"));
        }
        for loc in p.locations.iter().take(SAMPLES_PER_PATTERN) {
            if let Some(code) = sample(&loc.file, loc.line_start, loc.line_end) {
                user.push_str(&format!(
                    "\n{}:{}-{}\n```\n{code}\n```\n",
                    loc.file, loc.line_start, loc.line_end
                ));
            }
        }
    }
    user.push_str("\nPropose the refactoring opportunities.");
    JsonRequest {
        purpose: "pattern_analysis".to_owned(),
        system: SYSTEM_PROMPT.to_owned(),
        user,
        schema_name: "refactoring_opportunities".to_owned(),
        schema: analysis_schema(),
    }
}

/// Lines `start..=end` of `file` (at most [`SAMPLE_LINES`]), if readable.
fn sample(file: &str, start: u32, end: u32) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let from = start.max(1) as usize - 1;
    let count = (end.saturating_sub(start) as usize + 1).min(SAMPLE_LINES);
    let lines: Vec<&str> = text.lines().skip(from).take(count).collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn opportunity(
    original: &Pattern,
    o: &serde_json::Value,
    call_id: Option<i64>,
    model: &str,
) -> Pattern {
    let text = |k: &str| o[k].as_str().unwrap_or_default().to_owned();
    let severity = match o["benefit"].as_str() {
        Some("high") => Severity::High,
        Some("medium") => Severity::Medium,
        _ => Severity::Low,
    };
    // The detector's confidence, lowered for effort and risk: a cheap,
    // safe refactoring is the better opportunity.
    let discount = |k: &str| match o[k].as_str() {
        Some("high") => 0.6,
        Some("medium") => 0.8,
        _ => 1.0,
    };
    Pattern {
        id: format!("llm:{}", original.id),
        kind: match original.kind {
            PatternKind::AbstractionGap => PatternKind::AbstractionGap,
            _ => PatternKind::CodeRepetition,
        },
        signal: "refactoring_opportunity".to_owned(),
        description: format!("{}: {}", text("title"), text("refactoring")),
        severity,
        confidence: (original.confidence * discount("effort") * discount("risk")).clamp(0.0, 1.0),
        affected_components: original.affected_components.clone(),
        locations: original.locations.clone(),
        evidence: serde_json::json!({
            "pattern": original.id,
            "refactoring_kind": o["kind"],
            "benefit": o["benefit"],
            "effort": o["effort"],
            "risk": o["risk"],
            "model": model,
            "llm_call_id": call_id,
        }),
    }
}
