//! The call path shared by HTTP, the CLI and MCP: route (with the
//! rollout's sticky split or shadow mirror), call, record.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use selfup_core::call::{CallCost, CallError, ErrorKind};
use selfup_core::clock::Clock;
use selfup_core::telemetry::{Arm, CallRecord, ExperimentTag, Outcome};
use selfup_stats::assignment::hash_v2;
use selfup_store::telemetry::{InputSample, TelemetrySink};
use serde_json::value::RawValue;
use tokio::sync::Semaphore;

use crate::metrics::{CallMetrics, Observation};
use crate::router::{RolloutTarget, RouteTarget, Router};
use crate::subject::subject_hash;

/// The result of one dispatched call.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    /// The plugin's JSON output (checked to be JSON), or why there is none.
    pub output: Result<Box<RawValue>, CallError>,
    /// The plugin that served the call (`None` if none could).
    pub plugin: Option<Arc<str>>,
    /// Its version.
    pub version: Option<Arc<str>>,
    /// What the call cost.
    pub cost: CallCost,
}

/// How call inputs are sampled for the performance assessor's replays.
#[derive(Debug, Clone, Copy)]
pub struct Sampling {
    /// Keep every `every`-th input (0: keep none).
    pub every: u64,
    /// Slots per capability; a new sample replaces an old one.
    pub slots: u32,
}

impl Sampling {
    /// No sampling.
    pub const OFF: Sampling = Sampling { every: 0, slots: 0 };

    /// Sampling at `rate` (0–1) into `slots` per capability.
    pub fn at_rate(rate: f64, slots: u32) -> Self {
        if rate <= 0.0 || slots == 0 {
            return Self::OFF;
        }
        Sampling {
            every: (1.0 / rate.min(1.0)).round().max(1.0) as u64,
            slots,
        }
    }
}

/// Most shadow calls in flight; beyond it, requests are not mirrored (the
/// shadow must never slow the live path).
const MAX_SHADOW_IN_FLIGHT: usize = 64;

/// Routes calls to plugins and records every one of them.
pub struct Dispatcher {
    router: Arc<Router>,
    telemetry: TelemetrySink,
    clock: Arc<dyn Clock>,
    sampling: Sampling,
    calls: AtomicU64,
    shadow_permits: Arc<Semaphore>,
    shadow_skipped: AtomicU64,
    metrics: Arc<CallMetrics>,
}

impl Dispatcher {
    /// A dispatcher over `router`, recording to `telemetry`.
    pub fn new(router: Arc<Router>, telemetry: TelemetrySink, clock: Arc<dyn Clock>) -> Self {
        Self {
            router,
            telemetry,
            clock,
            sampling: Sampling::OFF,
            calls: AtomicU64::new(0),
            shadow_permits: Arc::new(Semaphore::new(MAX_SHADOW_IN_FLIGHT)),
            shadow_skipped: AtomicU64::new(0),
            metrics: Arc::new(CallMetrics::default()),
        }
    }

    /// Samples call inputs for replay.
    pub fn with_sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = sampling;
        self
    }

    /// The router.
    pub fn router(&self) -> &Arc<Router> {
        &self.router
    }

    /// The telemetry sink.
    pub fn telemetry(&self) -> &TelemetrySink {
        &self.telemetry
    }

    /// The call metrics (`GET /metrics`), recorded on every call.
    pub fn metrics(&self) -> &Arc<CallMetrics> {
        &self.metrics
    }

    /// Requests not mirrored to a shadow candidate because too many
    /// shadow calls were in flight.
    pub fn shadow_skipped(&self) -> u64 {
        self.shadow_skipped.load(Ordering::Relaxed)
    }

    /// Calls `capability` for `subject` with the JSON `input`.
    pub async fn call(&self, capability: &str, subject: &str, input: &str) -> CallOutcome {
        let ts_ms = self.clock.now_ms();
        let subject_hash = subject_hash(subject);
        self.sample(capability, ts_ms, input);
        let table = self.router.table();
        let choice =
            table
                .get(capability)
                .and_then(|route| match (&route.rollout, &route.primary) {
                    (None, Some(primary)) => Some((primary, None, None)),
                    (Some(rollout), None) => {
                        Some((&rollout.candidate, Some(tag(rollout, Arm::Candidate)), None))
                    }
                    (Some(rollout), Some(primary)) if rollout.fraction <= 0.0 => {
                        Some((primary, Some(tag(rollout, Arm::Incumbent)), Some(rollout)))
                    }
                    (Some(rollout), Some(primary)) => {
                        if hash_v2(&rollout.seed, subject) < rollout.fraction {
                            Some((&rollout.candidate, Some(tag(rollout, Arm::Candidate)), None))
                        } else {
                            Some((primary, Some(tag(rollout, Arm::Incumbent)), None))
                        }
                    }
                    (None, None) => None,
                });
        let Some((target, tag, mirror)) = choice else {
            let outcome = CallOutcome {
                output: Err(CallError::new(
                    ErrorKind::UnknownCapability,
                    format!(
                        "no installed plugin provides \"{capability}\"; see GET /v1/capabilities or `selfup plugin list`"
                    ),
                )),
                plugin: None,
                version: None,
                cost: CallCost::default(),
            };
            self.record(capability, ts_ms, subject_hash, &outcome, None);
            return outcome;
        };
        let outcome = serve(target, capability, input).await;
        self.record(capability, ts_ms, subject_hash, &outcome, tag);
        if let Some(rollout) = mirror {
            self.mirror(rollout, capability, input, &outcome, ts_ms, subject_hash);
        }
        outcome
    }

    fn sample(&self, capability: &str, ts_ms: i64, input: &str) {
        if self.sampling.every == 0 {
            return;
        }
        // A pseudo-random pick from the call counter: a fixed stride would
        // alias with periodic traffic (every other call the same capability).
        let mixed = splitmix64(self.calls.fetch_add(1, Ordering::Relaxed));
        if !mixed.is_multiple_of(self.sampling.every) {
            return;
        }
        let slot = ((mixed / self.sampling.every) % u64::from(self.sampling.slots)) as u32;
        self.telemetry.record_input_sample(InputSample {
            capability: capability.to_owned(),
            slot,
            ts_ms,
            input: input.to_owned(),
        });
    }

    fn record(
        &self,
        capability: &str,
        ts_ms: i64,
        subject_hash: i64,
        outcome: &CallOutcome,
        experiment: Option<ExperimentTag>,
    ) {
        match (&outcome.plugin, &outcome.version) {
            (Some(plugin), Some(version)) => self.metrics.observe(Observation {
                capability,
                plugin,
                version,
                arm: experiment.map(|t| t.arm),
                error: outcome.output.as_ref().err().map(|e| e.kind),
                latency_us: outcome.cost.latency_us,
            }),
            _ => self.metrics.observe_unserved(),
        }
        self.telemetry.record_call(CallRecord {
            ts_ms,
            capability: capability.to_owned(),
            plugin: outcome.plugin.as_deref().unwrap_or_default().to_owned(),
            version: outcome.version.as_deref().unwrap_or_default().to_owned(),
            subject_hash,
            outcome: if outcome.output.is_ok() {
                Outcome::Ok
            } else {
                Outcome::Error
            },
            error_kind: outcome.output.as_ref().err().map(|e| e.kind),
            cost: outcome.cost,
            experiment,
        });
    }

    /// Sends the request to the shadow candidate in the background; its
    /// answer is compared with the incumbent's, recorded, and discarded.
    fn mirror(
        &self,
        rollout: &RolloutTarget,
        capability: &str,
        input: &str,
        live: &CallOutcome,
        ts_ms: i64,
        subject_hash: i64,
    ) {
        let Ok(permit) = self.shadow_permits.clone().try_acquire_owned() else {
            self.shadow_skipped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let candidate = rollout.candidate.clone();
        let base_tag = tag(rollout, Arm::Shadow);
        let capability = capability.to_owned();
        let input = input.to_owned();
        let live: Result<serde_json::Value, ErrorKind> = match &live.output {
            Ok(raw) => serde_json::from_str(raw.get()).map_err(|_| ErrorKind::PluginError),
            Err(e) => Err(e.kind),
        };
        let telemetry = self.telemetry.clone();
        let metrics = self.metrics.clone();
        let spawned = tokio::runtime::Handle::try_current().map(|handle| {
            handle.spawn(async move {
                let _permit = permit;
                let outcome = serve(&candidate, &capability, &input).await;
                let shadow: Result<serde_json::Value, ErrorKind> = match &outcome.output {
                    Ok(raw) => serde_json::from_str(raw.get()).map_err(|_| ErrorKind::PluginError),
                    Err(e) => Err(e.kind),
                };
                let tag = ExperimentTag {
                    mismatch: Some(shadow != live),
                    ..base_tag
                };
                metrics.observe(Observation {
                    capability: &capability,
                    plugin: &candidate.plugin,
                    version: &candidate.version,
                    arm: Some(Arm::Shadow),
                    error: outcome.output.as_ref().err().map(|e| e.kind),
                    latency_us: outcome.cost.latency_us,
                });
                telemetry.record_call(CallRecord {
                    ts_ms,
                    capability,
                    plugin: candidate.plugin.to_string(),
                    version: candidate.version.to_string(),
                    subject_hash,
                    outcome: if outcome.output.is_ok() {
                        Outcome::Ok
                    } else {
                        Outcome::Error
                    },
                    error_kind: outcome.output.as_ref().err().map(|e| e.kind),
                    cost: outcome.cost,
                    experiment: Some(tag),
                });
            })
        });
        if spawned.is_err() {
            self.shadow_skipped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// SplitMix64's finaliser: a cheap, well-mixed hash of a counter.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn tag(rollout: &RolloutTarget, arm: Arm) -> ExperimentTag {
    ExperimentTag {
        upgrade_id: rollout.upgrade_id,
        stage: rollout.stage,
        arm,
        mismatch: None,
    }
}

async fn serve(target: &RouteTarget, capability: &str, input: &str) -> CallOutcome {
    let (output, cost) = match &target.runner {
        Ok(runner) => {
            let result = runner.call(capability, input).await;
            (
                result
                    .output
                    .and_then(|json| checked_json(json, &target.plugin)),
                result.cost,
            )
        }
        Err(message) => (
            Err(CallError::new(ErrorKind::PluginError, message.to_string())),
            CallCost::default(),
        ),
    };
    CallOutcome {
        output,
        plugin: Some(target.plugin.clone()),
        version: Some(target.version.clone()),
        cost,
    }
}

/// A plugin's answer must be JSON; anything else is the plugin's failure.
fn checked_json(json: String, plugin: &str) -> Result<Box<RawValue>, CallError> {
    RawValue::from_string(json).map_err(|e| {
        CallError::new(
            ErrorKind::PluginError,
            format!("the plugin {plugin} answered with something that is not JSON ({e})"),
        )
    })
}
