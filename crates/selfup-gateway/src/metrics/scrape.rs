//! `GET /metrics`: the call metrics the dispatcher keeps, the telemetry
//! writer's counters, and (read from the store on the blocking pool at
//! scrape time) rollout weights and upgrades by state.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use selfup_core::telemetry::Arm;
use selfup_store::rollouts::Rollout;

use crate::http::AppState;
use crate::metrics::text::{CONTENT_TYPE, Exposition, Kind, bound};

/// Every state an upgrade can be in, so that each is exported (0 when
/// empty) and a rate or alert over it never sees a series vanish.
pub const UPGRADE_STATES: [&str; 11] = [
    "proposed",
    "rejected",
    "deferred",
    "awaiting_approval",
    "approved",
    "planned",
    "validating",
    "rolling_out",
    "completed",
    "rolled_back",
    "failed",
];

/// What the store contributes to a scrape.
struct StoreView {
    rollouts: Vec<Rollout>,
    upgrades: Vec<(String, u64)>,
}

/// The handler of `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let view = tokio::task::spawn_blocking(move || -> Result<StoreView, String> {
        Ok(StoreView {
            rollouts: store.rollouts().map_err(|e| e.to_string())?,
            upgrades: store.upgrade_state_counts().map_err(|e| e.to_string())?,
        })
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    if let Err(e) = &view {
        tracing::warn!(error = %e, "/metrics: cannot read the store; exporting the call metrics alone");
    }
    let body = render(&state, view.ok().as_ref());
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
}

fn render(state: &AppState, view: Option<&StoreView>) -> String {
    let mut e = Exposition::default();
    calls(&mut e, state);
    telemetry(&mut e, state);
    e.family(
        "selfup_store_read_ok",
        Kind::Gauge,
        "1 if this scrape could read rollouts and upgrades from the store, 0 if they are missing from it.",
    );
    e.sample(
        "selfup_store_read_ok",
        &[],
        f64::from(u8::from(view.is_some())),
    );
    if let Some(view) = view {
        rollouts(&mut e, &view.rollouts);
        upgrades(&mut e, &view.upgrades);
    }
    e.finish()
}

fn arm_name(arm: Option<Arm>) -> &'static str {
    match arm {
        None => "",
        Some(Arm::Incumbent) => "incumbent",
        Some(Arm::Candidate) => "candidate",
        Some(Arm::Shadow) => "shadow",
    }
}

fn calls(e: &mut Exposition, state: &AppState) {
    let metrics = state.dispatcher.metrics();
    let series = metrics.snapshot();
    e.family(
        "selfup_calls_total",
        Kind::Counter,
        "Capability calls served by a plugin, by capability, plugin, version and rollout arm (arm absent outside a rollout).",
    );
    for s in &series {
        let l = &s.labels;
        let labels = [
            ("capability", &*l.capability),
            ("plugin", &*l.plugin),
            ("version", &*l.version),
            ("arm", arm_name(l.arm)),
        ];
        e.sample("selfup_calls_total", &labels, s.calls as f64);
    }
    e.family(
        "selfup_call_errors_total",
        Kind::Counter,
        "Failed capability calls by capability, plugin, version, arm and error kind.",
    );
    for s in &series {
        let l = &s.labels;
        for (kind, count) in &s.errors {
            let labels = [
                ("capability", &*l.capability),
                ("plugin", &*l.plugin),
                ("version", &*l.version),
                ("arm", arm_name(l.arm)),
                ("kind", kind.as_str()),
            ];
            e.sample("selfup_call_errors_total", &labels, *count as f64);
        }
    }
    e.family(
        "selfup_call_duration_seconds",
        Kind::Histogram,
        "Latency of capability calls in the plugin host, seconds.",
    );
    for s in &series {
        let l = &s.labels;
        let base = [
            ("capability", &*l.capability),
            ("plugin", &*l.plugin),
            ("version", &*l.version),
            ("arm", arm_name(l.arm)),
        ];
        for (le, count) in &s.latency.cumulative {
            let le = bound(*le);
            let labels = [base[0], base[1], base[2], base[3], ("le", le.as_str())];
            e.sample(
                "selfup_call_duration_seconds_bucket",
                &labels,
                *count as f64,
            );
        }
        let labels = [base[0], base[1], base[2], base[3], ("le", "+Inf")];
        e.sample(
            "selfup_call_duration_seconds_bucket",
            &labels,
            s.latency.count as f64,
        );
        e.sample(
            "selfup_call_duration_seconds_sum",
            &base,
            s.latency.sum_seconds,
        );
        e.sample(
            "selfup_call_duration_seconds_count",
            &base,
            s.latency.count as f64,
        );
    }
    e.family(
        "selfup_unserved_calls_total",
        Kind::Counter,
        "Calls to a capability no installed plugin serves (names are not labels: callers choose them).",
    );
    e.sample(
        "selfup_unserved_calls_total",
        &[],
        metrics.unserved() as f64,
    );
    e.family(
        "selfup_shadow_skipped_total",
        Kind::Counter,
        "Requests not mirrored to a shadow candidate because too many shadow calls were in flight.",
    );
    e.sample(
        "selfup_shadow_skipped_total",
        &[],
        state.dispatcher.shadow_skipped() as f64,
    );
}

fn telemetry(e: &mut Exposition, state: &AppState) {
    let stats = state.dispatcher.telemetry().stats();
    e.family(
        "selfup_telemetry_queue_depth",
        Kind::Gauge,
        "Telemetry records waiting in the writer's queue.",
    );
    e.sample("selfup_telemetry_queue_depth", &[], stats.queued as f64);
    for (name, help, value) in [
        (
            "selfup_telemetry_records_written_total",
            "Telemetry records committed to the store.",
            stats.written,
        ),
        (
            "selfup_telemetry_records_dropped_total",
            "Telemetry records dropped because the queue was full.",
            stats.dropped,
        ),
        (
            "selfup_telemetry_records_failed_total",
            "Telemetry records lost because their batch failed to commit.",
            stats.failed,
        ),
        (
            "selfup_telemetry_batches_total",
            "Telemetry write transactions committed.",
            stats.batches,
        ),
    ] {
        e.family(name, Kind::Counter, help);
        e.sample(name, &[], value as f64);
    }
}

fn rollouts(e: &mut Exposition, rollouts: &[Rollout]) {
    e.family(
        "selfup_rollout_weight",
        Kind::Gauge,
        "Share of a capability's subjects each arm of a rollout serves, 0 to 1 (a 0 candidate weight is a shadow stage).",
    );
    for r in rollouts {
        let id = r.upgrade_id.to_string();
        let stage = r.stage.to_string();
        let candidate_version = r.candidate_version.to_string();
        // A new capability has no incumbent: the candidate serves it all.
        let candidate = match r.incumbent {
            None => 1.0,
            Some(_) => (r.traffic_percentage / 100.0).clamp(0.0, 1.0),
        };
        let labels = [
            ("capability", r.capability.as_str()),
            ("upgrade_id", id.as_str()),
            ("stage", stage.as_str()),
            ("arm", "candidate"),
            ("plugin", r.candidate_plugin.as_str()),
            ("version", candidate_version.as_str()),
        ];
        e.sample("selfup_rollout_weight", &labels, candidate);
        if let Some((plugin, version)) = &r.incumbent {
            let version = version.to_string();
            let labels = [
                ("capability", r.capability.as_str()),
                ("upgrade_id", id.as_str()),
                ("stage", stage.as_str()),
                ("arm", "incumbent"),
                ("plugin", plugin.as_str()),
                ("version", version.as_str()),
            ];
            e.sample("selfup_rollout_weight", &labels, 1.0 - candidate);
        }
    }
    e.family(
        "selfup_rollout_stage",
        Kind::Gauge,
        "The stage index each rollout is in.",
    );
    for r in rollouts {
        let id = r.upgrade_id.to_string();
        let labels = [
            ("capability", r.capability.as_str()),
            ("upgrade_id", id.as_str()),
        ];
        e.sample("selfup_rollout_stage", &labels, r.stage as f64);
    }
}

fn upgrades(e: &mut Exposition, counts: &[(String, u64)]) {
    e.family(
        "selfup_upgrades",
        Kind::Gauge,
        "Upgrades in each lifecycle state.",
    );
    let count = |state: &str| {
        counts
            .iter()
            .find(|(s, _)| s == state)
            .map_or(0, |(_, n)| *n)
    };
    for state in UPGRADE_STATES {
        e.sample("selfup_upgrades", &[("state", state)], count(state) as f64);
    }
    for (state, n) in counts {
        if !UPGRADE_STATES.contains(&state.as_str()) {
            e.sample("selfup_upgrades", &[("state", state)], *n as f64);
        }
    }
}
