//! The request: what the caller asks ([`JsonRequest`]) and the body sent
//! for it, whose optional fields depend on the server ([`Dialect`]).
//!
//! Policy (researched against the OpenAI API reference, Ollama's
//! `openai/openai.go`, llama.cpp's server and vLLM's protocol):
//!
//! - `api.openai.com` (and Azure OpenAI, `*.openai.azure.com`): the GPT-5
//!   family and the o-series are reasoning models. They reject `max_tokens`
//!   ("use `max_completion_tokens` instead") and reject a `temperature`
//!   other than the default whenever `reasoning_effort` is not `none` —
//!   and selfup's `thinking_mode` is always low, medium or high. So we send
//!   `max_completion_tokens` and `reasoning_effort`, and no `temperature`.
//! - Anything else (Ollama, llama.cpp's server, vLLM, other compatible
//!   servers): `max_tokens` (Ollama reads only that one; llama.cpp and vLLM
//!   read both), `temperature`, and `reasoning_effort` (Ollama turns it into
//!   `think`, vLLM passes it to the chat template, llama.cpp ignores it).
//! - Adaptation: when a server answers 400 naming one of these fields (an
//!   OpenAI-style `error.param`, or a message such as Ollama's "does not
//!   support thinking"), the client drops that field (or switches between
//!   `max_tokens` and `max_completion_tokens`), resends at once, and keeps
//!   the adapted dialect for later calls. So a non-reasoning OpenAI model,
//!   or a local model without thinking, still works without configuration.

use selfup_core::config::{LlmConfig, ThinkingMode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::wire::ErrorBody;

/// One structured-output request: a system and a user message, and the
/// JSON schema the answer must fit.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonRequest {
    /// What the call is for: `decision`, `pattern_analysis`, `capability_spec`.
    pub purpose: String,
    /// The system message.
    pub system: String,
    /// The user message.
    pub user: String,
    /// The schema's name (`[a-zA-Z0-9_-]`, at most 64 characters, as OpenAI requires).
    pub schema_name: String,
    /// The JSON schema (strict: every property required, `additionalProperties: false`).
    pub schema: Value,
}

/// Which field carries the answer's token limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenField {
    /// `max_tokens` (local servers).
    MaxTokens,
    /// `max_completion_tokens` (OpenAI's reasoning models).
    MaxCompletionTokens,
}

impl TokenField {
    /// The JSON field name.
    pub fn name(self) -> &'static str {
        match self {
            Self::MaxTokens => "max_tokens",
            Self::MaxCompletionTokens => "max_completion_tokens",
        }
    }
}

/// Which optional fields a server gets (see the module's policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The token limit's field.
    pub token_field: TokenField,
    /// Whether `temperature` is sent.
    pub temperature: bool,
    /// Whether `reasoning_effort` is sent.
    pub reasoning_effort: bool,
}

impl Dialect {
    /// The starting dialect for a base URL.
    pub fn for_base_url(base_url: &str) -> Self {
        if is_openai(base_url) {
            Self {
                token_field: TokenField::MaxCompletionTokens,
                temperature: false,
                reasoning_effort: true,
            }
        } else {
            Self {
                token_field: TokenField::MaxTokens,
                temperature: true,
                reasoning_effort: true,
            }
        }
    }

    /// Adapts to a 400 answer that names one of our optional fields;
    /// returns what changed, or `None` when the error is about something else.
    pub fn adapt(&mut self, body: &[u8]) -> Option<&'static str> {
        let error = ErrorBody::parse(body)?.error;
        let param = error.param.unwrap_or_default().to_ascii_lowercase();
        let message = error.message.to_ascii_lowercase();
        let names = |field: &str| param == field || (param.is_empty() && message.contains(field));
        if self.token_field == TokenField::MaxTokens && names("max_tokens") {
            self.token_field = TokenField::MaxCompletionTokens;
            return Some("max_tokens -> max_completion_tokens");
        }
        if self.token_field == TokenField::MaxCompletionTokens && names("max_completion_tokens") {
            self.token_field = TokenField::MaxTokens;
            return Some("max_completion_tokens -> max_tokens");
        }
        if self.temperature && names("temperature") {
            self.temperature = false;
            return Some("temperature dropped");
        }
        let about_reasoning = param.starts_with("reasoning")
            || (param.is_empty()
                && (message.contains("reasoning") || message.contains("thinking")));
        if self.reasoning_effort && about_reasoning {
            self.reasoning_effort = false;
            return Some("reasoning_effort dropped");
        }
        None
    }
}

/// Whether a base URL is OpenAI's own API (or Azure OpenAI's).
pub fn is_openai(base_url: &str) -> bool {
    let host = reqwest::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    host == "api.openai.com" || host.ends_with(".openai.azure.com")
}

/// `thinking_mode` as `reasoning_effort`.
pub fn reasoning_effort(mode: ThinkingMode) -> &'static str {
    match mode {
        ThinkingMode::Low => "low",
        ThinkingMode::Medium => "medium",
        ThinkingMode::High => "high",
    }
}

/// The part of the body that the prompt hash covers (and that is stored as
/// the prompt): the messages and the response format with its schema.
pub fn prompt_part(request: &JsonRequest) -> Value {
    json!({
        "messages": [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": request.schema_name,
                "strict": true,
                "schema": request.schema,
            },
        },
    })
}

/// SHA-256 (hex) of the serialised [`prompt_part`].
pub fn prompt_sha256(prompt_text: &str) -> String {
    hex::encode(Sha256::digest(prompt_text.as_bytes()))
}

/// The request body for `POST {base_url}/chat/completions`.
pub fn body(config: &LlmConfig, dialect: Dialect, prompt: &Value) -> Value {
    let mut body = json!({
        "model": config.model,
        "messages": prompt["messages"],
        "response_format": prompt["response_format"],
        "stream": false,
        "n": 1,
    });
    if let Some(map) = body.as_object_mut() {
        map.insert(
            dialect.token_field.name().to_owned(),
            json!(config.max_tokens),
        );
        if dialect.temperature {
            map.insert("temperature".to_owned(), json!(config.temperature));
        }
        if dialect.reasoning_effort {
            map.insert(
                "reasoning_effort".to_owned(),
                json!(reasoning_effort(config.thinking_mode)),
            );
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_gets_max_completion_tokens_and_no_temperature() {
        let d = Dialect::for_base_url("https://api.openai.com/v1");
        assert_eq!(d.token_field, TokenField::MaxCompletionTokens);
        assert!(!d.temperature && d.reasoning_effort);
        let local = Dialect::for_base_url("http://localhost:11434/v1");
        assert_eq!(local.token_field, TokenField::MaxTokens);
        assert!(local.temperature && local.reasoning_effort);
    }

    #[test]
    fn a_400_naming_a_field_adapts_the_dialect() {
        let mut d = Dialect::for_base_url("http://localhost:8080/v1");
        let ollama = br#"{"error":{"message":"\"llama3.2\" does not support thinking","type":"api_error","param":null,"code":null}}"#;
        assert_eq!(d.adapt(ollama), Some("reasoning_effort dropped"));
        assert!(!d.reasoning_effort);
        let openai = br#"{"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}"#;
        assert_eq!(d.adapt(openai), Some("max_tokens -> max_completion_tokens"));
        let temp = br#"{"error":{"message":"Unsupported value: 'temperature' does not support 0.3 with this model.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}"#;
        assert_eq!(d.adapt(temp), Some("temperature dropped"));
        let other = br#"{"error":{"message":"Invalid schema for response_format","param":"response_format"}}"#;
        assert_eq!(d.adapt(other), None);
        assert_eq!(d.adapt(b"not json"), None);
    }
}
