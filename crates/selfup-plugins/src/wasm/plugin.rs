//! A loaded wasm plugin version: a pool of live instances.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use selfup_core::call::{CallCost, CallError, ErrorKind};
use selfup_core::manifest::PluginManifest;
use tokio::sync::Semaphore;

use super::bindings::PluginPre;
use super::engine::{Preopen, WasmHost};
use super::instance::{Failure, PluginInstance};
use super::limits::InstanceState;
use crate::host::{BoxFuture, CallResult, HealthReport, PluginStats, RunningPlugin};

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    failures: AtomicU64,
    lost: AtomicU64,
    created: AtomicU64,
    live: AtomicU64,
}

/// A plugin version loaded into the wasm host. Up to
/// `max_instances_per_plugin` instances serve calls concurrently; an idle
/// instance is reused, a lost one (trap, timeout, memory) is dropped and
/// a fresh one is created by the next call.
pub struct WasmPlugin {
    host: WasmHost,
    manifest: Arc<PluginManifest>,
    pre: PluginPre<InstanceState>,
    preopens: Vec<Preopen>,
    idle: Mutex<Vec<PluginInstance>>,
    permits: Semaphore,
    counters: Counters,
}

impl WasmPlugin {
    pub(crate) fn new(
        host: WasmHost,
        manifest: Arc<PluginManifest>,
        pre: PluginPre<InstanceState>,
        preopens: Vec<Preopen>,
    ) -> Self {
        let permits = host.inner.config.max_instances_per_plugin.max(1);
        Self {
            host,
            manifest,
            pre,
            preopens,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(permits),
            counters: Counters::default(),
        }
    }

    /// The manifest this plugin was loaded with.
    pub fn manifest(&self) -> &Arc<PluginManifest> {
        &self.manifest
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<PluginInstance>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn checkout(&self) -> Result<PluginInstance, CallError> {
        if let Some(instance) = self.lock_idle().pop() {
            return Ok(instance);
        }
        let instance =
            PluginInstance::create(&self.host.inner, &self.pre, &self.manifest, &self.preopens)
                .await?;
        self.counters.created.fetch_add(1, Ordering::Relaxed);
        self.counters.live.fetch_add(1, Ordering::Relaxed);
        Ok(instance)
    }

    fn checkin(&self, instance: PluginInstance) {
        self.lock_idle().push(instance);
    }

    fn drop_lost(&self, instance: PluginInstance, error: &CallError) {
        drop(instance);
        self.counters.lost.fetch_add(1, Ordering::Relaxed);
        self.counters.live.fetch_sub(1, Ordering::Relaxed);
        tracing::warn!(plugin = %self.manifest.id(), kind = %error.kind, message = %error.message, "plugin instance lost");
    }

    async fn serve(&self, capability: &str, input: &str) -> CallResult {
        let started = Instant::now();
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        let result = self.serve_inner(capability, input).await;
        if result.output.is_err() {
            self.counters.failures.fetch_add(1, Ordering::Relaxed);
        }
        CallResult {
            cost: CallCost {
                latency_us: started.elapsed().as_micros() as u64,
                ..result.cost
            },
            ..result
        }
    }

    async fn serve_inner(&self, capability: &str, input: &str) -> CallResult {
        let failed = |error: CallError| CallResult {
            output: Err(error),
            cost: CallCost::default(),
        };
        let Ok(_permit) = self.permits.acquire().await else {
            return failed(CallError::new(
                ErrorKind::PluginError,
                "the plugin is shutting down",
            ));
        };
        let mut instance = match self.checkout().await {
            Ok(instance) => instance,
            Err(e) => return failed(e),
        };
        let executed = instance.execute(capability, input).await;
        let cost = CallCost {
            latency_us: 0,
            peak_memory_bytes: executed.memory_bytes,
            cpu_us: executed.cpu.as_micros() as u64,
        };
        let output = match executed.output {
            Ok(json) => {
                self.checkin(instance);
                Ok(json)
            }
            Err(Failure::Answered(e)) => {
                self.checkin(instance);
                Err(e)
            }
            Err(Failure::Lost(e)) => {
                self.drop_lost(instance, &e);
                Err(e)
            }
        };
        CallResult { output, cost }
    }

    async fn check_health(&self) -> HealthReport {
        let unhealthy = |why: String| HealthReport {
            healthy: false,
            details: serde_json::json!({ "error": why }),
            stats: self.stats(),
        };
        let Ok(_permit) = self.permits.acquire().await else {
            return unhealthy("the plugin is shutting down".into());
        };
        let mut instance = match self.checkout().await {
            Ok(instance) => instance,
            Err(e) => return unhealthy(e.to_string()),
        };
        match instance.health().await {
            Ok(status) => {
                self.checkin(instance);
                let details = serde_json::from_str(&status.details)
                    .unwrap_or(serde_json::Value::String(status.details));
                HealthReport {
                    healthy: status.healthy,
                    details,
                    stats: self.stats(),
                }
            }
            Err(Failure::Answered(e)) | Err(Failure::Lost(e)) => {
                self.counters.lost.fetch_add(1, Ordering::Relaxed);
                self.counters.live.fetch_sub(1, Ordering::Relaxed);
                drop(instance);
                unhealthy(e.to_string())
            }
        }
    }

    async fn shutdown_all(&self) {
        let instances: Vec<PluginInstance> = std::mem::take(&mut *self.lock_idle());
        for instance in instances {
            instance.shutdown().await;
            self.counters.live.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl RunningPlugin for WasmPlugin {
    fn call<'a>(&'a self, capability: &'a str, input: &'a str) -> BoxFuture<'a, CallResult> {
        Box::pin(self.serve(capability, input))
    }

    fn health(&self) -> BoxFuture<'_, HealthReport> {
        Box::pin(self.check_health())
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.shutdown_all())
    }

    fn stats(&self) -> PluginStats {
        let c = &self.counters;
        PluginStats {
            calls: c.calls.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
            instances_lost: c.lost.load(Ordering::Relaxed),
            instances_created: c.created.load(Ordering::Relaxed),
            instances_live: c.live.load(Ordering::Relaxed),
        }
    }
}
