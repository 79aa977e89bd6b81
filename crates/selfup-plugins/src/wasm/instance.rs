//! One live plugin instance: its own store, initialised once, serving
//! calls one at a time under a deadline and a memory cap.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use selfup_core::call::{CallError, ErrorKind};
use selfup_core::manifest::PluginManifest;
use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap, UpdateDeadline};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::filesystem::FsPerms;

use super::bindings::selfup::plugin::types::{ErrorCode, HealthStatus, PluginError};
use super::bindings::{Plugin, PluginPre};
use super::engine::{HostInner, Preopen};
use super::limits::{InstanceState, MemoryLimiter};

/// How a call into an instance failed.
pub(crate) enum Failure {
    /// The plugin answered with an error; the instance is fine.
    Answered(CallError),
    /// The instance trapped, timed out or ran out of memory; drop it.
    Lost(CallError),
}

impl Failure {
    pub(crate) fn error(&self) -> &CallError {
        match self {
            Failure::Answered(e) | Failure::Lost(e) => e,
        }
    }
}

/// A live instance of a plugin.
pub(crate) struct PluginInstance {
    store: Store<InstanceState>,
    plugin: Plugin,
    limit: Duration,
    memory_cap_mb: u64,
}

/// The result of one `execute`, with what it cost.
pub(crate) struct Executed {
    pub(crate) output: Result<String, Failure>,
    pub(crate) memory_bytes: u64,
    pub(crate) cpu: Duration,
}

impl PluginInstance {
    /// Instantiates the component and calls its `initialize`.
    pub(crate) async fn create(
        host: &HostInner,
        pre: &PluginPre<InstanceState>,
        manifest: &PluginManifest,
        preopens: &[Preopen],
    ) -> Result<Self, CallError> {
        let mut wasi = WasiCtxBuilder::new();
        for p in preopens {
            wasi.preopened_dir(&p.host, &p.guest, FsPerms::ReadWrite)
                .map_err(|e| {
                    CallError::new(
                        ErrorKind::PluginError,
                        format!("cannot give the plugin {}: {e}", p.host.display()),
                    )
                })?;
        }
        let limits = &manifest.resource_limits;
        let cap_bytes =
            usize::try_from(limits.max_memory_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let state = InstanceState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            memory: MemoryLimiter::new(cap_bytes),
            deadline: Instant::now(),
            timed_out: false,
        };
        let mut store = Store::new(&host.engine, state);
        store.limiter(|s| &mut s.memory);
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            if Instant::now() >= state.deadline {
                state.timed_out = true;
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        let limit = Duration::from_secs_f64(limits.max_execution_time_seconds);
        let memory_cap_mb = limits.max_memory_mb;
        arm(&mut store, limit);
        let plugin = match pre.instantiate_async(&mut store).await {
            Ok(p) => p,
            Err(e) => return Err(classify(&store, e, limit, memory_cap_mb, "starting")),
        };
        let mut instance = Self {
            store,
            plugin,
            limit,
            memory_cap_mb,
        };
        let context = serde_json::json!({
            "name": manifest.name.as_str(),
            "version": manifest.version.to_string(),
        })
        .to_string();
        arm(&mut instance.store, limit);
        match instance
            .plugin
            .call_initialize(&mut instance.store, &context)
            .await
        {
            Ok(Ok(())) => Ok(instance),
            Ok(Err(e)) => Err(CallError::new(
                ErrorKind::PluginError,
                format!("the plugin refused to initialise: {}", e.message),
            )),
            Err(e) => Err(instance.lost(e, "initialising").error().clone()),
        }
    }

    /// Serves one request.
    pub(crate) async fn execute(&mut self, capability: &str, input: &str) -> Executed {
        arm(&mut self.store, self.limit);
        let call = self.plugin.call_execute(&mut self.store, capability, input);
        let (result, cpu) = CpuTimed::new(call).await;
        let output = match result {
            Ok(Ok(json)) => Ok(json),
            Ok(Err(e)) => Err(Failure::Answered(answered(e, capability))),
            Err(e) => Err(self.lost(e, "serving the call")),
        };
        Executed {
            output,
            memory_bytes: self.store.data().memory.total_bytes as u64,
            cpu,
        }
    }

    /// Asks the instance for its health.
    pub(crate) async fn health(&mut self) -> Result<HealthStatus, Failure> {
        arm(&mut self.store, self.limit);
        match self.plugin.call_health(&mut self.store).await {
            Ok(status) => Ok(status),
            Err(e) => Err(self.lost(e, "checking health")),
        }
    }

    /// Lets the plugin clean up before the instance is dropped.
    pub(crate) async fn shutdown(mut self) {
        arm(&mut self.store, self.limit);
        if let Err(e) = self.plugin.call_shutdown(&mut self.store).await {
            tracing::warn!(error = %e, "a plugin instance failed during shutdown");
        }
    }

    fn lost(&self, error: wasmtime::Error, doing: &str) -> Failure {
        Failure::Lost(classify(
            &self.store,
            error,
            self.limit,
            self.memory_cap_mb,
            doing,
        ))
    }
}

/// Starts the clock for one call into the instance.
fn arm(store: &mut Store<InstanceState>, limit: Duration) {
    let state = store.data_mut();
    state.deadline = Instant::now() + limit;
    state.timed_out = false;
    state.memory.denied = false;
    store.set_epoch_deadline(1);
}

/// Maps a failure of the instance to the kind callers see.
fn classify(
    store: &Store<InstanceState>,
    error: wasmtime::Error,
    limit: Duration,
    memory_cap_mb: u64,
    doing: &str,
) -> CallError {
    let state = store.data();
    if state.timed_out {
        return CallError::new(
            ErrorKind::Timeout,
            format!(
                "the plugin ran past its limit of {}s while {doing} (resource_limits.max_execution_time_seconds) and was stopped",
                limit.as_secs_f64()
            ),
        );
    }
    if state.memory.denied {
        return CallError::new(
            ErrorKind::ResourceExhausted,
            format!(
                "the plugin needed more than its {memory_cap_mb} MiB of memory while {doing} (resource_limits.max_memory_mb) and was stopped"
            ),
        );
    }
    let what = match error.downcast_ref::<Trap>() {
        Some(trap) => format!("trapped ({trap})"),
        None => format!("failed ({error:#})"),
    };
    CallError::new(
        ErrorKind::PluginError,
        format!("the plugin {what} while {doing}; the instance was replaced"),
    )
}

fn answered(e: PluginError, capability: &str) -> CallError {
    match e.code {
        ErrorCode::InvalidInput => CallError::new(ErrorKind::InvalidInput, e.message),
        ErrorCode::UnsupportedCapability => CallError::new(
            ErrorKind::PluginError,
            format!(
                "the plugin declares \"{capability}\" in its manifest but refused it: {}",
                e.message
            ),
        ),
        ErrorCode::Internal => CallError::new(ErrorKind::PluginError, e.message),
    }
}

/// Wraps a future and adds up the time its polls run on host threads: the
/// call's busy time. It is what the call cost in CPU, plus any time the OS
/// preempted the thread mid-poll; waiting (for a permit, between epoch
/// yields) is not counted. Reading the thread CPU clock instead costs a
/// system call per poll (about 0.4 µs here, more than a whole trivial call),
/// so the monotonic clock (vDSO, about 20 ns) is used.
struct CpuTimed<F> {
    inner: Pin<Box<F>>,
    cpu: Duration,
}

impl<F: Future> CpuTimed<F> {
    fn new(inner: F) -> Self {
        Self {
            inner: Box::pin(inner),
            cpu: Duration::ZERO,
        }
    }
}

impl<F: Future> Future for CpuTimed<F> {
    type Output = (F::Output, Duration);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let start = Instant::now();
        let poll = self.inner.as_mut().poll(cx);
        self.cpu += start.elapsed();
        match poll {
            Poll::Ready(out) => Poll::Ready((out, self.cpu)),
            Poll::Pending => Poll::Pending,
        }
    }
}
