//! The operators' dashboard: one page at `/` (HTML, CSS and JavaScript
//! compiled into the binary; no external network, no CDN) that polls the
//! read-only JSON endpoints below every few seconds and draws its charts as
//! SVG with its own code. Approving and rejecting goes through the
//! token-protected lifecycle routes, with the token the operator enters.
//!
//! - `GET /`, `GET /assets/dashboard.css`, `GET /assets/dashboard.js`;
//! - `GET /v1/dashboard`: capabilities, rollouts, upgrades, the telemetry
//!   summary of the last day, the audit trail and the latest patterns;
//! - `GET /v1/dashboard/series?hours=H&buckets=N`: latency percentiles and
//!   error rate over time per capability version;
//! - `GET /v1/dashboard/gaps`: capability gaps (through the lifecycle);
//! - `GET /v1/dashboard/upgrades/{id}/gates`: the current look at an
//!   in-flight upgrade's gates (through the lifecycle, not recorded).
//!
//! [`report`] renders the same page code as a static report with its data
//! embedded (the demo writes one).

pub mod overview;
pub mod report;
pub mod series;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::http::{ApiError, AppState};
use crate::lifecycle::LifecycleError;

/// The page.
pub const INDEX_HTML: &str = include_str!("assets/index.html");
/// Its stylesheet.
pub const DASHBOARD_CSS: &str = include_str!("assets/dashboard.css");
/// Its script: the charts, the sections, the live polling and the report.
pub const DASHBOARD_JS: &str = include_str!("assets/dashboard.js");

/// Default window of the series, hours.
const DEFAULT_HOURS: f64 = 6.0;
/// Longest window of the series, hours.
const MAX_HOURS: f64 = 24.0 * 90.0;
/// Default number of buckets.
const DEFAULT_BUCKETS: u32 = 72;

/// The dashboard's routes (all open: they only read).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/assets/dashboard.css", get(css))
        .route("/assets/dashboard.js", get(js))
        .route("/v1/dashboard", get(overview_json))
        .route("/v1/dashboard/series", get(series_json))
        .route("/v1/dashboard/gaps", get(gaps_json))
        .route("/v1/dashboard/upgrades/{id}/gates", get(gates_json))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    let mut response = asset("text/html; charset=utf-8", INDEX_HTML);
    // Everything the page needs comes from this gateway.
    if let Ok(value) = header::HeaderValue::from_str(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    ) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", DASHBOARD_CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", DASHBOARD_JS)
}

async fn overview_json(State(state): State<AppState>) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let now = state.clock.now_ms();
    let overview = blocking(move || overview::overview(&store, now)).await?;
    Ok(Json(overview).into_response())
}

#[derive(Deserialize)]
struct SeriesQuery {
    #[serde(default)]
    hours: Option<f64>,
    #[serde(default)]
    buckets: Option<u32>,
}

async fn series_json(
    State(state): State<AppState>,
    Query(q): Query<SeriesQuery>,
) -> Result<Response, ApiError> {
    let hours = q.hours.unwrap_or(DEFAULT_HOURS);
    if !(hours.is_finite() && hours > 0.0 && hours <= MAX_HOURS) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!("\"hours\" must be above 0 and at most {MAX_HOURS}"),
        ));
    }
    let buckets = q.buckets.unwrap_or(DEFAULT_BUCKETS);
    let store = state.store.clone();
    let to = state.clock.now_ms() + 1;
    let from = to - (hours * 3_600_000.0) as i64;
    let s = blocking(move || series::series(&store, from, to, buckets)).await?;
    Ok(Json(s).into_response())
}

async fn gaps_json(State(state): State<AppState>) -> Result<Response, ApiError> {
    let api = lifecycle(&state)?;
    api.gaps()
        .await
        .map(|v| Json(v).into_response())
        .map_err(failure)
}

async fn gates_json(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let api = lifecycle(&state)?;
    api.current_gates(id)
        .await
        .map(|v| Json(v).into_response())
        .map_err(failure)
}

fn lifecycle(
    state: &AppState,
) -> Result<std::sync::Arc<dyn crate::lifecycle::LifecycleApi>, ApiError> {
    state.lifecycle.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "this gateway serves no upgrade lifecycle; use `selfup run` or `selfup serve`",
        )
    })
}

fn failure(e: LifecycleError) -> ApiError {
    match e {
        LifecycleError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "not_found", m),
        LifecycleError::Refused(m) => ApiError::new(StatusCode::CONFLICT, "refused", m),
        LifecycleError::Failed(m) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "failed", m),
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
