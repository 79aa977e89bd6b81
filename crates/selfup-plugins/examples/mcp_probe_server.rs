//! An MCP server over stdio that reports, from inside its process, what a
//! process plugin host did to it; `tests/process_native.rs` runs it as a
//! process plugin on Linux and on Windows (no interpreter needed).
//!
//! Tools (each takes a JSON object and answers with structured content):
//! - `probe.echo`: its arguments.
//! - `probe.limits`: the OS limits seen from inside — on Linux the
//!   resource limits, `no_new_privs` and whether it leads its process
//!   group; on Windows whether it is in a job and what
//!   `QueryInformationJobObject` says of that job — and the names of its
//!   environment variables.
//! - `probe.alloc` `{"mib": n}`: allocates and touches `n` MiB; an error
//!   result when the allocation is refused.
//! - `probe.sleep` `{"ms": n}`: answers after `n` milliseconds.
//! - `probe.spawn` `{"count": n}`: starts `n` copies of itself that idle
//!   for two minutes (`--idle`); their process ids, and the errors of those
//!   that could not start.
//! - `probe.connect` `{"address": "127.0.0.1:8080"}`: a TCP connect (two
//!   seconds at most); `{"connected": true}`, or `{"connected": false,
//!   "error": …, "kind": …, "os_error": …}` with the `std::io::ErrorKind`
//!   and the OS error code.
//!
//! Run as `mcp_probe_server` (serve MCP on stdin/stdout) or
//! `mcp_probe_server --idle` (sleep, then exit).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

/// How long an `--idle` copy lives.
const IDLE: Duration = Duration::from_secs(120);

/// The probe server.
#[derive(Clone, Copy)]
struct Probe;

fn tool(name: &'static str, description: &'static str) -> Tool {
    let mut schema = JsonObject::new();
    schema.insert("type".into(), Value::String("object".into()));
    Tool::new(name, description, Arc::new(schema))
}

fn failed(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

impl ServerHandler for Probe {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("mcp-probe-server", "1.0.0"))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(vec![
            tool("probe.echo", "Answers with its arguments."),
            tool("probe.limits", "The OS limits seen from inside."),
            tool("probe.alloc", "Allocates and touches {mib} MiB."),
            tool("probe.sleep", "Answers after {ms} milliseconds."),
            tool("probe.spawn", "Starts {count} idle copies of itself."),
            tool("probe.connect", "Tries a TCP connect to {address}."),
        ]))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let number = |key: &str| args.get(key).and_then(Value::as_u64).unwrap_or(0);
        let result = match request.name.as_ref() {
            "probe.echo" => CallToolResult::structured(Value::Object(args)),
            "probe.limits" => CallToolResult::structured(limits()),
            "probe.alloc" => alloc(number("mib")),
            "probe.sleep" => {
                tokio::time::sleep(Duration::from_millis(number("ms"))).await;
                CallToolResult::structured(json!({ "slept_ms": number("ms") }))
            }
            "probe.spawn" => CallToolResult::structured(spawn(number("count"))),
            "probe.connect" => connect(args.get("address").and_then(Value::as_str).unwrap_or("")),
            other => {
                return Err(ErrorData::invalid_params(format!("no tool {other}"), None));
            }
        };
        Ok(result.into())
    }
}

fn alloc(mib: u64) -> CallToolResult {
    let Ok(bytes) = usize::try_from(mib.saturating_mul(1 << 20)) else {
        return failed(format!("{mib} MiB does not fit in the address space"));
    };
    let mut block: Vec<u8> = Vec::new();
    if let Err(e) = block.try_reserve_exact(bytes) {
        return failed(format!("cannot allocate {mib} MiB: {e}"));
    }
    // Touch every page, so the memory is really committed and resident.
    block.resize(bytes, 1);
    let sum: u64 = block.iter().step_by(4096).map(|&b| u64::from(b)).sum();
    CallToolResult::structured(json!({ "allocated_mib": mib, "pages": sum }))
}

fn spawn(count: u64) -> Value {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return json!({ "pids": [], "errors": [e.to_string()] }),
    };
    let mut pids = Vec::new();
    let mut errors = Vec::new();
    for _ in 0..count {
        let started = std::process::Command::new(&exe)
            .arg("--idle")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        match started {
            // Not waited for: the copy idles on after this call.
            Ok(child) => pids.push(child.id()),
            Err(e) => errors.push(e.to_string()),
        }
    }
    json!({ "pids": pids, "errors": errors })
}

fn connect(address: &str) -> CallToolResult {
    let Ok(address) = address.parse::<std::net::SocketAddr>() else {
        return failed(format!("\"{address}\" is not an ip:port address"));
    };
    match std::net::TcpStream::connect_timeout(&address, Duration::from_secs(2)) {
        Ok(_) => CallToolResult::structured(json!({ "connected": true })),
        Err(e) => CallToolResult::structured(json!({
            "connected": false,
            "error": e.to_string(),
            "kind": format!("{:?}", e.kind()),
            "os_error": e.raw_os_error(),
        })),
    }
}

fn env_names() -> Vec<String> {
    let mut names: Vec<String> = std::env::vars_os()
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(target_os = "linux")]
fn limits() -> Value {
    let soft = |resource| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills the struct we pass.
        if unsafe { libc::getrlimit(resource, &mut limit) } == 0 {
            json!(limit.rlim_cur)
        } else {
            Value::Null
        }
    };
    // SAFETY: prctl, getpgrp and getpid take and return integers only.
    let (no_new_privs, group, pid) = unsafe {
        (
            libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0),
            libc::getpgrp(),
            libc::getpid(),
        )
    };
    json!({
        "address_space": soft(libc::RLIMIT_AS),
        "cpu_seconds": soft(libc::RLIMIT_CPU),
        "open_files": soft(libc::RLIMIT_NOFILE),
        "no_new_privs": no_new_privs == 1,
        "process_group_leader": group == pid,
        "env": env_names(),
    })
}

#[cfg(windows)]
fn limits() -> Value {
    use windows_sys::Win32::System::JobObjects::{
        IsProcessInJob, JOBOBJECT_CPU_RATE_CONTROL_INFORMATION,
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectCpuRateControlInformation,
        JobObjectExtendedLimitInformation, QueryInformationJobObject,
    };
    use windows_sys::Win32::System::Threading::GetCurrentProcess;

    let size = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let error = || std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    let mut in_job = 0;
    // SAFETY: the current process's pseudo handle, no job (any job), a BOOL to fill.
    let queried = unsafe { IsProcessInJob(GetCurrentProcess(), std::ptr::null_mut(), &mut in_job) };
    let in_job = if queried != 0 {
        json!(in_job != 0)
    } else {
        json!({ "error": error() })
    };
    let mut info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
    // SAFETY: a null job handle is the caller's job; the struct matches the class.
    let ok = unsafe {
        QueryInformationJobObject(
            std::ptr::null_mut(),
            JobObjectExtendedLimitInformation,
            (&raw mut info).cast(),
            size(std::mem::size_of_val(&info)),
            std::ptr::null_mut(),
        )
    };
    let job = if ok != 0 {
        let basic = &info.BasicLimitInformation;
        json!({
            "limit_flags": basic.LimitFlags,
            "process_memory_limit": info.ProcessMemoryLimit,
            "active_process_limit": basic.ActiveProcessLimit,
            "per_process_user_time_limit": basic.PerProcessUserTimeLimit,
        })
    } else {
        json!({ "error": error() })
    };
    let mut rate = JOBOBJECT_CPU_RATE_CONTROL_INFORMATION::default();
    // SAFETY: as above.
    let ok = unsafe {
        QueryInformationJobObject(
            std::ptr::null_mut(),
            JobObjectCpuRateControlInformation,
            (&raw mut rate).cast(),
            size(std::mem::size_of_val(&rate)),
            std::ptr::null_mut(),
        )
    };
    let cpu_rate = if ok != 0 {
        // SAFETY: every variant of the union is a plain integer.
        json!({ "control_flags": rate.ControlFlags, "cpu_rate": unsafe { rate.Anonymous.CpuRate } })
    } else {
        json!({ "error": error() })
    };
    json!({ "in_job": in_job, "job": job, "cpu_rate": cpu_rate, "env": env_names() })
}

#[cfg(not(any(target_os = "linux", windows)))]
fn limits() -> Value {
    json!({ "env": env_names() })
}

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--idle") {
        std::thread::sleep(IDLE);
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mcp_probe_server: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        let service = Probe
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| e.to_string())?;
        service.waiting().await.map_err(|e| e.to_string())
    });
    match served {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcp_probe_server: {e}");
            ExitCode::FAILURE
        }
    }
}
