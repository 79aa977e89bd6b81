//! End-to-end: `selfup run` killed with SIGKILL (TerminateProcess on
//! Windows) at every step of an upgrade in turn, restarted each time. After every kill the store is
//! consistent — the upgrade's state, its rollout, the registry, the
//! snapshot and the artifacts agree; nothing is half-installed; every
//! event the gateway acknowledged is stored — and after the last restart
//! the upgrade has completed.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{TestHome, plugins_dir};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};

const CONFIG: &str = r#"
  cycle:
    interval_minutes: 1
  decision:
    engine: rule_based
    auto_approve_threshold: 0.5
  ab_testing:
    min_sample_size: 20
  rollout:
    evaluation_interval_ms: 100
    stages:
      - name: internal
        traffic_percentage: 0
        duration_hours: 0.0005
      - name: canary
        traffic_percentage: 50
        duration_hours: 0.0005
      - name: full
        traffic_percentage: 100
        duration_hours: 0.0005
  gateway:
    router_refresh_ms: 100
  catalog:
    directory: catalog
"#;

/// The states to kill the process in, in the order the upgrade reaches them.
const KILL_AT: [&str; 7] = [
    "approved",
    "planned",
    "validating",
    "rolling_out(0)",
    "rolling_out(1)",
    "rolling_out(2)",
    "completed",
];

fn start(home: &TestHome) -> (Child, String) {
    let mut child = home
        .command(&["run", "--bind", "127.0.0.1:0"])
        .env("SELFUP_STEP_PAUSE_MS", "700")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn selfup run");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("read");
    let url = first
        .strip_prefix("selfup gateway listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

fn open(home: &Path) -> Connection {
    Connection::open_with_flags(home.join("selfup.db"), OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open db")
}

/// The state of upgrade 1 as `to_state` shows it, without the reason.
fn upgrade_state(db: &Connection) -> Option<String> {
    let row: Option<(String, Option<i64>)> = db
        .query_row("SELECT state, stage FROM upgrades WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .ok()
        .flatten();
    row.map(|(state, stage)| match stage {
        Some(k) if state == "rolling_out" => format!("rolling_out({k})"),
        _ => state,
    })
}

fn check_consistent(home: &Path, acked: &HashSet<i64>) -> String {
    let db = open(home);
    let state = upgrade_state(&db).expect("upgrade 1 exists");
    // The rollout row agrees with the state.
    let rollout: Option<i64> = db
        .query_row("SELECT stage FROM rollouts WHERE upgrade_id = 1", [], |r| {
            r.get(0)
        })
        .optional()
        .expect("rollouts");
    match state
        .strip_prefix("rolling_out(")
        .and_then(|s| s.strip_suffix(')'))
    {
        Some(k) => assert_eq!(
            rollout,
            Some(k.parse().expect("stage")),
            "state {state} but rollout {rollout:?}"
        ),
        None => assert_eq!(rollout, None, "state {state} but a rollout row remains"),
    }
    // A snapshot exists from planning on.
    let snapshots: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM snapshots WHERE upgrade_id = 1",
            [],
            |r| r.get(0),
        )
        .expect("snapshots");
    if state != "approved" {
        assert!(snapshots >= 1, "state {state} without a snapshot");
    }
    // The candidate is installed from validation on, and complete.
    let candidate: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM plugins WHERE name = 'text-summarize' AND version = '2.0.0'",
            [],
            |r| r.get(0),
        )
        .expect("plugins");
    if matches!(state.as_str(), "validating" | "completed") || state.starts_with("rolling_out") {
        assert_eq!(
            candidate, 1,
            "state {state} without the candidate installed"
        );
    }
    // Every registered file is in the artifact store with its hash: nothing half-installed.
    let mut stmt = db
        .prepare("SELECT name, version, path, hash FROM plugin_files")
        .expect("files");
    let files: Vec<(String, String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for (name, version, path, hash) in files {
        let artifact = home.join("artifacts/sha256").join(&hash[..2]).join(&hash);
        let bytes = std::fs::read(&artifact)
            .unwrap_or_else(|_| panic!("{name}@{version} {path}: artifact {hash} missing"));
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            hash,
            "{name}@{version} {path}: artifact altered"
        );
    }
    // The active provider agrees with the state.
    let active: String = db
        .query_row(
            "SELECT version FROM active_capabilities WHERE capability = 'text.summarize'",
            [],
            |r| r.get(0),
        )
        .expect("active provider");
    assert_eq!(
        active,
        if state == "completed" {
            "2.0.0"
        } else {
            "1.0.0"
        },
        "state {state}"
    );
    // The upgrade's events chain: each starts where the previous ended.
    let mut stmt = db
        .prepare("SELECT from_state, to_state FROM upgrade_events WHERE upgrade_id = 1 ORDER BY id")
        .expect("events");
    let events: Vec<(Option<String>, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    for pair in events.windows(2) {
        assert_eq!(
            pair[1].0.as_deref(),
            Some(pair[0].1.as_str()),
            "broken event chain: {events:?}"
        );
    }
    // Every acknowledged event is stored.
    let mut stmt = db
        .prepare("SELECT id FROM agent_events")
        .expect("agent events");
    let stored: HashSet<i64> = stmt
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let lost: Vec<&i64> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged events lost: {lost:?}");
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_every_step_leaves_a_consistent_store_and_the_upgrade_completes() {
    let home = TestHome::new();
    home.install("text-summarize-1.0.0");
    std::fs::create_dir_all(home.path().join("catalog")).expect("catalog");
    std::fs::copy(
        plugins_dir().join("text-summarize-2.0.0.zip"),
        home.path().join("catalog/text-summarize-2.0.0.zip"),
    )
    .expect("copy");
    home.config(CONFIG.trim_start_matches('\n'));
    let token = home.token();

    // An agent that keeps calling and reporting, whatever process is up.
    let url: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let acked: Arc<Mutex<HashSet<i64>>> = Arc::new(Mutex::new(HashSet::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let agent = {
        let (url, acked, stop, token) = (url.clone(), acked.clone(), stop.clone(), token.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()
                .expect("client");
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let base = url.lock().expect("lock").clone();
                let Some(base) = base else {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                i += 1;
                let call = serde_json::json!({"subject": format!("user-{i}"), "input": {"text": "One thing. Another thing. A third thing.", "max_sentences": 1}});
                let _ = client
                    .post(format!("{base}/v1/capabilities/text.summarize/call"))
                    .json(&call)
                    .send()
                    .await;
                if i.is_multiple_of(5) {
                    let event =
                        serde_json::json!({"type": "task_outcome", "text": format!("task {i}")});
                    if let Ok(r) = client
                        .post(format!("{base}/v1/events"))
                        .bearer_auth(&token)
                        .json(&event)
                        .send()
                        .await
                        && r.status().as_u16() == 201
                        && let Ok(body) = r.json::<serde_json::Value>().await
                        && let Some(id) = body["id"].as_i64()
                    {
                        acked.lock().expect("lock").insert(id);
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };

    let mut killed_in = Vec::new();
    for target in KILL_AT {
        let (mut child, base) = start(&home);
        *url.lock().expect("lock") = Some(base);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let state = upgrade_state(&open(home.path()));
            if state.as_deref() == Some(target) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "never reached {target} (last state {state:?})"
            );
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        *url.lock().expect("lock") = None;
        let acked_now = acked.lock().expect("lock").clone();
        let state = check_consistent(home.path(), &acked_now);
        killed_in.push(state);
    }
    // One more start: recovery finds the completed upgrade and serves 2.0.0.
    let (mut child, base) = start(&home);
    *url.lock().expect("lock") = Some(base.clone());
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/v1/capabilities/text.summarize/call"))
        .json(&serde_json::json!({"subject": "final", "input": {"text": "One. Two.", "max_sentences": 1}}))
        .send()
        .await
        .expect("call")
        .json()
        .await
        .expect("json");
    assert_eq!(response["version"], "2.0.0", "{response}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = agent.await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let acked_now = acked.lock().expect("lock").clone();
    assert!(
        acked_now.len() > 10,
        "the agent's events were acknowledged: {}",
        acked_now.len()
    );
    assert_eq!(check_consistent(home.path(), &acked_now), "completed");
    assert_eq!(killed_in, KILL_AT, "killed in each state in turn");
    // Every run also logged to logging.file, in the home by default.
    let log = std::fs::read_to_string(home.path().join("logs/self_upgrading_loop.log"))
        .expect("the log file");
    assert!(log.contains("INFO"), "{log}");
    assert!(!log.contains("\u{1b}["), "no colour codes in the file");
}
