//! Manual rollback on a virtual clock with the real example plugins: each
//! strategy (partial, full, compensating), what each is refused for, and
//! cancelling an upgrade before its rollout.

mod common;

use common::{World, fast_config, plugins_dir, test_config};
use selfup_core::upgrade::UpgradeState;
use selfup_loop::OrchestratorError;
use selfup_loop::lifecycle::RollbackStrategy;
use serde_json::json;

fn summary_input() -> serde_json::Value {
    json!({
        "text": "The quarterly report shows revenue grew by 12 percent. Most of the growth came from the new subscription tier. \
                 Customer churn fell to its lowest level in three years.",
        "max_sentences": 1
    })
}

/// text-summarize 1.0.0 installed, 2.0.0 in the catalog, one cycle run:
/// the upgrade is rolling out (100 % to the candidate with `fast_config`).
async fn summarize_rolling_out(config: selfup_core::config::LoopConfig) -> (World, i64) {
    let world = World::new(config, &["text-summarize-1.0.0"], &["text-summarize-2.0.0"]);
    world.cycle().await;
    let upgrade = world.upgrade_of("text-summarize");
    assert_eq!(upgrade.state, UpgradeState::RollingOut { stage: 0 });
    (world, upgrade.id)
}

/// As `summarize_rolling_out`, driven on until the upgrade completed.
async fn summarize_completed() -> (World, i64) {
    let (world, id) = summarize_rolling_out(fast_config()).await;
    let state = world
        .drive_to_final(id, "text.summarize", &summary_input(), 3)
        .await;
    assert_eq!(state, UpgradeState::Completed);
    assert_eq!(
        world.active("text.summarize").as_deref(),
        Some("text-summarize@2.0.0")
    );
    (world, id)
}

/// Checks the state after a manual rollback of the text-summarize upgrade:
/// the incumbent serves again (registry, router, a real call), no rollout
/// is left, the upgrade is rolled back with the reason by the human.
async fn assert_rolled_back_to_incumbent(world: &World, id: i64, who: &str, reason: &str) {
    assert_eq!(
        world.active("text.summarize").as_deref(),
        Some("text-summarize@1.0.0")
    );
    assert!(
        world.store.rollouts().expect("rollouts").is_empty(),
        "the rollout row is gone"
    );
    assert_eq!(
        world.routed("text.summarize"),
        (Some("text-summarize@1.0.0".to_owned()), None),
        "the router serves the incumbent alone"
    );
    for i in 0..20 {
        let (served, _) = world
            .serve("text.summarize", &format!("user-{i}"), &summary_input())
            .await;
        assert_eq!(served, "text-summarize@1.0.0", "subject user-{i}");
    }
    match world.upgrade(id).state {
        UpgradeState::RolledBack { reason: stored } => {
            assert!(stored.contains(reason), "{stored}");
            assert!(stored.contains(who), "{stored}");
        }
        other => panic!("upgrade {id} is {other}"),
    }
    let events = world.store.upgrade_events(id).expect("events");
    let last = events.last().expect("an event");
    assert_eq!(last.actor, format!("human:{who}"));
    assert!(last.to_state.starts_with("rolled_back"), "{last:?}");
    let detail = last.detail["reason"].as_str().unwrap_or_default();
    assert!(detail.contains(reason), "{:?}", last.detail);
}

fn refusal(result: Result<selfup_loop::orchestrator::Change, OrchestratorError>) -> String {
    match result {
        Err(OrchestratorError::Refused(message)) => message,
        Err(other) => panic!("expected a refusal, got the error {other}"),
        Ok(change) => panic!("expected a refusal, got {change:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_rollback_of_a_rolling_out_upgrade_restores_the_incumbent() {
    let (world, id) = summarize_rolling_out(fast_config()).await;
    assert_eq!(
        world.routed("text.summarize"),
        (Some("text-summarize@1.0.0".to_owned()), Some(id))
    );
    let (served, _) = world
        .serve("text.summarize", "user-1", &summary_input())
        .await;
    assert_eq!(
        served, "text-summarize@2.0.0",
        "100 % goes to the candidate"
    );

    let change = world
        .orchestrator
        .rollback(id, RollbackStrategy::Partial, "alice", "too slow for us")
        .await
        .expect("rollback");
    assert_eq!(change.upgrade_id, Some(id));
    assert!(change.text.contains("partial"), "{}", change.text);
    assert_rolled_back_to_incumbent(&world, id, "alice", "too slow for us").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_rollback_of_a_completed_upgrade_restores_the_incumbent() {
    let (world, id) = summarize_completed().await;
    let (served, _) = world
        .serve("text.summarize", "user-1", &summary_input())
        .await;
    assert_eq!(served, "text-summarize@2.0.0");

    world
        .orchestrator
        .rollback(id, RollbackStrategy::Partial, "alice", "summaries too long")
        .await
        .expect("rollback");
    assert_rolled_back_to_incumbent(&world, id, "alice", "summaries too long").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_rollback_keeps_the_reason_and_name_verbatim() {
    let (world, id) = summarize_rolling_out(fast_config()).await;
    let reason = "Full disk after the Partial outage";
    world
        .orchestrator
        .rollback(id, RollbackStrategy::Partial, "Fuller", reason)
        .await
        .expect("rollback");
    let stored = world.upgrade(id).state.reason().map(str::to_owned);
    let stored = stored.expect("a reason");
    assert!(stored.contains(reason), "{stored}");
    assert!(stored.contains("by Fuller"), "{stored}");
    assert!(stored.contains("partial rollback"), "{stored}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_rollback_restores_the_whole_registry_from_the_snapshot() {
    let (world, id) = summarize_completed().await;
    let snapshot = world
        .store
        .snapshot_of_upgrade(id)
        .expect("snapshot")
        .expect("the upgrade has a snapshot");
    // A change after the upgrade, which a full rollback undoes as well.
    let host = world.orchestrator.context().host.clone();
    selfup_loop::install::install(
        &world.store,
        &host,
        &plugins_dir().join("test-echo-1.0.0.zip"),
        false,
        "test",
        &world.clock,
        &common::policy(),
    )
    .expect("install test-echo");
    world.router.refresh(&world.store).expect("routing");
    assert_eq!(
        world.installed(),
        [
            "test-echo@1.0.0",
            "text-summarize@1.0.0",
            "text-summarize@2.0.0"
        ]
    );

    world
        .orchestrator
        .rollback(id, RollbackStrategy::Full, "alice", "back to how it was")
        .await
        .expect("rollback");

    assert_eq!(
        world.store.list_plugins().expect("plugins"),
        snapshot.state.plugins,
        "installed versions, files and active providers are the snapshot's"
    );
    assert_eq!(world.installed(), ["text-summarize@1.0.0"]);
    assert_eq!(world.active("test.echo"), None);
    assert_eq!(world.routed("test.echo"), (None, None));
    assert_rolled_back_to_incumbent(&world, id, "alice", "back to how it was").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_rollback_is_refused_while_another_upgrade_is_in_flight() {
    let world = World::new(
        test_config(),
        &["text-summarize-1.0.0", "json-query-1.0.0"],
        &["text-summarize-2.0.0", "json-query-1.1.0"],
    );
    world.cycle().await;
    let summarize = world.upgrade_of("text-summarize");
    let query = world.upgrade_of("json-query");
    assert_eq!(summarize.state, UpgradeState::RollingOut { stage: 0 });
    assert_eq!(query.state, UpgradeState::RollingOut { stage: 0 });
    let installed = world.installed();

    let message = refusal(
        world
            .orchestrator
            .rollback(summarize.id, RollbackStrategy::Full, "alice", "undo")
            .await,
    );
    assert!(message.contains("full rollback"), "{message}");
    assert!(message.contains("in flight"), "{message}");
    assert!(message.contains(&query.id.to_string()), "{message}");
    assert!(message.contains("--strategy partial"), "{message}");
    // Nothing changed.
    assert_eq!(world.upgrade(summarize.id).state, summarize.state);
    assert_eq!(world.upgrade(query.id).state, query.state);
    assert_eq!(world.store.rollouts().expect("rollouts").len(), 2);
    assert_eq!(world.installed(), installed);
    assert_eq!(world.routed("text.summarize").1, Some(summarize.id));
    assert_eq!(world.routed("json.query").1, Some(query.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_rollback_does_not_revive_the_rollout_of_an_upgrade_that_ended_since() {
    // Both start in one cycle: the second snapshot is taken while the first
    // upgrade is rolling out, so it holds that rollout.
    let world = World::new(
        test_config(),
        &["text-summarize-1.0.0", "json-query-1.0.0"],
        &["text-summarize-2.0.0", "json-query-1.1.0"],
    );
    world.cycle().await;
    let query = world.upgrade_of("json-query");
    let summarize = world.upgrade_of("text-summarize");
    let snapshot = world
        .store
        .snapshot_of_upgrade(summarize.id)
        .expect("snapshot")
        .expect("a snapshot");
    assert!(
        snapshot
            .state
            .rollouts
            .iter()
            .any(|r| r.upgrade_id == query.id),
        "the premise: the later snapshot holds the earlier rollout"
    );
    world
        .orchestrator
        .rollback(query.id, RollbackStrategy::Partial, "alice", "not needed")
        .await
        .expect("partial rollback of json-query");

    world
        .orchestrator
        .rollback(summarize.id, RollbackStrategy::Full, "alice", "undo all")
        .await
        .expect("full rollback of text-summarize");

    assert!(
        world.store.rollouts().expect("rollouts").is_empty(),
        "a rolled-back upgrade's rollout must not come back: {:?}",
        world.store.rollouts()
    );
    assert_eq!(
        world.routed("json.query"),
        (Some("json-query@1.0.0".to_owned()), None)
    );
    assert_eq!(
        world.routed("text.summarize"),
        (Some("text-summarize@1.0.0".to_owned()), None)
    );
    assert!(matches!(
        world.upgrade(query.id).state,
        UpgradeState::RolledBack { .. }
    ));
}

/// test-files 1.0.0 installed; the catalog offers test-files 2.0.0 (the
/// same component) that may write under `<home>/plugin-data/test-files/out`
/// and declares `compensating_action` writing `path`.
async fn files_rolling_out(compensating_path: Option<&str>) -> (World, i64) {
    let world = World::new(fast_config(), &["test-files-1.0.0"], &[]);
    let mut manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(plugins_dir().join("test-files-1.0.0/manifest.json"))
            .expect("read the built manifest"),
    )
    .expect("manifest JSON");
    manifest["version"] = json!("2.0.0");
    manifest["security_profile"]["allowed_file_paths"] = json!(["out"]);
    if let Some(path) = compensating_path {
        manifest["compensating_action"] = json!({
            "capability": "test.write-file",
            "input": {"path": path, "content": "undo"}
        });
    }
    world.add_catalog_directory("test-files-2.0.0", "test-files-1.0.0", &manifest);
    world.cycle().await;
    let upgrade = world.upgrade_of("test-files");
    assert_eq!(
        upgrade.state,
        UpgradeState::RollingOut { stage: 0 },
        "{:?}",
        upgrade.evidence
    );
    assert_eq!(upgrade.to_version.to_string(), "2.0.0");
    (world, upgrade.id)
}

fn compensated_file(world: &World) -> std::path::PathBuf {
    world
        .home
        .plugin_data_dir()
        .join("test-files")
        .join("out")
        .join("compensated.txt")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compensating_rollback_calls_the_declared_action_then_reverts() {
    let (world, id) = files_rolling_out(Some("/out/compensated.txt")).await;
    let file = compensated_file(&world);
    assert!(!file.exists(), "nothing wrote {} yet", file.display());

    world
        .orchestrator
        .rollback(
            id,
            RollbackStrategy::Compensating,
            "alice",
            "undo the writes",
        )
        .await
        .expect("rollback");

    assert_eq!(
        std::fs::read_to_string(&file).expect("the compensating action wrote its file"),
        "undo"
    );
    let upgrade = world.upgrade(id);
    assert!(
        matches!(&upgrade.state, UpgradeState::RolledBack { reason } if reason.contains("compensating") && reason.contains("undo the writes")),
        "{}",
        upgrade.state
    );
    assert_eq!(
        upgrade.evidence["compensation"],
        json!({"capability": "test.write-file", "output": {"written": 4}})
    );
    for capability in ["test.read-file", "test.write-file"] {
        assert_eq!(
            world.active(capability).as_deref(),
            Some("test-files@1.0.0"),
            "{capability}"
        );
        assert_eq!(
            world.routed(capability),
            (Some("test-files@1.0.0".to_owned()), None),
            "{capability}"
        );
    }
    assert!(world.store.rollouts().expect("rollouts").is_empty());
    let last = world.store.upgrade_events(id).expect("events");
    assert_eq!(last.last().expect("event").actor, "human:alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compensating_rollback_is_refused_when_the_manifest_declares_none() {
    let (world, id) = files_rolling_out(None).await;
    let message = refusal(
        world
            .orchestrator
            .rollback(id, RollbackStrategy::Compensating, "alice", "undo")
            .await,
    );
    assert!(
        message.contains("test-files@2.0.0 declares no compensating_action"),
        "{message}"
    );
    assert_unchanged_rolling_out(&world, id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compensating_rollback_is_refused_when_the_action_fails() {
    // The sandbox grants /out only: writing elsewhere fails.
    let (world, id) = files_rolling_out(Some("/elsewhere/compensated.txt")).await;
    let message = refusal(
        world
            .orchestrator
            .rollback(id, RollbackStrategy::Compensating, "alice", "undo")
            .await,
    );
    assert!(
        message.contains("the compensating action test.write-file failed"),
        "{message}"
    );
    assert!(message.contains("/elsewhere/compensated.txt"), "{message}");
    assert!(message.contains("nothing was rolled back"), "{message}");
    assert_unchanged_rolling_out(&world, id);
    assert!(world.upgrade(id).evidence.get("compensation").is_none());
}

/// The test-files upgrade is still rolling out, as before a refused rollback.
fn assert_unchanged_rolling_out(world: &World, id: i64) {
    assert_eq!(
        world.upgrade(id).state,
        UpgradeState::RollingOut { stage: 0 }
    );
    let rollouts = world.store.rollouts().expect("rollouts");
    assert_eq!(rollouts.len(), 1);
    assert_eq!(rollouts[0].upgrade_id, id);
    assert_eq!(world.routed("test.read-file").1, Some(id));
    assert_eq!(
        world.active("test.read-file").as_deref(),
        Some("test-files@1.0.0")
    );
    let events = world.store.upgrade_events(id).expect("events");
    assert!(
        events.iter().all(|e| !e.actor.starts_with("human:")),
        "no human transition was recorded: {events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_back_an_unknown_upgrade_is_refused() {
    let world = World::new(test_config(), &["text-summarize-1.0.0"], &[]);
    let message = refusal(
        world
            .orchestrator
            .rollback(42, RollbackStrategy::Partial, "alice", "undo")
            .await,
    );
    assert_eq!(
        message,
        "there is no upgrade 42; see `selfup upgrades list`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_back_a_rejected_upgrade_is_refused() {
    let mut config = test_config();
    config.decision.require_human_approval_above_risk = 0.1;
    let world = World::new(config, &["text-summarize-1.0.0"], &["text-summarize-2.0.0"]);
    world.cycle().await;
    let id = world.upgrade_of("text-summarize").id;
    world
        .orchestrator
        .reject(id, "bob", "not this quarter")
        .expect("reject");
    let before = world.upgrade(id);
    for strategy in [
        RollbackStrategy::Partial,
        RollbackStrategy::Full,
        RollbackStrategy::Compensating,
    ] {
        let message = refusal(
            world
                .orchestrator
                .rollback(id, strategy, "alice", "undo")
                .await,
        );
        assert!(
            message.contains(&format!("upgrade {id} is rejected")),
            "{message}"
        );
        assert!(
            message.contains("only an upgrade that is rolling out or completed"),
            "{message}"
        );
    }
    assert_eq!(world.upgrade(id), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_back_a_failed_upgrade_is_refused() {
    let mut config = test_config();
    config.decision.require_human_approval_above_risk = 0.1;
    let world = World::new(config, &["text-summarize-1.0.0"], &["text-summarize-2.0.0"]);
    world.cycle().await;
    let id = world.upgrade_of("text-summarize").id;
    world
        .orchestrator
        .approve(id, "bob", "go")
        .expect("approve");
    world
        .orchestrator
        .rollback(id, RollbackStrategy::Partial, "alice", "changed my mind")
        .await
        .expect("cancel");
    let before = world.upgrade(id);
    assert!(matches!(before.state, UpgradeState::Failed { .. }));
    let message = refusal(
        world
            .orchestrator
            .rollback(id, RollbackStrategy::Partial, "alice", "again")
            .await,
    );
    assert!(
        message.contains(&format!("upgrade {id} is failed")),
        "{message}"
    );
    assert_eq!(world.upgrade(id), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_back_a_rolled_back_upgrade_is_refused() {
    let (world, id) = summarize_rolling_out(fast_config()).await;
    world
        .orchestrator
        .rollback(id, RollbackStrategy::Partial, "alice", "first")
        .await
        .expect("rollback");
    let before = world.upgrade(id);
    let events = world.store.upgrade_events(id).expect("events").len();
    let message = refusal(
        world
            .orchestrator
            .rollback(id, RollbackStrategy::Full, "alice", "second")
            .await,
    );
    assert!(
        message.contains(&format!("upgrade {id} is rolled_back")),
        "{message}"
    );
    assert_eq!(world.upgrade(id), before);
    assert_eq!(
        world.store.upgrade_events(id).expect("events").len(),
        events
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_back_an_approved_upgrade_cancels_it() {
    let mut config = fast_config();
    config.decision.require_human_approval_above_risk = 0.1;
    let world = World::new(config, &["text-summarize-1.0.0"], &["text-summarize-2.0.0"]);
    world.cycle().await;
    let id = world.upgrade_of("text-summarize").id;
    world
        .orchestrator
        .approve(id, "bob", "go")
        .expect("approve");
    assert_eq!(world.upgrade(id).state, UpgradeState::Approved);

    let change = world
        .orchestrator
        .rollback(id, RollbackStrategy::Partial, "alice", "changed my mind")
        .await
        .expect("cancel");
    assert!(change.text.contains("cancelled"), "{}", change.text);
    match world.upgrade(id).state {
        UpgradeState::Failed { reason } => {
            assert!(reason.contains("cancelled"), "{reason}");
            assert!(reason.contains("changed my mind"), "{reason}");
        }
        other => panic!("upgrade {id} is {other}"),
    }
    let events = world.store.upgrade_events(id).expect("events");
    assert_eq!(events.last().expect("event").actor, "human:alice");

    // The next steps leave it alone: nothing installed, planned or routed.
    world.tick().await;
    world.cycle().await;
    assert!(matches!(
        world.upgrade(id).state,
        UpgradeState::Failed { .. }
    ));
    assert_eq!(world.installed(), ["text-summarize@1.0.0"]);
    assert!(
        world
            .store
            .snapshot_of_upgrade(id)
            .expect("snapshot")
            .is_none()
    );
    assert_eq!(
        world.routed("text.summarize"),
        (Some("text-summarize@1.0.0".to_owned()), None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_back_is_refused_when_retention_deleted_the_files_it_needs() {
    let mut config = fast_config();
    config.rollback.snapshot_retention_days = 1;
    let world = World::new(config, &["text-summarize-1.0.0"], &["text-summarize-2.0.0"]);
    world.cycle().await;
    let id = world.upgrade_of("text-summarize").id;
    let state = world
        .drive_to_final(id, "text.summarize", &summary_input(), 3)
        .await;
    assert_eq!(state, UpgradeState::Completed);
    // The old version is removed; a month later retention released the
    // snapshot and deleted the old version's files.
    let old = world.artifacts_of("text-summarize", "1.0.0");
    world
        .store
        .remove_plugin(
            "text-summarize",
            Some(&semver::Version::new(1, 0, 0)),
            "test",
            world.now(),
        )
        .expect("remove 1.0.0");
    world.age_artifacts(std::time::Duration::from_secs(2 * 3600));
    world.clock.advance_hours(30.0 * 24.0);
    world.orchestrator.retention().expect("retention");
    assert!(
        old.iter().all(|h| !world.artifact_path(h).exists()),
        "the premise: 1.0.0's files are gone"
    );
    let before = world.upgrade(id);

    for strategy in [RollbackStrategy::Partial, RollbackStrategy::Full] {
        let message = refusal(
            world
                .orchestrator
                .rollback(id, strategy, "alice", "undo")
                .await,
        );
        assert!(message.contains("text-summarize@1.0.0"), "{message}");
        assert!(message.contains("deleted"), "{message}");
    }
    assert_eq!(world.upgrade(id), before);
    assert_eq!(world.installed(), ["text-summarize@2.0.0"]);
    assert_eq!(
        world.active("text.summarize").as_deref(),
        Some("text-summarize@2.0.0")
    );
    let (served, _) = world
        .serve("text.summarize", "user-1", &summary_input())
        .await;
    assert_eq!(served, "text-summarize@2.0.0");
}
