//! `selfup patterns scan` as a user runs it, on the code scanner's fixtures
//! (`crates/selfup-discovery/tests/data/code`): the JSON contract, the
//! readable report, exit status 2 for a missing path or a bad glob, and the
//! `discovery.pattern_recognition` settings (code paths, excludes, depth,
//! frequency) read from the configuration.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::TestHome;

/// `crates/selfup-discovery/tests/data/code/<rel>`.
fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../selfup-discovery/tests/data/code")
        .join(rel)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Runs `selfup patterns scan args…` in `cwd`.
fn scan_in(home: &TestHome, cwd: &Path, args: &[&str]) -> Output {
    let mut full = vec!["patterns", "scan"];
    full.extend_from_slice(args);
    home.command(&full)
        .current_dir(cwd)
        .output()
        .expect("run selfup")
}

/// Runs a scan that must succeed and parses its JSON.
fn scan_json(home: &TestHome, cwd: &Path, args: &[&str]) -> serde_json::Value {
    let mut full = args.to_vec();
    full.push("--json");
    let out = scan_in(home, cwd, &full);
    assert!(
        out.status.success(),
        "selfup patterns scan {full:?} failed with {}:\n{}",
        out.status,
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}):\n{}", text(&out.stdout));
    })
}

/// `(signal, unit)` of every clone group, sorted.
fn signals(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["patterns"]
        .as_array()
        .expect("patterns")
        .iter()
        .filter(|p| p["kind"] == "CODE_REPETITION")
        .map(|p| {
            (
                p["signal"].as_str().unwrap_or("").to_string(),
                p["evidence"]["unit"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn pair(signal: &str, unit: &str) -> (String, String) {
    (signal.to_string(), unit.to_string())
}

fn cwd() -> PathBuf {
    std::env::temp_dir()
}

#[test]
fn the_json_report_has_the_documented_keys_and_every_planted_clone() {
    let home = TestHome::new();
    let root = fixture("python");
    let report = scan_json(&home, &cwd(), &[path_str(&root)]);
    let mut keys: Vec<&str> = report
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "elapsed_ms",
            "files_scanned",
            "lines",
            "patterns",
            "roots",
            "skipped",
            "tokens"
        ]
    );
    assert_eq!(report["roots"], serde_json::json!([path_str(&root)]));
    assert_eq!(report["files_scanned"], 6);
    assert!(report["lines"].as_u64() > Some(100), "{report:#}");
    assert!(report["tokens"].as_u64() > Some(900), "{report:#}");
    assert!(report["elapsed_ms"].as_f64() >= Some(0.0), "{report:#}");
    assert_eq!(report["skipped"], serde_json::json!([]));
    assert_eq!(
        signals(&report),
        [
            pair("exact_clone", "block"),
            pair("exact_clone", "function"),
            pair("near_miss_clone", "function"),
            pair("renamed_clone", "function"),
        ]
    );
    let first = &report["patterns"][0];
    for key in [
        "id",
        "kind",
        "signal",
        "description",
        "severity",
        "confidence",
        "affected_components",
        "locations",
        "evidence",
    ] {
        assert!(first.get(key).is_some(), "{key} missing in {first:#}");
    }
    let location = &first["locations"][0];
    assert!(
        location["file"]
            .as_str()
            .is_some_and(|f| f.ends_with(".py"))
    );
    assert!(location["line_start"].as_u64() <= location["line_end"].as_u64());
    let exact = report["patterns"]
        .as_array()
        .expect("patterns")
        .iter()
        .find(|p| p["signal"] == "exact_clone" && p["evidence"]["unit"] == "function")
        .expect("the exact clone");
    assert_eq!(
        exact["locations"],
        serde_json::json!([
            {"file": path_str(&root.join("shop").join("invoices.py")), "line_start": 6, "line_end": 11},
            {"file": path_str(&root.join("shop").join("orders.py")), "line_start": 6, "line_end": 11},
        ])
    );
    assert_eq!(exact["evidence"]["similarity"], 1.0);
    assert!(
        exact["evidence"]["suggested_abstraction"]
            .as_str()
            .is_some_and(|s| s.starts_with("extract function `normalize_address()`")),
        "{exact:#}"
    );
}

#[test]
fn the_readable_report_lists_each_group_with_its_locations_and_suggestion() {
    let home = TestHome::new();
    let root = fixture("python");
    let out = scan_in(&home, &cwd(), &[path_str(&root)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    let headers: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("CODE_REPETITION "))
        .collect();
    assert_eq!(headers.len(), 4, "{report}");
    assert!(
        headers
            .iter()
            .any(|h| h.starts_with("CODE_REPETITION near_miss_clone MEDIUM (score ")),
        "{report}"
    );
    assert!(
        report.contains(
            "  2 identical copies of a 82-token function `normalize_address` in 2 files\n"
        ),
        "{report}"
    );
    for (file, lines) in [
        ("invoices.py", "6-11"),
        ("orders.py", "6-11"),
        ("invoices.py", "14-19"),
        ("orders.py", "14-19"),
        ("inventory.py", "4-13"),
        ("reports.py", "4-11"),
        ("inventory.py", "17-25"),
        ("reports.py", "17-25"),
    ] {
        let line = format!("    {}:{lines}\n", root.join("shop").join(file).display());
        assert!(report.contains(&line), "{line:?} missing in\n{report}");
    }
    assert!(
        report.contains(
            "  → extract function `restock_plan_step()` from the 5-statement block repeated in 2 places (in monthly_report, restock_plan) and call it instead; the copies are identical\n"
        ),
        "{report}"
    );
    assert_eq!(report.matches("\n  → ").count(), 4, "{report}");
    let last = report.lines().last().expect("a summary line");
    assert!(
        last.starts_with("scanned 6 files (145 lines, ")
            && last.ends_with(": 4 clone groups, 0 abstraction gaps"),
        "{last}"
    );
}

#[test]
fn the_limit_cuts_the_readable_report_but_not_the_json() {
    let home = TestHome::new();
    let root = fixture("python");
    let out = scan_in(&home, &cwd(), &[path_str(&root), "--limit", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert_eq!(report.matches("CODE_REPETITION ").count(), 1, "{report}");
    assert!(
        report.contains(
            "… and 3 patterns more not shown (--limit 0 shows all, --json gives everything)\n"
        ),
        "{report}"
    );
    let json = scan_json(&home, &cwd(), &[path_str(&root), "--limit", "1"]);
    assert_eq!(json["patterns"].as_array().map(Vec::len), Some(4));
}

#[test]
fn skipped_files_and_abstraction_gaps_are_in_the_readable_report() {
    let home = TestHome::new();
    let broken = fixture("broken");
    let out = scan_in(&home, &cwd(), &[path_str(&broken)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("skipped 2 files:\n"), "{report}");
    assert!(
        report.contains(&format!(
            "  {}: syntax errors: ",
            broken.join("half_merged.py").display()
        )),
        "{report}"
    );
    assert!(
        report
            .trim_end()
            .ends_with(": 1 clone group, 0 abstraction gaps, 2 files skipped"),
        "{report}"
    );

    let gaps = scan_in(&home, &cwd(), &[path_str(&fixture("abstraction"))]);
    let report = text(&gaps.stdout);
    assert!(
        report.contains("ABSTRACTION_GAP direct_http_calls LOW (score "),
        "{report}"
    );
    assert!(
        report.contains("  → introduce an HttpClient interface"),
        "{report}"
    );
    assert!(report.contains("2 abstraction gaps"), "{report}");
}

#[test]
fn a_missing_path_exits_2_naming_it() {
    let home = TestHome::new();
    let missing = fixture("python/no-such-dir");
    let out = scan_in(
        &home,
        &cwd(),
        &[path_str(&fixture("python")), path_str(&missing)],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{} does not exist", missing.display())),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn a_bad_exclude_glob_exits_2_naming_it() {
    let home = TestHome::new();
    let out = scan_in(
        &home,
        &cwd(),
        &[path_str(&fixture("python")), "--exclude", "shop/[abc"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("exclude pattern \"shop/[abc\" is not a valid glob"),
        "{stderr}"
    );

    // The same from the configuration.
    home.config("  discovery:\n    pattern_recognition:\n      exclude_patterns: [\"src/{a,b\"]\n");
    let out = scan_in(&home, &cwd(), &[path_str(&fixture("python"))]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("src/{a,b"),
        "{}",
        text(&out.stderr)
    );
}

/// A project directory with the Python shop under `src/`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(&fixture("python"), &dir.path().join("src"));
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn without_a_path_the_configured_code_paths_are_scanned_relative_to_the_working_directory() {
    let home = TestHome::new();
    let project = project();
    home.config(
        "  discovery:\n    pattern_recognition:\n      code_paths: [\"./src\", \"./plugins\"]\n",
    );
    let mut args = vec!["--json"];
    let out = scan_in(&home, project.path(), &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["roots"], serde_json::json!(["./src"]));
    assert_eq!(report["files_scanned"], 6);
    assert_eq!(signals(&report).len(), 4);
    let file = report["patterns"][0]["locations"][0]["file"]
        .as_str()
        .expect("a file");
    // `./src` as configured, then the walk's separators (`\` on Windows).
    assert!(
        Path::new(file).starts_with(Path::new("./src").join("shop")),
        "{file}"
    );
    // The configured path that is not there is noted, not fatal.
    assert!(
        text(&out.stderr).contains(
            "note: ./plugins (discovery.pattern_recognition.code_paths) does not exist; skipped"
        ),
        "{}",
        text(&out.stderr)
    );

    // An absolute code path works from anywhere.
    let absolute = project.path().join("src");
    home.config(&format!(
        "  discovery:\n    pattern_recognition:\n      code_paths: [{}]\n",
        common::yaml_path(&absolute)
    ));
    let report = scan_json(&home, &cwd(), &[]);
    assert_eq!(report["roots"], serde_json::json!([path_str(&absolute)]));

    // From a directory where none exists: exit 2, saying what to do.
    home.config("  discovery:\n    pattern_recognition:\n      code_paths: [\"./src\"]\n");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    args.clear();
    let out = scan_in(&home, elsewhere.path(), &args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("none of discovery.pattern_recognition.code_paths exists here (./src)"),
        "{stderr}"
    );
}

#[test]
fn the_configured_depth_and_excludes_apply_and_the_flags_override_them() {
    let home = TestHome::new();
    let root = fixture("python");
    home.config(
        "  discovery:\n    pattern_recognition:\n      scan_depth: shallow\n      exclude_patterns: [\"*/reports.py\"]\n",
    );
    let shallow = scan_json(&home, &cwd(), &[path_str(&root)]);
    assert_eq!(shallow["files_scanned"], 5);
    assert_eq!(
        signals(&shallow),
        [
            pair("exact_clone", "function"),
            pair("renamed_clone", "function")
        ]
    );
    // --depth overrides scan_depth; reports.py is still excluded, so the
    // near-miss and block clones (which need it) are not there.
    let deep = scan_json(&home, &cwd(), &[path_str(&root), "--depth", "deep"]);
    assert_eq!(signals(&deep).len(), 2, "{deep:#}");
    // --no-config-excludes brings it back; --exclude adds patterns.
    let all = scan_json(
        &home,
        &cwd(),
        &[path_str(&root), "--depth", "deep", "--no-config-excludes"],
    );
    assert_eq!(all["files_scanned"], 6);
    assert_eq!(signals(&all).len(), 4);
    let some = scan_json(
        &home,
        &cwd(),
        &[
            path_str(&root),
            "--depth",
            "medium",
            "--no-config-excludes",
            "--exclude",
            "**/orders.py",
        ],
    );
    assert_eq!(some["files_scanned"], 5);
    assert_eq!(
        signals(&some),
        [pair("exact_clone", "block"), pair("exact_clone", "block")],
        "{some:#}"
    );
}

#[test]
fn the_configured_min_pattern_frequency_decides_the_abstraction_gaps() {
    let home = TestHome::new();
    let root = fixture("abstraction");
    let gap_ids = |report: &serde_json::Value| {
        let mut ids: Vec<String> = report["patterns"]
            .as_array()
            .expect("patterns")
            .iter()
            .filter(|p| p["kind"] == "ABSTRACTION_GAP")
            .map(|p| p["id"].as_str().unwrap_or("").to_string())
            .collect();
        ids.sort();
        ids
    };
    let default = scan_json(&home, &cwd(), &[path_str(&root)]);
    assert_eq!(
        gap_ids(&default),
        [
            "abstraction_gap:javascript:http",
            "abstraction_gap:python:http"
        ]
    );
    home.config("  discovery:\n    pattern_recognition:\n      min_pattern_frequency: 3\n");
    let three = scan_json(&home, &cwd(), &[path_str(&root)]);
    assert_eq!(
        gap_ids(&three),
        [
            "abstraction_gap:javascript:http",
            "abstraction_gap:python:http",
            "abstraction_gap:rust:process"
        ]
    );
    home.config("  discovery:\n    pattern_recognition:\n      min_pattern_frequency: 6\n");
    assert!(gap_ids(&scan_json(&home, &cwd(), &[path_str(&root)])).is_empty());
}

#[test]
fn an_unknown_depth_is_refused_by_the_argument_parser() {
    let home = TestHome::new();
    let out = scan_in(
        &home,
        &cwd(),
        &[path_str(&fixture("python")), "--depth", "bottomless"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("bottomless"),
        "{}",
        text(&out.stderr)
    );
}
