//! End-to-end: `selfup serve` over real HTTP.

mod common;

use std::time::{Duration, Instant};

use common::TestHome;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_listings_events_and_live_registry_changes() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    home.install("json-query-1.0.0");
    let mut gateway = home.serve();

    let (status, body) = gateway
        .call("text.stats", "alice", json!({"text": "Hello world. Bye."}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["output"]["words"], 3);
    assert_eq!(body["output"]["sentences"], 2);
    assert_eq!(body["plugin"], "text-stats");
    assert_eq!(body["version"], "1.0.0");
    assert!(body["latency_ms"].as_f64().expect("latency") > 0.0);

    let (status, body) = gateway
        .call(
            "json.query",
            "bob",
            json!({"document": {"a": {"b": [1, 2, 3]}}, "path": "$.a.b[-1]"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["output"]["result"], 3);

    let caps = gateway.get("/v1/capabilities").await;
    assert_eq!(
        caps,
        json!([
            {"capability": "json.query", "active": "json-query@1.0.0", "providers": ["json-query@1.0.0"]},
            {"capability": "text.stats", "active": "text-stats@1.0.0", "providers": ["text-stats@1.0.0"]},
        ])
    );
    let plugins = gateway.get("/v1/plugins").await;
    assert_eq!(plugins.as_array().expect("array").len(), 2);
    assert_eq!(plugins[1]["name"], "text-stats");
    assert_eq!(plugins[1]["stats"]["calls"], 1);
    let health = gateway.get("/healthz").await;
    assert_eq!(health["status"], "ok");

    // Errors: stable kinds and fitting statuses.
    let (status, body) = gateway.call("no.such", "alice", json!({})).await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (404, Some("unknown_capability"))
    );
    let (status, body) = gateway.call("text.stats", "alice", json!({"txt": 1})).await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (400, Some("invalid_input")),
        "{body}"
    );
    assert_eq!(body["plugin"], "text-stats");
    let (status, body) = gateway
        .post_raw("/v1/capabilities/text.stats/call", "{not json")
        .await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (400, Some("invalid_input")),
        "{body}"
    );
    let (status, body) = gateway
        .post_raw("/v1/capabilities/text.stats/call", r#"{"subject":"x"}"#)
        .await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (400, Some("invalid_input")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("input"),
        "{body}"
    );

    // Agent events change state: they need a token.
    let (status, body) = gateway
        .post(
            "/v1/events",
            json!({"type": "unmet_request", "intent": "translate"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );
    gateway.token = Some(home.token());
    let (status, body) = gateway
        .post("/v1/events", json!({"type": "unmet_request", "intent": "translate", "text": "in French please", "subject": "alice"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["id"].as_i64().expect("id") > 0);
    let (status, body) = gateway
        .post("/v1/events", json!({"type": "complaint"}))
        .await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (400, Some("invalid_input"))
    );
    let (status, _) = gateway
        .post("/v1/events", json!({"type": "unmet_request"}))
        .await;
    assert_eq!(status, 400);

    // A registry change by another process reaches the running gateway.
    home.install("text-summarize-1.0.0");
    home.ok(&["plugin", "remove", "text-stats"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _) = gateway
            .call("text.summarize", "alice", json!({"text": "One. Two."}))
            .await;
        let (gone, _) = gateway
            .call("text.stats", "alice", json!({"text": "x"}))
            .await;
        if status == 200 && gone == 404 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the gateway did not pick up the registry change"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    gateway.stop();
    let summary: serde_json::Value =
        serde_json::from_str(&home.ok(&["telemetry", "summary", "--json"])).expect("summary");
    let unknown = summary
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["capability"] == "no.such")
        .expect("calls nobody could serve are recorded too");
    assert_eq!(unknown["errors_by_kind"]["unknown_capability"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_limit_yields_its_kind_while_other_plugins_keep_serving() {
    let home = TestHome::new();
    for id in [
        "test-spin-1.0.0",
        "test-alloc-1.0.0",
        "test-trap-1.0.0",
        "test-files-1.0.0",
        "test-echo-1.0.0",
    ] {
        home.install(id);
    }
    let gateway = home.serve();

    let spin = gateway.call("test.spin", "s", json!({"spin": true}));
    let others = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        for i in 0..20 {
            let (status, body) = gateway.call("test.echo", "e", json!({"i": i})).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["output"]["i"], i);
        }
        let (status, body) = gateway
            .call("test.alloc", "a", json!({"alloc": true}))
            .await;
        assert_eq!(
            (status, body["error"]["kind"].as_str()),
            (503, Some("resource_exhausted")),
            "{body}"
        );
        let (status, body) = gateway
            .call("test.read-file", "f", json!({"path": "/etc/passwd"}))
            .await;
        assert_eq!(
            (status, body["error"]["kind"].as_str()),
            (502, Some("plugin_error")),
            "{body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .expect("msg")
                .contains("No such file"),
            "{body}"
        );
        let (status, body) = gateway.call("test.trap", "t", json!({"trap": true})).await;
        assert_eq!(
            (status, body["error"]["kind"].as_str()),
            (502, Some("plugin_error")),
            "{body}"
        );
        started.elapsed()
    };
    let ((status, body), others_took) = tokio::join!(spin, others);
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (504, Some("timeout")),
        "{body}"
    );
    assert!(
        others_took < Duration::from_millis(900),
        "other plugins waited for the spinning one: {others_took:?}"
    );

    // Every plugin serves again on a fresh instance.
    for (cap, input) in [
        ("test.spin", json!({"spin": false})),
        ("test.alloc", json!({"alloc": false})),
        ("test.trap", json!({"trap": false})),
    ] {
        let (status, body) = gateway.call(cap, "again", input).await;
        assert_eq!(status, 200, "{cap}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_calls_are_all_answered_and_recorded() {
    let home = TestHome::new();
    home.install("text-stats-1.0.0");
    home.install("text-summarize-1.0.0");
    let mut gateway = home.serve();
    let gateway_ref = &gateway;
    let calls = (0..64).map(|i| async move {
        let (cap, input) = if i % 2 == 0 {
            ("text.stats", json!({"text": format!("Call {i}. Second sentence.")}))
        } else {
            ("text.summarize", json!({"text": format!("Call {i}. Second sentence. Third one."), "max_sentences": 1}))
        };
        gateway_ref.call(cap, &format!("user-{i}"), input).await
    });
    let results = futures::future::join_all(calls).await;
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
    }
    gateway.stop();
    let summary: serde_json::Value =
        serde_json::from_str(&home.ok(&["telemetry", "summary", "--json"])).expect("summary");
    let total: u64 = summary
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["calls"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total, 64, "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_rate_limits_body_caps_and_the_lifecycle_api() {
    let home = TestHome::new();
    home.install("test-echo-1.0.0");
    home.config("  gateway:\n    rate_limit_per_second: 20\n    rate_limit_burst: 20\n");
    let mut gateway = home.serve();

    // Tokens: none, a live one, a revoked one.
    let event = json!({"type": "task_outcome", "text": "done"});
    let (status, body) = gateway.post("/v1/events", event.clone()).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("selfup token create"),
        "{body}"
    );
    let token = home.token();
    gateway.token = Some(token.clone());
    let (status, _) = gateway.post("/v1/events", event.clone()).await;
    assert_eq!(status, 201);
    let listed: serde_json::Value =
        serde_json::from_str(&home.ok(&["token", "list", "--json"])).expect("tokens");
    let id = listed[0]["id"].as_i64().expect("id");
    assert!(
        !home.ok(&["token", "list"]).contains(&token),
        "secrets are never listed"
    );
    home.ok(&["token", "revoke", &id.to_string()]);
    let (status, body) = gateway.post("/v1/events", event.clone()).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("revoked"),
        "{body}"
    );
    gateway.token = Some(home.token());

    // The lifecycle API: reads are open, writes need the token.
    assert_eq!(gateway.get("/v1/upgrades").await, json!([]));
    let (status, body) = gateway
        .post("/v1/upgrades/99/approve", json!({"reason": "looks good"}))
        .await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    let (status, body) = gateway
        .post("/v1/upgrades/99/approve", json!({"reason": " "}))
        .await;
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (400, Some("invalid_input")),
        "{body}"
    );
    let anonymous = reqwest::Client::new()
        .post(format!("{}/v1/upgrades/99/rollback", gateway.url))
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status().as_u16(), 401);
    assert_eq!(
        anonymous
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );

    // A body over the cap is refused.
    let big = "x".repeat(5 * 1024 * 1024);
    let response = reqwest::Client::new()
        .post(format!("{}/v1/capabilities/test.echo/call", gateway.url))
        .header("content-type", "application/json")
        .body(format!("{{\"input\": \"{big}\"}}"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 413);

    // A flood is rate-limited with Retry-After.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let mut limited = None;
    for i in 0..60 {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/capabilities/test.echo/call", gateway.url))
            .json(&json!({"input": {"i": i}}))
            .send()
            .await
            .expect("request");
        if response.status().as_u16() == 429 {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("a flood of 60 requests against 20/s is limited");
    let retry: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(retry >= 1, "{retry}");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"]["kind"], "rate_limited");
    gateway.stop();
}
