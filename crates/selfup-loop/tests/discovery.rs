//! Discovery from real telemetry on a virtual clock: the example plugins
//! serve a day of agent traffic, then an hour in which one version slows
//! down (heavier inputs), another starts failing (requests that hit its
//! regression), a sequence keeps repeating and unmet requests cluster. One
//! cycle must find each as a pattern or a gap, record them in the history,
//! and turn the gap a catalog package closes into a proposal.

mod common;

use std::sync::Arc;

use common::{World, print, test_config};
use selfup_core::pattern::{PatternKind, Severity};
use selfup_core::telemetry::{AgentEvent, AgentEventType, subject_hash};
use selfup_core::upgrade::{UpgradeKind, UpgradeState};
use selfup_store::upgrades::UpgradeFilter;

const SHORT: &str = "The report is short. It has two sentences.";

/// Subjects: the same twelve users all day.
fn subject(i: u64) -> String {
    format!("user-{}", i % 12)
}

/// One hour of traffic: 40 times, a user calls text.stats then, two
/// seconds later, text.summarize, then json.query and test.trap (which
/// traps on every fifth call, all day). In the last hour, text.stats gets
/// long texts and a third of json.query paths use hyphenated keys
/// (json-query 1.1.0 fails on them).
async fn hour(world: &World, recent: bool, long_text: &str) {
    for i in 0..40u64 {
        let who = subject(i);
        let text = if recent { long_text } else { SHORT };
        let stats = serde_json::json!({ "text": text }).to_string();
        world.dispatcher.call("text.stats", &who, &stats).await;
        world.clock.advance_ms(2_000);
        let summary = serde_json::json!({ "text": SHORT, "max_sentences": 1 }).to_string();
        world
            .dispatcher
            .call("text.summarize", &who, &summary)
            .await;
        let doc =
            serde_json::json!({"order": {"id": i, "headers": {"x-request-id": format!("r{i}")}}});
        let path = if recent && i % 3 == 0 {
            "$.order.headers.x-request-id"
        } else {
            "$.order.id"
        };
        let query = serde_json::json!({ "document": doc, "path": path }).to_string();
        world.clock.advance_ms(10_000);
        world.dispatcher.call("json.query", &who, &query).await;
        let trap = serde_json::json!({ "trap": i % 5 == 0 }).to_string();
        world.clock.advance_ms(5_000);
        world.dispatcher.call("test.trap", &who, &trap).await;
        world.clock.advance_ms(43_000);
    }
}

fn unmet(world: &World, who: &str, text: &str) {
    world
        .dispatcher
        .telemetry()
        .record_event(
            AgentEvent {
                ts_ms: world.now(),
                event_type: AgentEventType::UnmetRequest,
                subject_hash: Some(subject_hash(who)),
                intent: None,
                text: Some(text.to_owned()),
                payload: "{}".into(),
            },
            None,
        )
        .expect("event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patterns_and_gaps_show_up_from_real_telemetry() {
    let world = World::new(
        test_config(),
        &[
            "text-stats-1.0.0",
            "text-summarize-1.0.0",
            "json-query-1.1.0",
            "test-trap-1.0.0",
        ],
        &["unit-convert-1.0.0"],
    );
    let long_text = "Many words make a long text to count. ".repeat(4_000);
    // A day of ordinary traffic (each simulated hour takes 42 minutes of
    // calls; the clock then moves to the next hour).
    for _ in 0..24 {
        let start = world.now();
        hour(&world, false, &long_text).await;
        world.clock.advance_ms(3_600_000 - (world.now() - start));
    }
    // The recent hour.
    hour(&world, true, &long_text).await;
    let requests = [
        ("user-1", "convert 5 miles to kilometres"),
        ("user-2", "how many kilometres is 26 miles"),
        ("user-3", "convert 42 km to miles"),
        ("user-4", "please convert 3 miles into km"),
        ("user-5", "convert 10 miles to km"),
        ("user-6", "what is 100 km in miles, convert it"),
        ("user-1", "book a table for two tonight"),
        ("user-7", "is it going to rain in Paris"),
    ];
    for (who, text) in requests {
        unmet(&world, who, text);
        world.clock.advance_ms(1_000);
    }
    world.flush();

    let changes = world.orchestrator.cycle().await.expect("cycle");
    print(&changes);

    let latest = world.store.latest_patterns().expect("history");
    let patterns: Vec<_> = latest.iter().flat_map(|(_, p)| p.iter().cloned()).collect();
    let find = |signal: &str, component: &str| {
        patterns
            .iter()
            .find(|p| {
                p.signal == signal
                    && p.affected_components
                        .iter()
                        .any(|c| c.starts_with(component))
            })
            .unwrap_or_else(|| {
                panic!(
                    "no {signal} pattern for {component}; found {:#?}",
                    patterns
                        .iter()
                        .map(|p| (&p.signal, &p.description))
                        .collect::<Vec<_>>()
                )
            })
    };

    // The version that slowed down.
    let slow = find("latency_degradation", "text.stats:text-stats@1.0.0");
    assert_eq!(slow.kind, PatternKind::Bottleneck);
    assert_eq!(slow.severity, Severity::High, "{}", slow.description);
    assert!(slow.evidence["p_value"].as_f64().expect("p") < 0.01);
    // The version that started failing, twice over: against its own
    // baseline, and by the specification's failure rate.
    let spike = find("error_spike", "json.query:json-query@1.1.0");
    assert_eq!(spike.kind, PatternKind::PerformancePattern);
    assert_eq!(spike.severity, Severity::Critical, "{}", spike.description);
    // A capability failing all day: the specification's failure rate
    // (20 % is HIGH), though it never changed.
    let rate = find("failure_rate", "test.trap");
    assert_eq!(rate.severity, Severity::High, "{}", rate.description);
    assert!(!patterns.iter().any(|p| p.signal == "error_spike" && p.affected_components[0].starts_with("test.trap")));
    // The sequence: text.stats, then text.summarize, by every user.
    let sequence = find("call_sequence", "text.stats");
    assert_eq!(
        sequence.affected_components,
        ["text.stats", "text.summarize"]
    );
    assert_eq!(sequence.kind, PatternKind::UsagePattern);
    assert!(sequence.evidence["probability"].as_f64().expect("p") > 0.95);
    assert_eq!(sequence.evidence["subjects"], 12);
    // Nothing made up: the steady version has no latency or error pattern.
    assert!(
        !patterns.iter().any(|p| p
            .affected_components
            .iter()
            .any(|c| c.contains("text-summarize"))
            && (p.signal == "latency_degradation" || p.signal == "error_spike")),
        "text.summarize behaved the same all day"
    );

    // The unmet requests cluster into one gap about unit conversion, which
    // the catalog's unit-convert closes; the odd one out stays apart.
    let gap_lines: Vec<&str> = changes
        .iter()
        .filter(|c| c.text.starts_with("gap "))
        .map(|c| c.text.as_str())
        .collect();
    assert!(
        gap_lines.iter().any(
            |l| l.contains("6 requests nobody could serve") && l.contains("unit-convert@1.0.0")
        ),
        "{gap_lines:#?}"
    );
    let upgrades = world
        .store
        .upgrades(&UpgradeFilter {
            states: Vec::new(),
            plugin: Some("unit-convert".into()),
        })
        .expect("upgrades");
    let proposal = upgrades.first().expect("unit-convert proposed");
    assert_eq!(proposal.kind, UpgradeKind::NewCapability);
    assert_eq!(proposal.capability, "unit.convert");
    assert_ne!(
        proposal.state,
        UpgradeState::Proposed,
        "decided in the same cycle"
    );
    assert_eq!(proposal.evidence["candidate"]["demand"], 6);
}

/// A copied Python function for the code scan.
const COPIED: &str = r#"
def load_orders(path, limit):
    rows = []
    with open(path) as handle:
        for line in handle:
            fields = line.strip().split(",")
            if len(fields) < 3:
                continue
            rows.append({"id": fields[0], "total": float(fields[2])})
            if len(rows) >= limit:
                break
    return rows
"#;

/// Records what a cycle reports: its steps, and the files the code scan
/// announced and parsed.
#[derive(Default)]
struct Recorder {
    steps: std::sync::Mutex<Vec<String>>,
    files: std::sync::Mutex<(u64, u64)>,
}

impl selfup_discovery::code::Progress for Recorder {
    fn start(&self, files: u64) {
        self.files.lock().expect("files").0 = files;
    }

    fn advance(&self, n: u64) {
        self.files.lock().expect("files").1 += n;
    }
}

impl selfup_loop::progress::CycleProgress for Recorder {
    fn step(&self, what: &str) {
        self.steps.lock().expect("steps").push(what.to_owned());
    }
}

#[tokio::test]
async fn the_loop_scans_the_configured_code_once_a_day() {
    let code = tempfile::tempdir().expect("tempdir");
    std::fs::write(code.path().join("orders.py"), COPIED).expect("orders.py");
    std::fs::write(code.path().join("reports.py"), COPIED).expect("reports.py");
    let mut config = test_config();
    config.discovery.pattern_recognition.code_paths =
        vec![code.path().display().to_string(), "/no/such/dir".into()];
    let mut world = World::new(config, &["text-stats-1.0.0"], &[]);
    let progress = Arc::new(Recorder::default());
    world.orchestrator.set_progress(progress.clone());
    let code_scans = || {
        world
            .store
            .pattern_scans(0)
            .expect("scans")
            .iter()
            .filter(|scan| scan.source == selfup_discovery::CODE_SOURCE)
            .count()
    };

    let changes = world.orchestrator.cycle().await.expect("cycle");
    print(&changes);
    assert!(
        changes
            .iter()
            .any(|c| c.text.starts_with("code scan: 1 new finding in 2 files")),
        "{changes:?}"
    );
    assert_eq!(code_scans(), 1);
    let latest = world.store.latest_patterns().expect("history");
    let (_, found) = latest
        .iter()
        .find(|(scan, _)| scan.source == selfup_discovery::CODE_SOURCE)
        .expect("a code scan in the history");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, PatternKind::CodeRepetition);
    assert_eq!(found[0].signal, "exact_clone");
    // `selfup cycle`'s spinner heard the steps in order and the two files.
    let steps = progress.steps.lock().expect("steps").clone();
    let position = |step: &str| {
        steps
            .iter()
            .position(|s| s == step)
            .unwrap_or_else(|| panic!("no step {step:?} in {steps:?}"))
    };
    assert!(position("reading the catalog") < position("scanning code for clones"));
    assert!(position("scanning code for clones") < position("applying retention"));
    assert_eq!(*progress.files.lock().expect("files"), (2, 2));

    // Within the day: no new scan.
    world.clock.advance_ms(3_600_000);
    world.orchestrator.cycle().await.expect("cycle");
    assert_eq!(code_scans(), 1);

    // A day later the code is scanned again; nothing new, so no line.
    world
        .clock
        .advance_ms(selfup_loop::orchestrator::CODE_SCAN_INTERVAL_MS);
    let changes = world.orchestrator.cycle().await.expect("cycle");
    assert_eq!(code_scans(), 2);
    assert!(
        !changes.iter().any(|c| c.text.starts_with("code scan")),
        "{changes:?}"
    );
}
