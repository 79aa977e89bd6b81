//! End-to-end: a published MCP server as a process plugin, upgraded by the
//! loop through a canary between two of its published versions.
//!
//! The server is `mcp-server-time` from PyPI (the MCP project's reference
//! time server): two pinned releases, downloaded at test time and checked
//! against their SHA-256, their wheels unpacked verbatim into two signed
//! selfup packages (`entry_point: mcp_server_time/__main__.py`, run as
//! `python3 -m mcp_server_time`; `tool_names` maps `time.now` and
//! `time.convert` to its `get_current_time` and `convert_time`). Its
//! third-party libraries (the MCP SDK 1.x both releases need, tzlocal,
//! tzdata) come from a virtual environment whose `bin` is first on
//! selfup's `PATH`, as a `pip install` would provide them.
//!
//! The older release is installed and serves alone; the newer one is in
//! the catalog. `selfup cycle` proposes, approves, installs and validates
//! the upgrade (replaying the recorded inputs on both releases, each in its
//! own sandboxed process) and starts its 50 % canary stage. Many subjects
//! then call through `selfup serve`: both releases answer correctly, each
//! subject stays on one release, the releases differ where their published
//! code differs (an empty time zone), and telemetry is per version. After
//! `selfup rollback` every subject is served by the incumbent again.

#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::python::{kernel_landlock_abi, run_ok, venv_python};
use common::{Gateway, TestHome};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The incumbent release and its wheel's SHA-256 (as PyPI lists it).
const INCUMBENT: (&str, &str) = (
    "2026.8.18",
    "1407583af42dc0163909d855c9ef20114a12b4981c3975033721a7906cdd212a",
);

/// The candidate release and its wheel's SHA-256.
const CANDIDATE: (&str, &str) = (
    "2026.10.10",
    "32983d5193af219359ccdac46c558bed75f9c930360e7437cc040a73984cc17c",
);

/// What both releases import, pinned (their wheels ask for `mcp>=1.29,<2`,
/// `pydantic>=2`, `tzdata>=2024.2`, `tzlocal>=5.3.1`; pydantic comes with
/// mcp).
const LIBRARIES: [&str; 3] = ["mcp==1.30.0", "tzlocal==5.4.5", "tzdata==2026.6"];

/// The loop as this test drives it: the rule engine approves a minor
/// upgrade, every input is sampled for the replay, the first stage is a
/// 50 % canary that lasts an hour (longer than the test), and no code scan.
const CONFIG: &str = r#"
  decision:
    engine: rule_based
    auto_approve_threshold: 0.5
  telemetry:
    input_sample_rate: 1.0
  rollout:
    stages:
      - name: canary
        traffic_percentage: 50
        duration_hours: 1
      - name: full
        traffic_percentage: 100
        duration_hours: 1
  gateway:
    router_refresh_ms: 100
  catalog:
    directory: catalog
  discovery:
    pattern_recognition:
      code_paths: []
"#;

/// The virtual environment with the releases' libraries.
fn libraries_python() -> PathBuf {
    venv_python("mcp-server-time-libs-mcp-1.30.0", &LIBRARIES)
}

/// The wheel of `mcp-server-time==version` from PyPI (kept under the
/// target directory), refused unless its SHA-256 is `sha256`.
fn wheel(python: &Path, (version, sha256): (&str, &str)) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mcp-server-time-wheels");
    let path = dir.join(format!("mcp_server_time-{version}-py3-none-any.whl"));
    if !path.is_file() {
        run_ok(
            Command::new(python)
                .args([
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--dest",
                ])
                .arg(&dir)
                .arg(format!("mcp-server-time=={version}")),
        );
    }
    let bytes = std::fs::read(&path).expect("the downloaded wheel");
    let actual = hex::encode(Sha256::digest(&bytes));
    assert_eq!(
        actual,
        sha256,
        "{} is not the pinned release",
        path.display()
    );
    path
}

/// Unpacks `wheel` into `dir` as it is (the package and its `dist-info`,
/// whose metadata the server reads its version from).
fn unpack(wheel: &Path, dir: &Path) {
    let file = std::fs::File::open(wheel).expect("wheel");
    let mut archive = zip::ZipArchive::new(file).expect("a zip");
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().expect("a UTF-8 name").into_owned();
        assert!(!name.starts_with('/'), "{name}");
        let relative = entry.enclosed_name().expect("a safe name");
        let target = dir.join(relative);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("dir");
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        std::fs::write(&target, bytes).expect("write");
    }
}

/// The signed selfup package of one release: its wheel unpacked, and a
/// manifest that maps the capabilities to the server's tools.
fn package(home: &TestHome, python: &Path, dir: &Path, release: (&str, &str)) -> PathBuf {
    let version = release.0;
    let pkg = dir.join(format!("mcp-server-time-{version}"));
    unpack(&wheel(python, release), &pkg);
    let manifest = json!({
        "name": "mcp-server-time",
        "version": version,
        "description": format!("The MCP reference time server, mcp-server-time {version} from PyPI, unchanged"),
        "author": "Model Context Protocol",
        "runtime": "process",
        "entry_point": "mcp_server_time/__main__.py",
        "provided_capabilities": ["time.now", "time.convert"],
        "tool_names": {"time.now": "get_current_time", "time.convert": "convert_time"},
        "resource_limits": {
            "max_memory_mb": 768,
            "max_execution_time_seconds": 10,
            "max_file_descriptors": 64
        }
    });
    home.sign_package(&pkg, &manifest);
    pkg
}

/// `PATH` with the virtual environment's `bin` first.
fn path_with(python: &Path) -> std::ffi::OsString {
    let bin = python.parent().expect("venv bin").to_path_buf();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH")
}

/// Subject `i`'s question: a time of day in UTC, to India (+05:30, no
/// daylight saving), and the answer's time of day.
fn question(i: usize) -> (Value, String) {
    let (hour, minute) = (i % 24, (i * 7) % 60);
    let total = (hour * 60 + minute + 5 * 60 + 30) % (24 * 60);
    let input = json!({
        "source_timezone": "UTC",
        "time": format!("{hour:02}:{minute:02}"),
        "target_timezone": "Asia/Kolkata"
    });
    (
        input,
        format!("{:02}:{:02}:00+05:30", total / 60, total % 60),
    )
}

/// Asks subject `i`'s question; checks the answer; returns the version
/// that answered.
async fn convert(gateway: &Gateway, i: usize) -> String {
    let subject = format!("user-{i}");
    let (input, expected) = question(i);
    let (status, body) = gateway.call("time.convert", &subject, input).await;
    assert_eq!(status, 200, "{body}");
    let output = &body["output"];
    assert_eq!(output["source"]["timezone"], "UTC", "{body}");
    assert_eq!(output["target"]["timezone"], "Asia/Kolkata", "{body}");
    assert_eq!(output["time_difference"], "+5.5h", "{body}");
    let target = output["target"]["datetime"].as_str().expect("datetime");
    assert!(target.ends_with(&expected), "{target} for {expected}");
    body["version"].as_str().expect("version").to_owned()
}

/// `selfup upgrades show 1 --json`.
fn upgrade(home: &TestHome) -> Value {
    serde_json::from_str(&home.ok(&["upgrades", "show", "1", "--json"])).expect("upgrade JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_mcp_server_canary_between_two_releases_and_a_rollback() {
    let started = Instant::now();
    let python = libraries_python();
    let path = path_with(&python);
    let home = TestHome::new();
    home.config(CONFIG.trim_start_matches('\n'));
    let work = tempfile::tempdir().expect("tempdir");
    let old = package(&home, &python, work.path(), INCUMBENT);
    let new = package(&home, &python, work.path(), CANDIDATE);
    home.ok(&["plugin", "install", old.to_str().expect("utf-8")]);
    let catalog = home.path().join("catalog");
    std::fs::create_dir_all(&catalog).expect("catalog");
    std::fs::rename(&new, catalog.join(new.file_name().expect("name"))).expect("into the catalog");

    // The incumbent alone: its calls are recorded, inputs included.
    let mut served: BTreeMap<String, i64> = BTreeMap::new();
    let mut gateway = home.serve_with(|c| {
        c.env("PATH", &path);
    });
    for i in 0..20 {
        let version = convert(&gateway, i).await;
        assert_eq!(version, INCUMBENT.0);
        *served.entry(version).or_default() += 1;
    }
    let (status, body) = gateway
        .call("time.now", "clock", json!({"timezone": "Asia/Tokyo"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["output"]["timezone"], "Asia/Tokyo", "{body}");
    assert!(
        body["output"]["datetime"]
            .as_str()
            .is_some_and(|d| d.ends_with("+09:00")),
        "{body}"
    );
    gateway.stop();

    // One cycle of the loop: the newer release from the catalog is
    // approved, installed, validated against the recorded inputs on both
    // releases, and rolled out to its 50 % canary stage.
    let out = run_ok(
        home.command(&["cycle"])
            .env("PATH", &path)
            .current_dir(home.path()),
    );
    eprintln!("selfup cycle:\n{out}");
    let shown = upgrade(&home);
    let state = &shown["upgrade"]["state"];
    assert_eq!(
        state,
        &json!({"state": "rolling_out", "stage": 0}),
        "{shown:#}"
    );
    assert_eq!(shown["upgrade"]["to_version"], CANDIDATE.0, "{shown:#}");
    let performance = &shown["upgrade"]["evidence"]["validation"]["performance"];
    assert!(
        performance["inputs"].as_i64().is_some_and(|n| n > 0),
        "the replay ran no recorded inputs: {shown:#}"
    );

    // The canary: many subjects, each sticky to one release; both answer.
    let mut gateway = home.serve_with(|c| {
        c.env("PATH", &path);
    });
    let subjects = 60;
    let mut assigned: BTreeMap<usize, String> = BTreeMap::new();
    for round in 0..2 {
        for i in 0..subjects {
            let version = convert(&gateway, i).await;
            *served.entry(version.clone()).or_default() += 1;
            match assigned.get(&i) {
                Some(first) => assert_eq!(*first, version, "user-{i} switched in round {round}"),
                None => {
                    assigned.insert(i, version);
                }
            }
        }
    }
    let on_candidate = assigned.values().filter(|v| *v == CANDIDATE.0).count();
    assert!(
        (10..=50).contains(&on_candidate),
        "{on_candidate} of {subjects} subjects on the candidate at 50 %: {assigned:?}"
    );
    assert!(
        assigned
            .values()
            .all(|v| v == INCUMBENT.0 || v == CANDIDATE.0)
    );

    // Where the published code differs, the answers differ: the newer
    // release names an empty target time zone as missing, the older one
    // hands it to zoneinfo.
    let mut errors: BTreeMap<String, i64> = BTreeMap::new();
    for (release, expected) in [
        (INCUMBENT.0, "Invalid timezone"),
        (CANDIDATE.0, "Missing required argument: target_timezone"),
    ] {
        let i = *assigned
            .iter()
            .find(|(_, v)| *v == release)
            .expect("a subject on each release")
            .0;
        let input = json!({"source_timezone": "UTC", "time": "12:00", "target_timezone": ""});
        let (status, body) = gateway
            .call("time.convert", &format!("user-{i}"), input)
            .await;
        assert_eq!(body["error"]["kind"], "plugin_error", "{status} {body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(expected), "{release}: {message}");
        *errors.entry(release.to_owned()).or_default() += 1;
    }

    // Roll the upgrade back: every subject is on the incumbent again.
    home.ok(&[
        "rollback",
        "1",
        "--reason",
        "the test rolls the canary back",
    ]);
    let shown = upgrade(&home);
    assert_eq!(
        shown["upgrade"]["state"]["state"], "rolled_back",
        "{shown:#}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let probe = *assigned
        .iter()
        .find(|(_, v)| *v == CANDIDATE.0)
        .expect("a subject on the candidate")
        .0;
    loop {
        let version = convert(&gateway, probe).await;
        *served.entry(version.clone()).or_default() += 1;
        if version == INCUMBENT.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "user-{probe} still on {version} after the rollback"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in 0..subjects {
        let version = convert(&gateway, i).await;
        assert_eq!(version, INCUMBENT.0, "user-{i} after the rollback");
        *served.entry(version).or_default() += 1;
    }

    // Both releases ran sandboxed, their tools mapped by `tool_names`.
    let health = home
        .command(&["plugin", "health", "mcp-server-time", "--json"])
        .env("PATH", &path)
        .output()
        .expect("selfup plugin health");
    let health: Value = serde_json::from_slice(&health.stdout).expect("health JSON");
    let reports = health.as_array().expect("a list of reports");
    assert_eq!(reports.len(), 2, "{health:#}");
    let landlock = if kernel_landlock_abi(&python) > 0 {
        "enforced"
    } else {
        "unsupported"
    };
    for report in reports {
        assert_eq!(report["healthy"], true, "{report:#}");
        let details = &report["details"];
        assert_eq!(
            details["tools"],
            json!({"time.convert": "convert_time", "time.now": "get_current_time"}),
            "{report:#}"
        );
        assert_eq!(
            details["limits"]["landlock"]["state"], landlock,
            "{report:#}"
        );
        assert_eq!(details["limits"]["no_new_privs"], true, "{report:#}");
    }

    // Telemetry per version: every call the gateway answered, and the two
    // failed ones, under the release that served it.
    gateway.stop();
    let total: i64 = served.values().chain(errors.values()).sum();
    let counts = common::calls_per_version(home.path(), "time.convert", total);
    for release in [INCUMBENT.0, CANDIDATE.0] {
        let expected =
            served.get(release).copied().unwrap_or(0) + errors.get(release).copied().unwrap_or(0);
        assert_eq!(
            counts.get(release).copied(),
            Some(expected),
            "{release}: {counts:?}"
        );
    }
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
}
