//! End-to-end: selfup as an MCP server, driven by a client nobody here
//! wrote — the official MCP Python SDK (`mcp` from PyPI), installed into a
//! virtual environment under the target directory on first use (then
//! reused). Over streamable HTTP (`selfup serve`, `/mcp`) and stdio
//! (`selfup mcp`): the tools and their input schemas, calls through the
//! rollout's sticky split, the calls in telemetry, and
//! `notifications/tools/list_changed` to open sessions when a plugin is
//! installed (on a handshake-era session and on a 2026-07-28
//! `subscriptions/listen` stream).
// Unix-only: the client runs in a venv of the machine's python3, which a
// Windows build (run under Wine) cannot start.
#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::TestHome;
use common::python::{mcp_venv_python, run_ok};
use serde_json::{Value, json};

/// The client script.
fn client_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/mcp/client.py")
}

/// Runs the client script with `args`; returns the JSON of its last line.
fn client(args: &[&str]) -> Value {
    let stdout = run_ok(
        Command::new(mcp_venv_python())
            .arg(client_script())
            .args(args),
    );
    let last = stdout.lines().last().expect("the client printed nothing");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Calls recorded for `capability` and `subject`: (version, ok) each.
fn recorded(home: &Path, capability: &str, subject: &str) -> Vec<(String, bool)> {
    let db = rusqlite::Connection::open(home.join("selfup.db")).expect("db");
    let mut statement = db
        .prepare(
            "SELECT t.version, c.outcome FROM calls c JOIN call_targets t ON t.id = c.target_id
             WHERE t.capability = ?1 AND c.subject_hash = ?2 ORDER BY c.ts_ms",
        )
        .expect("query");
    statement
        .query_map(
            rusqlite::params![capability, selfup_core::telemetry::subject_hash(subject)],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? == 0)),
        )
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows")
}

fn manifest_schema(package: &str, capability: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins")
        .join(package)
        .join("manifest.json");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("manifest")).expect("JSON");
    manifest["input_schemas"][capability].clone()
}

#[test]
fn http_lists_tools_calls_through_the_rollout_and_records_telemetry() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    home.install("json-query-1.0.0");
    home.install("json-query-1.1.0");
    home.install("unit-convert-1.0.0");
    common::start_json_query_rollout(&home);
    let mut gateway = home.serve();

    let out = client(&["call", "http", &format!("{}/mcp", gateway.url)]);
    assert_eq!(out["protocol"], "2026-07-28", "{out}");
    let tools = out["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["json.query", "text.stats", "unit.convert"]);
    for (tool, package) in tools
        .iter()
        .zip(["json-query-1", "text-stats", "unit-convert"])
    {
        let name = tool["name"].as_str().expect("name");
        assert_eq!(
            tool["inputSchema"],
            manifest_schema(package, name),
            "{name}"
        );
    }
    assert!(
        tools[1]["description"]
            .as_str()
            .is_some_and(|d| d.contains("text-stats@1.0.0")),
        "{}",
        tools[1]
    );

    let call = &out["call"];
    assert_eq!(call["is_error"], false, "{call}");
    assert_eq!(call["structured"]["words"], 3);
    assert_eq!(call["structured"]["sentences"], 2);
    let text: Value = serde_json::from_str(call["text"][0].as_str().expect("text")).expect("JSON");
    assert_eq!(text, call["structured"]);
    assert_eq!(call["meta"]["selfup/plugin"], "text-stats");
    assert_eq!(call["meta"]["selfup/version"], "1.0.0");
    let failed = &out["failed_call"];
    assert_eq!(failed["is_error"], true, "{failed}");
    assert!(
        failed["text"][0]
            .as_str()
            .is_some_and(|t| t.starts_with("invalid_input: ")),
        "{failed}"
    );

    // The rollout's sticky split: both versions serve, each subject stays.
    let versions = out["versions"].as_object().expect("versions");
    assert_eq!(versions.len(), 20);
    let mut seen = std::collections::BTreeSet::new();
    for (subject, served) in versions {
        assert_eq!(served[0], served[1], "{subject} moved: {served}");
        seen.insert(served[0].as_str().expect("version").to_owned());
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["1.0.0", "1.1.0"],
        "{versions:?}"
    );

    gateway.stop();
    assert_eq!(
        recorded(home.path(), "text.stats", "mcp-alice"),
        [("1.0.0".to_owned(), true)]
    );
    for (subject, served) in versions {
        let expected = served[0].as_str().expect("version").to_owned();
        assert_eq!(
            recorded(home.path(), "json.query", subject),
            [(expected.clone(), true), (expected, true)],
            "{subject}"
        );
    }
}

#[test]
fn stdio_serves_the_same_tools_and_records_the_call() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    let out = client(&[
        "call",
        "stdio",
        env!("CARGO_BIN_EXE_selfup"),
        home.path().to_str().expect("utf-8"),
    ]);
    let names: Vec<&str> = out["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["text.stats"], "{out}");
    assert_eq!(
        out["tools"][0]["inputSchema"],
        manifest_schema("text-stats", "text.stats")
    );
    assert_eq!(out["call"]["structured"]["words"], 3, "{out}");
    // `selfup mcp` flushed its telemetry when the client closed stdin.
    assert_eq!(
        recorded(home.path(), "text.stats", "mcp-alice"),
        [("1.0.0".to_owned(), true)]
    );
}

#[test]
fn open_sessions_hear_that_the_tools_changed() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    let gateway = home.serve();
    let url = format!("{}/mcp", gateway.url);
    let watchers: Vec<_> = ["legacy", "modern"]
        .into_iter()
        .map(|mode| {
            let mut child = Command::new(mcp_venv_python())
                .arg(client_script())
                .args(["watch", &url, mode])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn the watcher");
            let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
            let ready = lines.next().and_then(Result::ok).unwrap_or_default();
            assert!(ready.starts_with("READY "), "{mode}: {ready:?}");
            let info: Value = serde_json::from_str(&ready["READY ".len()..]).expect("JSON");
            assert_eq!(info["tools"], 1, "{mode}: {info}");
            (mode, info, child, lines)
        })
        .collect();

    home.install("json-query-1.0.0");

    for (mode, info, mut child, lines) in watchers {
        let last = lines.map_while(Result::ok).last().unwrap_or_default();
        let status = child.wait().expect("wait");
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
        }
        assert!(status.success(), "{mode} watcher: {status}\n{stderr}");
        let out: Value = serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}: {last}"));
        assert_eq!(out["notified"], true, "{mode}: {out}");
        assert_eq!(out["tools"], json!(["json.query", "text.stats"]), "{mode}");
        let expected = if mode == "legacy" {
            "2025-11-25"
        } else {
            "2026-07-28"
        };
        assert_eq!(info["protocol"], expected, "{mode}");
    }
}
