//! [`LlmClient`]: one structured-output call, end to end — budget check,
//! request, retries, validation, ledger.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, USER_AGENT};
use selfup_core::clock::Clock;
use selfup_core::config::LlmConfig;
use serde_json::Value;

use crate::LlmError;
use crate::ledger::{CallRecord, Ledger, utc_day};
use crate::request::{self, Dialect, JsonRequest};
use crate::retry;
use crate::validate::{AnswerCheck, excerpt};
use crate::wire::{ChatCompletion, Usage};

/// The most response body read (a chat completion is a few KiB).
const MAX_BODY_BYTES: usize = 8 << 20;
/// The most error-body characters kept in an error message.
const ERROR_EXCERPT_CHARS: usize = 400;
/// The most dialect adaptations (dropped or renamed fields) per call.
const MAX_ADAPTATIONS: u32 = 3;

/// A validated answer.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmAnswer {
    /// The JSON value, fitting the request's schema.
    pub value: Value,
    /// The model that answered (as the server names it).
    pub model: String,
    /// SHA-256 of the request's messages and schema.
    pub prompt_sha256: String,
    /// Wall time of the call, retries and waits included.
    pub latency_ms: f64,
    /// Prompt tokens (summed over attempts that reported usage).
    pub prompt_tokens: u64,
    /// Answer tokens (likewise).
    pub completion_tokens: u64,
    /// What the tokens cost, in US dollars.
    pub cost_usd: f64,
    /// HTTP requests sent.
    pub attempts: u32,
    /// The ledger's id for this call (`None` if recording failed).
    pub call_id: Option<i64>,
}

/// A failed call, with what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmFailure {
    /// Why it failed.
    pub error: LlmError,
    /// SHA-256 of the request's messages and schema.
    pub prompt_sha256: String,
    /// Wall time of the call.
    pub latency_ms: f64,
    /// HTTP requests sent (0 when none was, e.g. budget spent).
    pub attempts: u32,
    /// The ledger's id for this call (`None` if recording failed).
    pub call_id: Option<i64>,
    /// Prompt tokens spent anyway (a truncated or mismatching answer costs).
    pub prompt_tokens: u64,
    /// Answer tokens spent anyway.
    pub completion_tokens: u64,
    /// Their cost in US dollars.
    pub cost_usd: f64,
}

impl std::fmt::Display for LlmFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (after {} attempt(s))", self.error, self.attempts)
    }
}

impl std::error::Error for LlmFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// An OpenAI-compatible Chat Completions client.
pub struct LlmClient {
    config: LlmConfig,
    url: String,
    api_key: Option<String>,
    timeout: Duration,
    http: reqwest::Client,
    dialect: Mutex<Dialect>,
    ledger: Arc<dyn Ledger>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("url", &self.url)
            .field("model", &self.config.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

/// What one attempt produced.
enum Attempt {
    /// A 2xx body.
    Answer(Vec<u8>),
    /// Any other status.
    Status(u16, HeaderMap, Vec<u8>),
    /// No answer.
    Failed(LlmError),
}

/// What the call has gathered so far.
#[derive(Default)]
struct Tally {
    attempts: u32,
    usage: Usage,
    answer_text: Option<String>,
}

impl LlmClient {
    /// A client for `config`, with the API key read from the environment
    /// variable `config.api_key_env` names (unset or empty: no key).
    /// `ledger` records every call and answers the day's spending.
    pub fn new(
        config: &LlmConfig,
        ledger: Arc<dyn Ledger>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, LlmError> {
        let api_key = if config.api_key_env.trim().is_empty() {
            None
        } else {
            std::env::var(config.api_key_env.trim()).ok()
        };
        Self::with_api_key(config, api_key, ledger, clock)
    }

    /// A client with the API key given (`None` or empty: no `Authorization` header).
    pub fn with_api_key(
        config: &LlmConfig,
        api_key: Option<String>,
        ledger: Arc<dyn Ledger>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, LlmError> {
        let bad = |detail: String| LlmError::BadConfig { detail };
        if config.model.trim().is_empty() {
            return Err(bad("model is empty".to_owned()));
        }
        if config.max_tokens == 0 {
            return Err(bad("max_tokens is 0".to_owned()));
        }
        if !(config.timeout_seconds.is_finite() && config.timeout_seconds > 0.0) {
            return Err(bad(format!(
                "timeout_seconds is {}, it must be more than 0",
                config.timeout_seconds
            )));
        }
        let base = reqwest::Url::parse(config.base_url.trim())
            .map_err(|e| bad(format!("base_url {:?} is not a URL: {e}", config.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(bad(format!(
                "base_url {:?} must start with http:// or https://",
                config.base_url
            )));
        }
        let url = format!(
            "{}/chat/completions",
            config.base_url.trim().trim_end_matches('/')
        );
        let timeout = Duration::from_secs_f64(config.timeout_seconds.min(86_400.0));
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| bad(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            dialect: Mutex::new(Dialect::for_base_url(&config.base_url)),
            config: config.clone(),
            url,
            api_key: api_key.filter(|k| !k.trim().is_empty()),
            timeout,
            http,
            ledger,
            clock,
        })
    }

    /// The configuration this client uses.
    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// The fields currently sent to this server (after any adaptation).
    pub fn dialect(&self) -> Dialect {
        *self.dialect.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks for one JSON answer fitting `request.schema`; records the call
    /// in the ledger whatever happens.
    pub async fn complete_json(&self, request: &JsonRequest) -> Result<LlmAnswer, LlmFailure> {
        let started = Instant::now();
        let ts_ms = self.clock.now_ms();
        let day = utc_day(ts_ms);
        let prompt = request::prompt_part(request);
        let prompt_text = prompt.to_string();
        let prompt_sha256 = request::prompt_sha256(&prompt_text);
        let mut tally = Tally::default();

        let result = match self.preflight(request, &day).await {
            Ok(check) => self.exchange(&prompt, &check, &mut tally).await,
            Err(e) => Err(e),
        };

        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let cost_usd = self.cost(tally.usage);
        let (outcome, error) = match &result {
            Ok(_) => ("ok".to_owned(), None),
            Err(e) => (e.kind().to_owned(), Some(e.to_string())),
        };
        let record = CallRecord {
            ts_ms,
            day,
            purpose: request.purpose.clone(),
            model: self.config.model.clone(),
            prompt_sha256: prompt_sha256.clone(),
            prompt: self.config.store_prompts.then(|| prompt_text.clone()),
            answer: if self.config.store_prompts {
                tally.answer_text.clone()
            } else {
                None
            },
            outcome,
            error,
            latency_ms,
            attempts: tally.attempts,
            prompt_tokens: tally.usage.prompt_tokens,
            completion_tokens: tally.usage.completion_tokens,
            cost_usd,
        };
        let call_id = self.record(record).await;
        match result {
            Ok((value, model)) => Ok(LlmAnswer {
                value,
                model,
                prompt_sha256,
                latency_ms,
                prompt_tokens: tally.usage.prompt_tokens,
                completion_tokens: tally.usage.completion_tokens,
                cost_usd,
                attempts: tally.attempts,
                call_id,
            }),
            Err(error) => Err(LlmFailure {
                error,
                prompt_sha256,
                latency_ms,
                attempts: tally.attempts,
                call_id,
                prompt_tokens: tally.usage.prompt_tokens,
                completion_tokens: tally.usage.completion_tokens,
                cost_usd,
            }),
        }
    }

    /// Compiles the schema and checks today's budget; no request yet.
    async fn preflight(&self, request: &JsonRequest, day: &str) -> Result<AnswerCheck, LlmError> {
        let check = AnswerCheck::new(
            &request.schema_name,
            &request.schema,
            self.config.max_tokens,
        )?;
        let ledger = Arc::clone(&self.ledger);
        let day_owned = day.to_owned();
        let (tokens, cost) = tokio::task::spawn_blocking(move || ledger.spent_on(&day_owned))
            .await
            .map_err(|e| LlmError::Ledger {
                detail: e.to_string(),
            })?
            .map_err(|e| LlmError::Ledger { detail: e.0 })?;
        let token_limit = self.config.daily_token_budget;
        if token_limit > 0 && tokens >= token_limit {
            return Err(LlmError::BudgetExhausted {
                what: "token",
                spent: tokens as f64,
                limit: token_limit as f64,
            });
        }
        let cost_limit = self.config.daily_cost_budget_usd;
        if cost_limit > 0.0 && cost >= cost_limit {
            return Err(LlmError::BudgetExhausted {
                what: "cost",
                spent: cost,
                limit: cost_limit,
            });
        }
        Ok(check)
    }

    /// Sends the request, retrying and adapting as needed, and checks the answer.
    async fn exchange(
        &self,
        prompt: &Value,
        check: &AnswerCheck,
        tally: &mut Tally,
    ) -> Result<(Value, String), LlmError> {
        let mut retries_taken = 0u32;
        let mut adaptations = 0u32;
        loop {
            let body = request::body(&self.config, self.dialect(), prompt);
            tally.attempts += 1;
            let (failure, headers) = match self.attempt(&body).await {
                Attempt::Answer(bytes) => return self.accept(&bytes, check, tally),
                Attempt::Status(status, headers, bytes) => {
                    if status == 400 && adaptations < MAX_ADAPTATIONS && self.adapt(&bytes) {
                        adaptations += 1;
                        continue;
                    }
                    let error = LlmError::Status {
                        status,
                        body: error_excerpt(&bytes),
                    };
                    if !retry::retryable_status(status, &headers) {
                        return Err(error);
                    }
                    (error, Some(headers))
                }
                Attempt::Failed(error) => (error, None),
            };
            if retries_taken >= self.config.max_retries {
                return Err(failure);
            }
            let Some(wait) = retry::delay(retries_taken, headers.as_ref(), SystemTime::now())
            else {
                return Err(failure);
            };
            tracing::debug!(
                attempt = tally.attempts,
                wait_ms = wait.as_millis() as u64,
                error = %failure,
                "LLM call failed; retrying"
            );
            tokio::time::sleep(wait).await;
            retries_taken += 1;
        }
    }

    /// One HTTP request, bounded by the timeout.
    async fn attempt(&self, body: &Value) -> Attempt {
        let mut req = self
            .http
            .post(&self.url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("selfup/", env!("CARGO_PKG_VERSION")))
            .body(body.to_string());
        if let Some(key) = &self.api_key {
            req = req.header(AUTHORIZATION, format!("Bearer {}", key.trim()));
        }
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                LlmError::Timeout {
                    seconds: self.config.timeout_seconds,
                }
            } else {
                LlmError::Connection {
                    url: self.url.clone(),
                    detail: error_chain(&e),
                }
            }
        };
        let mut response = match req.send().await {
            Ok(r) => r,
            Err(e) => return Attempt::Failed(transport(e)),
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_BODY_BYTES {
                        return Attempt::Failed(LlmError::MalformedResponse {
                            detail: format!("the body is larger than {MAX_BODY_BYTES} bytes"),
                        });
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Attempt::Failed(transport(e)),
            }
        }
        if (200..300).contains(&status) {
            Attempt::Answer(bytes)
        } else {
            Attempt::Status(status, headers, bytes)
        }
    }

    /// Parses and checks a 2xx answer.
    fn accept(
        &self,
        bytes: &[u8],
        check: &AnswerCheck,
        tally: &mut Tally,
    ) -> Result<(Value, String), LlmError> {
        let completion: ChatCompletion =
            serde_json::from_slice(bytes).map_err(|e| LlmError::MalformedResponse {
                detail: format!(
                    "{e}; it began {:?}",
                    excerpt(&String::from_utf8_lossy(bytes), 120)
                ),
            })?;
        if let Some(usage) = completion.usage {
            tally.usage.prompt_tokens += usage.prompt_tokens;
            tally.usage.completion_tokens += usage.completion_tokens;
        }
        if let Some(choice) = completion.choices.first() {
            tally.answer_text = choice
                .message
                .content
                .clone()
                .or_else(|| choice.message.refusal.clone());
        }
        let value = check.check(&completion)?;
        let model = completion
            .model
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| self.config.model.clone());
        Ok((value, model))
    }

    /// Adapts the dialect to a 400 that names one of our optional fields.
    fn adapt(&self, body: &[u8]) -> bool {
        let mut dialect = self.dialect.lock().unwrap_or_else(|p| p.into_inner());
        match dialect.adapt(body) {
            Some(change) => {
                tracing::warn!(
                    url = %self.url,
                    model = %self.config.model,
                    change,
                    "the LLM server refused a request field; resending without it"
                );
                true
            }
            None => false,
        }
    }

    /// Cost of `usage` at the configured prices.
    fn cost(&self, usage: Usage) -> f64 {
        let cost = usage.prompt_tokens as f64 / 1e6 * self.config.input_cost_per_million_tokens
            + usage.completion_tokens as f64 / 1e6 * self.config.output_cost_per_million_tokens;
        if cost.is_finite() { cost } else { 0.0 }
    }

    /// Records the call; a ledger failure is logged, not fatal (the answer stands).
    async fn record(&self, record: CallRecord) -> Option<i64> {
        let ledger = Arc::clone(&self.ledger);
        match tokio::task::spawn_blocking(move || ledger.record(&record)).await {
            Ok(Ok(id)) => Some(id),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "could not record the LLM call in the ledger");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not record the LLM call in the ledger");
                None
            }
        }
    }
}

/// The API's error message when the body is an error body, else the start of the body.
fn error_excerpt(body: &[u8]) -> String {
    match crate::wire::ErrorBody::parse(body) {
        Some(e) if !e.error.message.is_empty() => excerpt(&e.error.message, ERROR_EXCERPT_CHARS),
        _ => excerpt(String::from_utf8_lossy(body).trim(), ERROR_EXCERPT_CHARS),
    }
}

/// An error and its sources, joined (reqwest's own message is terse).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
