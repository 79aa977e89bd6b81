//! Email over STARTTLS, end to end: an SMTP server on loopback offers
//! STARTTLS with a certificate from a certificate authority made for the
//! test; the notifier upgrades the connection, verifies the certificate
//! against the system's roots (here the test authority, through
//! `SSL_CERT_FILE`, which the platform verifier reads on Linux) and sends the
//! mail over TLS, which the test reads. A server whose certificate no root
//! vouches for gets nothing.
//!
//! Its own test binary: `SSL_CERT_FILE` is process-wide.
// Linux-only: the test authority reaches the platform verifier through
// `SSL_CERT_FILE`, which it reads on Linux; Windows reads its own store.
#![cfg(target_os = "linux")]

mod common;

use std::sync::{Arc, Mutex};

use common::{World, config, email};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use selfup_core::config::NotificationEvent as E;
use selfup_core::config::SmtpSecurity;
use selfup_store::notifications::DeliveryStatus;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority and a server certificate for 127.0.0.1 it signed.
struct Pki {
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

fn pki() -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "selfup test CA");
    let ca_key = KeyPair::generate().expect("ca key");
    let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
    let issuer = Issuer::new(ca, ca_key);
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("leaf params");
    leaf.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).expect("leaf cert");
    Pki {
        ca_pem: ca_cert.pem(),
        server_chain: vec![leaf_cert.der().clone()],
        server_key: leaf_key.serialize_der(),
    }
}

#[derive(Debug, Default, Clone)]
struct Session {
    upgraded: bool,
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

/// An SMTP server that offers STARTTLS and accepts mail only after it.
async fn start_server(acceptor: TlsAcceptor) -> (u16, Arc<Mutex<Vec<Session>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let sessions = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&sessions);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, sink) = (acceptor.clone(), Arc::clone(&sink));
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                let _ = stream.get_mut().write_all(b"220 localhost ESMTP\r\n").await;
                // Plain phase: EHLO, then STARTTLS.
                let mut line = String::new();
                loop {
                    line.clear();
                    if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" => b"250-localhost\r\n250 STARTTLS\r\n",
                        "STARTTLS" => {
                            let _ = stream.get_mut().write_all(b"220 go ahead\r\n").await;
                            break;
                        }
                        "QUIT" => {
                            let _ = stream.get_mut().write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"530 must issue STARTTLS first\r\n",
                    };
                    if stream.get_mut().write_all(reply).await.is_err() {
                        return;
                    }
                }
                let Ok(tls) = acceptor.accept(stream.into_inner()).await else {
                    return; // the client refused our certificate
                };
                let mut session = Session {
                    upgraded: true,
                    ..Session::default()
                };
                let _ = smtp_over(tls, &mut session).await;
                if let Ok(mut all) = sink.lock() {
                    all.push(session);
                }
            });
        }
    });
    (port, sessions)
}

async fn smtp_over(
    stream: impl AsyncRead + AsyncWrite + Unpin,
    session: &mut Session,
) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_uppercase();
        let arg = |c: &str| {
            c.split_once(':')
                .map(|(_, a)| a.trim().trim_matches(['<', '>']).to_owned())
                .unwrap_or_default()
        };
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-localhost\r\n250 8BITMIME\r\n",
            "MAIL" => {
                session.mail_from = arg(&command);
                b"250 ok\r\n"
            }
            "RCPT" => {
                session.rcpt_to.push(arg(&command));
                b"250 ok\r\n"
            }
            "DATA" => {
                stream.get_mut().write_all(b"354 go\r\n").await?;
                loop {
                    line.clear();
                    if stream.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    session
                        .data
                        .push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                b"250 queued\r\n"
            }
            "QUIT" => {
                stream.get_mut().write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"250 ok\r\n",
        };
        stream.get_mut().write_all(reply).await?;
        stream.get_mut().flush().await?;
    }
}

fn acceptor(pki: &Pki) -> TlsAcceptor {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key.clone()));
    let config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(pki.server_chain.clone(), key)
    .expect("server certificate");
    TlsAcceptor::from(Arc::new(config))
}

#[test]
fn a_mail_goes_over_starttls_to_a_server_the_roots_vouch_for_and_not_to_another() {
    let trusted = pki();
    let stranger = pki(); // same shape, but no root vouches for its authority
    let dir = tempfile::tempdir().expect("tempdir");
    let roots = dir.path().join("roots.pem");
    std::fs::write(&roots, &trusted.ca_pem).expect("roots");
    // SAFETY: set before any thread of this test binary exists (the runtime
    // is built below), and this binary has this one test.
    unsafe { std::env::set_var("SSL_CERT_FILE", &roots) };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (good_port, good) = start_server(acceptor(&trusted)).await;
        let (bad_port, bad) = start_server(acceptor(&stranger)).await;
        let world = World::new();
        let notifier = world.notifier(&config(vec![
            email(
                good_port,
                SmtpSecurity::Starttls,
                &["ops@example.com"],
                &[E::UpgradeDeployed],
            ),
            email(
                bad_port,
                SmtpSecurity::Starttls,
                &["ops@example.com"],
                &[E::UpgradeDeployed],
            ),
        ]));
        notifier.tick().await.expect("start");
        world.deployed("text-summarize", "2.0.0");
        let report = notifier.tick().await.expect("tick");
        assert_eq!(report.delivered, 1, "{report:?}");

        let sessions = good.lock().expect("lock").clone();
        assert_eq!(sessions.len(), 1, "{sessions:?}");
        let s = &sessions[0];
        assert!(s.upgraded);
        assert_eq!(s.mail_from, "selfup@example.com");
        assert_eq!(s.rcpt_to, ["ops@example.com"]);
        assert!(
            s.data
                .contains("Subject: [selfup] upgrade_deployed: text-summarize 2.0.0"),
            "{}",
            s.data
        );

        // The stranger's certificate was refused: no mail, and the delivery
        // says why (a TLS failure is not retried).
        assert!(bad.lock().expect("lock").is_empty());
        let deliveries = world.store.notification_deliveries(None, 10).expect("log");
        let refused = deliveries
            .iter()
            .find(|d| d.channel == 1)
            .expect("the stranger's delivery");
        assert_ne!(refused.status, DeliveryStatus::Delivered);
        let error = refused.last_error.clone().unwrap_or_default();
        assert!(!error.is_empty(), "{refused:?}");
    });
}
