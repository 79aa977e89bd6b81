//! Email deliveries to an SMTP server on loopback that the test reads.

mod common;

use common::{Reply, SmtpServer, World, config, email, webhook};
use selfup_core::config::NotificationEvent as E;
use selfup_core::config::SmtpSecurity;
use selfup_store::notifications::DeliveryStatus;

#[tokio::test]
async fn a_rollback_arrives_by_email_with_sender_recipients_subject_and_body() {
    let world = World::new();
    let server = SmtpServer::start().await;
    let notifier = world.notifier(&config(vec![email(
        server.port,
        SmtpSecurity::Plain,
        &["ops@example.com", "Oncall <oncall@example.org>"],
        &[E::UpgradeRolledBack],
    )]));
    notifier.tick().await.expect("start");
    let id = world.rolled_back(
        "text-summarize",
        "2.0.0",
        "p95 latency 2.1x the incumbent's",
    );
    let report = notifier.tick().await.expect("tick");
    assert_eq!(
        report.delivered,
        1,
        "{report:?}: {:?}",
        world.store.notification_deliveries(None, 9)
    );

    let mails = server.mails();
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "selfup@example.com");
    assert_eq!(mail.rcpt_to, ["ops@example.com", "oncall@example.org"]);
    assert_eq!(mail.header("From").as_deref(), Some("selfup@example.com"));
    let to = mail.header("To").expect("To");
    assert!(
        to.contains("ops@example.com") && to.contains("oncall@example.org"),
        "{to}"
    );
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("[selfup] upgrade_rolled_back: text-summarize 2.0.0")
    );
    let body = mail.body();
    assert!(body.contains("selfup: upgrade_rolled_back"), "{body}");
    assert!(
        body.contains(&format!("Upgrade:    {id}: text-summarize 1.0.0 -> 2.0.0")),
        "{body}"
    );
    assert!(body.contains("State:      rolled_back"), "{body}");
    assert!(body.contains("Actor:      gate:error_rate"), "{body}");
    assert!(
        body.contains("Reason:     p95 latency 2.1x the incumbent's"),
        "{body}"
    );
    assert!(
        body.contains(&format!("selfup upgrades show {id}")),
        "{body}"
    );

    let log = world.store.notification_deliveries(None, 9).expect("log");
    assert_eq!(log[0].status, DeliveryStatus::Delivered);
    assert_eq!(log[0].channel_kind, "email");
    assert_eq!(
        log[0].destination,
        "ops@example.com, Oncall <oncall@example.org>"
    );
}

#[tokio::test]
async fn starttls_required_against_a_server_without_it_fails_clearly_and_others_go_on() {
    let world = World::new();
    let server = SmtpServer::start().await;
    let receiver = common::Receiver::start(world.clock.clone(), vec![], Reply::Status(200)).await;
    let notifier = world.notifier(&config(vec![
        email(
            server.port,
            SmtpSecurity::Starttls,
            &["ops@example.com"],
            &[E::UpgradeDeployed],
        ),
        webhook(&receiver.url, &[E::UpgradeDeployed]),
        email(server.port, SmtpSecurity::Plain, &[], &[E::UpgradeDeployed]),
    ]));
    notifier.tick().await.expect("start");
    world.deployed("text-summarize", "2.0.0");
    let report = notifier.tick().await.expect("tick");
    assert_eq!((report.delivered, report.failed), (1, 2), "{report:?}");
    assert!(server.mails().is_empty(), "nothing is sent in the clear");
    assert_eq!(receiver.received().len(), 1);
    assert!(receiver.received()[0].signature_ok);

    let log = world.store.notification_deliveries(None, 9).expect("log");
    let starttls = log.iter().find(|d| d.channel == 0).expect("starttls");
    assert_eq!(
        (starttls.status, starttls.attempts),
        (DeliveryStatus::Failed, 1)
    );
    let error = starttls.last_error.as_deref().unwrap_or("");
    if common::under_wine() {
        // Wine 8's CertCreateCertificateChainEngine refuses the (Windows 8+)
        // configuration the platform verifier passes, so the TLS transport
        // fails at set-up, before connecting; Windows itself gets further.
        assert!(error.contains("SMTP set-up for 127.0.0.1"), "{error}");
    } else {
        assert!(error.contains("does not offer STARTTLS"), "{error}");
        assert!(
            error.contains("self_upgrading_loop.notifications.channels[0].smtp.security"),
            "{error}"
        );
    }
    let nobody = log.iter().find(|d| d.channel == 2).expect("no recipients");
    assert_eq!(nobody.status, DeliveryStatus::Failed);
    let error = nobody.last_error.as_deref().unwrap_or("");
    assert!(
        error.contains("self_upgrading_loop.notifications.channels[2].to"),
        "{error}"
    );

    // The loop goes on: the next event is delivered as usual.
    world.deployed("text-stats", "1.1.0");
    let report = notifier.tick().await.expect("next");
    assert_eq!((report.delivered, report.failed), (1, 2), "{report:?}");
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_retried() {
    let world = World::new();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let notifier = world.notifier(&config(vec![email(
        port,
        SmtpSecurity::Plain,
        &["ops@example.com"],
        &[E::UpgradeFailed],
    )]));
    notifier.tick().await.expect("start");
    world.failed("text-summarize", "2.0.0", "validation failed");
    let report = notifier.tick().await.expect("tick");
    assert_eq!(report.retrying, 1, "{report:?}");
    let log = world.store.notification_deliveries(None, 9).expect("log");
    assert_eq!(log[0].status, DeliveryStatus::Pending);
    assert!(
        log[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("SMTP 127.0.0.1"),
        "{:?}",
        log[0]
    );
}
