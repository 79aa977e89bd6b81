//! Decisions that wait for a human on a virtual clock: a risky candidate
//! awaits approval; approve lets it start, reject ends it; a deferred
//! candidate is decided again in a later cycle.

mod common;

use common::{World, fast_config, test_config};
use selfup_core::config::LoopConfig;
use selfup_core::upgrade::UpgradeState;
use selfup_loop::OrchestratorError;
use serde_json::json;

/// text-summarize 1.0.0 → 2.0.0 (major: risk 0.35) needs a human when the
/// line is at 0.1.
fn cautious(mut config: LoopConfig) -> LoopConfig {
    config.decision.require_human_approval_above_risk = 0.1;
    config
}

async fn awaiting(config: LoopConfig) -> (World, i64) {
    let world = World::new(
        cautious(config),
        &["text-summarize-1.0.0"],
        &["text-summarize-2.0.0"],
    );
    let changes = world.cycle().await;
    let upgrade = world.upgrade_of("text-summarize");
    assert_eq!(upgrade.state, UpgradeState::AwaitingApproval);
    assert!(
        changes
            .iter()
            .any(|c| c.upgrade_id == Some(upgrade.id) && c.text.ends_with("→ awaiting_approval")),
        "{changes:?}"
    );
    (world, upgrade.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_risky_candidate_awaits_approval_and_nothing_is_installed() {
    let (world, id) = awaiting(test_config()).await;
    let upgrade = world.upgrade(id);
    assert!(
        upgrade.evidence["decision"]["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r
                .as_str()
                .is_some_and(|r| r.contains("require_human_approval_above_risk"))),
        "{}",
        upgrade.evidence
    );
    // However long the loop runs, it waits for the human.
    for _ in 0..3 {
        world.clock.advance_hours(2.0);
        world.tick().await;
        world.cycle().await;
    }
    assert_eq!(world.upgrade(id).state, UpgradeState::AwaitingApproval);
    assert_eq!(world.installed(), ["text-summarize@1.0.0"]);
    assert!(world.store.rollouts().expect("rollouts").is_empty());
    assert_eq!(
        world
            .store
            .upgrades(&Default::default())
            .expect("all")
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_an_awaiting_upgrade_lets_the_next_tick_start_it() {
    let (world, id) = awaiting(test_config()).await;
    let change = world
        .orchestrator
        .approve(id, "bob", "reviewed the changelog")
        .expect("approve");
    assert_eq!(change.text, "approved by bob: reviewed the changelog");
    let upgrade = world.upgrade(id);
    assert_eq!(upgrade.state, UpgradeState::Approved);
    assert_eq!(
        upgrade.evidence["approval"],
        json!({"by": "bob", "reason": "reviewed the changelog"})
    );
    let event = world
        .store
        .upgrade_events(id)
        .expect("events")
        .pop()
        .expect("event");
    assert_eq!(
        (event.actor.as_str(), event.to_state.as_str()),
        ("human:bob", "approved")
    );

    world.tick().await;
    assert_eq!(
        world.upgrade(id).state,
        UpgradeState::RollingOut { stage: 0 }
    );
    assert_eq!(world.routed("text.summarize").1, Some(id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejecting_an_awaiting_upgrade_ends_it_with_the_reason() {
    let (world, id) = awaiting(test_config()).await;
    let change = world
        .orchestrator
        .reject(id, "carol", "not before the release")
        .expect("reject");
    assert_eq!(change.text, "rejected by carol: not before the release");
    assert_eq!(
        world.upgrade(id).state,
        UpgradeState::Rejected {
            reason: "rejected by carol: not before the release".to_owned()
        }
    );
    let event = world
        .store
        .upgrade_events(id)
        .expect("events")
        .pop()
        .expect("event");
    assert_eq!(event.actor, "human:carol");

    // It stays rejected: not started, not proposed again.
    world.tick().await;
    world.cycle().await;
    assert!(matches!(
        world.upgrade(id).state,
        UpgradeState::Rejected { .. }
    ));
    assert_eq!(
        world
            .store
            .upgrades(&Default::default())
            .expect("all")
            .len(),
        1
    );
    assert_eq!(world.installed(), ["text-summarize@1.0.0"]);
    // And a human cannot approve it afterwards.
    let err = world
        .orchestrator
        .approve(id, "bob", "changed my mind")
        .expect_err("refused");
    assert!(
        matches!(&err, OrchestratorError::Refused(m) if m.contains("is rejected")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_a_completed_upgrade_is_refused() {
    let world = World::new(
        fast_config(),
        &["text-summarize-1.0.0"],
        &["text-summarize-2.0.0"],
    );
    world.cycle().await;
    let id = world.upgrade_of("text-summarize").id;
    let input = json!({"text": "One sentence. Another one.", "max_sentences": 1});
    let state = world.drive_to_final(id, "text.summarize", &input, 3).await;
    assert_eq!(state, UpgradeState::Completed);
    let before = world.upgrade(id);
    let events = world.store.upgrade_events(id).expect("events").len();

    let err = world
        .orchestrator
        .approve(id, "bob", "again")
        .expect_err("refused");
    match &err {
        OrchestratorError::Refused(message) => {
            assert_eq!(
                message,
                &format!(
                    "upgrade {id} is completed; only proposed, deferred or awaiting upgrades can be approved"
                )
            );
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert_eq!(world.upgrade(id), before);
    assert_eq!(
        world.store.upgrade_events(id).expect("events").len(),
        events
    );
    let err = world
        .orchestrator
        .reject(id, "bob", "too late")
        .expect_err("refused");
    assert!(err.to_string().contains("is completed"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_candidate_is_decided_again_when_the_threshold_is_lowered() {
    // Opportunity 0.70 (major version) is below a threshold of 0.9.
    let mut config = test_config();
    config.decision.auto_approve_threshold = 0.9;
    let mut world = World::new(config, &["text-summarize-1.0.0"], &["text-summarize-2.0.0"]);
    world.cycle().await;
    let id = world.upgrade_of("text-summarize").id;
    assert!(
        matches!(&world.upgrade(id).state, UpgradeState::Deferred { reason } if reason.contains("auto_approve_threshold 0.90")),
        "{}",
        world.upgrade(id).state
    );
    // Later cycles look again, and defer again under the same rules.
    world.clock.advance_hours(1.0);
    world.cycle().await;
    assert!(matches!(
        world.upgrade(id).state,
        UpgradeState::Deferred { .. }
    ));
    assert_eq!(
        world
            .store
            .upgrades(&Default::default())
            .expect("all")
            .len(),
        1
    );

    // A restart with a lower threshold: the same upgrade is approved and started.
    world.reconfigure(test_config());
    world.clock.advance_hours(1.0);
    world.cycle().await;
    let upgrade = world.upgrade(id);
    assert_eq!(upgrade.state, UpgradeState::RollingOut { stage: 0 });
    assert_eq!(
        world
            .store
            .upgrades(&Default::default())
            .expect("all")
            .len(),
        1
    );
    assert!(
        upgrade.evidence["decision"]["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r
                .as_str()
                .is_some_and(|r| r.contains("auto_approve_threshold 0.60: approved"))),
        "{}",
        upgrade.evidence
    );
    let events = world.store.upgrade_events(id).expect("events");
    assert!(
        events.iter().any(|e| e
            .from_state
            .as_deref()
            .is_some_and(|s| s.starts_with("deferred"))
            && e.to_state == "approved"
            && e.actor == "rule:rule_based"),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_candidate_that_turns_risky_awaits_approval() {
    let mut config = test_config();
    config.decision.auto_approve_threshold = 0.9;
    let mut world = World::new(config, &["text-summarize-1.0.0"], &["text-summarize-2.0.0"]);
    world.cycle().await;
    let id = world.upgrade_of("text-summarize").id;
    assert!(matches!(
        world.upgrade(id).state,
        UpgradeState::Deferred { .. }
    ));

    world.reconfigure(cautious(test_config()));
    world.cycle().await;
    assert_eq!(world.upgrade(id).state, UpgradeState::AwaitingApproval);
    assert_eq!(
        world
            .store
            .upgrades(&Default::default())
            .expect("all")
            .len(),
        1
    );
    assert_eq!(world.installed(), ["text-summarize@1.0.0"]);
}
