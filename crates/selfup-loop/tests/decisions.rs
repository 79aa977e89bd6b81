//! The `llm` and `hybrid` engines against an OpenAI-compatible server on
//! loopback that speaks the real wire format and plays every case: a valid
//! decision, malformed JSON, a refusal, a truncated answer, 429 with
//! Retry-After, 500 then success, a hang past the timeout. Each ends in the
//! documented decision, none lets a proposal above the risk line through
//! without a human, the daily cap holds whatever the LLM says, and every
//! decision keeps its trail.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{World, test_config};
use selfup_core::config::{DecisionEngine as EngineName, LoopConfig};
use selfup_core::upgrade::UpgradeState;
use selfup_llm::LlmClient;
use selfup_llm::fake::{Case, FakeServer};
use selfup_loop::llm_engine::{LlmEngine, Mode};

/// json-query 1.0.0 → 1.1.0 is a minor version (risk 0.15); text-summarize
/// 1.0.0 → 2.0.0 a major one (risk 0.35), above this configuration's line.
fn config(engine: EngineName) -> LoopConfig {
    let mut config = test_config();
    config.decision.engine = engine;
    config.decision.auto_approve_threshold = 0.6;
    config.decision.require_human_approval_above_risk = 0.3;
    config.decision.llm.timeout_seconds = 0.4;
    config.decision.llm.max_retries = 2;
    config
}

fn approve(confidence: f64) -> serde_json::Value {
    serde_json::json!({
        "decision": "approve",
        "confidence": confidence,
        "reasoning": "The new version fixes reported failures and keeps the same permissions.",
        "risk_assessment": {
            "technical": "low", "security": "low", "performance": "low", "operational": "low"
        },
        "recommendations": ["watch the error rate during the canary"]
    })
}

async fn world_with(engine: Mode, config: LoopConfig, server: &FakeServer) -> World {
    let mut world = World::new(
        config.clone(),
        &["json-query-1.0.0", "text-summarize-1.0.0"],
        &["json-query-1.1.0", "text-summarize-2.0.0"],
    );
    let mut llm = config.decision.llm.clone();
    llm.base_url = server.base_url();
    let client = Arc::new(
        LlmClient::with_api_key(
            &llm,
            Some("sk-test".to_owned()),
            world.store.clone(),
            Arc::new(world.clock.clone()),
        )
        .expect("client"),
    );
    let mut decision = config.decision.clone();
    decision.llm = llm;
    let engine = Arc::new(LlmEngine::new(engine, decision, client.clone()));
    world.use_engine(engine, Some(client));
    world
}

fn state(world: &World, plugin: &str) -> UpgradeState {
    world
        .store
        .upgrades(&Default::default())
        .expect("upgrades")
        .into_iter()
        .find(|u| u.plugin == plugin)
        .unwrap_or_else(|| panic!("no upgrade of {plugin}"))
        .state
}

fn is_approved_or_beyond(s: &UpgradeState) -> bool {
    matches!(
        s,
        UpgradeState::Approved
            | UpgradeState::Planned
            | UpgradeState::Validating
            | UpgradeState::RollingOut { .. }
            | UpgradeState::Completed
    )
}

/// Each case, played for every request of one cycle, and what the `llm`
/// engine must make of it: (case, copies, the low-risk proposal approved?).
fn cases() -> Vec<(&'static str, Vec<Case>, bool)> {
    vec![
        ("valid", vec![Case::Valid(approve(0.95))], true),
        ("malformed JSON", vec![Case::MalformedJson; 2], false),
        ("refusal", vec![Case::Refusal; 2], false),
        ("truncated", vec![Case::Truncated; 2], false),
        (
            "429 with Retry-After, then success",
            vec![Case::Status(429, vec![("retry-after".into(), "1".into())])],
            true,
        ),
        (
            "500 then success",
            vec![Case::Status(500, Vec::new())],
            true,
        ),
        (
            "a hang past the timeout",
            vec![Case::Hang(Duration::from_secs(3)); 6],
            false,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_ends_in_the_documented_decision_and_risk_always_waits_for_a_human() {
    for (name, script, low_risk_approved) in cases() {
        let server = FakeServer::start().await.expect("fake server");
        // After the scripted case(s), the server approves everything with
        // full confidence: the worst an LLM could say.
        server.set_producer(|_| approve(1.0));
        server.push(script);
        let world = world_with(Mode::Llm, config(EngineName::Llm), &server).await;
        let changes = world.orchestrator.cycle().await.expect("cycle");
        for c in &changes {
            println!("[{name}] {}", c.text);
        }
        let low = state(&world, "json-query");
        let risky = state(&world, "text-summarize");
        assert_eq!(
            risky,
            UpgradeState::AwaitingApproval,
            "[{name}] the risky proposal must wait for a human"
        );
        if low_risk_approved {
            assert!(is_approved_or_beyond(&low), "[{name}] {low:?}");
        } else {
            assert!(
                matches!(low, UpgradeState::Deferred { .. }),
                "[{name}] a failed call defers: {low:?}"
            );
        }
        // The trail: every decision names the engine and the LLM's part.
        for u in world.store.upgrades(&Default::default()).expect("upgrades") {
            let decisions = world.store.decisions(u.id).expect("decisions");
            let last = decisions.last().expect("a decision");
            assert_eq!(last.engine, "llm");
            let llm = &last.detail["llm"];
            assert_eq!(llm["prompt_sha256"].as_str().map(str::len), Some(64));
            if low_risk_approved {
                assert!(llm["answer"].is_object(), "[{name}] {llm}");
                let call = world
                    .store
                    .llm_call(last.llm_call_id.expect("call id"))
                    .expect("read")
                    .expect("the call is logged");
                assert_eq!(call.call.outcome, "ok");
                assert!(
                    call.call.prompt.is_none(),
                    "prompts are not kept by default"
                );
            } else {
                assert!(llm["error"].is_string(), "[{name}] {llm}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hybrid_keeps_the_rules_decision_when_the_llm_fails_and_its_veto_otherwise() {
    // The LLM fails: the rules approve the minor version (opportunity 0.65).
    let server = FakeServer::start().await.expect("fake server");
    server.set_producer(|_| approve(1.0));
    server.push(vec![Case::Refusal; 2]);
    let world = world_with(Mode::Hybrid, config(EngineName::Hybrid), &server).await;
    world.orchestrator.cycle().await.expect("cycle");
    assert!(is_approved_or_beyond(&state(&world, "json-query")));
    assert_eq!(
        state(&world, "text-summarize"),
        UpgradeState::AwaitingApproval
    );

    // The rules defer (threshold above every opportunity); the LLM's
    // approval cannot lift a deferral in hybrid, and can in llm.
    for (mode, engine, lifted) in [
        (Mode::Hybrid, EngineName::Hybrid, false),
        (Mode::Llm, EngineName::Llm, true),
    ] {
        let server = FakeServer::start().await.expect("fake server");
        server.set_producer(|_| approve(0.97));
        let mut cfg = config(engine);
        cfg.decision.auto_approve_threshold = 0.95;
        let world = world_with(mode, cfg, &server).await;
        world.orchestrator.cycle().await.expect("cycle");
        let low = state(&world, "json-query");
        assert_eq!(is_approved_or_beyond(&low), lifted, "{mode:?}: {low:?}");
        assert_eq!(
            state(&world, "text-summarize"),
            UpgradeState::AwaitingApproval
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_llm_that_approves_everything_cannot_exceed_the_daily_cap() {
    let server = FakeServer::start().await.expect("fake server");
    server.set_producer(|_| approve(1.0));
    let mut cfg = config(EngineName::Llm);
    cfg.decision.require_human_approval_above_risk = 0.9;
    cfg.cycle.max_upgrades_per_day = 1;
    let world = world_with(Mode::Llm, cfg, &server).await;
    world.orchestrator.cycle().await.expect("cycle");
    let approved = world
        .store
        .upgrades(&Default::default())
        .expect("upgrades")
        .into_iter()
        .filter(|u| u.state == UpgradeState::Approved || is_approved_or_beyond(&u.state))
        .count();
    assert_eq!(approved, 2, "the LLM approved both");
    let started = world
        .store
        .upgrades_started_since(world.now() - 86_400_000)
        .expect("started");
    assert_eq!(started, 1, "but only one starts today");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_nobody_decides_on_is_deferred_after_the_expiry() {
    let server = FakeServer::start().await.expect("fake server");
    server.set_producer(|_| approve(1.0));
    let mut cfg = config(EngineName::Llm);
    cfg.decision.approval_expiry_hours = 72;
    let world = world_with(Mode::Llm, cfg, &server).await;
    world.orchestrator.cycle().await.expect("cycle");
    assert_eq!(
        state(&world, "text-summarize"),
        UpgradeState::AwaitingApproval
    );
    world.clock.advance_ms(71 * 3_600_000);
    world.orchestrator.cycle().await.expect("cycle");
    assert_eq!(
        state(&world, "text-summarize"),
        UpgradeState::AwaitingApproval
    );
    world.clock.advance_ms(2 * 3_600_000);
    let changes = world.orchestrator.cycle().await.expect("cycle");
    let UpgradeState::Deferred { reason } = state(&world, "text-summarize") else {
        panic!("not deferred: {changes:?}");
    };
    assert!(reason.contains("approval_expiry_hours"), "{reason}");
    // A human may still approve it.
    let id = world
        .store
        .upgrades(&Default::default())
        .expect("upgrades")
        .into_iter()
        .find(|u| u.plugin == "text-summarize")
        .expect("upgrade")
        .id;
    world
        .orchestrator
        .approve(id, "ops", "checked the changelog")
        .expect("approve");
    assert!(is_approved_or_beyond(&state(&world, "text-summarize")));
}
