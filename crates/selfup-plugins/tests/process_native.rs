//! A native MCP server as a process plugin, on Linux and on Windows (run
//! under Wine here): `examples/mcp_probe_server.rs`, loaded through
//! `ProcessHost` from a package directory, answers calls; reports from
//! inside the limits it runs under (resource limits on Linux, its job
//! object on Windows) and its scrubbed environment; an allocation past its
//! memory cap fails; a call past its time is a `timeout` and the process is
//! gone; a killed process is replaced on the next call; dropping the
//! plugin ends the server and the processes it started; without allowed
//! hosts it cannot reach a TCP listener of this test on Linux (its own
//! network namespace, else landlock), and with `127.0.0.1:<port>` allowed
//! it reaches that port and no other (landlock); on Windows the network is
//! open and reported so.
//!
//! Wine 8 accepts a job's limits but enforces only part of them (the
//! process is in the job, `KILL_ON_JOB_CLOSE` and `TerminateJobObject`
//! end the tree) and answers `QueryInformationJobObject` with zeros: what
//! Wine does not enforce is checked on real Windows only, and reported.
//!
//! The server is the example's binary next to this test's
//! (`target/<triple>/debug/examples/`): `cargo test -p selfup-plugins`
//! builds it, as does `cargo build -p selfup-plugins --example mcp_probe_server`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use selfup_core::manifest::PluginManifest;
use selfup_plugins::RunningPlugin;
use selfup_plugins::process::{ProcessHost, ProcessHostConfig, ProcessLoadSpec, ProcessPlugin};
use serde_json::{Value, json};

const MEMORY_MB: u64 = 256;
const OPEN_FILES: u64 = 64;
const CALL_SECONDS: f64 = 2.0;
const MAX_PROCESSES: u32 = 4;
const CPU_PERCENT: f64 = 50.0;

/// The entry point inside the package.
fn entry_point() -> String {
    format!("bin/mcp_probe_server{}", std::env::consts::EXE_SUFFIX)
}

/// The example's executable, next to this test's directory.
fn probe_exe() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let debug = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from <target>/debug/deps");
    let probe = debug
        .join("examples")
        .join(format!("mcp_probe_server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        probe.is_file(),
        "{} is missing: build it with `cargo build -p selfup-plugins --example mcp_probe_server` \
         (with the same --target), or run `cargo test -p selfup-plugins`, which builds the examples",
        probe.display()
    );
    probe
}

/// A loaded probe plugin and the directory it lives in.
struct Probe {
    plugin: Arc<ProcessPlugin>,
    _dir: tempfile::TempDir,
}

fn load() -> Probe {
    load_with(&[])
}

/// A probe that may connect to `allowed_network_hosts`.
fn load_with(allowed_network_hosts: &[String]) -> Probe {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let manifest = json!({
        "name": "probe",
        "version": "1.0.0",
        "runtime": "process",
        "entry_point": entry_point(),
        "provided_capabilities": ["probe.echo", "probe.limits", "probe.alloc", "probe.sleep", "probe.spawn", "probe.connect"],
        "resource_limits": {
            "max_memory_mb": MEMORY_MB,
            "max_execution_time_seconds": CALL_SECONDS,
            "max_file_descriptors": OPEN_FILES,
            "max_cpu_percent": CPU_PERCENT,
        },
        "security_profile": { "allowed_network_hosts": allowed_network_hosts },
    });
    let manifest = PluginManifest::from_json(manifest.to_string().as_bytes()).expect("a manifest");
    let host = ProcessHost::new(ProcessHostConfig {
        max_processes_per_plugin: MAX_PROCESSES,
        restart_backoff: Duration::from_millis(50),
        ..ProcessHostConfig::default()
    });
    let plugin = host
        .load(ProcessLoadSpec {
            manifest: Arc::new(manifest),
            files: BTreeMap::from([(entry_point(), probe_exe())]),
            package_dir: dir.path().join("package"),
            data_dir: dir.path().join("data"),
        })
        .expect("the probe loads");
    Probe { plugin, _dir: dir }
}

async fn call(plugin: &ProcessPlugin, capability: &str, input: Value) -> Result<Value, String> {
    let result = plugin.call(capability, &input.to_string()).await;
    match result.output {
        Ok(text) => Ok(serde_json::from_str(&text).expect("JSON output")),
        Err(e) => Err(format!("{}: {}", e.kind.as_str(), e.message)),
    }
}

async fn call_ok(plugin: &ProcessPlugin, capability: &str, input: Value) -> Value {
    call(plugin, capability, input)
        .await
        .unwrap_or_else(|e| panic!("{capability} failed: {e}"))
}

/// Waits until process `pid` has ended, for up to `limit`.
fn ended_within(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if !os::alive(pid) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_answers_under_its_limits() {
    let probe = load();
    let plugin = &probe.plugin;
    let echoed = call_ok(plugin, "probe.echo", json!({"text": "hi", "n": 7})).await;
    assert_eq!(echoed, json!({"text": "hi", "n": 7}));

    let inside = call_ok(plugin, "probe.limits", json!({})).await;
    let report = plugin.health().await;
    assert!(report.healthy, "{report:?}");
    let applied = &report.details["limits"];
    os::check_limits(&inside, applied);

    let small = call_ok(plugin, "probe.alloc", json!({"mib": 32})).await;
    assert_eq!(small["allocated_mib"], 32, "{small}");
    let big = call(plugin, "probe.alloc", json!({"mib": 2 * MEMORY_MB})).await;
    if os::enforces_memory_limit() {
        let err = big.expect_err("an allocation past max_memory_mb fails");
        assert!(
            err.starts_with("plugin_error") && err.contains("cannot allocate"),
            "{err}"
        );
    } else {
        eprintln!(
            "Wine does not enforce JOB_OBJECT_LIMIT_PROCESS_MEMORY: allocating {} MiB under a {MEMORY_MB} MiB cap gave {big:?}",
            2 * MEMORY_MB
        );
    }
    // A refused allocation leaves the server serving.
    call_ok(plugin, "probe.echo", json!({})).await;
    assert_eq!(plugin.stats().instances_created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_past_its_time_is_a_timeout_and_the_process_is_stopped() {
    let probe = load();
    let plugin = &probe.plugin;
    call_ok(plugin, "probe.echo", json!({})).await;
    let first = plugin.pid().await.expect("a running server");
    let started = Instant::now();
    let err = call(plugin, "probe.sleep", json!({"ms": 30_000}))
        .await
        .expect_err("a call past max_execution_time_seconds fails");
    let took = started.elapsed();
    assert!(err.starts_with("timeout"), "{err}");
    assert!(
        took >= Duration::from_secs_f64(CALL_SECONDS) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert!(
        ended_within(first, Duration::from_secs(5)),
        "process {first} still runs after its call timed out"
    );
    call_ok(plugin, "probe.echo", json!({})).await;
    let second = plugin.pid().await.expect("a new server");
    assert_ne!(first, second);
    assert_eq!(plugin.stats().instances_created, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_is_replaced_on_the_next_call() {
    let probe = load();
    let plugin = &probe.plugin;
    call_ok(plugin, "probe.echo", json!({})).await;
    let first = plugin.pid().await.expect("a running server");
    os::kill(first);
    assert!(
        ended_within(first, Duration::from_secs(5)),
        "process {first} survived being killed"
    );
    // Let the client read the end of the server's output.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let echoed = call_ok(plugin, "probe.echo", json!({"again": true})).await;
    assert_eq!(echoed, json!({"again": true}));
    let second = plugin.pid().await.expect("a new server");
    assert_ne!(first, second);
    let stats = plugin.stats();
    assert_eq!(
        (stats.instances_created, stats.instances_lost),
        (2, 1),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_plugin_ends_the_server_and_what_it_started() {
    let Probe { plugin, _dir } = load();
    let spawned = call_ok(&plugin, "probe.spawn", json!({"count": 2})).await;
    assert_eq!(spawned["errors"], json!([]), "{spawned}");
    let mut pids: Vec<u32> = spawned["pids"]
        .as_array()
        .expect("pids")
        .iter()
        .map(|p| {
            p.as_u64()
                .and_then(|p| u32::try_from(p).ok())
                .expect("a pid")
        })
        .collect();
    assert_eq!(pids.len(), 2, "{spawned}");
    // The server and two children: one more may start, then the cap holds.
    let more = call_ok(&plugin, "probe.spawn", json!({"count": 3})).await;
    let started = more["pids"].as_array().expect("pids").len();
    if os::enforces_process_limit() {
        assert_eq!(started, 1, "{MAX_PROCESSES} processes at most: {more}");
    } else {
        eprintln!(
            "{} does not cap the processes of a plugin: {started} of 3 more started ({more})",
            os::NAME
        );
    }
    pids.extend(
        more["pids"]
            .as_array()
            .expect("pids")
            .iter()
            .filter_map(|p| p.as_u64().and_then(|p| u32::try_from(p).ok())),
    );
    let server = plugin.pid().await.expect("a running server");
    for &pid in &pids {
        assert!(os::alive(pid), "child {pid} is not running");
    }
    drop(plugin);
    for pid in std::iter::once(server).chain(pids) {
        assert!(
            ended_within(pid, Duration::from_secs(5)),
            "process {pid} outlived its plugin"
        );
    }
}

/// A TCP listener on 127.0.0.1 and its `ip:port`.
fn listener() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a TCP listener");
    let address = listener.local_addr().expect("its address").to_string();
    (listener, address)
}

/// The `network` the plugin's health report gives.
async fn network(plugin: &ProcessPlugin) -> String {
    let report = plugin.health().await;
    assert!(report.healthy, "{report:?}");
    report.details["limits"]["network"]
        .as_str()
        .unwrap_or_else(|| panic!("no network in {}", report.details))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_allowed_hosts_the_probe_has_no_network() {
    let (_listener, address) = listener();
    let probe = load();
    let tried = call_ok(
        &probe.plugin,
        "probe.connect",
        json!({ "address": address }),
    )
    .await;
    let network = network(&probe.plugin).await;
    os::check_no_hosts(&network, &tried);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_allowed_port_the_probe_reaches_that_port_only() {
    let (_allowed, allowed_address) = listener();
    let (_other, other_address) = listener();
    let probe = load_with(std::slice::from_ref(&allowed_address));
    let plugin = &probe.plugin;
    let allowed = call_ok(
        plugin,
        "probe.connect",
        json!({ "address": allowed_address }),
    )
    .await;
    let other = call_ok(plugin, "probe.connect", json!({ "address": other_address })).await;
    let network = network(plugin).await;
    os::check_allowed_port(&network, &allowed, &other);
}

#[cfg(target_os = "linux")]
mod os {
    use serde_json::{Value, json};

    use super::{MEMORY_MB, OPEN_FILES};

    pub const NAME: &str = "Linux";

    /// Whether `pid` runs (a zombie has ended).
    pub fn alive(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
            Err(_) => false,
        }
    }

    pub fn kill(pid: u32) {
        let pid = libc::pid_t::try_from(pid).expect("a pid");
        // SAFETY: kill with integer arguments.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "kill {pid}");
    }

    pub fn enforces_memory_limit() -> bool {
        true
    }

    pub fn enforces_process_limit() -> bool {
        false
    }

    pub fn check_limits(inside: &Value, applied: &Value) {
        let bytes = MEMORY_MB * 1024 * 1024;
        assert_eq!(inside["address_space"], bytes, "{inside}");
        assert_eq!(inside["open_files"], OPEN_FILES, "{inside}");
        assert_eq!(inside["cpu_seconds"], 3600, "{inside}");
        assert_eq!(inside["no_new_privs"], true, "{inside}");
        assert_eq!(inside["process_group_leader"], true, "{inside}");
        assert_eq!(
            inside["env"],
            json!(["HOME", "LANG", "PATH", "TMPDIR"]),
            "{inside}"
        );
        assert_eq!(applied["address_space_bytes"], bytes, "{applied}");
        assert_eq!(applied["no_new_privs"], true, "{applied}");
    }

    /// The kernel's landlock ABI version (0 without landlock).
    fn landlock_abi() -> i64 {
        // SAFETY: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
        // reads no memory.
        let v = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<u8>(),
                0usize,
                1u32,
            )
        };
        v.max(0)
    }

    /// A connect refused by landlock (`EACCES`).
    fn refused_by_landlock(tried: &Value) {
        assert_eq!(tried["connected"], false, "{tried}");
        assert_eq!(tried["os_error"], libc::EACCES, "{tried}");
    }

    pub fn check_no_hosts(network: &str, tried: &Value) {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            assert_eq!(
                network, "namespace",
                "root can always make a network namespace"
            );
        }
        match network {
            "namespace" => {
                // Its own namespace's loopback is down.
                assert_eq!(tried["connected"], false, "{tried}");
                assert_eq!(tried["os_error"], libc::ENETUNREACH, "{tried}");
            }
            "landlock_tcp" => {
                assert!(landlock_abi() >= 4, "landlock_tcp without landlock ABI 4");
                refused_by_landlock(tried);
            }
            "none" => {
                assert!(landlock_abi() < 4, "landlock ABI 4 is there but unused");
                assert_eq!(tried["connected"], true, "{tried}");
                eprintln!("this system has neither network namespaces nor landlock ABI 4");
            }
            other => panic!("unexpected network {other:?}"),
        }
    }

    pub fn check_allowed_port(network: &str, allowed: &Value, other: &Value) {
        assert_eq!(allowed["connected"], true, "{allowed}");
        if landlock_abi() >= 4 {
            assert_eq!(network, "landlock_tcp_ports");
            refused_by_landlock(other);
        } else {
            assert_eq!(network, "none");
            assert_eq!(other["connected"], true, "{other}");
            eprintln!("no landlock ABI 4 here: the network is open");
        }
    }
}

#[cfg(windows)]
mod os {
    use serde_json::{Value, json};
    use windows_sys::Win32::Foundation::{CloseHandle, WAIT_OBJECT_0};
    use windows_sys::Win32::System::JobObjects::{
        JOB_OBJECT_CPU_RATE_CONTROL_ENABLE, JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP,
        JOB_OBJECT_LIMIT_ACTIVE_PROCESS, JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION,
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, JOB_OBJECT_LIMIT_PROCESS_MEMORY,
        JOB_OBJECT_LIMIT_PROCESS_TIME,
    };
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
    use windows_sys::Win32::System::Threading::{
        OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE, PROCESS_TERMINATE,
        TerminateProcess, WaitForSingleObject,
    };

    use super::{MAX_PROCESSES, MEMORY_MB};

    pub const NAME: &str = "Wine";

    /// Whether this runs under Wine (its ntdll exports `wine_get_version`).
    fn wine() -> bool {
        // SAFETY: NUL-terminated names; null results are handled.
        unsafe {
            let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
            !ntdll.is_null() && GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()).is_some()
        }
    }

    pub fn alive(pid: u32) -> bool {
        // SAFETY: OpenProcess returns null for a process that is gone; the
        // handle is closed after a zero-timeout wait.
        unsafe {
            let handle = OpenProcess(
                PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_SYNCHRONIZE,
                0,
                pid,
            );
            if handle.is_null() {
                return false;
            }
            let ended = WaitForSingleObject(handle, 0) == WAIT_OBJECT_0;
            CloseHandle(handle);
            !ended
        }
    }

    pub fn kill(pid: u32) {
        // SAFETY: as in `alive`.
        unsafe {
            let handle = OpenProcess(PROCESS_TERMINATE, 0, pid);
            assert!(!handle.is_null(), "cannot open process {pid}");
            let killed = TerminateProcess(handle, 9);
            CloseHandle(handle);
            assert_ne!(killed, 0, "cannot terminate process {pid}");
        }
    }

    pub fn enforces_memory_limit() -> bool {
        !wine()
    }

    pub fn enforces_process_limit() -> bool {
        !wine()
    }

    pub fn check_limits(inside: &Value, applied: &Value) {
        let bytes = MEMORY_MB * 1024 * 1024;
        assert_eq!(inside["in_job"], true, "{inside}");
        // Wine's loader adds its own variables to every process.
        let env: Vec<&Value> = inside["env"]
            .as_array()
            .expect("env names")
            .iter()
            .filter(|name| {
                let name = name.as_str().unwrap_or_default();
                !(wine() && (name.starts_with("WINE") || name == "SystemDrive"))
            })
            .collect();
        assert_eq!(
            json!(env),
            json!([
                "HOME",
                "PATH",
                "SystemRoot",
                "TEMP",
                "TMP",
                "USERPROFILE",
                "windir"
            ]),
            "{inside}"
        );
        assert_eq!(applied["kill_on_job_close"], true, "{applied}");
        assert_eq!(applied["die_on_unhandled_exception"], true, "{applied}");
        assert_eq!(applied["process_memory_bytes"], bytes, "{applied}");
        assert_eq!(applied["active_processes"], MAX_PROCESSES, "{applied}");
        assert_eq!(applied["file_system_confined"], false, "{applied}");
        assert_eq!(applied["network"], "none", "{applied}");
        if wine() {
            // Wine accepts the limits, refuses CPU rate control
            // (ERROR_INVALID_PARAMETER) and reports zeros from inside.
            assert_eq!(applied["cpu_rate"]["state"], "unsupported", "{applied}");
            eprintln!("under Wine the job seen from inside is {inside}");
            return;
        }
        let flags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
            | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
            | JOB_OBJECT_LIMIT_PROCESS_MEMORY
            | JOB_OBJECT_LIMIT_ACTIVE_PROCESS
            | JOB_OBJECT_LIMIT_PROCESS_TIME;
        let job = &inside["job"];
        let seen = job["limit_flags"].as_u64().expect("limit flags");
        assert_eq!(seen & u64::from(flags), u64::from(flags), "{inside}");
        assert_eq!(job["process_memory_limit"], bytes, "{inside}");
        assert_eq!(job["active_process_limit"], MAX_PROCESSES, "{inside}");
        let rate = &inside["cpu_rate"];
        let control =
            u64::from(JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP);
        assert_eq!(
            rate["control_flags"].as_u64().expect("flags") & control,
            control,
            "{inside}"
        );
        assert_eq!(applied["cpu_rate"]["state"], "enforced", "{applied}");
        assert_eq!(
            rate["cpu_rate"], applied["cpu_rate"]["cpu_rate"],
            "{inside} {applied}"
        );
    }

    /// A job object does not limit the network: the listener is reached.
    pub fn check_no_hosts(network: &str, tried: &Value) {
        assert_eq!(network, "none");
        assert_eq!(tried["connected"], true, "{tried}");
    }

    pub fn check_allowed_port(network: &str, allowed: &Value, other: &Value) {
        assert_eq!(network, "none");
        assert_eq!(allowed["connected"], true, "{allowed}");
        assert_eq!(other["connected"], true, "{other}");
    }
}
