//! Retention on a virtual clock: snapshots older than
//! `rollback.snapshot_retention_days` are released unless their upgrade is
//! in flight; artifacts that no installed plugin and no live snapshot needs
//! are deleted, the others kept.

mod common;

use std::time::Duration;

use common::{World, fast_config, test_config};
use selfup_core::config::LoopConfig;
use selfup_core::upgrade::UpgradeState;
use selfup_loop::lifecycle::RollbackStrategy;
use serde_json::json;

const DAY_MS: i64 = 86_400_000;
const TWO_HOURS: Duration = Duration::from_secs(2 * 3600);

fn keep_one_day(mut config: LoopConfig) -> LoopConfig {
    config.rollback.snapshot_retention_days = 1;
    config
}

fn summary_input() -> serde_json::Value {
    json!({"text": "Revenue grew. Churn fell. The team shipped offline mode.", "max_sentences": 1})
}

/// A world whose text-summarize 1.0.0 → 2.0.0 upgrade completed.
async fn summarize_completed(installed: &[&str]) -> (World, i64) {
    let world = World::new(
        keep_one_day(fast_config()),
        installed,
        &["text-summarize-2.0.0"],
    );
    world.cycle().await;
    let id = world.upgrade_of("text-summarize").id;
    let state = world
        .drive_to_final(id, "text.summarize", &summary_input(), 3)
        .await;
    assert_eq!(state, UpgradeState::Completed);
    (world, id)
}

fn released(world: &World, upgrade_id: i64) -> bool {
    world
        .store
        .snapshot_of_upgrade(upgrade_id)
        .expect("snapshot")
        .expect("the upgrade has a snapshot")
        .released_at_ms
        .is_some()
}

fn exists(world: &World, hashes: &[String]) -> Vec<bool> {
    hashes
        .iter()
        .map(|h| world.artifact_path(h).is_file())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_releases_the_snapshot_of_a_finished_upgrade_once_it_is_old() {
    let (world, id) = summarize_completed(&["text-summarize-1.0.0"]).await;
    let taken = world
        .store
        .snapshot_of_upgrade(id)
        .expect("snapshot")
        .expect("a snapshot")
        .created_at_ms;

    world.orchestrator.retention().expect("retention");
    assert!(!released(&world, id), "younger than a day: kept");

    world.clock.advance_ms(taken + DAY_MS + 1 - world.now());
    let changes = world.orchestrator.retention().expect("retention");
    assert!(released(&world, id), "older than a day and final: released");
    assert!(
        changes
            .iter()
            .any(|c| c.text == "released 1 snapshots older than 1 days"),
        "{changes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_the_snapshot_of_an_upgrade_in_flight_however_old() {
    let world = World::new(
        keep_one_day(test_config()),
        &["text-summarize-1.0.0", "json-query-1.0.0"],
        &["text-summarize-2.0.0", "json-query-1.1.0"],
    );
    world.cycle().await;
    let in_flight = world.upgrade_of("text-summarize").id;
    let finished = world.upgrade_of("json-query").id;
    world
        .orchestrator
        .rollback(finished, RollbackStrategy::Partial, "alice", "not needed")
        .await
        .expect("rollback");

    world.clock.advance_ms(60 * DAY_MS);
    world.orchestrator.retention().expect("retention");

    assert_eq!(
        world.upgrade(in_flight).state,
        UpgradeState::RollingOut { stage: 0 }
    );
    assert!(!released(&world, in_flight), "in flight: kept");
    assert!(released(&world, finished), "final and old: released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_artifacts_nothing_needs_and_keeps_those_installed_plugins_need() {
    let (world, id) = summarize_completed(&["text-summarize-1.0.0"]).await;
    let old = world.artifacts_of("text-summarize", "1.0.0");
    let new = world.artifacts_of("text-summarize", "2.0.0");
    // A full rollback unregisters 2.0.0; its snapshot predates 2.0.0.
    world
        .orchestrator
        .rollback(id, RollbackStrategy::Full, "alice", "undo")
        .await
        .expect("rollback");
    assert_eq!(world.installed(), ["text-summarize@1.0.0"]);

    world.orchestrator.retention().expect("retention");
    assert_eq!(
        exists(&world, &new),
        vec![true; new.len()],
        "artifacts younger than an hour are left alone"
    );

    world.age_artifacts(TWO_HOURS);
    let changes = world.orchestrator.retention().expect("retention");
    assert_eq!(
        exists(&world, &new),
        vec![false; new.len()],
        "2.0.0's files: no plugin, no snapshot"
    );
    assert_eq!(
        exists(&world, &old),
        vec![true; old.len()],
        "1.0.0 is installed"
    );
    assert!(
        changes.iter().any(|c| c.text
            == format!(
                "deleted {} artifacts no plugin or snapshot needs",
                new.len()
            )),
        "{changes:?}"
    );
    world.router.refresh(&world.store).expect("routing");
    let (served, _) = world
        .serve("text.summarize", "user-1", &summary_input())
        .await;
    assert_eq!(served, "text-summarize@1.0.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_artifacts_a_live_snapshot_needs_until_it_is_released() {
    let (world, id) = summarize_completed(&["text-summarize-1.0.0", "test-echo-1.0.0"]).await;
    let echo = world.artifacts_of("test-echo", "1.0.0");
    let summarize: Vec<String> = world
        .artifacts_of("text-summarize", "1.0.0")
        .into_iter()
        .chain(world.artifacts_of("text-summarize", "2.0.0"))
        .collect();
    world
        .store
        .remove_plugin("test-echo", None, "test", world.now())
        .expect("remove test-echo");
    world.age_artifacts(TWO_HOURS);

    world.orchestrator.retention().expect("retention");
    assert!(!released(&world, id));
    assert_eq!(
        exists(&world, &echo),
        vec![true; echo.len()],
        "test-echo is in the upgrade's live snapshot"
    );

    world.clock.advance_ms(2 * DAY_MS);
    world.orchestrator.retention().expect("retention");
    assert!(released(&world, id));
    assert_eq!(
        exists(&world, &echo),
        vec![false; echo.len()],
        "released snapshot, not installed: deleted"
    );
    assert_eq!(
        exists(&world, &summarize),
        vec![true; summarize.len()],
        "installed versions keep theirs"
    );
}
