//! Runtime behaviour, usage and gaps over telemetry written by the real
//! telemetry writer into a real store, with controlled numbers: what must
//! be found is found, noise is not.

use selfup_core::call::{CallCost, ErrorKind};
use selfup_core::config::DiscoveryConfig;
use selfup_core::manifest::PluginManifest;
use selfup_core::pattern::Severity;
use selfup_core::telemetry::{AgentEvent, AgentEventType, CallRecord, Outcome, subject_hash};
use selfup_discovery::behavior::analyze_behavior;
use selfup_discovery::gaps::{GapKind, analyze_gaps};
use selfup_discovery::usage::analyze_usage;
use selfup_store::telemetry::{TelemetryWriter, WriterConfig};
use selfup_store::{Home, Store};

const HOUR: i64 = 3_600_000;
const NOW: i64 = 1_800_000_000_000;

/// A deterministic pseudo-random stream in [0, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Bench {
    _dir: tempfile::TempDir,
    store: Store,
    writer: TelemetryWriter,
}

impl Bench {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path());
        let store = Store::open(&home).expect("store");
        let writer = TelemetryWriter::start(&home, WriterConfig::default()).expect("writer");
        Bench {
            _dir: dir,
            store,
            writer,
        }
    }

    /// `n` calls of `plugin@version` serving `capability`, spread over
    /// `[from, to)`, latency `latency_ms(i)`, failing when `fails(i)`.
    #[allow(clippy::too_many_arguments)]
    fn calls(
        &self,
        capability: &str,
        plugin: &str,
        n: i64,
        from: i64,
        to: i64,
        latency_ms: impl Fn(i64) -> f64,
        fails: impl Fn(i64) -> bool,
    ) {
        let sink = self.writer.sink();
        for i in 0..n {
            let failed = fails(i);
            let record = CallRecord {
                ts_ms: from + (to - from) * i / n,
                capability: capability.into(),
                plugin: plugin.into(),
                version: if plugin.is_empty() {
                    String::new()
                } else {
                    "1.0.0".into()
                },
                subject_hash: subject_hash(&format!("user-{}", i % 7)),
                outcome: if failed { Outcome::Error } else { Outcome::Ok },
                error_kind: failed.then_some(if plugin.is_empty() {
                    ErrorKind::UnknownCapability
                } else {
                    ErrorKind::PluginError
                }),
                cost: CallCost {
                    latency_us: (latency_ms(i) * 1000.0) as u64,
                    peak_memory_bytes: 1 << 20,
                    cpu_us: 500,
                },
                experiment: None,
            };
            assert!(sink.record_call(record));
        }
        sink.flush().expect("flush");
    }

    fn unmet(&self, ts_ms: i64, who: &str, intent: Option<&str>, text: &str) {
        self.writer
            .sink()
            .record_event(
                AgentEvent {
                    ts_ms,
                    event_type: AgentEventType::UnmetRequest,
                    subject_hash: Some(subject_hash(who)),
                    intent: intent.map(str::to_owned),
                    text: Some(text.to_owned()),
                    payload: "{}".into(),
                },
                None,
            )
            .expect("event");
        self.writer.sink().flush().expect("flush");
    }
}

fn baseline() -> (i64, i64) {
    (NOW - 25 * HOUR, NOW - HOUR)
}
fn recent() -> (i64, i64) {
    (NOW - HOUR, NOW)
}

#[test]
fn noise_is_not_a_pattern() {
    let bench = Bench::new();
    let mut rng = Lcg(7);
    let jitter: Vec<f64> = (0..2000).map(|_| 20.0 + 10.0 * rng.next()).collect();
    let (b0, b1) = baseline();
    let (r0, r1) = recent();
    bench.calls(
        "a.b",
        "p",
        1000,
        b0,
        b1,
        |i| jitter[i as usize],
        |i| i % 50 == 0,
    );
    bench.calls(
        "a.b",
        "p",
        1000,
        r0,
        r1,
        |i| jitter[1000 + i as usize],
        |i| i % 50 == 1,
    );
    let config = DiscoveryConfig::default();
    let report = analyze_behavior(&bench.store, &config.runtime_analysis, NOW).expect("behaviour");
    assert_eq!(report.calls_read, 2000);
    assert_eq!(report.versions.len(), 1);
    assert!(report.patterns.is_empty(), "{:#?}", report.patterns);
}

#[test]
fn a_slowdown_is_a_bottleneck_with_the_specifications_severity() {
    for (factor, severity) in [(1.7, Severity::Medium), (3.0, Severity::High)] {
        let bench = Bench::new();
        let mut rng = Lcg(11);
        let (b0, b1) = baseline();
        let (r0, r1) = recent();
        let base: Vec<f64> = (0..600).map(|_| 20.0 + 10.0 * rng.next()).collect();
        bench.calls("a.b", "p", 600, b0, b1, |i| base[i as usize], |_| false);
        bench.calls(
            "a.b",
            "p",
            60,
            r0,
            r1,
            |i| base[i as usize] * factor,
            |_| false,
        );
        let config = DiscoveryConfig::default();
        let report =
            analyze_behavior(&bench.store, &config.runtime_analysis, NOW).expect("behaviour");
        assert_eq!(report.patterns.len(), 1, "{:#?}", report.patterns);
        let p = &report.patterns[0];
        assert_eq!(
            (p.signal.as_str(), p.severity),
            ("latency_degradation", severity)
        );
        let ratio = p.evidence["current_value"].as_f64().expect("current")
            / p.evidence["baseline_value"].as_f64().expect("baseline");
        assert!((ratio - factor).abs() < 0.1, "{ratio}");
    }
}

#[test]
fn too_few_calls_or_too_small_a_change_are_not_judged() {
    let bench = Bench::new();
    let (b0, b1) = baseline();
    let (r0, r1) = recent();
    // Ten times slower, but only 10 recent calls (min_calls is 30).
    bench.calls("a.b", "p", 300, b0, b1, |_| 10.0, |_| false);
    bench.calls("a.b", "p", 10, r0, r1, |_| 100.0, |_| false);
    // Three times slower, but from 0.05 ms to 0.15 ms (under the 1 ms floor).
    bench.calls("c.d", "q", 300, b0, b1, |_| 0.05, |_| false);
    bench.calls("c.d", "q", 100, r0, r1, |_| 0.15, |_| false);
    let config = DiscoveryConfig::default();
    let report = analyze_behavior(&bench.store, &config.runtime_analysis, NOW).expect("behaviour");
    assert!(report.patterns.is_empty(), "{:#?}", report.patterns);
}

#[test]
fn an_error_spike_and_a_high_failure_rate() {
    let bench = Bench::new();
    let (b0, b1) = baseline();
    let (r0, r1) = recent();
    bench.calls("a.b", "p", 500, b0, b1, |_| 5.0, |i| i % 100 == 0);
    bench.calls("a.b", "p", 100, r0, r1, |_| 5.0, |i| i % 3 == 0);
    let config = DiscoveryConfig::default();
    let behavior =
        analyze_behavior(&bench.store, &config.runtime_analysis, NOW).expect("behaviour");
    let spike = behavior
        .patterns
        .iter()
        .find(|p| p.signal == "error_spike")
        .expect("spike");
    assert_eq!(spike.severity, Severity::Critical, "34 % recent failures");
    // Over both windows: 5 + 34 of 600 = 6.5 %, under the 10 % line.
    let usage = analyze_usage(&bench.store, &config, NOW).expect("usage");
    assert_eq!(usage.capabilities[0].failures, 39);
    assert!(!usage.patterns.iter().any(|p| p.signal == "failure_rate"));
}

fn manifest(name: &str, capability: &str, description: &str) -> PluginManifest {
    PluginManifest::from_json(
        serde_json::json!({
            "name": name, "version": "1.0.0", "description": description, "author": "t",
            "runtime": "wasm", "entry_point": "plugin.wasm",
            "provided_capabilities": [capability],
        })
        .to_string()
        .as_bytes(),
    )
    .expect("manifest")
}

#[test]
fn gaps_group_requests_and_name_what_would_close_them() {
    let bench = Bench::new();
    // Calls to a capability nobody serves, and requests naming it.
    bench.calls(
        "text.translate",
        "",
        4,
        NOW - 5 * HOUR,
        NOW - 4 * HOUR,
        |_| 0.1,
        |_| true,
    );
    bench.unmet(
        NOW - 3 * HOUR,
        "ann",
        Some("translate"),
        "translate this into French",
    );
    bench.unmet(
        NOW - 2 * HOUR,
        "bob",
        Some("Text Translate"),
        "in German please",
    );
    // Requests in words only, about the weather: alike, but nobody offers it.
    for (i, text) in [
        "what is the weather in Paris",
        "weather forecast for Berlin tomorrow",
        "will the weather be good in Rome",
        "weather in London this weekend",
        "tell me the weather forecast",
    ]
    .iter()
    .enumerate()
    {
        bench.unmet(NOW - HOUR + i as i64, &format!("w{i}"), None, text);
    }
    // One odd request: low severity, not listed.
    bench.unmet(NOW - 10, "zed", None, "book a table for two");
    let offered = [
        manifest(
            "translator",
            "text.translate",
            "Translates text between languages.",
        ),
        manifest("summarizer", "text.summarize", "Summarises long documents."),
    ];
    let config = DiscoveryConfig::default();
    let usage = analyze_usage(&bench.store, &config, NOW).expect("usage");
    let report = analyze_gaps(&bench.store, &config, &offered, Some(&usage), NOW).expect("gaps");
    assert_eq!(report.gaps.len(), 2, "{:#?}", report.gaps);
    assert_eq!(report.below_min_severity, 1, "the table booking");

    let missing = report
        .gaps
        .iter()
        .find(|g| g.kind == GapKind::MissingCapability)
        .expect("missing");
    assert_eq!(missing.id, "missing:text.translate");
    assert_eq!(missing.demand, 6, "4 calls and 2 requests");
    assert_eq!(missing.severity, Severity::Medium);
    assert_eq!(
        missing.examples,
        ["translate this into French", "in German please"]
    );
    assert_eq!(missing.candidates.len(), 1);
    assert_eq!(missing.candidates[0].plugin, "translator");
    assert_eq!(missing.candidates[0].reason, "provides text.translate");

    let weather = report
        .gaps
        .iter()
        .find(|g| g.kind == GapKind::UnmetRequests)
        .expect("weather");
    assert_eq!((weather.demand, weather.subjects), (5, 5));
    assert!(
        weather.terms.contains(&"weather".to_owned()),
        "{:?}",
        weather.terms
    );
    assert!(
        weather.candidates.is_empty(),
        "nothing offered is about the weather"
    );

    // Switched off piece by piece.
    let mut quiet = config.clone();
    quiet.gap_analysis.market_scan_enabled = false;
    let report = analyze_gaps(&bench.store, &quiet, &offered, Some(&usage), NOW).expect("gaps");
    assert!(report.gaps.iter().all(|g| g.candidates.is_empty()));
    quiet.gap_analysis.analyze_user_requests = false;
    let report = analyze_gaps(&bench.store, &quiet, &offered, Some(&usage), NOW).expect("gaps");
    assert!(report.gaps.is_empty());
    quiet.gap_analysis.min_gap_severity = Severity::Low;
    quiet.gap_analysis.analyze_user_requests = true;
    let report = analyze_gaps(&bench.store, &quiet, &offered, Some(&usage), NOW).expect("gaps");
    assert_eq!(report.gaps.len(), 3);
}
