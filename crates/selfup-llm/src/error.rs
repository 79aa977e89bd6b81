//! Why an LLM call failed: one variant per case, each message saying what
//! happened and what to do.

/// Everything that can make an LLM call fail.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The configuration cannot work (checked when the client is built).
    #[error("the LLM configuration is unusable: {detail}; fix self_upgrading_loop.decision.llm")]
    BadConfig {
        /// What is wrong.
        detail: String,
    },
    /// The caller's JSON schema does not compile (a bug in the caller).
    #[error("the JSON schema {name:?} is not a valid schema: {detail}")]
    BadSchema {
        /// The schema's name.
        name: String,
        /// The compiler's message.
        detail: String,
    },
    /// Today's budget is spent; no request was sent.
    #[error(
        "the daily LLM {what} budget is spent ({spent} of {limit}); no request was sent. It resets at midnight UTC; raise decision.llm.daily_{what}_budget{suffix} to spend more (0: no limit)"
    , suffix = budget_suffix(.what))]
    BudgetExhausted {
        /// `token` or `cost`.
        what: &'static str,
        /// Spent so far today (tokens, or US dollars).
        spent: f64,
        /// The limit.
        limit: f64,
    },
    /// The ledger could not answer or record (the budget cannot be checked).
    #[error("the LLM call ledger failed: {detail}; no request was sent")]
    Ledger {
        /// The ledger's error.
        detail: String,
    },
    /// The model refused to answer (`message.refusal`, or a content filter).
    #[error("the model refused to answer: {refusal}")]
    Refused {
        /// The model's refusal text.
        refusal: String,
    },
    /// The answer was cut off at the token limit (`finish_reason: length`).
    #[error(
        "the answer was cut off at {max_tokens} tokens (finish_reason: length); raise decision.llm.max_tokens or lower thinking_mode"
    )]
    Truncated {
        /// The limit the request set.
        max_tokens: u32,
    },
    /// The answer is not JSON.
    #[error("the answer is not JSON ({detail}); it began {excerpt:?}")]
    InvalidJson {
        /// The parser's message.
        detail: String,
        /// The start of the answer.
        excerpt: String,
    },
    /// The answer is JSON but does not fit the schema.
    #[error(
        "the answer does not fit the schema {schema}: {}{more}; the server may not enforce structured outputs (see README, LLM decisions)",
        .errors.join("; "),
        more = more_marker(.errors)
    )]
    SchemaMismatch {
        /// The schema's name.
        schema: String,
        /// The first few violations, each `at <path>: <message>`.
        errors: Vec<String>,
    },
    /// An HTTP status that is not retried, or the last one after retries ran out.
    #[error("the LLM server answered {status}{hint}: {body}", hint = status_hint(.status))]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the body (the API's error message when there is one).
        body: String,
    },
    /// A 2xx answer that is not a chat completion.
    #[error(
        "the LLM server's answer is not a chat completion ({detail}); check decision.llm.base_url points at an OpenAI-compatible /v1"
    )]
    MalformedResponse {
        /// What is missing or wrong.
        detail: String,
    },
    /// No answer within `timeout_seconds` (on the last attempt).
    #[error(
        "no answer from the LLM server within {seconds} s; raise decision.llm.timeout_seconds or check the server"
    )]
    Timeout {
        /// The per-attempt timeout.
        seconds: f64,
    },
    /// The server could not be reached, or the connection broke.
    #[error("cannot reach the LLM server at {url}: {detail}")]
    Connection {
        /// The URL requested.
        url: String,
        /// The transport's message.
        detail: String,
    },
}

impl LlmError {
    /// A stable, short name for the ledger's `outcome` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::BadConfig { .. } => "bad_config",
            Self::BadSchema { .. } => "bad_schema",
            Self::BudgetExhausted { .. } => "budget_exhausted",
            Self::Ledger { .. } => "ledger",
            Self::Refused { .. } => "refused",
            Self::Truncated { .. } => "truncated",
            Self::InvalidJson { .. } => "invalid_json",
            Self::SchemaMismatch { .. } => "schema_mismatch",
            Self::Status { .. } => "status",
            Self::MalformedResponse { .. } => "malformed_response",
            Self::Timeout { .. } => "timeout",
            Self::Connection { .. } => "connection",
        }
    }
}

fn budget_suffix(what: &str) -> &'static str {
    if what == "cost" { "_usd" } else { "" }
}

fn more_marker(errors: &[String]) -> &'static str {
    if errors.len() >= crate::validate::MAX_SCHEMA_ERRORS {
        "; …"
    } else {
        ""
    }
}

fn status_hint(status: &u16) -> &'static str {
    match status {
        401 => " (check the API key in the variable decision.llm.api_key_env names)",
        403 => " (the key may not have access to this model)",
        404 => " (check decision.llm.base_url and decision.llm.model)",
        429 => " (rate limited or out of quota)",
        _ => "",
    }
}
