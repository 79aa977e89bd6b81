//! End-to-end: `GET /metrics` on a real gateway with the example plugins,
//! after successful, failing and unserved calls and during a rollout;
//! the scraped text is checked by value and by `promtool check metrics`.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use common::TestHome;
use serde_json::json;

/// The value of the sample written exactly as `series` (name and labels).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse::<f64>().expect("a number"))
        })
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}

/// `promtool check metrics` on `text`; `None` if promtool is not installed.
fn promtool(text: &str) -> Option<(bool, String)> {
    let mut child = match Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot run promtool: {e}"),
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), report))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_calls_errors_latency_rollouts_and_pass_promtool() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    home.install("json-query-1.0.0");
    home.install("json-query-1.1.0");
    common::start_json_query_rollout(&home);
    let mut gateway = home.serve();

    for i in 0..3 {
        let (status, body) = gateway
            .call("text.stats", &format!("u{i}"), json!({"text": "One. Two."}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, _) = gateway.call("text.stats", "u1", json!({"txt": 1})).await;
    assert_eq!(status, 400);
    let (status, _) = gateway.call("no.such", "u1", json!({})).await;
    assert_eq!(status, 404);
    let mut served = std::collections::HashMap::<String, u32>::new();
    for i in 0..40 {
        let (status, body) = gateway
            .call(
                "json.query",
                &format!("subject-{i}"),
                json!({"document": {"a": [1, 2]}, "path": "$.a[0]"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        *served
            .entry(body["version"].as_str().expect("version").to_owned())
            .or_default() += 1;
    }

    let response = gateway
        .client
        .get(format!("{}/metrics", gateway.url))
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("body");

    let stats = r#"capability="text.stats",plugin="text-stats",version="1.0.0""#;
    assert_eq!(
        sample(&text, &format!("selfup_calls_total{{{stats}}}")),
        4.0
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"selfup_call_errors_total{{{stats},kind="invalid_input"}}"#)
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"selfup_call_errors_total{{{stats},kind="timeout"}}"#)
        ),
        0.0
    );
    assert_eq!(
        sample(
            &text,
            &format!("selfup_call_duration_seconds_count{{{stats}}}")
        ),
        4.0
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"selfup_call_duration_seconds_bucket{{{stats},le="+Inf"}}"#)
        ),
        4.0
    );
    assert!(
        sample(
            &text,
            &format!("selfup_call_duration_seconds_sum{{{stats}}}")
        ) > 0.0
    );
    assert_eq!(sample(&text, "selfup_unserved_calls_total"), 1.0);

    // The rollout: each arm's calls under its own labels, and the weights.
    for (version, arm) in [("1.0.0", "incumbent"), ("1.1.0", "candidate")] {
        let n = served.get(version).copied().unwrap_or(0);
        assert!(n > 0, "no call went to {version}: {served:?}");
        let series = format!(
            r#"selfup_calls_total{{capability="json.query",plugin="json-query",version="{version}",arm="{arm}"}}"#
        );
        assert_eq!(sample(&text, &series), f64::from(n));
    }
    assert_eq!(
        sample(
            &text,
            r#"selfup_rollout_weight{capability="json.query",upgrade_id="7",stage="1",arm="candidate",plugin="json-query",version="1.1.0"}"#
        ),
        0.5
    );
    assert_eq!(
        sample(
            &text,
            r#"selfup_rollout_weight{capability="json.query",upgrade_id="7",stage="1",arm="incumbent",plugin="json-query",version="1.0.0"}"#
        ),
        0.5
    );
    assert_eq!(
        sample(
            &text,
            r#"selfup_rollout_stage{capability="json.query",upgrade_id="7"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(&text, r#"selfup_upgrades{state="rolling_out"}"#),
        1.0
    );
    assert_eq!(
        sample(&text, r#"selfup_upgrades{state="rolled_back"}"#),
        0.0
    );
    assert_eq!(sample(&text, "selfup_store_read_ok"), 1.0);
    let depth = sample(&text, "selfup_telemetry_queue_depth");
    assert!((0.0..=50.0).contains(&depth), "queue depth {depth}");
    assert_eq!(sample(&text, "selfup_telemetry_records_dropped_total"), 0.0);

    match promtool(&text) {
        Some((ok, report)) => assert!(ok, "promtool check metrics:\n{report}\n{text}"),
        None => eprintln!(
            "SKIPPED: promtool is not installed (Debian: apt-get install --no-install-recommends prometheus); the metrics were checked by value only"
        ),
    }
    gateway.stop();
}
