//! `selfup patterns list|trends` and `selfup gaps` on a home that served
//! real traffic through the gateway.

mod common;

use common::{TestHome, plugins_dir};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patterns_and_gaps_from_served_traffic() {
    let home = TestHome::new();
    let catalog = home.path().join("offered");
    std::fs::create_dir_all(&catalog).expect("catalog dir");
    std::fs::copy(
        plugins_dir().join("unit-convert-1.0.0.zip"),
        catalog.join("unit-convert-1.0.0.zip"),
    )
    .expect("copy");
    home.config(&format!(
        "  catalog:\n    directory: {}\n",
        common::yaml_path(&catalog)
    ));
    home.install("text-stats-1.0.0");
    let token = home.token();
    let mut gateway = home.serve();
    for i in 0..40 {
        let (status, _) = gateway
            .call(
                "text.stats",
                &format!("user-{}", i % 4),
                json!({"text": "One. Two."}),
            )
            .await;
        assert_eq!(status, 200);
    }
    gateway.token = Some(token);
    for i in 0..6 {
        let (status, body) = gateway
            .post(
                "/v1/events",
                json!({"type": "unmet_request", "intent": "convert", "text": format!("convert {i} miles to km"), "subject": format!("user-{i}")}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    gateway.stop();

    // Gaps: the conversions nobody serves, closed by the catalog's unit-convert.
    let gaps: serde_json::Value =
        serde_json::from_str(&home.ok(&["gaps", "--json"])).expect("gaps json");
    let gap = &gaps["gaps"][0];
    assert_eq!(gap["id"], "missing:unit.convert", "{gaps:#}");
    assert_eq!(gap["kind"], "missing_capability");
    assert_eq!(gap["demand"], 6);
    assert_eq!(gap["subjects"], 6);
    assert_eq!(
        gap["severity"], "medium",
        "6 requests: at least min_pattern_frequency (5)"
    );
    assert_eq!(gap["candidates"][0]["plugin"], "unit-convert");
    let text = home.ok(&["gaps"]);
    assert!(
        text.starts_with("[MEDIUM] missing:unit.convert — unit.convert was asked for 6 times and nobody serves it\n"),
        "{text}"
    );
    assert!(
        text.contains("    closed by unit-convert@1.0.0 (provides unit.convert)\n"),
        "{text}"
    );

    // Patterns: the usage analysis sees text.stats serving every call.
    let list: serde_json::Value =
        serde_json::from_str(&home.ok(&["patterns", "list", "--json"])).expect("list json");
    let sources: Vec<&str> = list["scans"]
        .as_array()
        .expect("scans")
        .iter()
        .map(|s| s["source"].as_str().expect("source"))
        .collect();
    assert_eq!(sources, ["runtime", "usage"]);
    let frequency = list["patterns"]
        .as_array()
        .expect("patterns")
        .iter()
        .find(|p| p["pattern"]["signal"] == "call_frequency")
        .expect("call frequency pattern");
    assert_eq!(
        frequency["pattern"]["affected_components"],
        json!(["text.stats"])
    );
    assert_eq!(frequency["pattern"]["evidence"]["calls"], 40);
    let text = home.ok(&["patterns", "list"]);
    assert!(
        text.contains("no code scan yet: run `selfup patterns scan [PATH...]`"),
        "{text}"
    );
    assert!(
        text.contains("USAGE_PATTERN  call_frequency  text.stats serves 100% of calls"),
        "{text}"
    );

    // Trends: two listings, two analyses each.
    home.ok(&["patterns", "list"]);
    let trends: serde_json::Value =
        serde_json::from_str(&home.ok(&["patterns", "trends", "--days", "7", "--json"]))
            .expect("trends json");
    assert_eq!(trends["scans"], 6, "{trends:#}");
    assert_eq!(trends["total_patterns"], 1);
    assert_eq!(trends["persistent"], 1);
    let text = home.ok(&["patterns", "trends"]);
    assert!(
        text.starts_with("Pattern trends (last 7 days, since "),
        "{text}"
    );
    assert!(text.contains("by type:     USAGE_PATTERN 1"), "{text}");
}
