//! Abstraction gaps on `tests/data/code/abstraction`: Python modules calling
//! `requests`, `httpx` and `urllib` directly (under aliases too), JavaScript
//! and TypeScript modules calling `fetch` and `axios` (imported, required,
//! named), Rust modules spawning `std::process::Command`, and calls through
//! the project's own client that are not gaps; `min_pattern_frequency`
//! decides how many modules make a gap.

mod support;

use selfup_core::pattern::{PatternKind, Severity};
use selfup_discovery::code::{ScanOptions, ScanReport};
use support::*;

fn scan_gaps(min_pattern_frequency: u32) -> ScanReport {
    let options = ScanOptions {
        min_pattern_frequency,
        ..defaults()
    };
    scan_root(&fixture("abstraction"), &options)
}

fn ids(report: &ScanReport) -> Vec<&str> {
    let mut v: Vec<&str> = gaps(report).iter().map(|p| p.id.as_str()).collect();
    v.sort();
    v
}

#[test]
fn five_python_modules_calling_http_apis_directly_are_an_abstraction_gap() {
    let root = fixture("abstraction");
    let report = scan_gaps(5);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let gap = report
        .patterns
        .iter()
        .find(|p| p.id == "abstraction_gap:python:http")
        .unwrap_or_else(|| panic!("no Python HTTP gap:\n{}", summary(&report, &root)));
    assert_eq!(gap.kind, PatternKind::AbstractionGap);
    assert_eq!(gap.kind.label(), "ABSTRACTION_GAP");
    assert_eq!(gap.signal, "direct_http_calls");
    // Five modules at a frequency of five: ratio 1, Low, confidence 0.7.
    assert_eq!(gap.severity, Severity::Low);
    assert!((gap.confidence - 0.7).abs() < 1e-12, "{}", gap.confidence);
    let mut modules: Vec<String> = gap
        .affected_components
        .iter()
        .map(|f| relative(&root, f))
        .collect();
    modules.sort();
    // client.py goes through the project's own client: not a direct call.
    assert_eq!(
        modules,
        [
            "python/billing.py",
            "python/orders.py",
            "python/search.py",
            "python/status.py",
            "python/users.py"
        ]
    );
    // Every call, with its line, whatever name it was imported under.
    assert_eq!(
        locations(&root, gap),
        locs(&[
            ("python/billing.py", 6, 6),  // from requests import get as fetch_url
            ("python/orders.py", 7, 7),   // import requests as rq; rq.post
            ("python/search.py", 6, 6),   // httpx.get
            ("python/search.py", 11, 11), // httpx.post
            ("python/status.py", 7, 7),   // urllib.request.urlopen
            ("python/users.py", 8, 8),    // requests.get
        ])
    );
    assert_eq!(gap.evidence["family"], "http");
    assert_eq!(gap.evidence["language"], "python");
    assert_eq!(gap.evidence["module_count"], 5);
    assert_eq!(gap.evidence["calls"], 6);
    assert_eq!(
        gap.evidence["apis"],
        serde_json::json!({
            "httpx.get": 1,
            "httpx.post": 1,
            "requests.get": 2,
            "requests.post": 1,
            "urllib.request.urlopen": 1
        })
    );
    let interface = gap.evidence["suggested_interface"]
        .as_str()
        .expect("suggested_interface");
    assert!(interface.contains("HttpClient interface"), "{interface}");
    assert!(
        interface.ends_with("route these 5 modules through it"),
        "{interface}"
    );
    assert!(
        gap.description
            .starts_with("HTTP requests directly from 5 python modules (6 calls: "),
        "{}",
        gap.description
    );
    // Two modules spawning processes are below the frequency.
    assert!(!ids(&report).contains(&"abstraction_gap:python:process"));
}

#[test]
fn javascript_and_typescript_modules_count_together_for_fetch_and_axios() {
    let root = fixture("abstraction");
    let report = scan_gaps(5);
    let gap = report
        .patterns
        .iter()
        .find(|p| p.id == "abstraction_gap:javascript:http")
        .unwrap_or_else(|| panic!("no JavaScript HTTP gap:\n{}", summary(&report, &root)));
    assert_eq!(gap.signal, "direct_http_calls");
    // api.js calls the project's own `api.get`: not a direct call.
    assert_eq!(
        locations(&root, gap),
        locs(&[
            ("js/cart.js", 5, 5),    // import axios from 'axios'; axios.post
            ("js/orders.ts", 5, 5),  // import { get as httpGet } from 'axios'
            ("js/profile.js", 3, 3), // fetch
            ("js/rates.mjs", 5, 5),  // const http = require('axios'); http.get
            ("js/search.ts", 3, 3),  // fetch, in TypeScript
        ])
    );
    assert_eq!(
        gap.evidence["apis"],
        serde_json::json!({"axios.get": 2, "axios.post": 1, "fetch": 2})
    );
    assert_eq!(gap.evidence["language"], "javascript");
    assert!(
        gap.evidence["suggested_interface"]
            .as_str()
            .is_some_and(|s| s.contains("HttpClient")),
        "{:#}",
        gap.evidence
    );
}

#[test]
fn three_rust_modules_spawning_processes_are_a_gap_only_at_a_frequency_of_three() {
    let root = fixture("abstraction");
    assert_eq!(
        ids(&scan_gaps(5)),
        [
            "abstraction_gap:javascript:http",
            "abstraction_gap:python:http"
        ]
    );
    let report = scan_gaps(3);
    assert_eq!(
        ids(&report),
        [
            "abstraction_gap:javascript:http",
            "abstraction_gap:python:http",
            "abstraction_gap:rust:process"
        ]
    );
    let gap = report
        .patterns
        .iter()
        .find(|p| p.id == "abstraction_gap:rust:process")
        .expect("the Rust gap");
    assert_eq!(gap.signal, "direct_process_calls");
    assert_eq!(
        locations(&root, gap),
        locs(&[
            ("rust/assets.rs", 3, 3), // std::process::Command::new, fully qualified
            ("rust/git.rs", 5, 5),    // use std::process::Command
            ("rust/lint.rs", 5, 5),   // use std::process::Command as Cmd
        ])
    );
    assert_eq!(
        gap.evidence["apis"],
        serde_json::json!({"std::process::Command::new": 3})
    );
    assert!(
        gap.evidence["suggested_interface"]
            .as_str()
            .is_some_and(|s| s.contains("CommandRunner")),
        "{:#}",
        gap.evidence
    );
    // Five modules at a frequency of three: ratio 5/3, still Low, more sure.
    let python = report
        .patterns
        .iter()
        .find(|p| p.id == "abstraction_gap:python:http")
        .expect("the Python gap");
    assert_eq!(python.severity, Severity::Low);
    assert!((python.confidence - (0.6 + 0.1 * 5.0 / 3.0)).abs() < 1e-12);
}

#[test]
fn min_pattern_frequency_above_the_module_count_finds_no_gap() {
    assert!(ids(&scan_gaps(6)).is_empty());
    // At two, the two Python modules spawning processes are one too.
    let two = scan_gaps(2);
    assert!(
        ids(&two).contains(&"abstraction_gap:python:process"),
        "{:?}",
        ids(&two)
    );
    // Five modules at a frequency of two: ratio 2.5, Medium.
    let python = two
        .patterns
        .iter()
        .find(|p| p.id == "abstraction_gap:python:http")
        .expect("the Python gap");
    assert_eq!(python.severity, Severity::Medium);
}

#[test]
fn abstraction_gaps_are_found_at_every_depth() {
    use selfup_core::config::ScanDepth;
    for depth in [ScanDepth::Shallow, ScanDepth::Medium, ScanDepth::Deep] {
        let report = scan_root(&fixture("abstraction"), &at_depth(depth));
        assert_eq!(
            ids(&report),
            [
                "abstraction_gap:javascript:http",
                "abstraction_gap:python:http"
            ],
            "{depth:?}"
        );
    }
}
