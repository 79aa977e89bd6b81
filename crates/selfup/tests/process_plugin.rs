//! End-to-end: an MCP server as a process plugin (`runtime: process`).
//!
//! The server is a small script on the official MCP Python SDK (`mcp` from
//! PyPI, in the same virtual environment as `mcp.rs`), packaged in two
//! versions as two signed selfup packages built here. Version 1 is active,
//! version 2 the candidate of a 50 % canary; `selfup serve` runs both as
//! child processes (`python3` found on its `PATH`, the venv's first). The
//! test drives many subjects through the gateway and checks: both versions
//! serve, the split is sticky, telemetry is per version; a killed process
//! is restarted; a call past the time limit fails with `timeout`; the OS
//! limits, the scrubbed environment and (where the kernel has landlock)
//! the file-system confinement are in force.
// Linux-only: the servers run on the Python SDK in a venv of the machine's
// python3 (Linux programs a Windows build under Wine cannot start), and it
// checks rlimits and landlock; process_native.rs covers Windows.
#![cfg(target_os = "linux")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::TestHome;
use common::python::{kernel_landlock_abi, mcp_venv_python, run_ok};
use serde_json::json;

/// The plugin's memory cap, in MiB.
const MEMORY_MB: u64 = 768;

/// The plugin's open-file cap.
const OPEN_FILES: u64 = 64;

/// Writes and signs (with the development key) package `version` of the
/// server in `dir`; returns the package directory.
fn package(home: &TestHome, dir: &Path, version: &str) -> PathBuf {
    let pkg = dir.join(format!("greet-mcp-{version}"));
    std::fs::create_dir_all(&pkg).expect("package dir");
    let script = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/process/server.py"),
    )
    .expect("server.py");
    let major = &version[..1];
    std::fs::write(pkg.join("server.py"), script.replace("@VERSION@", major)).expect("script");
    let manifest = json!({
        "name": "greet-mcp",
        "version": version,
        "description": "A small MCP server (official Python SDK) as a process plugin",
        "runtime": "process",
        "entry_point": "server.py",
        "provided_capabilities": ["greet.hello", "greet.sleep", "greet.probe"],
        "resource_limits": {
            "max_memory_mb": MEMORY_MB,
            "max_execution_time_seconds": 3,
            "max_file_descriptors": OPEN_FILES
        },
        "security_profile": {"allowed_file_paths": ["scratch"]}
    });
    home.sign_package(&pkg, &manifest);
    pkg
}

/// Puts greet-mcp 2.0.0 in a 50 % canary against 1.0.0, as the loop would
/// have left it.
fn start_canary(home: &TestHome) {
    common::start_rollout(home, 3, "greet.hello", "greet-mcp", "1.0.0", "2.0.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_server_canary_between_two_versions_with_limits_restart_and_timeout() {
    let python = mcp_venv_python();
    let home = TestHome::new();
    let work = tempfile::tempdir().expect("tempdir");
    let v1 = package(&home, work.path(), "1.0.0");
    let v2 = package(&home, work.path(), "2.0.0");
    home.ok(&["plugin", "install", v1.to_str().expect("utf-8")]);
    home.ok(&["plugin", "install", v2.to_str().expect("utf-8")]);
    start_canary(&home);

    let venv_bin = python.parent().expect("venv bin").to_path_buf();
    let path = std::env::join_paths(std::iter::once(venv_bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let mut gateway = home.serve_with(|c| {
        c.env("PATH", &path);
    });

    // The canary: many subjects, each sticky to one version.
    let subjects: i64 = 60;
    let mut served: BTreeMap<String, String> = BTreeMap::new();
    let mut pids: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for round in 0..2 {
        for i in 0..subjects {
            let subject = format!("user-{i}");
            let (status, body) = gateway
                .call("greet.hello", &subject, json!({"name": subject}))
                .await;
            assert_eq!(status, 200, "{body}");
            let version = body["output"]["version"]
                .as_str()
                .expect("version")
                .to_owned();
            let greeting = body["output"]["greeting"].as_str().expect("greeting");
            match version.as_str() {
                "1" => assert_eq!(greeting, format!("hello {subject}")),
                "2" => assert_eq!(greeting, format!("Hello, {subject}!")),
                other => panic!("unexpected version {other}"),
            }
            pids.entry(version.clone())
                .or_default()
                .insert(body["output"]["pid"].as_i64().expect("pid"));
            if round == 0 {
                served.insert(subject, version);
            } else {
                assert_eq!(served[&subject], version, "{subject} switched versions");
            }
        }
    }
    let on_v2 = served.values().filter(|v| *v == "2").count() as i64;
    assert!(
        (10..=50).contains(&on_v2),
        "{on_v2} of {subjects} subjects on the candidate at 50 %"
    );
    assert_eq!(pids["1"].len(), 1, "one process per version: {pids:?}");
    assert_eq!(pids["2"].len(), 1, "one process per version: {pids:?}");

    // Kill version 1's process: it is started again.
    let old_pid = *pids["1"].iter().next().expect("pid");
    run_ok(Command::new("kill").args(["-KILL", &old_pid.to_string()]));
    let v1_subject = served
        .iter()
        .find(|(_, v)| *v == "1")
        .map(|(s, _)| s.clone())
        .expect("a subject on version 1");
    let mut failures = 0;
    let new_pid = loop {
        let (status, body) = gateway
            .call("greet.hello", &v1_subject, json!({"name": "again"}))
            .await;
        if status == 200 {
            break body["output"]["pid"].as_i64().expect("pid");
        }
        assert_eq!(body["error"]["kind"], "plugin_error", "{body}");
        failures += 1;
        assert!(failures <= 3, "not restarted: {body}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_ne!(new_pid, old_pid, "the killed process was not replaced");

    // A call past max_execution_time_seconds (3 s) fails with `timeout`,
    // and the next call is served again.
    let started = Instant::now();
    let (status, body) = gateway
        .call("greet.sleep", "sleeper", json!({"seconds": 10}))
        .await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (504, Some("timeout")),
        "{body}"
    );
    assert!(started.elapsed() < Duration::from_secs(8));
    let (status, body) = gateway
        .call("greet.sleep", "sleeper", json!({"seconds": 0}))
        .await;
    assert_eq!(status, 200, "{body}");

    // The limits, the environment and the file-system confinement.
    let outside = tempfile::tempdir().expect("outside dir");
    let (status, body) = gateway
        .call(
            "greet.probe",
            "prober",
            json!({"outside": outside.path().to_str().expect("utf-8")}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let probe = &body["output"];
    assert_eq!(probe["address_space"], MEMORY_MB * 1024 * 1024, "{probe}");
    assert_eq!(probe["open_files"], OPEN_FILES, "{probe}");
    assert!(probe["cpu"].as_i64().is_some_and(|c| c > 0), "{probe}");
    assert_eq!(probe["no_new_privs"], 1, "{probe}");
    assert_eq!(
        probe["env"],
        json!(["HOME", "LANG", "PATH", "TMPDIR"]),
        "{probe}"
    );
    assert_eq!(probe["write_home"], "ok", "{probe}");
    let abi = kernel_landlock_abi(&python);
    if abi > 0 {
        assert_eq!(probe["write_outside"], "PermissionError", "{probe}");
    } else {
        eprintln!("this kernel has no landlock: file-system confinement not checked");
    }

    // The health report says which limits were applied.
    let health = home
        .command(&["plugin", "health", "greet-mcp", "--json"])
        .env("PATH", &path)
        .output()
        .expect("selfup plugin health");
    let health: serde_json::Value = serde_json::from_slice(&health.stdout).expect("health JSON");
    let reports = health.as_array().expect("a list of reports");
    assert_eq!(reports.len(), 2, "{health}");
    for report in reports {
        let limits = &report["details"]["limits"];
        assert_eq!(report["healthy"], true, "{report}");
        assert_eq!(limits["no_new_privs"], true, "{report}");
        assert_eq!(limits["open_files"], OPEN_FILES, "{report}");
        let landlock = if abi > 0 { "enforced" } else { "unsupported" };
        assert_eq!(limits["landlock"]["state"], landlock, "{report}");
    }

    // Telemetry per version.
    gateway.stop();
    let counts = common::calls_per_version(home.path(), "greet.hello", 2 * subjects + 1);
    let expected_v2 = 2 * on_v2;
    assert_eq!(
        counts.get("2.0.0").copied(),
        Some(expected_v2),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("1.0.0").copied(),
        Some(2 * (subjects - on_v2) + 1 + failures),
        "{counts:?}"
    );
}
