//! The whole lifecycle on a virtual clock with the real example plugins:
//! a good upgrade promoted through every stage, a bad one rolled back
//! automatically by its gate, a missing capability installed from the
//! catalog.

mod common;

use common::{World, print, test_config};
use selfup_core::telemetry::{AgentEvent, AgentEventType};
use selfup_core::upgrade::UpgradeState;
use selfup_store::upgrades::UpgradeFilter;

const TEXT: &str = "The quarterly report shows revenue grew by 12 percent. Most of the growth came from the new subscription tier. \
    Customer churn fell to its lowest level in three years. The engineering team shipped the offline mode in March.";

/// One simulated hour of agent traffic. With `hyphen_paths`, some JSON
/// queries use dot-notation hyphenated keys (the kind of request that
/// exposes json-query 1.1.0's regression).
async fn hour_of_traffic(world: &World, hour: u64, hyphen_paths: bool) {
    for i in 0..60u64 {
        let subject = format!("user-{}", (hour * 7 + i) % 250);
        let doc = serde_json::json!({"order": {"id": i, "headers": {"x-request-id": format!("r{i}"), "content-type": "json"}}});
        let path = if hyphen_paths && i % 4 == 0 {
            "$.order.headers.x-request-id"
        } else {
            "$.order.id"
        };
        let query = serde_json::json!({"document": doc, "path": path}).to_string();
        world.dispatcher.call("json.query", &subject, &query).await;
        let summary = serde_json::json!({"text": TEXT, "max_sentences": 2}).to_string();
        world
            .dispatcher
            .call("text.summarize", &subject, &summary)
            .await;
    }
    let served = world.router.table().get("unit.convert").is_some();
    for i in 0..3 {
        if served {
            let input = serde_json::json!({"text": format!("convert {i} miles to km")}).to_string();
            world
                .dispatcher
                .call("unit.convert", &format!("user-{i}"), &input)
                .await;
            continue;
        }
        world
            .dispatcher
            .telemetry()
            .record_event(
                AgentEvent {
                    ts_ms: world.now(),
                    event_type: AgentEventType::UnmetRequest,
                    subject_hash: None,
                    intent: Some("unit.convert".into()),
                    text: Some(format!("convert {i} miles to km")),
                    payload: "{}".into(),
                },
                None,
            )
            .expect("event");
    }
    world.flush();
}

fn state_of(world: &World, plugin: &str) -> UpgradeState {
    let upgrades = world
        .store
        .upgrades(&UpgradeFilter {
            states: Vec::new(),
            plugin: Some(plugin.to_owned()),
        })
        .expect("upgrades");
    upgrades
        .last()
        .unwrap_or_else(|| panic!("no upgrade of {plugin}"))
        .state
        .clone()
}

fn active(world: &World, capability: &str) -> Option<String> {
    world
        .store
        .capabilities()
        .expect("caps")
        .into_iter()
        .find(|c| c.capability == capability)
        .and_then(|c| c.active)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_upgrade_is_promoted_a_bad_one_rolled_back_a_missing_capability_installed() {
    let world = World::new(
        test_config(),
        &["text-summarize-1.0.0", "json-query-1.0.0"],
        &[
            "text-summarize-2.0.0",
            "json-query-1.1.0",
            "unit-convert-1.0.0",
        ],
    );
    // A day of traffic before the loop looks.
    for hour in 0..24 {
        hour_of_traffic(&world, hour, false).await;
        world.clock.advance_hours(1.0);
    }
    let changes = world.orchestrator.cycle().await.expect("cycle");
    print(&changes);
    assert!(
        matches!(
            state_of(&world, "text-summarize"),
            UpgradeState::RollingOut { stage: 0 }
        ),
        "{:?}",
        state_of(&world, "text-summarize")
    );
    assert!(
        matches!(
            state_of(&world, "json-query"),
            UpgradeState::RollingOut { stage: 0 }
        ),
        "{:?}",
        state_of(&world, "json-query")
    );
    // The third upgrade waits for the concurrency limit (2).
    assert_eq!(state_of(&world, "unit-convert"), UpgradeState::Approved);

    // Two weeks of hourly traffic and looks; the agent now also asks for request ids.
    for hour in 24..(24 + 14 * 24) {
        hour_of_traffic(&world, hour, true).await;
        world.clock.advance_hours(1.0);
        let changes = world.orchestrator.tick().await.expect("tick");
        print(&changes);
    }
    assert_eq!(state_of(&world, "text-summarize"), UpgradeState::Completed);
    assert_eq!(
        active(&world, "text.summarize").as_deref(),
        Some("text-summarize@2.0.0")
    );
    match state_of(&world, "json-query") {
        UpgradeState::RolledBack { reason } => {
            assert!(reason.contains("stage \"internal\""), "{reason}");
            assert!(reason.contains("error_rate"), "{reason}");
        }
        other => panic!("json-query: {other:?}"),
    }
    assert_eq!(
        active(&world, "json.query").as_deref(),
        Some("json-query@1.0.0")
    );
    assert!(
        world
            .router
            .table()
            .get("json.query")
            .expect("route")
            .rollout
            .is_none(),
        "no traffic to the candidate"
    );
    assert_eq!(state_of(&world, "unit-convert"), UpgradeState::Completed);
    assert_eq!(
        active(&world, "unit.convert").as_deref(),
        Some("unit-convert@1.0.0")
    );
}
