//! The call path shared by HTTP, the CLI and (later) MCP: route, call,
//! record.

use std::sync::Arc;

use selfup_core::call::{CallCost, CallError, ErrorKind};
use selfup_core::clock::Clock;
use selfup_core::telemetry::{CallRecord, Outcome};
use selfup_store::telemetry::TelemetrySink;
use serde_json::value::RawValue;

use crate::router::Router;
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

/// Routes calls to plugins and records every one of them.
pub struct Dispatcher {
    router: Arc<Router>,
    telemetry: TelemetrySink,
    clock: Arc<dyn Clock>,
}

impl Dispatcher {
    /// A dispatcher over `router`, recording to `telemetry`.
    pub fn new(router: Arc<Router>, telemetry: TelemetrySink, clock: Arc<dyn Clock>) -> Self {
        Self {
            router,
            telemetry,
            clock,
        }
    }

    /// The router.
    pub fn router(&self) -> &Arc<Router> {
        &self.router
    }

    /// The telemetry sink.
    pub fn telemetry(&self) -> &TelemetrySink {
        &self.telemetry
    }

    /// Calls `capability` for `subject` with the JSON `input`.
    pub async fn call(&self, capability: &str, subject: &str, input: &str) -> CallOutcome {
        let ts_ms = self.clock.now_ms();
        let outcome = match self.router.route(capability) {
            None => CallOutcome {
                output: Err(CallError::new(
                    ErrorKind::UnknownCapability,
                    format!(
                        "no installed plugin provides \"{capability}\"; see GET /v1/capabilities or `selfup plugin list`"
                    ),
                )),
                plugin: None,
                version: None,
                cost: CallCost::default(),
            },
            Some(target) => {
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
                    plugin: Some(target.plugin),
                    version: Some(target.version),
                    cost,
                }
            }
        };
        self.telemetry.record_call(CallRecord {
            ts_ms,
            capability: capability.to_owned(),
            plugin: outcome.plugin.as_deref().unwrap_or_default().to_owned(),
            version: outcome.version.as_deref().unwrap_or_default().to_owned(),
            subject_hash: subject_hash(subject),
            outcome: if outcome.output.is_ok() {
                Outcome::Ok
            } else {
                Outcome::Error
            },
            error_kind: outcome.output.as_ref().err().map(|e| e.kind),
            cost: outcome.cost,
        });
        outcome
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
