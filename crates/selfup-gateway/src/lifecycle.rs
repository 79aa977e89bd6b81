//! The upgrade lifecycle over HTTP. The gateway only knows the routes;
//! whoever runs it (the `selfup` binary, with the loop) provides a
//! [`LifecycleApi`]. Reads are open; approve, reject, rollback and install
//! change state and sit behind the bearer token.
//!
//! - `GET /v1/upgrades[?pending=true]`, `GET /v1/upgrades/{id}`,
//!   `GET /v1/experiments/{id}`;
//! - `POST /v1/upgrades/{id}/approve` and `/reject` with `{"reason": "..."}`;
//! - `POST /v1/upgrades/{id}/rollback` with `{"strategy": "full|partial|compensating", "reason": "..."}`;
//! - `POST /v1/plugins` with a package (`application/zip` body) and
//!   `?activate=true` to make it the active version.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::http::{ApiError, AppState};
use selfup_plugins::host::BoxFuture;

/// Why a lifecycle request failed.
#[derive(Debug)]
pub enum LifecycleError {
    /// No such upgrade.
    NotFound(String),
    /// The request does not fit (a state that forbids it, a bad package).
    Refused(String),
    /// Something broke on our side.
    Failed(String),
}

/// What the lifecycle offers over HTTP; implemented by the binary over the loop.
pub trait LifecycleApi: Send + Sync {
    /// Upgrades (only those waiting for a decision when `pending`).
    fn list(&self, pending: bool) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>>;
    /// One upgrade with its events.
    fn show(&self, id: i64) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>>;
    /// The experiment report of an upgrade's rollout.
    fn experiment(&self, id: i64) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>>;
    /// Approves an upgrade.
    fn approve<'a>(
        &'a self,
        id: i64,
        who: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, LifecycleError>>;
    /// Rejects an upgrade.
    fn reject<'a>(
        &'a self,
        id: i64,
        who: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, LifecycleError>>;
    /// Rolls an upgrade back with `strategy` (`full`, `partial`, `compensating`).
    fn rollback<'a>(
        &'a self,
        id: i64,
        strategy: &'a str,
        who: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, LifecycleError>>;
    /// Installs a zip package.
    fn install(
        &self,
        package: Vec<u8>,
        activate: bool,
    ) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>>;
    /// The capability gaps now, with what would close them (the dashboard).
    fn gaps(&self) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>> {
        Box::pin(async { Err(LifecycleError::Refused("no gap analysis here".to_owned())) })
    }
    /// The current look at an in-flight upgrade's gates, not recorded, and
    /// the stages it goes through (the dashboard).
    fn current_gates(&self, id: i64) -> BoxFuture<'_, Result<serde_json::Value, LifecycleError>> {
        Box::pin(async move {
            Err(LifecycleError::Refused(format!(
                "no gate evaluation here for upgrade {id}"
            )))
        })
    }
}

fn failure(e: LifecycleError) -> ApiError {
    match e {
        LifecycleError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "not_found", m),
        LifecycleError::Refused(m) => ApiError::new(StatusCode::CONFLICT, "refused", m),
        LifecycleError::Failed(m) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "failed", m),
    }
}

fn api(state: &AppState) -> Result<Arc<dyn LifecycleApi>, ApiError> {
    state.lifecycle.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "this gateway serves no upgrade lifecycle; use `selfup run` or `selfup serve` from the selfup binary",
        )
    })
}

fn reply(result: Result<serde_json::Value, LifecycleError>) -> Result<Response, ApiError> {
    result.map(|v| Json(v).into_response()).map_err(failure)
}

/// The open (read-only) lifecycle routes.
pub fn read_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/upgrades", get(list))
        .route("/v1/upgrades/{id}", get(show))
        .route("/v1/experiments/{id}", get(experiment))
}

/// The lifecycle routes that change state (to be put behind the token).
pub fn write_routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/v1/upgrades/{id}/approve", post(approve))
        .route("/v1/upgrades/{id}/reject", post(reject))
        .route("/v1/upgrades/{id}/rollback", post(rollback))
        .route("/v1/plugins", post(install))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    pending: bool,
}

async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    reply(api(&state)?.list(q.pending).await)
}

async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, ApiError> {
    reply(api(&state)?.show(id).await)
}

async fn experiment(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    reply(api(&state)?.experiment(id).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    reason: String,
    #[serde(default)]
    by: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackRequest {
    #[serde(default = "partial")]
    strategy: String,
    reason: String,
    #[serde(default)]
    by: Option<String>,
}

fn partial() -> String {
    "partial".to_owned()
}

fn body<T>(body: Result<Json<T>, JsonRejection>, example: &str) -> Result<T, ApiError> {
    body.map(|Json(v)| v).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!("{}; send a JSON body like {example}", e.body_text()),
        )
    })
}

fn reason_required(reason: &str) -> Result<(), ApiError> {
    if reason.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "\"reason\" is empty; every decision keeps its reason in the audit trail",
        ));
    }
    Ok(())
}

async fn approve(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    request: Result<Json<Decision>, JsonRejection>,
) -> Result<Response, ApiError> {
    let d = body(request, r#"{"reason": "why", "by": "who"}"#)?;
    reason_required(&d.reason)?;
    let who = d.by.unwrap_or_else(|| "http".to_owned());
    reply(api(&state)?.approve(id, &who, &d.reason).await)
}

async fn reject(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    request: Result<Json<Decision>, JsonRejection>,
) -> Result<Response, ApiError> {
    let d = body(request, r#"{"reason": "why", "by": "who"}"#)?;
    reason_required(&d.reason)?;
    let who = d.by.unwrap_or_else(|| "http".to_owned());
    reply(api(&state)?.reject(id, &who, &d.reason).await)
}

async fn rollback(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    request: Result<Json<RollbackRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let r = body(request, r#"{"strategy": "partial", "reason": "why"}"#)?;
    reason_required(&r.reason)?;
    if !matches!(r.strategy.as_str(), "full" | "partial" | "compensating") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!(
                "unknown strategy {:?}; use full, partial or compensating",
                r.strategy
            ),
        ));
    }
    let who = r.by.unwrap_or_else(|| "http".to_owned());
    reply(
        api(&state)?
            .rollback(id, &r.strategy, &who, &r.reason)
            .await,
    )
}

#[derive(Deserialize)]
struct InstallQuery {
    #[serde(default)]
    activate: bool,
}

async fn install(
    State(state): State<AppState>,
    Query(q): Query<InstallQuery>,
    package: Bytes,
) -> Result<Response, ApiError> {
    if package.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "the body is empty; send the package as a zip (Content-Type: application/zip)",
        ));
    }
    let result = api(&state)?.install(package.to_vec(), q.activate).await;
    result
        .map(|v| (StatusCode::CREATED, Json(v)).into_response())
        .map_err(failure)
}
