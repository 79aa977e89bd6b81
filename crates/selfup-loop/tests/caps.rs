//! The orchestrator's caps on a virtual clock: `cycle.max_upgrades_per_day`
//! (upgrades started in the last 24 hours) and
//! `cycle.max_concurrent_upgrades` (upgrades in flight).

mod common;

use common::{World, fast_config, test_config};
use selfup_core::upgrade::UpgradeState;
use selfup_loop::orchestrator::Change;
use serde_json::json;

const HOUR_MS: i64 = 3_600_000;

fn waits(changes: &[Change], id: i64, setting: &str) -> bool {
    changes.iter().any(|c| {
        c.upgrade_id == Some(id) && c.text.starts_with("waits: ") && c.text.contains(setting)
    })
}

/// json-query 1.0.0 → 1.1.0 and text-summarize 1.0.0 → 2.0.0 in one
/// world; json-query is proposed (and started) first.
fn two_upgrades(config: selfup_core::config::LoopConfig) -> World {
    World::new(
        config,
        &["json-query-1.0.0", "text-summarize-1.0.0"],
        &["json-query-1.1.0", "text-summarize-2.0.0"],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_cap_holds_a_second_upgrade_until_a_day_after_the_first_started() {
    let mut config = test_config();
    config.cycle.max_upgrades_per_day = 1;
    let world = two_upgrades(config);
    let started_at = world.now();
    let changes = world.cycle().await;
    let first = world.upgrade_of("json-query");
    let second = world.upgrade_of("text-summarize");
    assert_eq!(first.state, UpgradeState::RollingOut { stage: 0 });
    assert_eq!(second.state, UpgradeState::Approved);
    assert!(
        waits(&changes, second.id, "(cycle.max_upgrades_per_day = 1)"),
        "{changes:?}"
    );
    assert!(
        changes.iter().any(|c| c.text
            == "waits: 1 upgrades started in the last 24 hours (cycle.max_upgrades_per_day = 1)"),
        "{changes:?}"
    );

    // Just before 24 hours: still waiting, however often the loop looks.
    for hours in [1, 12, 23] {
        world
            .clock
            .advance_ms(started_at + hours * HOUR_MS - world.now());
        let changes = world.tick().await;
        assert!(
            waits(&changes, second.id, "max_upgrades_per_day"),
            "at {hours} h: {changes:?}"
        );
        assert_eq!(world.upgrade(second.id).state, UpgradeState::Approved);
    }
    world
        .clock
        .advance_ms(started_at + 24 * HOUR_MS - world.now());
    world.tick().await;
    assert_eq!(
        world.upgrade(second.id).state,
        UpgradeState::Approved,
        "exactly 24 hours: the first start is still within the day"
    );

    world.clock.advance_ms(60_000);
    let changes = world.tick().await;
    assert!(
        !waits(&changes, second.id, "max_upgrades_per_day"),
        "{changes:?}"
    );
    assert_eq!(
        world.upgrade(second.id).state,
        UpgradeState::RollingOut { stage: 0 }
    );
    assert_eq!(world.store.rollouts().expect("rollouts").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_limit_holds_a_second_upgrade_until_the_first_is_final() {
    let mut config = fast_config();
    config.cycle.max_concurrent_upgrades = 1;
    let world = two_upgrades(config);
    let changes = world.cycle().await;
    let first = world.upgrade_of("json-query");
    let second = world.upgrade_of("text-summarize");
    assert_eq!(first.state, UpgradeState::RollingOut { stage: 0 });
    assert_eq!(second.state, UpgradeState::Approved);
    assert!(
        changes.iter().any(|c| c.upgrade_id == Some(second.id)
            && c.text == "waits: 1 upgrades in flight (cycle.max_concurrent_upgrades = 1)"),
        "{changes:?}"
    );

    // The first stays in flight while its stage has too little data.
    for _ in 0..3 {
        world.clock.advance_hours(1.0);
        let changes = world.tick().await;
        assert!(
            waits(&changes, second.id, "max_concurrent_upgrades"),
            "{changes:?}"
        );
        assert_eq!(world.upgrade(second.id).state, UpgradeState::Approved);
    }
    assert_eq!(
        world.upgrade(first.id).state,
        UpgradeState::RollingOut { stage: 0 }
    );

    let query = json!({"document": {"a": {"b": 1}}, "path": "$.a.b"});
    let state = world
        .drive_to_final(first.id, "json.query", &query, 3)
        .await;
    assert_eq!(state, UpgradeState::Completed);
    world.tick().await;
    assert_eq!(
        world.upgrade(second.id).state,
        UpgradeState::RollingOut { stage: 0 }
    );
    assert_eq!(
        world.active("json.query").as_deref(),
        Some("json-query@1.1.0")
    );
}
