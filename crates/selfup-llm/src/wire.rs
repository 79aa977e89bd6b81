//! The Chat Completions wire format: what a server answers (the fields we
//! read, and the fake server writes). Unknown fields are ignored, as the
//! servers add their own.

use serde::{Deserialize, Serialize};

/// A chat completion (`object: "chat.completion"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// The completion's id.
    #[serde(default)]
    pub id: Option<String>,
    /// The model that answered.
    #[serde(default)]
    pub model: Option<String>,
    /// The answers (we ask for one).
    pub choices: Vec<Choice>,
    /// Tokens used, when the server reports them.
    #[serde(default)]
    pub usage: Option<Usage>,
}

/// One answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Its index.
    #[serde(default)]
    pub index: u32,
    /// The assistant's message.
    pub message: Message,
    /// `stop`, `length`, `content_filter`, `tool_calls`, …
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// The assistant's message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `assistant`.
    #[serde(default)]
    pub role: Option<String>,
    /// The text (our JSON), absent on a refusal.
    #[serde(default)]
    pub content: Option<String>,
    /// Why the model refused, when it did (structured outputs).
    #[serde(default)]
    pub refusal: Option<String>,
}

/// Token counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the prompt.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Tokens of the answer (reasoning tokens included).
    #[serde(default)]
    pub completion_tokens: u64,
    /// Their sum.
    #[serde(default)]
    pub total_tokens: u64,
}

/// An API error body: `{"error": {"message", "type", "param", "code"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

/// The error inside an [`ErrorBody`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong.
    #[serde(default)]
    pub message: String,
    /// `invalid_request_error`, …
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The request field at fault, when one is.
    #[serde(default)]
    pub param: Option<String>,
    /// A machine-readable code (`unsupported_parameter`, …); some servers send a number.
    #[serde(default)]
    pub code: Option<serde_json::Value>,
}

impl ErrorBody {
    /// Parses an error body; `None` when it is not one.
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }
}
