//! Shared fixtures: a store in a tempdir with real upgrade events, a
//! virtual clock, a webhook receiver and an SMTP server on loopback.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use selfup_core::clock::Clock;
use selfup_core::config::{
    Channel, ChannelKind, NotificationEvent, NotificationsConfig, SmtpConfig, SmtpSecurity,
};
use selfup_core::upgrade::{Actor, UpgradeKind, UpgradeState};
use selfup_notify::Notifier;
use selfup_notify::signature::verify;
use selfup_store::upgrades::NewUpgrade;
use selfup_store::{Home, Store, StoreError};
use semver::Version;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// 2026-01-01T00:00:00Z.
pub const START_MS: i64 = 1_767_225_600_000;
/// The webhook secret every signed test channel uses.
pub const SECRET: &str = "test-secret-0123456789";
/// The environment variable holding it.
pub const SECRET_ENV: &str = "SELFUP_NOTIFY_TEST_SECRET";

static ENV: Once = Once::new();

/// Sets the test secret in the environment (once, before any notifier reads it).
pub fn init_env() {
    ENV.call_once(|| {
        // SAFETY: called at the start of every test, before any thread of
        // this test binary reads the environment variable it sets.
        unsafe { std::env::set_var(SECRET_ENV, SECRET) };
    });
}

/// A clock the test moves by hand.
pub struct TestClock(AtomicI64);

impl TestClock {
    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A home with a store and a virtual clock.
pub struct World {
    pub _dir: tempfile::TempDir,
    pub store: Arc<Store>,
    pub clock: Arc<TestClock>,
}

impl World {
    /// A fresh store.
    pub fn new() -> Self {
        init_env();
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(&Home::new(dir.path())).expect("store"));
        Self {
            _dir: dir,
            store,
            clock: Arc::new(TestClock(AtomicI64::new(START_MS))),
        }
    }

    /// The virtual time.
    pub fn clock_now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A notifier on this world with `config`.
    pub fn notifier(&self, config: &NotificationsConfig) -> Notifier {
        Notifier::new(config, Arc::clone(&self.store), self.clock.clone())
    }

    fn write(&self, f: impl FnOnce(&selfup_store::tx::Tx<'_>) -> Result<i64, StoreError>) -> i64 {
        self.store.write(self.clock.now_ms(), f).expect("write")
    }

    /// Proposes `plugin` 1.0.0 → `to`; returns its id (a `proposed` event).
    pub fn propose(&self, plugin: &str, to: &str) -> i64 {
        let new = NewUpgrade {
            kind: UpgradeKind::NewVersion,
            capability: format!("{}.run", plugin.replace('-', "_")),
            plugin: plugin.to_owned(),
            from_version: Some(Version::new(1, 0, 0)),
            to_version: Version::parse(to).expect("version"),
            source: "catalog/test".to_owned(),
            opportunity: 0.9,
            risk: 0.2,
            evidence: serde_json::json!({"why": "test"}),
        };
        self.write(|tx| tx.insert_upgrade(&new, &Actor::Rule("auto_approve".into())))
    }

    /// Moves upgrade `id` to `to` (one rollout stage) as `actor`.
    pub fn transition(&self, id: i64, to: UpgradeState, actor: Actor) {
        self.write(|tx| {
            tx.transition(id, &to, &actor, &serde_json::json!({"test": true}), 1)?;
            Ok(id)
        });
    }

    /// Proposes and approves (`approved` event, by a human).
    pub fn approved(&self, plugin: &str, to: &str) -> i64 {
        let id = self.propose(plugin, to);
        self.transition(id, UpgradeState::Approved, Actor::Human("alice".into()));
        id
    }

    /// Proposes and asks for approval (`awaiting_approval` event).
    pub fn awaiting(&self, plugin: &str, to: &str) -> i64 {
        let id = self.propose(plugin, to);
        self.transition(
            id,
            UpgradeState::AwaitingApproval,
            Actor::Rule("risk".into()),
        );
        id
    }

    /// Approves and carries upgrade through its one stage to `completed`.
    pub fn deployed(&self, plugin: &str, to: &str) -> i64 {
        let id = self.approved(plugin, to);
        for state in [
            UpgradeState::Planned,
            UpgradeState::Validating,
            UpgradeState::RollingOut { stage: 0 },
            UpgradeState::Completed,
        ] {
            self.transition(id, state, Actor::Orchestrator);
        }
        id
    }

    /// Deploys, then rolls back with `reason` (by a gate).
    pub fn rolled_back(&self, plugin: &str, to: &str, reason: &str) -> i64 {
        let id = self.deployed(plugin, to);
        self.transition(
            id,
            UpgradeState::RolledBack {
                reason: reason.to_owned(),
            },
            Actor::Gate("error_rate".into()),
        );
        id
    }

    /// Approves, then fails with `reason`.
    pub fn failed(&self, plugin: &str, to: &str, reason: &str) -> i64 {
        let id = self.approved(plugin, to);
        self.transition(
            id,
            UpgradeState::Failed {
                reason: reason.to_owned(),
            },
            Actor::Orchestrator,
        );
        id
    }
}

/// Notifications on, the given channels, short timeout.
pub fn config(channels: Vec<Channel>) -> NotificationsConfig {
    NotificationsConfig {
        enabled: true,
        channels,
        max_attempts: 5,
        timeout_seconds: 0.5,
    }
}

/// A signed webhook channel for `events`.
pub fn webhook(url: &str, events: &[NotificationEvent]) -> Channel {
    Channel {
        kind: ChannelKind::Webhook,
        url: Some(url.to_owned()),
        on_events: events.to_vec(),
        secret_env: Some(SECRET_ENV.to_owned()),
        smtp: None,
        from: None,
        to: Vec::new(),
    }
}

/// An email channel to `to` through the SMTP server on `port`.
pub fn email(
    port: u16,
    security: SmtpSecurity,
    to: &[&str],
    events: &[NotificationEvent],
) -> Channel {
    Channel {
        kind: ChannelKind::Email,
        url: None,
        on_events: events.to_vec(),
        secret_env: None,
        smtp: Some(SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port,
            security,
            username_env: "SELFUP_NOTIFY_TEST_UNSET_USER".to_owned(),
            password_env: "SELFUP_NOTIFY_TEST_UNSET_PASSWORD".to_owned(),
        }),
        from: Some("selfup@example.com".to_owned()),
        to: to.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: serde_json::Value,
    /// Whether the signature verified against the secret and the timestamp.
    pub signature_ok: bool,
    /// Whether a signature header was sent at all.
    pub signed: bool,
    /// The timestamp header, in seconds.
    pub timestamp: i64,
}

impl Received {
    /// A header as text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// How the receiver answers the next request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// This status.
    Status(u16),
    /// 429 with `Retry-After: seconds`.
    RetryAfter(u64),
    /// Never answers (sleeps a minute).
    Hang,
}

struct ReceiverState {
    script: Mutex<VecDeque<Reply>>,
    default: Reply,
    received: Mutex<Vec<Received>>,
    clock: Arc<TestClock>,
}

/// A webhook receiver on 127.0.0.1 that checks every delivery's signature.
pub struct Receiver {
    pub url: String,
    state: Arc<ReceiverState>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts one answering `script` in order, then `default`.
    pub async fn start(clock: Arc<TestClock>, script: Vec<Reply>, default: Reply) -> Self {
        let state = Arc::new(ReceiverState {
            script: Mutex::new(script.into()),
            default,
            received: Mutex::new(Vec::new()),
            clock,
        });
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(Arc::clone(&state));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Self {
            url: format!("http://{addr}/hook"),
            state,
            task,
        }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let timestamp: i64 = headers
        .get("x-selfup-timestamp")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1);
    let signature = headers
        .get("x-selfup-signature-256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // The timestamp must be the sender's now (the virtual clock), within 5 min.
    let fresh = (state.clock.now_ms() / 1000 - timestamp).abs() <= 300;
    let signature_ok = fresh
        && signature
            .as_deref()
            .is_some_and(|s| verify(SECRET.as_bytes(), timestamp, &body, s));
    let parsed = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    state.received.lock().expect("lock").push(Received {
        headers,
        body: parsed,
        signature_ok,
        signed: signature.is_some(),
        timestamp,
    });
    let reply = state
        .script
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or(state.default);
    match reply {
        Reply::Status(code) => StatusCode::from_u16(code)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Reply::RetryAfter(seconds) => {
            let mut response = (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response();
            response.headers_mut().insert(
                "retry-after",
                HeaderValue::from_str(&seconds.to_string()).expect("header"),
            );
            response
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            StatusCode::OK.into_response()
        }
    }
}

/// One message the SMTP server accepted.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent, dot-unstuffed, CRLF line ends.
    pub data: String,
}

impl Mail {
    /// A header's value (unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.data.split_once("\r\n\r\n")?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }

    /// The body.
    pub fn body(&self) -> String {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    }
}

/// A minimal SMTP server on 127.0.0.1 (EHLO/HELO, MAIL, RCPT, DATA with
/// dot-unstuffing, RSET, NOOP, QUIT). It never offers STARTTLS.
pub struct SmtpServer {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpServer {
    /// Starts it.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&mails);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = Arc::clone(&sink);
                tokio::spawn(async move {
                    let _ = session(stream, sink).await;
                });
            }
        });
        Self { port, mails, task }
    }

    /// Every message accepted so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("lock").clone()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    sink: Arc<Mutex<Vec<Mail>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 localhost test ESMTP\r\n").await?;
    let mut mail = Mail::default();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "NOOP" => b"250 ok\r\n",
            "RSET" => {
                mail = Mail::default();
                b"250 ok\r\n"
            }
            "MAIL" => {
                mail.mail_from = address(&command);
                b"250 ok\r\n"
            }
            "RCPT" => {
                mail.rcpt_to.push(address(&command));
                b"250 ok\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 4.5.2).
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                mail.data = data;
                sink.lock().expect("lock").push(std::mem::take(&mut mail));
                b"250 queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(a, _)| a.to_owned())
        .unwrap_or_default()
}

/// Whether this is a Windows build running under Wine (its `ntdll.dll`
/// exports `wine_get_version`), for the few checks Wine cannot pass.
pub fn under_wine() -> bool {
    #[cfg(windows)]
    {
        use std::ffi::c_void;
        #[link(name = "kernel32")]
        unsafe extern "system" {
            fn GetModuleHandleA(name: *const u8) -> *mut c_void;
            fn GetProcAddress(module: *mut c_void, name: *const u8) -> *mut c_void;
        }
        // SAFETY: both names are NUL-terminated; ntdll is loaded in every
        // process and a module handle from GetModuleHandleA needs no release.
        unsafe {
            let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
            !ntdll.is_null()
                && !GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()).is_null()
        }
    }
    #[cfg(not(windows))]
    false
}
