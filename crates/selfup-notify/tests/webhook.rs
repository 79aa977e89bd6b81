//! Webhook deliveries against a receiver on loopback that checks the
//! signature and timestamp of every delivery.

mod common;

use std::time::{Duration, Instant};

use common::{Reply, World, config, webhook};
use selfup_core::config::NotificationEvent as E;
use selfup_notify::TickReport;
use selfup_store::notifications::{Delivery, DeliveryStatus};

fn log(world: &World) -> Vec<Delivery> {
    world.store.notification_deliveries(None, 100).expect("log")
}

#[tokio::test]
async fn a_deployment_is_delivered_signed_the_first_time() {
    let world = World::new();
    let receiver = common::Receiver::start(world.clock.clone(), vec![], Reply::Status(204)).await;
    let notifier = world.notifier(&config(vec![webhook(&receiver.url, &[E::UpgradeDeployed])]));
    assert_eq!(notifier.tick().await.expect("tick"), TickReport::default());

    let id = world.deployed("text-summarize", "2.0.0");
    let report = notifier.tick().await.expect("tick");
    assert_eq!((report.enqueued, report.delivered), (1, 1), "{report:?}");

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert!(r.signature_ok, "signature or timestamp wrong: {r:?}");
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.header("user-agent"),
        concat!("selfup/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(r.header("x-selfup-event"), "upgrade_deployed");
    assert_eq!(
        r.header("x-selfup-delivery"),
        r.body["id"].as_str().expect("id")
    );
    assert_eq!(r.timestamp, common::START_MS / 1000);
    assert_eq!(r.body["event"], "upgrade_deployed");
    assert_eq!(r.body["occurred_at"], "2026-01-01T00:00:00.000Z");
    let upgrade = &r.body["upgrade"];
    assert_eq!(upgrade["id"], id);
    assert_eq!(upgrade["plugin"], "text-summarize");
    assert_eq!(upgrade["capability"], "text_summarize.run");
    assert_eq!(upgrade["from_version"], "1.0.0");
    assert_eq!(upgrade["to_version"], "2.0.0");
    assert_eq!(upgrade["state"], "completed");
    assert_eq!(r.body["actor"], "orchestrator");
    assert_eq!(r.body["detail"]["test"], true);

    let log = log(&world);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, DeliveryStatus::Delivered);
    assert_eq!(log[0].attempts, 1);
    assert_eq!(log[0].destination, receiver.url);
    assert_eq!(notifier.tick().await.expect("tick"), TickReport::default());
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_until_delivered() {
    let world = World::new();
    let receiver = common::Receiver::start(
        world.clock.clone(),
        vec![Reply::Status(500), Reply::Status(503)],
        Reply::Status(200),
    )
    .await;
    let notifier = world
        .notifier(&config(vec![webhook(
            &receiver.url,
            &[E::UpgradeRolledBack],
        )]))
        .with_backoff(Duration::from_secs(1), Duration::from_secs(60));
    notifier.tick().await.expect("start");
    world.rolled_back("json-query", "1.1.0", "error rate (5xx) above 2%");

    let report = notifier.tick().await.expect("tick 1");
    assert_eq!((report.attempted, report.retrying), (1, 1), "{report:?}");
    let d = &log(&world)[0];
    let t0 = world.clock_now();
    let next = d.next_attempt_ms.expect("next");
    assert!(
        (t0 + 1_000..=t0 + 1_250).contains(&next),
        "first backoff {}",
        next - t0
    );
    assert!(
        d.last_error.as_deref().unwrap_or("").contains("500"),
        "{d:?}"
    );

    // Not due yet: nothing is attempted.
    world.clock.advance(999);
    assert_eq!(notifier.tick().await.expect("early").attempted, 0);
    world.clock.advance(next - t0 - 999);
    let report = notifier.tick().await.expect("tick 2");
    assert_eq!((report.attempted, report.retrying), (1, 1), "{report:?}");
    let t1 = world.clock_now();
    let next = log(&world)[0].next_attempt_ms.expect("next");
    assert!(
        (t1 + 2_000..=t1 + 2_500).contains(&next),
        "second backoff {}",
        next - t1
    );

    world.clock.advance(next - t1);
    let report = notifier.tick().await.expect("tick 3");
    assert_eq!(report.delivered, 1, "{report:?}");
    let d = &log(&world)[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 3));
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|r| r.signature_ok), "{got:?}");
    assert!(
        got.iter()
            .all(|r| r.header("x-selfup-delivery") == d.delivery_id)
    );
    assert_eq!(
        got[0].body["upgrade"]["reason"],
        "error rate (5xx) above 2%"
    );
    assert_eq!(got[0].body["actor"], "gate:error_rate");
}

#[tokio::test]
async fn a_refusal_fails_at_once_and_retry_after_is_honoured() {
    let world = World::new();
    let refusing = common::Receiver::start(world.clock.clone(), vec![], Reply::Status(400)).await;
    let busy = common::Receiver::start(
        world.clock.clone(),
        vec![Reply::RetryAfter(30)],
        Reply::Status(200),
    )
    .await;
    let notifier = world.notifier(&config(vec![
        webhook(&refusing.url, &[E::UpgradeFailed]),
        webhook(&busy.url, &[E::UpgradeFailed]),
    ]));
    notifier.tick().await.expect("start");
    world.failed("text-stats", "1.2.0", "package does not install");

    let report = notifier.tick().await.expect("tick");
    assert_eq!((report.failed, report.retrying), (1, 1), "{report:?}");
    let log = log(&world);
    let refused = log.iter().find(|d| d.channel == 0).expect("refused");
    assert_eq!(
        (refused.status, refused.attempts),
        (DeliveryStatus::Failed, 1)
    );
    let error = refused.last_error.as_deref().unwrap_or("");
    assert!(
        error.contains("400") && error.contains("refused"),
        "{error}"
    );
    let waiting = log.iter().find(|d| d.channel == 1).expect("busy");
    assert!(waiting.next_attempt_ms.expect("next") >= world.clock_now() + 30_000);

    world.clock.advance(29_000);
    assert_eq!(notifier.tick().await.expect("early").attempted, 0);
    world.clock.advance(1_000);
    let report = notifier.tick().await.expect("late");
    assert_eq!((report.attempted, report.delivered), (1, 1), "{report:?}");
    assert_eq!(
        refusing.received().len(),
        1,
        "a refused delivery is not retried"
    );
    assert!(refusing.received()[0].signature_ok);
    assert_eq!(
        refusing.received()[0].body["upgrade"]["reason"],
        "package does not install"
    );
}

#[tokio::test]
async fn a_delivery_is_given_up_after_max_attempts() {
    let world = World::new();
    let receiver = common::Receiver::start(world.clock.clone(), vec![], Reply::Status(502)).await;
    let mut cfg = config(vec![webhook(&receiver.url, &[E::UpgradeApproved])]);
    cfg.max_attempts = 2;
    let notifier = world
        .notifier(&cfg)
        .with_backoff(Duration::from_millis(10), Duration::from_millis(10));
    notifier.tick().await.expect("start");
    world.approved("text-summarize", "2.0.0");
    assert_eq!(notifier.tick().await.expect("1").retrying, 1);
    world.clock.advance(1_000);
    assert_eq!(notifier.tick().await.expect("2").failed, 1);
    world.clock.advance(1_000);
    assert_eq!(notifier.tick().await.expect("3").attempted, 0);
    let d = &log(&world)[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 2));
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test]
async fn a_hanging_receiver_times_out_without_holding_up_other_channels() {
    let world = World::new();
    let hanging = common::Receiver::start(world.clock.clone(), vec![], Reply::Hang).await;
    let good = common::Receiver::start(world.clock.clone(), vec![], Reply::Status(200)).await;
    let notifier = world.notifier(&config(vec![
        webhook(&hanging.url, &[E::UpgradeDeployed]),
        webhook(&good.url, &[E::UpgradeDeployed]),
    ]));
    notifier.tick().await.expect("start");
    for i in 0..3 {
        world.deployed(&format!("plugin-{i}"), "2.0.0");
    }
    let started = Instant::now();
    let report = notifier.tick().await.expect("tick");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "the tick took {took:?}");
    assert_eq!((report.delivered, report.retrying), (3, 3), "{report:?}");
    assert_eq!(good.received().len(), 3);
    for d in log(&world).iter().filter(|d| d.channel == 0) {
        assert_eq!(d.status, DeliveryStatus::Pending);
        let error = d.last_error.as_deref().unwrap_or("");
        assert!(error.contains("timed out"), "{error}");
    }
}

#[tokio::test]
async fn each_channel_gets_only_its_events() {
    let world = World::new();
    let deployed = common::Receiver::start(world.clock.clone(), vec![], Reply::Status(200)).await;
    let others = common::Receiver::start(world.clock.clone(), vec![], Reply::Status(200)).await;
    let notifier = world.notifier(&config(vec![
        webhook(&deployed.url, &[E::UpgradeDeployed]),
        webhook(
            &others.url,
            &[
                E::UpgradeRolledBack,
                E::ApprovalRequested,
                E::UpgradeApproved,
            ],
        ),
    ]));
    notifier.tick().await.expect("start");
    let a = world.awaiting("a-plugin", "2.0.0");
    let b = world.deployed("b-plugin", "2.0.0");
    let c = world.rolled_back("c-plugin", "2.0.0", "latency");
    world.failed("d-plugin", "2.0.0", "nobody listens for this");
    // At most four deliveries per channel are attempted per tick.
    let first = notifier.tick().await.expect("tick");
    assert_eq!((first.enqueued, first.delivered), (7, 6), "{first:?}");
    assert_eq!(notifier.tick().await.expect("tick").delivered, 1);

    let events = |r: &common::Receiver| -> Vec<(String, i64)> {
        r.received()
            .iter()
            .map(|x| {
                assert!(x.signature_ok, "{x:?}");
                (
                    x.body["event"].as_str().unwrap_or("").to_owned(),
                    x.body["upgrade"]["id"].as_i64().unwrap_or(-1),
                )
            })
            .collect()
    };
    let mut got = events(&deployed);
    got.sort();
    assert_eq!(
        got,
        [
            ("upgrade_deployed".to_owned(), b),
            ("upgrade_deployed".to_owned(), c)
        ]
    );
    let mut got = events(&others);
    got.sort();
    let d_id = c + 1;
    assert_eq!(
        got,
        [
            ("approval_requested".to_owned(), a),
            ("upgrade_approved".to_owned(), b),
            ("upgrade_approved".to_owned(), c),
            ("upgrade_approved".to_owned(), d_id),
            ("upgrade_rolled_back".to_owned(), c),
        ]
    );
}

#[tokio::test]
async fn a_second_notifier_neither_loses_nor_repeats_deliveries() {
    let world = World::new();
    // History before the first start is not notified.
    world.deployed("old-plugin", "2.0.0");
    let receiver = common::Receiver::start(world.clock.clone(), vec![], Reply::Status(200)).await;
    let cfg = config(vec![webhook(&receiver.url, &[E::UpgradeDeployed])]);

    let first = world.notifier(&cfg);
    assert_eq!(first.tick().await.expect("start"), TickReport::default());
    world.deployed("one", "2.0.0");
    assert_eq!(first.tick().await.expect("one").delivered, 1);
    // Enqueued, then the process dies before sending.
    world.deployed("two", "2.0.0");
    assert_eq!(first.enqueue().await.expect("enqueue"), 1);
    drop(first);

    let second = world.notifier(&cfg);
    world.deployed("three", "2.0.0");
    let report = second.tick().await.expect("restart");
    assert_eq!((report.enqueued, report.delivered), (1, 2), "{report:?}");
    assert_eq!(second.tick().await.expect("again"), TickReport::default());

    let mut plugins: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| {
            r.body["upgrade"]["plugin"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    plugins.sort();
    assert_eq!(plugins, ["one", "three", "two"]);
    let mut ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("x-selfup-delivery").to_owned())
        .collect();
    assert_eq!(ids.len(), 3);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "a delivery was repeated");
}

#[tokio::test]
async fn while_disabled_events_are_skipped_and_never_sent_later() {
    let world = World::new();
    let receiver = common::Receiver::start(world.clock.clone(), vec![], Reply::Status(200)).await;
    let mut cfg = config(vec![webhook(&receiver.url, &[E::UpgradeDeployed])]);
    cfg.enabled = false;
    let off = world.notifier(&cfg);
    off.tick().await.expect("start");
    world.deployed("quiet", "2.0.0");
    assert_eq!(off.tick().await.expect("off"), TickReport::default());
    cfg.enabled = true;
    let on = world.notifier(&cfg);
    assert_eq!(on.tick().await.expect("on"), TickReport::default());
    world.deployed("loud", "2.0.0");
    assert_eq!(on.tick().await.expect("on").delivered, 1);
    assert_eq!(receiver.received().len(), 1);
}

#[tokio::test]
async fn without_the_secret_deliveries_go_unsigned() {
    let world = World::new();
    let receiver = common::Receiver::start(world.clock.clone(), vec![], Reply::Status(200)).await;
    let mut channel = webhook(&receiver.url, &[E::UpgradeDeployed]);
    channel.secret_env = Some("SELFUP_NOTIFY_TEST_NO_SUCH_SECRET".to_owned());
    let notifier = world.notifier(&config(vec![channel]));
    notifier.tick().await.expect("start");
    world.deployed("text-summarize", "2.0.0");
    assert_eq!(notifier.tick().await.expect("tick").delivered, 1);
    let got = receiver.received();
    assert!(!got[0].signed);
    assert_eq!(got[0].header("x-selfup-event"), "upgrade_deployed");
}

#[tokio::test]
async fn run_stops_on_shutdown_and_delivers_meanwhile() {
    let world = World::new();
    let receiver = common::Receiver::start(world.clock.clone(), vec![], Reply::Status(200)).await;
    let notifier = world
        .notifier(&config(vec![webhook(&receiver.url, &[E::UpgradeDeployed])]))
        .with_poll_interval(Duration::from_millis(20));
    notifier.tick().await.expect("start");
    world.deployed("text-summarize", "2.0.0");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn({
        let notifier = notifier.clone();
        async move {
            notifier
                .run(async {
                    let _ = stopped.await;
                })
                .await
        }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while receiver.received().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("run stops")
        .expect("join");
    assert_eq!(receiver.received().len(), 1);
}
