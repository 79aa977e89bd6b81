//! The client end to end against the fake OpenAI-compatible server on
//! loopback: every case over a real socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use selfup_core::clock::Clock;
use selfup_core::config::{LlmConfig, ThinkingMode};
use selfup_llm::fake::{Case, FakeServer};
use selfup_llm::ledger::MemoryLedger;
use selfup_llm::{CallRecord, JsonRequest, Ledger, LlmClient, LlmError};
use serde_json::{Value, json};

/// 2026-11-02T10:00:00Z.
const NOW_MS: i64 = 1_793_613_600_000;
const TODAY: &str = "2026-11-02";

struct FixedClock;

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        NOW_MS
    }
}

fn config(base_url: &str) -> LlmConfig {
    LlmConfig {
        model: "gpt-5.2".into(),
        temperature: 0.3,
        thinking_mode: ThinkingMode::High,
        base_url: base_url.into(),
        api_key_env: "SELFUP_LLM_TEST_SURELY_UNSET".into(),
        max_tokens: 2000,
        timeout_seconds: 5.0,
        max_retries: 2,
        daily_token_budget: 0,
        daily_cost_budget_usd: 0.0,
        input_cost_per_million_tokens: 1.75,
        output_cost_per_million_tokens: 14.0,
        store_prompts: false,
    }
}

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "decision": {"type": "string", "enum": ["approve", "reject", "defer"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reasoning": {"type": "string"},
        },
        "required": ["decision", "confidence", "reasoning"],
        "additionalProperties": false,
    })
}

fn decision() -> Value {
    json!({"decision": "approve", "confidence": 0.8, "reasoning": "faster and no new permissions"})
}

fn request() -> JsonRequest {
    JsonRequest {
        purpose: "decision".into(),
        system: "You evaluate upgrades.".into(),
        user: "Evaluate text-summarize 2.0.0.".into(),
        schema_name: "upgrade_evaluation".into(),
        schema: schema(),
    }
}

struct Setup {
    server: FakeServer,
    client: LlmClient,
    ledger: Arc<MemoryLedger>,
}

async fn setup_with(cases: Vec<Case>, tweak: impl FnOnce(&mut LlmConfig)) -> Setup {
    let server = FakeServer::start().await.expect("fake server");
    server.push(cases);
    server.set_producer(|_| decision());
    let mut cfg = config(&server.base_url());
    tweak(&mut cfg);
    let ledger = Arc::new(MemoryLedger::new());
    let client = LlmClient::new(&cfg, ledger.clone(), Arc::new(FixedClock)).expect("client");
    Setup {
        server,
        client,
        ledger,
    }
}

async fn setup(cases: Vec<Case>) -> Setup {
    setup_with(cases, |_| {}).await
}

#[tokio::test]
async fn a_valid_decision_is_returned_and_recorded() {
    let s = setup(vec![Case::Valid(decision())]).await;
    s.server.set_usage(1_000, 500);
    let answer = s.client.complete_json(&request()).await.expect("answer");
    assert_eq!(answer.value, decision());
    assert_eq!(answer.model, "gpt-5.2");
    assert_eq!(answer.attempts, 1);
    assert_eq!(
        (answer.prompt_tokens, answer.completion_tokens),
        (1_000, 500)
    );
    // 1000/1e6 * 1.75 + 500/1e6 * 14
    assert!(
        (answer.cost_usd - 0.00875).abs() < 1e-12,
        "{}",
        answer.cost_usd
    );
    assert_eq!(answer.prompt_sha256.len(), 64);

    let calls = s.ledger.calls();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!((c.outcome.as_str(), c.day.as_str()), ("ok", TODAY));
    assert_eq!(
        (c.prompt_tokens, c.completion_tokens, c.attempts),
        (1_000, 500, 1)
    );
    assert!(
        c.prompt.is_none() && c.answer.is_none(),
        "store_prompts is off"
    );
    assert_eq!(answer.call_id, Some(1));
}

#[tokio::test]
async fn the_body_speaks_the_wire_format_for_a_local_server() {
    let s = setup(vec![Case::Valid(decision())]).await;
    s.client.complete_json(&request()).await.expect("answer");
    let received = s.server.received();
    assert_eq!(received.len(), 1);
    let body = &received[0].body;
    assert_eq!(body["model"], "gpt-5.2");
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["role"], "user");
    assert_eq!(
        body["messages"][1]["content"],
        "Evaluate text-summarize 2.0.0."
    );
    let rf = &body["response_format"];
    assert_eq!(rf["type"], "json_schema");
    assert_eq!(rf["json_schema"]["name"], "upgrade_evaluation");
    assert_eq!(rf["json_schema"]["strict"], true);
    assert_eq!(rf["json_schema"]["schema"], schema());
    assert_eq!(body["max_tokens"], 2000);
    assert!(body.get("max_completion_tokens").is_none());
    assert_eq!(body["temperature"], 0.3);
    assert_eq!(body["reasoning_effort"], "high");
    assert_eq!(received[0].headers["content-type"], "application/json");
}

#[tokio::test]
async fn malformed_json_is_a_failed_call() {
    let s = setup(vec![Case::MalformedJson]).await;
    let f = s.client.complete_json(&request()).await.expect_err("fails");
    assert!(
        matches!(f.error, LlmError::InvalidJson { .. }),
        "{}",
        f.error
    );
    assert_eq!(f.attempts, 1, "a bad answer is not retried");
    assert_eq!(s.ledger.calls()[0].outcome, "invalid_json");
    assert!(f.prompt_tokens > 0, "the tokens were spent anyway");
}

#[tokio::test]
async fn a_refusal_is_a_failed_call() {
    let s = setup(vec![Case::Refusal]).await;
    let f = s.client.complete_json(&request()).await.expect_err("fails");
    match &f.error {
        LlmError::Refused { refusal } => assert!(refusal.contains("can't help")),
        other => panic!("{other}"),
    }
    assert_eq!(s.ledger.calls()[0].outcome, "refused");
}

#[tokio::test]
async fn a_truncated_answer_is_a_failed_call() {
    let s = setup(vec![Case::Truncated]).await;
    let f = s.client.complete_json(&request()).await.expect_err("fails");
    assert_eq!(f.error, LlmError::Truncated { max_tokens: 2000 });
    assert!(f.error.to_string().contains("max_tokens"));
    assert_eq!(s.ledger.calls()[0].outcome, "truncated");
}

#[tokio::test]
async fn json_not_fitting_the_schema_is_a_failed_call() {
    let s = setup(vec![Case::Valid(
        json!({"decision": "maybe", "confidence": 2, "reasoning": "x", "extra": 1}),
    )])
    .await;
    let f = s.client.complete_json(&request()).await.expect_err("fails");
    match &f.error {
        LlmError::SchemaMismatch { schema, errors } => {
            assert_eq!(schema, "upgrade_evaluation");
            assert!(errors.len() >= 3, "{errors:?}");
            assert!(errors.iter().any(|e| e.contains("/decision")), "{errors:?}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(s.ledger.calls()[0].outcome, "schema_mismatch");
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_after_the_wait() {
    let s = setup(vec![
        Case::Status(429, vec![("retry-after".into(), "1".into())]),
        Case::Valid(decision()),
    ])
    .await;
    let answer = s.client.complete_json(&request()).await.expect("answer");
    assert_eq!(answer.attempts, 2);
    let r = s.server.received();
    assert_eq!(r.len(), 2);
    let gap = r[1].at - r[0].at;
    assert!(
        gap >= Duration::from_millis(950) && gap < Duration::from_millis(1_600),
        "waited {gap:?}"
    );
    assert_eq!(s.ledger.calls()[0].attempts, 2);
}

#[tokio::test]
async fn a_500_then_success_is_retried_with_backoff() {
    let s = setup(vec![Case::Status(500, vec![]), Case::Valid(decision())]).await;
    let answer = s.client.complete_json(&request()).await.expect("answer");
    assert_eq!(answer.attempts, 2);
    let r = s.server.received();
    let gap = r[1].at - r[0].at;
    // 0.5 s less up to 25 % jitter.
    assert!(
        gap >= Duration::from_millis(370) && gap < Duration::from_millis(900),
        "{gap:?}"
    );
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    for status in [400, 401, 403, 404, 422] {
        let s = setup(vec![
            Case::Status(status, vec![("x-should-retry".into(), "true".into())]),
            Case::Valid(decision()),
        ])
        .await;
        let f = s.client.complete_json(&request()).await.expect_err("fails");
        assert_eq!(f.attempts, 1, "{status}");
        match &f.error {
            LlmError::Status { status: got, body } => {
                assert_eq!(*got, status);
                assert!(body.contains("told to fail"), "{body}");
            }
            other => panic!("{status}: {other}"),
        }
        assert_eq!(s.server.received().len(), 1);
    }
}

#[tokio::test]
async fn x_should_retry_false_stops_retries() {
    let s = setup(vec![
        Case::Status(503, vec![("x-should-retry".into(), "false".into())]),
        Case::Valid(decision()),
    ])
    .await;
    let f = s.client.complete_json(&request()).await.expect_err("fails");
    assert_eq!(f.attempts, 1);
}

#[tokio::test]
async fn retries_run_out_after_max_retries() {
    let s = setup(vec![
        Case::Status(503, vec![]),
        Case::Status(502, vec![]),
        Case::Status(500, vec![]),
        Case::Valid(decision()),
    ])
    .await;
    let f = s.client.complete_json(&request()).await.expect_err("fails");
    assert_eq!(f.attempts, 3);
    assert!(
        matches!(f.error, LlmError::Status { status: 500, .. }),
        "{}",
        f.error
    );
    assert_eq!(s.server.pending(), 1, "the fourth case was never asked for");
    assert_eq!(s.ledger.calls()[0].outcome, "status");
}

#[tokio::test]
async fn a_retry_after_beyond_a_minute_is_not_waited_for() {
    let s = setup(vec![
        Case::Status(429, vec![("retry-after".into(), "120".into())]),
        Case::Valid(decision()),
    ])
    .await;
    let started = Instant::now();
    let f = s.client.complete_json(&request()).await.expect_err("fails");
    assert_eq!(f.attempts, 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_hang_past_the_timeout_times_out_on_every_attempt() {
    let s = setup_with(
        vec![
            Case::Hang(Duration::from_secs(5)),
            Case::Hang(Duration::from_secs(5)),
            Case::Hang(Duration::from_secs(5)),
        ],
        |c| c.timeout_seconds = 0.3,
    )
    .await;
    let started = Instant::now();
    let f = s.client.complete_json(&request()).await.expect_err("fails");
    let elapsed = started.elapsed();
    assert_eq!(f.error, LlmError::Timeout { seconds: 0.3 });
    assert_eq!(f.attempts, 3);
    assert_eq!(s.server.received().len(), 3);
    // Three timeouts of 0.3 s plus backoffs of about 0.5 s and 1 s.
    assert!(
        elapsed >= Duration::from_millis(1_900) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
    assert_eq!(s.ledger.calls()[0].outcome, "timeout");
}

#[tokio::test]
async fn a_connection_refused_is_retried_then_reported() {
    let server = FakeServer::start().await.expect("server");
    let url = server.base_url();
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ledger = Arc::new(MemoryLedger::new());
    let mut cfg = config(&url);
    cfg.max_retries = 1;
    let client = LlmClient::new(&cfg, ledger.clone(), Arc::new(FixedClock)).expect("client");
    let f = client.complete_json(&request()).await.expect_err("fails");
    assert!(
        matches!(f.error, LlmError::Connection { .. }),
        "{}",
        f.error
    );
    assert_eq!(f.attempts, 2);
    assert_eq!(ledger.calls()[0].outcome, "connection");
}

fn spent(tokens: u64, cost: f64) -> CallRecord {
    CallRecord {
        ts_ms: NOW_MS - 1_000,
        day: TODAY.into(),
        purpose: "decision".into(),
        model: "gpt-5.2".into(),
        prompt_sha256: "00".repeat(32),
        prompt: None,
        answer: None,
        outcome: "ok".into(),
        error: None,
        latency_ms: 1.0,
        attempts: 1,
        prompt_tokens: tokens,
        completion_tokens: 0,
        cost_usd: cost,
    }
}

#[tokio::test]
async fn a_spent_token_budget_sends_no_request() {
    let s = setup_with(vec![Case::Valid(decision())], |c| {
        c.daily_token_budget = 1_000
    })
    .await;
    s.ledger.record(&spent(1_000, 0.01)).expect("record");
    let f = s.client.complete_json(&request()).await.expect_err("fails");
    assert_eq!(
        f.error,
        LlmError::BudgetExhausted {
            what: "token",
            spent: 1_000.0,
            limit: 1_000.0
        }
    );
    assert_eq!(f.attempts, 0);
    assert!(s.server.received().is_empty());
    assert!(f.error.to_string().contains("daily_token_budget"));
    assert_eq!(s.ledger.calls()[1].outcome, "budget_exhausted");
}

#[tokio::test]
async fn a_spent_cost_budget_sends_no_request_but_yesterday_does_not_count() {
    let s = setup_with(vec![Case::Valid(decision())], |c| {
        c.daily_cost_budget_usd = 0.5;
    })
    .await;
    let mut yesterday = spent(10, 9.0);
    yesterday.day = "2026-11-01".into();
    s.ledger.record(&yesterday).expect("record");
    s.client
        .complete_json(&request())
        .await
        .expect("under budget");
    s.ledger.record(&spent(10, 0.5)).expect("record");
    let f = s.client.complete_json(&request()).await.expect_err("fails");
    assert!(
        matches!(f.error, LlmError::BudgetExhausted { what: "cost", .. }),
        "{}",
        f.error
    );
    assert!(f.error.to_string().contains("daily_cost_budget_usd"));
    assert_eq!(s.server.received().len(), 1);
}

#[tokio::test]
async fn the_api_key_header_is_sent_only_when_there_is_a_key() {
    let s = setup(vec![Case::Valid(decision())]).await;
    s.client.complete_json(&request()).await.expect("answer");
    assert!(!s.server.received()[0].headers.contains_key("authorization"));

    let ledger = Arc::new(MemoryLedger::new());
    let cfg = config(&s.server.base_url());
    let keyed = LlmClient::with_api_key(
        &cfg,
        Some("sk-test".into()),
        ledger.clone(),
        Arc::new(FixedClock),
    )
    .expect("client");
    keyed.complete_json(&request()).await.expect("answer");
    assert_eq!(
        s.server.received()[1].headers["authorization"],
        "Bearer sk-test"
    );

    let empty =
        LlmClient::with_api_key(&cfg, Some(" ".into()), ledger.clone(), Arc::new(FixedClock))
            .expect("client");
    empty.complete_json(&request()).await.expect("answer");
    assert!(!s.server.received()[2].headers.contains_key("authorization"));

    // `new` reads the variable the configuration names (PATH is always set).
    if let Ok(path) = std::env::var("PATH") {
        let mut cfg = cfg.clone();
        cfg.api_key_env = "PATH".into();
        let from_env = LlmClient::new(&cfg, ledger, Arc::new(FixedClock)).expect("client");
        from_env.complete_json(&request()).await.expect("answer");
        assert_eq!(
            s.server.received()[3].headers["authorization"],
            format!("Bearer {}", path.trim())
        );
    }
}

#[tokio::test]
async fn a_400_naming_reasoning_effort_is_resent_without_it() {
    let s = setup(vec![
        Case::Error {
            status: 400,
            message: "\"llama3.2\" does not support thinking".into(),
            param: None,
        },
        Case::Valid(decision()),
        Case::Valid(decision()),
    ])
    .await;
    let answer = s.client.complete_json(&request()).await.expect("answer");
    assert_eq!(answer.attempts, 2);
    let r = s.server.received();
    assert_eq!(r[0].body["reasoning_effort"], "high");
    assert!(r[1].body.get("reasoning_effort").is_none());
    assert!(!s.client.dialect().reasoning_effort);
    // Remembered for the next call.
    s.client.complete_json(&request()).await.expect("answer");
    assert!(
        s.server.received()[2]
            .body
            .get("reasoning_effort")
            .is_none()
    );
}

#[tokio::test]
async fn openai_gets_max_completion_tokens_and_no_temperature() {
    let s = setup(vec![]).await;
    let cfg = config("https://api.openai.com/v1");
    let client = LlmClient::new(&cfg, s.ledger.clone(), Arc::new(FixedClock)).expect("client");
    let d = client.dialect();
    assert_eq!(d.token_field.name(), "max_completion_tokens");
    assert!(!d.temperature && d.reasoning_effort);
}

#[tokio::test]
async fn a_bad_config_is_refused() {
    let ledger = Arc::new(MemoryLedger::new());
    for tweak in [
        |c: &mut LlmConfig| c.base_url = "ftp://example.invalid".into(),
        |c: &mut LlmConfig| c.base_url = "not a url".into(),
        |c: &mut LlmConfig| c.timeout_seconds = 0.0,
        |c: &mut LlmConfig| c.max_tokens = 0,
    ] {
        let mut cfg = config("http://127.0.0.1:9/v1");
        tweak(&mut cfg);
        let e = LlmClient::new(&cfg, ledger.clone(), Arc::new(FixedClock)).expect_err("refused");
        assert!(matches!(e, LlmError::BadConfig { .. }), "{e}");
    }
}

#[tokio::test]
async fn the_store_keeps_prompts_only_when_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store =
        Arc::new(selfup_store::Store::open(&selfup_store::Home::new(dir.path())).expect("store"));
    let server = FakeServer::start().await.expect("server");
    server.set_producer(|_| decision());
    server.set_usage(300, 40);
    for store_prompts in [false, true] {
        let mut cfg = config(&server.base_url());
        cfg.store_prompts = store_prompts;
        let client = LlmClient::new(&cfg, store.clone(), Arc::new(FixedClock)).expect("client");
        let answer = client.complete_json(&request()).await.expect("answer");
        let id = answer.call_id.expect("recorded");
        let row = store.llm_call(id).expect("read").expect("row").call;
        assert_eq!(row.outcome, "ok");
        assert_eq!(row.prompt_sha256, answer.prompt_sha256);
        assert_eq!((row.prompt_tokens, row.completion_tokens), (300, 40));
        assert!((row.cost_usd - answer.cost_usd).abs() < 1e-15);
        if store_prompts {
            let prompt = row.prompt.expect("prompt kept");
            assert!(prompt.contains("Evaluate text-summarize 2.0.0."));
            assert_eq!(
                selfup_llm::request::prompt_sha256(&prompt),
                row.prompt_sha256
            );
            let answer_text = row.answer.expect("answer kept");
            assert_eq!(
                serde_json::from_str::<Value>(&answer_text).expect("json"),
                decision()
            );
        } else {
            assert!(row.prompt.is_none() && row.answer.is_none());
        }
    }
    let (tokens, cost) = Ledger::spent_on(store.as_ref(), TODAY).expect("spent");
    assert_eq!(tokens, 680);
    assert!(cost > 0.0);
}
