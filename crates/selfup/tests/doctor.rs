//! End-to-end: `selfup doctor` on real homes — healthy (with a gateway
//! answering), a corrupted and a missing artifact, a damaged database, a
//! schema behind and ahead of this build, and recent rollbacks.

mod common;

use common::TestHome;
use serde_json::Value;

/// Runs `selfup doctor --json`; returns the exit code and the report.
fn doctor(home: &TestHome) -> (i32, Value) {
    let out = home.run(&["doctor", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "doctor printed no JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("an exit code"), report)
}

/// The check named `name`.
fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
}

fn status(report: &Value, name: &str) -> String {
    check(report, name)["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

/// The exit code must follow the worst status reported (0 ok, 1 warn, 2 fail).
fn assert_exit_matches(code: i32, report: &Value) {
    let worst = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| match c["status"].as_str() {
            Some("ok") => 0,
            Some("warn") => 1,
            _ => 2,
        })
        .max()
        .unwrap_or(0);
    assert_eq!(code, worst, "{report:#}");
    assert_eq!(
        report["status"],
        ["ok", "warn", "fail"][worst as usize],
        "{report:#}"
    );
}

fn db(home: &TestHome) -> rusqlite::Connection {
    rusqlite::Connection::open(home.path().join("selfup.db")).expect("db")
}

fn artifact_of(home: &TestHome, file: &str) -> std::path::PathBuf {
    let hash: String = db(home)
        .query_row(
            "SELECT hash FROM plugin_files WHERE path = ?1",
            [file],
            |r| r.get(0),
        )
        .expect("hash");
    home.path()
        .join("artifacts/sha256")
        .join(&hash[..2])
        .join(&hash)
}

#[test]
fn a_healthy_home_with_its_gateway_running_is_all_ok() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    let mut gateway = home.serve();
    let addr = gateway.url.trim_start_matches("http://").to_owned();
    home.config(&format!("  gateway:\n    bind: \"{addr}\"\n"));
    let (code, report) = doctor(&home);
    for name in [
        "config",
        "service",
        "store.integrity",
        "store.migrations",
        "store.wal",
        "plugins.artifacts",
        "plugins.errors",
        "upgrades.rollbacks",
        "upgrades.failures",
        "logs",
    ] {
        assert_eq!(status(&report, name), "ok", "{name}: {report:#}");
    }
    assert!(
        check(&report, "service")["finding"]
            .as_str()
            .expect("finding")
            .contains(&addr)
    );
    // The disk may be nearly full on a build machine: its check decides.
    assert_exit_matches(code, &report);
    gateway.stop();

    // The table says the same, with the action under each problem.
    let out = home.run(&["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ok    store.integrity"), "{text}");
    assert!(text.contains("warn  service"), "{text}");
    assert!(text.contains("→ start it: `selfup run`"), "{text}");
    assert_eq!(out.status.code(), Some(1).max(Some(code)));
}

#[test]
fn a_corrupted_or_missing_artifact_fails_with_what_to_do() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    let path = artifact_of(&home, "manifest.json");
    std::fs::write(&path, b"{\"tampered\": true}").expect("tamper");
    let (code, report) = doctor(&home);
    assert_eq!(code, 2, "{report:#}");
    let c = check(&report, "plugins.artifacts");
    assert_eq!(c["status"], "fail");
    let finding = c["finding"].as_str().expect("finding");
    assert!(
        finding.contains("text-stats@1.0.0: manifest.json does not match its hash"),
        "{finding}"
    );
    assert!(
        c["action"]
            .as_str()
            .expect("action")
            .contains("selfup plugin remove")
    );
    assert_exit_matches(code, &report);

    std::fs::remove_file(&path).expect("remove");
    let (code, report) = doctor(&home);
    assert_eq!(code, 2);
    let finding = check(&report, "plugins.artifacts")["finding"]
        .as_str()
        .expect("finding")
        .to_owned();
    assert!(finding.contains("manifest.json is missing"), "{finding}");
}

#[test]
fn a_damaged_database_fails_and_is_left_as_it_was() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    let path = home.path().join("selfup.db");
    // Checkpoint the log into the file, then overwrite the header.
    db(&home)
        .pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .expect("checkpoint");
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[..100].fill(0x41);
    std::fs::write(&path, &bytes).expect("damage");
    let (code, report) = doctor(&home);
    assert_eq!(code, 2, "{report:#}");
    let c = check(&report, "store.integrity");
    assert_eq!(c["status"], "fail");
    assert!(c["action"].as_str().expect("action").contains("backup"));
    // The checks that need the store are not run on a damaged one.
    assert!(
        report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .all(|c| c["name"] != "plugins.artifacts")
    );
    assert!(!status(&report, "disk").is_empty());
    assert_eq!(
        std::fs::read(&path).expect("read"),
        bytes,
        "doctor changed the file"
    );
}

#[test]
fn a_schema_behind_warns_and_one_ahead_fails_without_migrating() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    let current: i64 = db(&home)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    db(&home)
        .pragma_update(None, "user_version", current - 1)
        .expect("set");
    let (code, report) = doctor(&home);
    let c = check(&report, "store.migrations");
    assert_eq!(c["status"], "warn", "{report:#}");
    assert!(
        c["finding"]
            .as_str()
            .expect("finding")
            .contains("1 migration(s) not applied")
    );
    assert!(code >= 1);
    assert_exit_matches(code, &report);
    let after: i64 = db(&home)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!(after, current - 1, "doctor must not migrate");

    db(&home)
        .pragma_update(None, "user_version", current + 5)
        .expect("set");
    let (code, report) = doctor(&home);
    assert_eq!(code, 2);
    assert_eq!(status(&report, "store.migrations"), "fail");
    assert!(
        check(&report, "store.migrations")["finding"]
            .as_str()
            .expect("finding")
            .contains("newer selfup")
    );
}

#[test]
fn recent_rollbacks_and_failures_are_warnings_naming_the_upgrade() {
    let home = TestHome::new();
    home.install("json-query-1.0.0");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let old = now - 3 * 24 * 3_600_000;
    db(&home)
        .execute_batch(&format!(
            "INSERT INTO upgrades (id, kind, capability, plugin, from_version, to_version, source, state, reason,
                                   opportunity, risk, created_at_ms, updated_at_ms, state_since_ms)
             VALUES (4, 'new_version', 'json.query', 'json-query', '1.0.0', '1.1.0', 'test', 'rolled_back',
                     'gate error_rate: 25 % against 0 %', 0.5, 0.1, {now}, {now}, {now}),
                    (5, 'new_version', 'json.query', 'json-query', '1.0.0', '1.2.0', 'test', 'rolled_back',
                     'old news', 0.5, 0.1, {old}, {old}, {old});
             INSERT INTO upgrade_events (upgrade_id, ts_ms, from_state, to_state, actor, detail)
             VALUES (4, {now}, 'rolling_out', 'rolled_back', 'gate', '{{}}'),
                    (5, {old}, 'rolling_out', 'rolled_back', 'gate', '{{}}');"
        ))
        .expect("history");
    let (code, report) = doctor(&home);
    let c = check(&report, "upgrades.rollbacks");
    assert_eq!(c["status"], "warn", "{report:#}");
    let finding = c["finding"].as_str().expect("finding");
    assert!(finding.starts_with("1 rollback in the last 24 h; latest #4 json.query json-query@1.1.0 by gate: gate error_rate"), "{finding}");
    assert!(
        c["action"]
            .as_str()
            .expect("action")
            .contains("selfup upgrades show 4")
    );
    assert_eq!(status(&report, "upgrades.failures"), "ok");
    assert!(code >= 1);
    assert_exit_matches(code, &report);
}
