//! A loaded process plugin: one supervised MCP server process.
//!
//! The process starts on the first call. A call that finds it gone (it
//! exited, was killed, or timed out) drops it, and the next call starts a
//! new one; after a failed start the next attempt waits an exponential
//! backoff, and calls in the meantime fail at once with `plugin_error`.
//! Calls run concurrently over the one connection.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rmcp::RoleClient;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use selfup_core::call::{CallCost, CallError, ErrorKind};
use tokio::sync::Mutex;

use super::command::Launch;
use super::host::{ProcessHostConfig, ProcessLoadSpec};
use super::limits::AppliedLimits;
use super::{ProcessError, procfs, tools};
use crate::host::{BoxFuture, CallResult, HealthReport, PluginStats, RunningPlugin};

/// One running server process and its MCP session.
struct Connection {
    service: RunningService<RoleClient, ()>,
    pid: u32,
    tools: BTreeMap<String, String>,
    limits: AppliedLimits,
}

impl Connection {
    fn is_alive(&self) -> bool {
        !self.service.is_closed() && !self.service.peer().is_transport_closed()
    }

    fn kill(&self) {
        #[cfg(target_os = "linux")]
        if let Ok(pid) = libc::pid_t::try_from(self.pid) {
            // SAFETY: kill with integer arguments; the pid is our child's
            // (not reaped while the transport holds it).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        self.service.cancellation_token().cancel();
    }
}

/// The supervisor's state.
#[derive(Default)]
struct Supervisor {
    current: Option<Arc<Connection>>,
    failed_starts: u32,
    retry_at: Option<Instant>,
    last_error: String,
}

/// A process plugin (see the module documentation).
pub struct ProcessPlugin {
    config: Arc<ProcessHostConfig>,
    spec: ProcessLoadSpec,
    // Only Linux starts processes so far (no Windows job objects yet).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    launch: Launch,
    supervisor: Mutex<Supervisor>,
    calls: AtomicU64,
    failures: AtomicU64,
    lost: AtomicU64,
    created: AtomicU64,
    live: AtomicU64,
}

impl ProcessPlugin {
    pub(crate) fn new(
        config: Arc<ProcessHostConfig>,
        spec: ProcessLoadSpec,
        launch: Launch,
    ) -> Self {
        Self {
            config,
            spec,
            launch,
            supervisor: Mutex::new(Supervisor::default()),
            calls: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            created: AtomicU64::new(0),
            live: AtomicU64::new(0),
        }
    }

    /// The process id of the running server, if one is running.
    pub async fn pid(&self) -> Option<u32> {
        let supervisor = self.supervisor.lock().await;
        supervisor
            .current
            .as_ref()
            .filter(|c| c.is_alive())
            .map(|c| c.pid)
    }

    /// The running connection, starting the process if there is none.
    async fn connection(&self) -> Result<Arc<Connection>, CallError> {
        let mut supervisor = self.supervisor.lock().await;
        if let Some(current) = &supervisor.current {
            if current.is_alive() {
                return Ok(current.clone());
            }
            let dead = supervisor.current.take();
            self.lost_one(dead);
        }
        if let Some(at) = supervisor.retry_at {
            let now = Instant::now();
            if now < at {
                return Err(CallError::new(
                    ErrorKind::PluginError,
                    format!(
                        "{} is down (next start in {} ms): {}",
                        self.spec.manifest.id(),
                        (at - now).as_millis(),
                        supervisor.last_error
                    ),
                ));
            }
        }
        let started = tokio::time::timeout(self.config.start_timeout, self.start()).await;
        let error = match started {
            Ok(Ok(connection)) => {
                let connection = Arc::new(connection);
                supervisor.current = Some(connection.clone());
                supervisor.failed_starts = 0;
                supervisor.retry_at = None;
                self.created.fetch_add(1, Ordering::Relaxed);
                self.live.store(1, Ordering::Relaxed);
                tracing::info!(plugin = %self.spec.manifest.id(), pid = connection.pid,
                    limits = ?connection.limits, "process plugin started");
                return Ok(connection);
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!(
                "it did not complete the MCP handshake within {:?}",
                self.config.start_timeout
            ),
        };
        let backoff = self
            .config
            .restart_backoff
            .saturating_mul(1u32 << supervisor.failed_starts.min(16))
            .min(self.config.max_restart_backoff);
        supervisor.failed_starts = supervisor.failed_starts.saturating_add(1);
        supervisor.retry_at = Some(Instant::now() + backoff);
        supervisor.last_error = error.clone();
        tracing::warn!(plugin = %self.spec.manifest.id(), %error, ?backoff, "process plugin failed to start");
        Err(CallError::new(
            ErrorKind::PluginError,
            format!("{} cannot start: {error}", self.spec.manifest.id()),
        ))
    }

    fn lost_one(&self, dead: Option<Arc<Connection>>) {
        if let Some(dead) = dead {
            dead.kill();
            self.lost.fetch_add(1, Ordering::Relaxed);
            self.live.store(0, Ordering::Relaxed);
        }
    }

    /// Drops `connection` if it is still the current one.
    async fn discard(&self, connection: &Arc<Connection>) {
        let mut supervisor = self.supervisor.lock().await;
        if supervisor
            .current
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, connection))
        {
            let dead = supervisor.current.take();
            self.lost_one(dead);
        }
    }

    /// Spawns the process under its limits and runs the handshake.
    async fn start(&self) -> Result<Connection, ProcessError> {
        #[cfg(not(target_os = "linux"))]
        {
            Err(ProcessError::Unsupported)
        }
        #[cfg(target_os = "linux")]
        {
            use super::command;
            use rmcp::ServiceExt;
            use rmcp::transport::TokioChildProcess;

            let manifest = &self.spec.manifest;
            let (child_limits, applied) = super::limits::prepare(
                manifest,
                &self.spec.package_dir,
                &self.spec.data_dir,
                &self.launch.interpreter_prefixes,
                self.config.cpu_seconds_per_process,
            )?;
            let mut cmd = tokio::process::Command::new(&self.launch.program);
            cmd.args(&self.launch.args)
                .env_clear()
                .envs(command::environment(&self.spec.data_dir))
                .current_dir(&self.spec.package_dir)
                .kill_on_drop(true);
            // SAFETY: the closure only makes async-signal-safe system calls
            // (prctl, setrlimit, landlock_restrict_self) and does not allocate.
            unsafe {
                cmd.pre_exec(move || child_limits.apply_in_child());
            }
            let (transport, _stderr) = TokioChildProcess::builder(cmd)
                .stderr(std::process::Stdio::null())
                .spawn()
                .map_err(|source| ProcessError::Spawn {
                    program: self.launch.program.clone(),
                    source,
                })?;
            let pid = transport.id().unwrap_or(0);
            let service =
                ().serve(transport)
                    .await
                    .map_err(|e| ProcessError::Handshake(e.to_string()))?;
            let listed = service
                .peer()
                .list_all_tools()
                .await
                .map_err(|e| ProcessError::Handshake(format!("tools/list: {e}")))?;
            let names = listed.iter().map(|t| t.name.to_string()).collect();
            let declared = manifest
                .tool_names
                .iter()
                .map(|(capability, tool)| (capability.as_str(), tool.as_str()))
                .collect();
            let tools = tools::map_tools(
                manifest.provided_capabilities.iter().map(|c| c.as_str()),
                &declared,
                &names,
            )?;
            Ok(Connection {
                service,
                pid,
                tools,
                limits: applied,
            })
        }
    }

    async fn call_inner(&self, capability: &str, input: &str) -> CallResult {
        let started = Instant::now();
        let fail = |e: CallError| CallResult {
            output: Err(e),
            cost: CallCost {
                latency_us: elapsed_us(started),
                ..CallCost::default()
            },
        };
        let arguments = match serde_json::from_str::<serde_json::Value>(input) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => {
                return fail(CallError::new(
                    ErrorKind::InvalidInput,
                    "a process plugin's input must be a JSON object (the tool's arguments)",
                ));
            }
        };
        let connection = match self.connection().await {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let Some(tool) = connection.tools.get(capability) else {
            return fail(CallError::new(
                ErrorKind::UnknownCapability,
                format!("{} does not provide {capability}", self.spec.manifest.id()),
            ));
        };
        let cpu_before = procfs::cpu_us(connection.pid);
        let limit = Duration::from_secs_f64(
            self.spec
                .manifest
                .resource_limits
                .max_execution_time_seconds,
        );
        let params = CallToolRequestParams::new(tool.clone()).with_arguments(arguments);
        let answer = tokio::time::timeout(limit, connection.service.peer().call_tool(params)).await;
        let output = match answer {
            Ok(Ok(result)) => tools::output(&result),
            Ok(Err(e)) => {
                if !connection.is_alive() {
                    self.discard(&connection).await;
                    Err(CallError::new(
                        ErrorKind::PluginError,
                        format!(
                            "the plugin process exited during the call ({e}); it is restarted on the next call"
                        ),
                    ))
                } else {
                    Err(CallError::new(
                        ErrorKind::PluginError,
                        format!("tools/call failed: {e}"),
                    ))
                }
            }
            Err(_) => {
                // A runaway process is dropped, as a wasm instance is.
                self.discard(&connection).await;
                Err(CallError::new(
                    ErrorKind::Timeout,
                    format!(
                        "the call ran past {} s (max_execution_time_seconds); the process was stopped",
                        self.spec
                            .manifest
                            .resource_limits
                            .max_execution_time_seconds
                    ),
                ))
            }
        };
        CallResult {
            output,
            cost: CallCost {
                latency_us: elapsed_us(started),
                peak_memory_bytes: procfs::peak_memory_bytes(connection.pid),
                cpu_us: procfs::cpu_us(connection.pid).saturating_sub(cpu_before),
            },
        }
    }
}

fn elapsed_us(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

impl RunningPlugin for ProcessPlugin {
    fn call<'a>(&'a self, capability: &'a str, input: &'a str) -> BoxFuture<'a, CallResult> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let result = self.call_inner(capability, input).await;
            if result.output.is_err() {
                self.failures.fetch_add(1, Ordering::Relaxed);
            }
            result
        })
    }

    fn health(&self) -> BoxFuture<'_, HealthReport> {
        Box::pin(async move {
            let (healthy, details) = match self.connection().await {
                Ok(c) => (
                    true,
                    serde_json::json!({
                        "pid": c.pid,
                        "tools": c.tools,
                        "limits": c.limits,
                    }),
                ),
                Err(e) => (false, serde_json::json!({ "error": e.to_string() })),
            };
            HealthReport {
                healthy,
                details,
                stats: self.stats(),
            }
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let mut supervisor = self.supervisor.lock().await;
            if let Some(current) = supervisor.current.take() {
                current.kill();
                self.live.store(0, Ordering::Relaxed);
            }
        })
    }

    fn stats(&self) -> PluginStats {
        PluginStats {
            calls: self.calls.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            instances_lost: self.lost.load(Ordering::Relaxed),
            instances_created: self.created.load(Ordering::Relaxed),
            instances_live: self.live.load(Ordering::Relaxed),
        }
    }
}

impl Drop for ProcessPlugin {
    fn drop(&mut self) {
        if let Some(current) = self.supervisor.get_mut().current.take() {
            current.kill();
        }
    }
}
