//! `selfup demo`: a fresh home, the example plugins installed, the gateway
//! serving on loopback, a simulated agent workload driven through it over
//! HTTP, and the telemetry summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use selfup_gateway::http::{AppState, serve as serve_http};
use selfup_gateway::{Dispatcher, PluginLoader, Router};
use selfup_plugins::wasm::{HostConfig, WasmHost};
use selfup_store::system_clock::SystemClock;
use selfup_store::telemetry::{TelemetryWriter, WriterConfig};
use selfup_store::{Home, Store};
use tokio::net::TcpListener;

use crate::cli::DemoArgs;
use crate::commands::telemetry::render;
use crate::exit::Exit;
use selfup_loop::install::install;

/// The packages the demo installs, in order.
const PACKAGES: [&str; 3] = [
    "text-summarize-1.0.0",
    "json-query-1.0.0",
    "text-stats-1.0.0",
];

/// Concurrent simulated agent sessions.
const SESSIONS: usize = 8;

/// Runs the demo.
pub async fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let temp;
    let root: PathBuf = match &args.keep_home {
        Some(dir) => {
            if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
                return Err(Exit::new(
                    2,
                    format!(
                        "{} is not empty; the demo needs a fresh home",
                        dir.display()
                    ),
                )
                .into());
            }
            dir.clone()
        }
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_owned()
        }
    };
    println!("selfup demo — home {}", root.display());
    let home = Home::new(&root);
    let store = Arc::new(Store::open(&home)?);
    let host = WasmHost::new(HostConfig {
        cache_dir: Some(home.cache_dir()),
        ..HostConfig::default()
    })?;

    println!("\n1. installing the example plugins");
    for package in PACKAGES {
        let path = package_path(&args.plugins, package)?;
        let done = install(&store, &host, &path, false, "demo", &SystemClock)?;
        println!("   {:<22} serves {}", done.id, done.activated.join(", "));
    }

    let router = Arc::new(Router::new(PluginLoader::new(&home, host)));
    router.refresh(&store)?;
    let writer = TelemetryWriter::start(&home, WriterConfig::default())?;
    let clock = Arc::new(SystemClock);
    let state = AppState {
        dispatcher: Arc::new(Dispatcher::new(router, writer.sink(), clock.clone())),
        store: store.clone(),
        clock,
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_http(
        listener,
        state,
        Duration::from_millis(250),
        async {
            let _ = stop_rx.await;
        },
    ));
    println!("\n2. gateway listening on {base}");

    println!(
        "\n3. a simulated agent: {} calls from {SESSIONS} concurrent sessions, 300 users",
        args.calls
    );
    let load_started = Instant::now();
    let tally = drive_workload(&base, args.calls).await?;
    let load_time = load_started.elapsed();
    println!(
        "   {} calls answered in {:.2}s ({:.0} calls/s); {} failed; {} unmet requests reported",
        tally.answered,
        load_time.as_secs_f64(),
        tally.answered as f64 / load_time.as_secs_f64(),
        tally.failed,
        tally.unmet
    );

    let _ = stop_tx.send(());
    server.await.context("the gateway task failed")??;
    writer.shutdown();

    println!("\n4. telemetry summary (every call, from the store)");
    print!("{}", indent(&render(&store.telemetry_summary(0)?)));
    let unmet = store.agent_events(
        Some(selfup_core::telemetry::AgentEventType::UnmetRequest),
        0,
    )?;
    let mut by_intent: BTreeMap<String, usize> = BTreeMap::new();
    for event in unmet {
        *by_intent
            .entry(event.intent.unwrap_or_default())
            .or_default() += 1;
    }
    println!("\n5. requests nobody could serve (kept for gap analysis)");
    for (intent, count) in by_intent {
        println!("   {count:>4}  {intent}");
    }
    println!("\ndone in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("   {l}\n")).collect()
}

fn package_path(dir: &Path, package: &str) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("{package}.zip"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(Exit::new(
            2,
            format!(
                "{} is missing; build the example plugins first with `cargo xtask plugins` (or pass --plugins DIR)",
                path.display()
            ),
        )
        .into())
    }
}

#[derive(Default)]
struct Tally {
    answered: usize,
    failed: usize,
    unmet: usize,
}

async fn drive_workload(base: &str, calls: usize) -> anyhow::Result<Tally> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(SESSIONS)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let mut sessions = Vec::new();
    for session in 0..SESSIONS {
        let (client, next, base) = (client.clone(), next.clone(), base.to_owned());
        sessions.push(tokio::spawn(async move {
            let mut rng = Rng::new(0x5e1f_u64 + session as u64);
            let mut tally = Tally::default();
            while next.fetch_add(1, Ordering::Relaxed) < calls {
                let request = workload::next_request(&mut rng);
                let response = client
                    .post(format!("{base}{}", request.path))
                    .json(&request.body)
                    .send()
                    .await?;
                match (request.unmet, response.status().is_success()) {
                    (true, true) => tally.unmet += 1,
                    (false, true) => tally.answered += 1,
                    (_, false) => tally.failed += 1,
                }
            }
            anyhow::Ok(tally)
        }));
    }
    let mut total = Tally::default();
    for session in sessions {
        let t = session.await??;
        total.answered += t.answered;
        total.failed += t.failed;
        total.unmet += t.unmet;
    }
    Ok(total)
}

/// A small deterministic generator (xorshift64*), so every demo run
/// drives the same workload.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

mod workload;
