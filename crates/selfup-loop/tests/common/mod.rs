//! A whole selfup in one process for lifecycle tests: store, wasm host,
//! router, dispatcher, telemetry writer and the orchestrator, on a virtual
//! clock, with the real example plugins.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use selfup_core::clock::Clock;
use selfup_core::config::{Config, LoopConfig};
use selfup_gateway::dispatch::Sampling;
use selfup_gateway::{Dispatcher, PluginLoader, Router};
use selfup_loop::Orchestrator;
use selfup_loop::clock::VirtualClock;
use selfup_loop::decide::RuleBased;
use selfup_loop::install::install;
use selfup_loop::orchestrator::{CatalogSource, Change, LoopContext};
use selfup_plugins::wasm::{HostConfig, WasmHost};
use selfup_store::telemetry::{TelemetryWriter, WriterConfig};
use selfup_store::{Home, Store};

pub const START_MS: i64 = 1_790_000_000_000;

pub fn plugins_dir() -> PathBuf {
    let dir = std::env::var_os("SELFUP_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins"));
    assert!(
        dir.join("test-echo-1.0.0.zip").is_file(),
        "the example plugins are not built in {}; run `cargo xtask plugins`",
        dir.display()
    );
    dir
}

/// The configuration the lifecycle tests use: the defaults, with
/// thresholds that let the rule engine approve the example upgrades.
pub fn test_config() -> LoopConfig {
    let mut config = Config::default().self_upgrading_loop;
    config.decision.auto_approve_threshold = 0.6;
    config.ab_testing.min_sample_size = 100;
    config
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub home: Home,
    pub store: Arc<Store>,
    pub clock: VirtualClock,
    pub router: Arc<Router>,
    pub dispatcher: Dispatcher,
    pub writer: Option<TelemetryWriter>,
    pub orchestrator: Orchestrator,
    pub catalog_dir: PathBuf,
}

impl World {
    pub fn new(config: LoopConfig, installed: &[&str], catalog: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path().join("home"));
        let store = Arc::new(Store::open(&home).expect("store"));
        let clock = VirtualClock::starting_at(START_MS);
        let host = WasmHost::new(HostConfig {
            cache_dir: Some(home.cache_dir()),
            ..HostConfig::default()
        })
        .expect("host");
        for id in installed {
            install(
                &store,
                &host,
                &plugins_dir().join(format!("{id}.zip")),
                false,
                "test",
                &clock,
            )
            .expect("install");
        }
        let catalog_dir = dir.path().join("catalog");
        std::fs::create_dir_all(&catalog_dir).expect("catalog");
        for id in catalog {
            std::fs::copy(
                plugins_dir().join(format!("{id}.zip")),
                catalog_dir.join(format!("{id}.zip")),
            )
            .expect("copy");
        }
        let router = Arc::new(Router::new(PluginLoader::new(&home, host.clone())));
        router.refresh(&store).expect("routing");
        let writer = TelemetryWriter::start(&home, WriterConfig::default()).expect("writer");
        let dispatcher = Dispatcher::new(router.clone(), writer.sink(), Arc::new(clock.clone()))
            .with_sampling(Sampling::at_rate(
                config.telemetry.input_sample_rate,
                config.telemetry.input_samples_per_capability,
            ));
        let refresh = {
            let (router, store) = (router.clone(), store.clone());
            Arc::new(move || {
                if let Err(e) = router.refresh(&store) {
                    panic!("routing refresh failed: {e}");
                }
            })
        };
        let orchestrator = Orchestrator::new(LoopContext {
            store: store.clone(),
            config: config.clone(),
            clock: Arc::new(clock.clone()),
            host,
            catalog: CatalogSource {
                directory: Some(catalog_dir.clone()),
                index_url: None,
            },
            http: reqwest::Client::new(),
            engine: Arc::new(RuleBased::new(config.decision.clone())),
            on_routing_change: Some(refresh),
            step_pause: std::time::Duration::ZERO,
        });
        Self {
            dir,
            home,
            store,
            clock,
            router,
            dispatcher,
            writer: Some(writer),
            orchestrator,
            catalog_dir,
        }
    }

    /// Waits until every queued telemetry record is committed.
    pub fn flush(&self) {
        self.dispatcher.telemetry().flush().expect("flush");
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn home_path(&self) -> &Path {
        self.home.root()
    }
}

pub fn print(changes: &[Change]) {
    for c in changes {
        eprintln!(
            "[{:>7.1}h] #{:?} {}",
            (c.ts_ms - START_MS) as f64 / 3_600_000.0,
            c.upgrade_id,
            c.text
        );
    }
}
