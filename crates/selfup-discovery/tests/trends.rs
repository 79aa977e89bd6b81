//! Trends over the pattern history the store keeps.

use selfup_core::pattern::{Pattern, PatternKind, Severity};
use selfup_discovery::trends::trends;
use selfup_store::{Home, Store};

const DAY: i64 = 86_400_000;

fn pattern(id: &str, kind: PatternKind, severity: Severity, confidence: f64) -> Pattern {
    Pattern {
        id: id.into(),
        kind,
        signal: "test".into(),
        description: id.into(),
        severity,
        confidence,
        affected_components: vec!["c".into()],
        locations: Vec::new(),
        evidence: serde_json::Value::Null,
    }
}

#[test]
fn trends_count_by_day_and_follow_patterns_across_scans() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&Home::new(dir.path())).expect("store");
    let now = 100 * DAY + 12 * 3_600_000;
    let summary = serde_json::json!({});
    let slow = |s| pattern("latency:a", PatternKind::Bottleneck, s, 0.9);
    let failing = pattern(
        "failure:b",
        PatternKind::PerformancePattern,
        Severity::High,
        0.5,
    );
    let clone = pattern(
        "clone:1",
        PatternKind::CodeRepetition,
        Severity::Medium,
        0.4,
    );
    let old = pattern("old", PatternKind::UsagePattern, Severity::Low, 0.2);

    // Ten days ago: outside a 7-day window.
    store
        .record_patterns(
            "runtime",
            now - 10 * DAY,
            &summary,
            std::slice::from_ref(&old),
        )
        .expect("r0");
    // Three days ago and yesterday: the slow version and the failing one.
    store
        .record_patterns(
            "runtime",
            now - 3 * DAY,
            &summary,
            &[slow(Severity::Medium), failing.clone()],
        )
        .expect("r1");
    store
        .record_patterns(
            "code",
            now - 3 * DAY,
            &summary,
            std::slice::from_ref(&clone),
        )
        .expect("c1");
    store
        .record_patterns(
            "runtime",
            now - DAY,
            &summary,
            &[slow(Severity::High), failing],
        )
        .expect("r2");
    // Today: the failure is gone, a new pattern appears; code unchanged.
    let new = pattern(
        "sequence:x>y",
        PatternKind::UsagePattern,
        Severity::Low,
        0.6,
    );
    store
        .record_patterns("runtime", now, &summary, &[slow(Severity::High), new])
        .expect("r3");
    store
        .record_patterns("code", now, &summary, &[clone])
        .expect("c2");

    let t = trends(&store, 7, now + 1).expect("trends");
    assert_eq!(
        t.overall.scans, 5,
        "the scan ten days ago is outside the window"
    );
    assert_eq!(t.overall.total_patterns, 4);
    assert_eq!(t.overall.by_kind["BOTTLENECK"], 1);
    assert_eq!(t.overall.by_kind["USAGE_PATTERN"], 1);
    assert_eq!(
        t.overall.by_severity["high"], 2,
        "the slow version counts at its worst"
    );
    assert_eq!(t.overall.by_severity["medium"], 1);
    assert_eq!(t.overall.by_severity["low"], 1);
    assert!((t.overall.average_confidence - (0.9 + 0.5 + 0.4 + 0.6) / 4.0).abs() < 1e-9);

    let days: Vec<i64> = t
        .by_day
        .iter()
        .map(|d| (now - d.day_start_ms) / DAY)
        .collect();
    assert_eq!(days, [3, 1, 0]);
    assert_eq!(t.by_day[0].tally.scans, 2);
    assert_eq!(t.by_day[0].tally.total_patterns, 3);
    assert_eq!(t.by_day[2].tally.total_patterns, 3);

    let ids = |v: &[selfup_discovery::trends::PatternChange]| {
        v.iter().map(|c| c.pattern_id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&t.new), ["sequence:x>y"]);
    assert_eq!(ids(&t.resolved), ["failure:b"]);
    assert_eq!(t.persistent, 2, "the slow version and the clone");
    assert_eq!(t.resolved[0].last_seen_ms, now - DAY);
}

#[test]
fn no_history_gives_empty_trends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&Home::new(dir.path())).expect("store");
    let t = trends(&store, 7, 1_000 * DAY).expect("trends");
    assert_eq!(t.overall.scans, 0);
    assert_eq!(t.overall.average_confidence, 0.0);
    assert!(t.by_day.is_empty() && t.new.is_empty() && t.resolved.is_empty());
}
