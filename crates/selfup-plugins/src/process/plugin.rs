//! A loaded process plugin: one supervised MCP server process.
//!
//! The process starts on the first call. A call that finds it gone (it
//! exited, was killed, or timed out) drops it, and the next call starts a
//! new one; after a failed start the next attempt waits an exponential
//! backoff, and calls in the meantime fail at once with `plugin_error`.
//! Calls run concurrently over the one connection.
//!
//! Stopping a server ends what it started too. On Linux the server leads a
//! process group of its own, and the group is killed (a Ctrl-C at selfup's
//! terminal reaches selfup only; when selfup exits, the server sees its
//! standard input close). On Windows its job object is terminated, and
//! closing the job's handle (selfup dropping the plugin, or exiting) ends
//! the tree.

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
#[cfg(not(windows))]
use super::procfs;
use super::{ProcessError, tools};
use crate::host::{BoxFuture, CallResult, HealthReport, PluginStats, RunningPlugin};

/// One running server process and its MCP session.
struct Connection {
    service: RunningService<RoleClient, ()>,
    pid: u32,
    tools: BTreeMap<String, String>,
    limits: AppliedLimits,
    /// The process and its job (on Linux the transport owns the process).
    #[cfg(windows)]
    process: super::job::JobProcess,
}

impl Connection {
    fn is_alive(&self) -> bool {
        // On Windows a child of the server inherits its pipe handles and
        // keeps the transport open after the server died: ask the process.
        #[cfg(windows)]
        if self.process.has_exited() {
            return false;
        }
        !self.service.is_closed() && !self.service.peer().is_transport_closed()
    }

    /// Ends the server and every process it started (on Linux those that
    /// stayed in its process group, on Windows the whole job).
    fn kill(&self) {
        #[cfg(target_os = "linux")]
        if let Ok(pid) = libc::pid_t::try_from(self.pid)
            && pid > 1
        {
            // SAFETY: kill with integer arguments. The server leads its own
            // process group, whose id cannot be reused while the server is
            // not reaped (the transport holds it).
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        #[cfg(windows)]
        self.process.terminate();
        self.service.cancellation_token().cancel();
    }

    /// The server process's CPU time so far, in microseconds.
    fn cpu_us(&self) -> u64 {
        #[cfg(windows)]
        {
            self.process.cpu_us()
        }
        #[cfg(not(windows))]
        {
            procfs::cpu_us(self.pid)
        }
    }

    /// The server process's peak resident memory, in bytes.
    fn peak_memory_bytes(&self) -> u64 {
        #[cfg(windows)]
        {
            self.process.peak_memory_bytes()
        }
        #[cfg(not(windows))]
        {
            procfs::peak_memory_bytes(self.pid)
        }
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
    // Only Linux and Windows start processes.
    #[cfg_attr(not(any(target_os = "linux", windows)), allow(dead_code))]
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
    #[cfg(not(any(target_os = "linux", windows)))]
    async fn start(&self) -> Result<Connection, ProcessError> {
        Err(ProcessError::Unsupported)
    }

    /// The command for the server: program, arguments, the scrubbed
    /// environment, the package directory.
    #[cfg(any(target_os = "linux", windows))]
    fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.launch.program);
        cmd.args(&self.launch.args)
            .env_clear()
            .envs(super::command::environment(
                &self.spec.data_dir,
                &self.launch,
            ))
            .current_dir(&self.spec.package_dir)
            .kill_on_drop(true);
        cmd
    }

    /// Spawns the process under its limits and runs the handshake.
    #[cfg(target_os = "linux")]
    async fn start(&self) -> Result<Connection, ProcessError> {
        use rmcp::transport::TokioChildProcess;

        let (child_limits, limits) = super::limits::prepare(
            &self.spec.manifest,
            &self.spec.package_dir,
            &self.spec.data_dir,
            &self.launch.interpreter_prefixes,
            self.config.cpu_seconds_per_process,
        )?;
        let mut cmd = self.command();
        // Its own process group, so that killing the group ends what it started.
        cmd.process_group(0);
        // SAFETY: the closure only makes async-signal-safe system calls
        // (unshare, open/write/close of /proc/self maps, prctl, setrlimit,
        // landlock_restrict_self) and does not allocate.
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
        let (service, tools) = self.handshake(transport).await?;
        Ok(Connection {
            service,
            pid,
            tools,
            limits,
        })
    }

    /// Spawns the process in a job object of its own and runs the handshake.
    #[cfg(windows)]
    async fn start(&self) -> Result<Connection, ProcessError> {
        let limits = &self.spec.manifest.resource_limits;
        let settings = super::job::JobSettings {
            process_memory_bytes: limits.max_memory_mb.saturating_mul(1024 * 1024),
            active_processes: self.config.max_processes_per_plugin,
            cpu_seconds: self.config.cpu_seconds_per_process,
            max_cpu_percent: limits.max_cpu_percent,
        };
        let spawned = super::job::spawn(self.command(), settings)?;
        let pid = spawned.process.pid();
        // Until the handshake is done, `spawned.process` ends the job if
        // the handshake fails or times out.
        let (service, tools) = self.handshake((spawned.stdout, spawned.stdin)).await?;
        Ok(Connection {
            service,
            pid,
            tools,
            limits: AppliedLimits::Windows(spawned.limits),
            process: spawned.process,
        })
    }

    /// Runs `initialize` and `tools/list` over `transport` and maps the
    /// server's tools to the manifest's capabilities.
    #[cfg(any(target_os = "linux", windows))]
    async fn handshake<T, E, A>(
        &self,
        transport: T,
    ) -> Result<(RunningService<RoleClient, ()>, BTreeMap<String, String>), ProcessError>
    where
        T: rmcp::transport::IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        use rmcp::ServiceExt;

        let manifest = &self.spec.manifest;
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
        Ok((service, tools))
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
        let cpu_before = connection.cpu_us();
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
                peak_memory_bytes: connection.peak_memory_bytes(),
                cpu_us: connection.cpu_us().saturating_sub(cpu_before),
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
