//! A scriptable OpenAI-compatible server on loopback, for tests and the
//! demo: real HTTP, the real Chat Completions wire format (`choices[0].
//! message.{content, refusal}`, `finish_reason`, `usage`), a queue of
//! [`Case`]s played one per request, then a default answer producer; every
//! request received is kept for assertions.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the server does with one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Case {
    /// Answers with this JSON value as the message content.
    Valid(Value),
    /// Answers with text that is not JSON.
    MalformedJson,
    /// Refuses (`message.refusal` set, `content` null).
    Refusal,
    /// Answers with JSON cut off at the token limit (`finish_reason: length`).
    Truncated,
    /// Answers with this status, these headers and an OpenAI-style error body.
    Status(u16, Vec<(String, String)>),
    /// Answers with this status and an error body naming `param` (as OpenAI does).
    Error {
        /// The HTTP status.
        status: u16,
        /// `error.message`.
        message: String,
        /// `error.param`.
        param: Option<String>,
    },
    /// Waits this long, then answers as the default producer would.
    Hang(Duration),
}

/// Produces the answer for a request body when no case is queued.
pub type Producer = Arc<dyn Fn(&Value) -> Value + Send + Sync>;

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// Its headers, names in lower case.
    pub headers: BTreeMap<String, String>,
    /// Its body (`Value::Null` if it was not JSON).
    pub body: Value,
}

#[derive(Default)]
struct Script {
    cases: VecDeque<Case>,
    producer: Option<Producer>,
    usage: Option<(u64, u64)>,
    received: Vec<Received>,
    served: u64,
}

/// The fake server; it stops when dropped.
pub struct FakeServer {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    /// Starts a server on `127.0.0.1` (a free port) on the current tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new()
            .route("/v1/chat/completions", post(handle))
            .route("/chat/completions", post(handle))
            .with_state(Arc::clone(&script));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "fake LLM server stopped");
            }
        });
        Ok(Self { addr, script, task })
    }

    /// The base URL to configure (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues cases, played in order, one per request.
    pub fn push(&self, cases: impl IntoIterator<Item = Case>) {
        self.lock().cases.extend(cases);
    }

    /// Sets the answer producer used once the queue is empty (and after a [`Case::Hang`]).
    pub fn set_producer(&self, producer: impl Fn(&Value) -> Value + Send + Sync + 'static) {
        self.lock().producer = Some(Arc::new(producer));
    }

    /// Reports these token counts in `usage` (default: estimated from the text).
    pub fn set_usage(&self, prompt_tokens: u64, completion_tokens: u64) {
        self.lock().usage = Some((prompt_tokens, completion_tokens));
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Cases still queued.
    pub fn pending(&self) -> usize {
        self.lock().cases.len()
    }

    fn lock(&self) -> MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (case, producer, usage, n) = {
        let mut s = script.lock().unwrap_or_else(|p| p.into_inner());
        s.received.push(Received {
            at: Instant::now(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body.clone(),
        });
        s.served += 1;
        (s.cases.pop_front(), s.producer.clone(), s.usage, s.served)
    };
    if body.is_null() {
        return error(400, "the body is not JSON", None, &[]);
    }
    let produce = |body: &Value| match &producer {
        Some(p) => p(body),
        None => json!({}),
    };
    let case = match case {
        Some(Case::Hang(d)) => {
            tokio::time::sleep(d).await;
            Case::Valid(produce(&body))
        }
        Some(case) => case,
        None => Case::Valid(produce(&body)),
    };
    let (content, refusal, finish) = match case {
        Case::Valid(v) => (Some(v.to_string()), None, "stop"),
        Case::MalformedJson => (
            Some("Sure! Here is my decision: {decision: approve, confidence: high".to_owned()),
            None,
            "stop",
        ),
        Case::Refusal => (
            None,
            Some("I'm sorry, but I can't help with that request.".to_owned()),
            "stop",
        ),
        Case::Truncated => {
            let full = produce(&body).to_string();
            let cut: String = full.chars().take(full.chars().count() / 2).collect();
            (Some(cut), None, "length")
        }
        Case::Status(status, extra) => {
            let pairs: Vec<(&str, &str)> = extra
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            return error(status, "the fake server was told to fail", None, &pairs);
        }
        Case::Error {
            status,
            message,
            param,
        } => return error(status, &message, param.as_deref(), &[]),
        Case::Hang(_) => unreachable_hang(),
    };
    let (prompt_tokens, completion_tokens) = usage.unwrap_or_else(|| {
        (
            estimate(&body["messages"].to_string()),
            estimate(content.as_deref().or(refusal.as_deref()).unwrap_or("")),
        )
    });
    let completion = json!({
        "id": format!("chatcmpl-fake{n}"),
        "object": "chat.completion",
        "created": std::time::SystemTime::now()
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        "model": body["model"],
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": content,
                "refusal": refusal,
                "annotations": [],
            },
            "logprobs": null,
            "finish_reason": finish,
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_selfup_fake",
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        completion.to_string(),
    )
        .into_response()
}

/// A hang has already been turned into an answer above.
fn unreachable_hang() -> (Option<String>, Option<String>, &'static str) {
    (Some("{}".to_owned()), None, "stop")
}

fn estimate(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

fn error(status: u16, message: &str, param: Option<&str>, headers: &[(&str, &str)]) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = match status {
        400 | 404 | 422 => "invalid_request_error",
        401 | 403 => "authentication_error",
        429 => "rate_limit_exceeded",
        _ => "server_error",
    };
    let body = json!({"error": {"message": message, "type": kind, "param": param, "code": null}});
    let mut response = (
        code,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(*k), HeaderValue::from_str(v)) {
            response.headers_mut().insert(k, v);
        }
    }
    response
}
