//! The HTTP API.
//!
//! - `POST /v1/capabilities/{name}/call` `{"subject", "input"}` →
//!   `{"output", "plugin", "version", "latency_ms"}`, or
//!   `{"error": {"kind", "message"}}` with a status fitting the kind;
//! - `GET /v1/capabilities`, `GET /v1/plugins`, `GET /healthz`;
//! - `GET /metrics`: Prometheus metrics (see [`crate::metrics`]);
//! - `POST /v1/events`: what the agent reports about itself;
//! - `/mcp`: MCP over streamable HTTP, the capabilities as tools (see
//!   [`crate::mcp`]).
//!
//! Endpoints that change state need `Authorization: Bearer <token>` (see
//! `selfup token create`); every endpoint is rate-limited per client.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router as HttpRouter};
use selfup_core::call::ErrorKind;
use selfup_core::clock::Clock;
use selfup_core::telemetry::{AgentEvent, AgentEventType};
use selfup_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::dispatch::Dispatcher;
use crate::limits::{RateLimiter, constant_time_eq};
use crate::subject::subject_hash;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The call path.
    pub dispatcher: Arc<Dispatcher>,
    /// The store, for listings.
    pub store: Arc<Store>,
    /// The clock, for event timestamps.
    pub clock: Arc<dyn Clock>,
    /// The per-client rate limit (`None`: no limit).
    pub limiter: Option<Arc<RateLimiter>>,
    /// The upgrade lifecycle, when the process offers it.
    pub lifecycle: Option<Arc<dyn crate::lifecycle::LifecycleApi>>,
    /// `Host` header values `/mcp` accepts (empty: any).
    pub mcp_allowed_hosts: Arc<[String]>,
}

/// The HTTP routes over `state`: calls and listings are open; everything
/// that changes state is behind the bearer-token check.
pub fn routes(state: AppState) -> HttpRouter {
    routes_with_mcp_cancel(state, CancellationToken::new())
}

/// [`routes`], with `mcp_cancel` ending every open MCP stream (a graceful
/// shutdown waits for open connections).
pub fn routes_with_mcp_cancel(state: AppState, mcp_cancel: CancellationToken) -> HttpRouter {
    let protected = crate::lifecycle::write_routes()
        .route("/v1/events", post(post_event))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    HttpRouter::new()
        .route("/v1/capabilities/{name}/call", post(call_capability))
        .route("/v1/capabilities", get(list_capabilities))
        .route("/v1/plugins", get(list_plugins))
        .route("/healthz", get(healthz))
        .route_service(
            "/mcp",
            crate::mcp::http_service(
                state.dispatcher.clone(),
                &state.mcp_allowed_hosts,
                mcp_cancel,
            ),
        )
        .route("/metrics", get(crate::metrics::scrape::metrics))
        .merge(crate::lifecycle::read_routes())
        .merge(crate::dashboard::routes())
        .merge(protected)
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Refuses requests of a client over its rate with 429 and `Retry-After`.
async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let (Some(limiter), Some(ConnectInfo(peer))) = (
        &state.limiter,
        request
            .extensions()
            .get::<ConnectInfo<std::net::SocketAddr>>(),
    ) && let Err(wait) = limiter.check(peer.ip(), std::time::Instant::now())
    {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests from {}; retry after {seconds} s (gateway.rate_limit_per_second)", peer.ip()),
        )
        .into_response();
        if let Ok(value) = seconds.to_string().parse() {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        return response;
    }
    next.run(request).await
}

/// Lets a request through only with a live API token.
async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let unauthorized = |message: &str| {
        let mut response =
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).into_response();
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
        response
    };
    let Some(token) = presented else {
        return unauthorized(
            "this endpoint changes state: send Authorization: Bearer <token> (create one with `selfup token create`)",
        );
    };
    let store = state.store.clone();
    let live = match tokio::task::spawn_blocking(move || store.live_token_hashes()).await {
        Ok(Ok(live)) => live,
        _ => return ApiError::unavailable("cannot read the API tokens").into_response(),
    };
    let hash = selfup_store::tokens::token_hash(&token);
    // Every live hash is compared, each in constant time.
    let valid = live.iter().fold(false, |found, (_, h)| {
        constant_time_eq(h.as_bytes(), hash.as_bytes()) | found
    });
    if !valid {
        return unauthorized(
            "the token is not valid (unknown or revoked); see `selfup token list`",
        );
    }
    next.run(request).await
}

/// Serves the API on `listener` until `shutdown` resolves, reloading the
/// routing from the store every `refresh_every`.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    refresh_every: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let refresher = tokio::spawn(refresh_loop(state.clone(), refresh_every));
    let mcp_cancel = CancellationToken::new();
    let shutdown = {
        let mcp_cancel = mcp_cancel.clone();
        async move {
            shutdown.await;
            mcp_cancel.cancel();
        }
    };
    let result = axum::serve(
        listener,
        routes_with_mcp_cancel(state.clone(), mcp_cancel)
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    refresher.abort();
    state.dispatcher.router().shutdown().await;
    result
}

async fn refresh_loop(state: AppState, every: Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let router = state.dispatcher.router().clone();
        let store = state.store.clone();
        match tokio::task::spawn_blocking(move || router.refresh(&store)).await {
            Ok(Ok(retired)) => {
                for plugin in retired {
                    plugin.shutdown().await;
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "cannot reload the routing"),
            Err(e) => tracing::error!(error = %e, "the routing reload panicked"),
        }
    }
}

/// An API error: a stable kind, a message, and the status it maps to.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    plugin: Option<(Arc<str>, Arc<str>)>,
}

impl ApiError {
    /// An error of `kind` with `status`.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            plugin: None,
        }
    }

    fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorKind::InvalidInput.as_str(),
            message,
        )
    }

    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }
}

/// The HTTP status of a call error kind.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::UnknownCapability => StatusCode::NOT_FOUND,
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorKind::ResourceExhausted => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::PluginError => StatusCode::BAD_GATEWAY,
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plugin: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    kind: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                kind: self.kind,
                message: &self.message,
            },
            plugin: self.plugin.as_ref().map(|p| &*p.0),
            version: self.plugin.as_ref().map(|p| &*p.1),
        };
        (self.status, Json(body)).into_response()
    }
}

fn rejected(rejection: JsonRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is over the cap of {MAX_BODY_BYTES} bytes"),
        );
    }
    ApiError::invalid_input(format!(
        "{}; send a JSON body like {{\"subject\": \"user-1\", \"input\": {{...}}}} with Content-Type: application/json",
        rejection.body_text()
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallRequest {
    #[serde(default)]
    subject: Option<String>,
    input: Box<RawValue>,
}

#[derive(Serialize)]
struct CallResponse<'a> {
    output: &'a RawValue,
    plugin: &'a str,
    version: &'a str,
    latency_ms: f64,
}

async fn call_capability(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<CallRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body.map_err(rejected)?;
    let subject = request.subject.as_deref().unwrap_or_default();
    let outcome = state
        .dispatcher
        .call(&name, subject, request.input.get())
        .await;
    let latency_ms = outcome.cost.latency_us as f64 / 1000.0;
    match outcome.output {
        Ok(output) => Ok(Json(CallResponse {
            output: &output,
            plugin: outcome.plugin.as_deref().unwrap_or_default(),
            version: outcome.version.as_deref().unwrap_or_default(),
            latency_ms,
        })
        .into_response()),
        Err(e) => Err(ApiError {
            status: status_of(e.kind),
            kind: e.kind.as_str(),
            message: e.message,
            plugin: outcome.plugin.zip(outcome.version),
        }),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, selfup_store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(ApiError::unavailable(format!("the store failed: {e}"))),
        Err(e) => Err(ApiError::unavailable(format!("the store task failed: {e}"))),
    }
}

async fn list_capabilities(State(state): State<AppState>) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let caps = blocking(move || store.capabilities()).await?;
    Ok(Json(caps).into_response())
}

#[derive(Serialize)]
struct PluginListing {
    name: String,
    version: String,
    description: String,
    runtime: selfup_core::manifest::Runtime,
    capabilities: Vec<String>,
    active_for: Vec<String>,
    active: bool,
    status: String,
    installed_at_ms: i64,
    stats: Option<selfup_plugins::PluginStats>,
}

async fn list_plugins(State(state): State<AppState>) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let plugins = blocking(move || store.list_plugins()).await?;
    let loaded = state.dispatcher.router().loaded();
    let listing: Vec<PluginListing> = plugins
        .into_iter()
        .map(|p| {
            let id = p.manifest.id();
            let stats = loaded
                .iter()
                .find(|(k, _)| *k == id)
                .map(|(_, r)| r.stats());
            PluginListing {
                name: p.manifest.name.to_string(),
                version: p.manifest.version.to_string(),
                description: p.manifest.description.clone(),
                runtime: p.manifest.runtime,
                capabilities: p
                    .manifest
                    .provided_capabilities
                    .iter()
                    .map(|c| c.to_string())
                    .collect(),
                active: !p.active_for.is_empty(),
                active_for: p.active_for,
                status: p.status,
                installed_at_ms: p.installed_at_ms,
                stats,
            }
        })
        .collect();
    Ok(Json(listing).into_response())
}

async fn healthz(State(state): State<AppState>) -> Response {
    let table = state.dispatcher.router().table();
    Json(serde_json::json!({
        "status": "ok",
        "capabilities": table.capabilities(),
        "telemetry": state.dispatcher.telemetry().stats(),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct EventRequest {
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    intent: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

/// Longest accepted `intent` or `text` of an event, in characters.
const MAX_EVENT_TEXT: usize = 10_000;

async fn post_event(
    State(state): State<AppState>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(payload) = body.map_err(rejected)?;
    let request: EventRequest = serde_json::from_value(payload.clone()).map_err(|e| {
        ApiError::invalid_input(format!(
            "{e}; send {{\"type\": \"unmet_request\" | \"user_correction\" | \"task_outcome\", \"intent\": \"...\", \"text\": \"...\", \"subject\": \"...\"}}"
        ))
    })?;
    let event_type = match request.event_type.as_str() {
        "unmet_request" => AgentEventType::UnmetRequest,
        "user_correction" => AgentEventType::UserCorrection,
        "task_outcome" => AgentEventType::TaskOutcome,
        other => {
            return Err(ApiError::invalid_input(format!(
                "unknown event type {other:?}; use unmet_request, user_correction or task_outcome"
            )));
        }
    };
    if event_type == AgentEventType::UnmetRequest
        && request.intent.is_none()
        && request.text.is_none()
    {
        return Err(ApiError::invalid_input(
            "an unmet_request needs \"intent\" (what was asked for) or \"text\" (the request itself)",
        ));
    }
    for (field, value) in [("intent", &request.intent), ("text", &request.text)] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_EVENT_TEXT)
        {
            return Err(ApiError::invalid_input(format!(
                "\"{field}\" is longer than {MAX_EVENT_TEXT} characters"
            )));
        }
    }
    let event = AgentEvent {
        ts_ms: state.clock.now_ms(),
        event_type,
        subject_hash: request.subject.as_deref().map(subject_hash),
        intent: request.intent,
        text: request.text,
        payload: payload.to_string(),
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    state
        .dispatcher
        .telemetry()
        .record_event(
            event,
            Some(Box::new(move |result| {
                let _ = tx.send(result);
            })),
        )
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    match tokio::time::timeout(Duration::from_secs(30), rx).await {
        Ok(Ok(Ok(id))) => {
            Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))).into_response())
        }
        Ok(Ok(Err(e))) => Err(ApiError::unavailable(e.to_string())),
        Ok(Err(_)) | Err(_) => Err(ApiError::unavailable(
            "the event was not confirmed as stored; retry",
        )),
    }
}
