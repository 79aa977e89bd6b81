//! Our own check of what came back: the server may not enforce the schema
//! (not every compatible server does), so a refusal, a cut-off answer, text
//! that is not JSON and JSON that does not fit are each a failed call.

use serde_json::Value;

use crate::LlmError;
use crate::wire::ChatCompletion;

/// Most schema violations reported in one error.
pub const MAX_SCHEMA_ERRORS: usize = 5;

/// A request's schema, compiled once.
pub struct AnswerCheck {
    name: String,
    max_tokens: u32,
    validator: jsonschema::Validator,
}

impl AnswerCheck {
    /// Compiles the schema named `name` (a bad schema is the caller's bug).
    pub fn new(name: &str, schema: &Value, max_tokens: u32) -> Result<Self, LlmError> {
        let validator = jsonschema::validator_for(schema).map_err(|e| LlmError::BadSchema {
            name: name.to_owned(),
            detail: e.to_string(),
        })?;
        Ok(Self {
            name: name.to_owned(),
            max_tokens,
            validator,
        })
    }

    /// The answer's JSON value, or why it is not acceptable.
    pub fn check(&self, completion: &ChatCompletion) -> Result<Value, LlmError> {
        let choice = completion
            .choices
            .first()
            .ok_or_else(|| LlmError::MalformedResponse {
                detail: "no choices".to_owned(),
            })?;
        if let Some(refusal) = choice.message.refusal.as_deref()
            && !refusal.trim().is_empty()
        {
            return Err(LlmError::Refused {
                refusal: refusal.to_owned(),
            });
        }
        match choice.finish_reason.as_deref() {
            Some("length") => {
                return Err(LlmError::Truncated {
                    max_tokens: self.max_tokens,
                });
            }
            Some("content_filter") => {
                return Err(LlmError::Refused {
                    refusal: "the answer was withheld by the server's content filter".to_owned(),
                });
            }
            _ => {}
        }
        let content = choice.message.content.as_deref().unwrap_or_default();
        let value: Value =
            serde_json::from_str(content.trim()).map_err(|e| LlmError::InvalidJson {
                detail: e.to_string(),
                excerpt: excerpt(content, 120),
            })?;
        let errors: Vec<String> = self
            .validator
            .iter_errors(&value)
            .take(MAX_SCHEMA_ERRORS)
            .map(|e| {
                let path = e.instance_path().to_string();
                let path = if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                };
                format!("at {path}: {e}")
            })
            .collect();
        if errors.is_empty() {
            Ok(value)
        } else {
            Err(LlmError::SchemaMismatch {
                schema: self.name.clone(),
                errors,
            })
        }
    }
}

/// The first `max` characters of `text` (on a character boundary).
pub fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}
