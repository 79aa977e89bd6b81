//! A whole selfup in one process for lifecycle tests: store, wasm host,
//! router, dispatcher, telemetry writer and the orchestrator, on a virtual
//! clock, with the real example plugins.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use selfup_core::clock::Clock;
use selfup_core::config::{Config, LoopConfig, Stage};
use selfup_core::upgrade::UpgradeState;
use selfup_gateway::dispatch::Sampling;
use selfup_gateway::{Dispatcher, PluginLoader, Router};
use selfup_loop::Orchestrator;
use selfup_loop::clock::VirtualClock;
use selfup_loop::decide::RuleBased;
use selfup_loop::install::install;
use selfup_loop::orchestrator::{CatalogSource, Change, LoopContext};
use selfup_plugins::wasm::{HostConfig, WasmHost};
use selfup_store::artifacts::ArtifactStore;
use selfup_store::telemetry::{TelemetryWriter, WriterConfig};
use selfup_store::upgrades::{Upgrade, UpgradeFilter};
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
/// The repository's development key files (the examples are signed with it).
pub fn dev_key(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../keys")
        .join(file)
}

/// The install policy the tests use: signatures required, the
/// development key trusted.
pub fn policy() -> selfup_loop::install::InstallPolicy {
    selfup_loop::install::InstallPolicy::from_config(&test_config().security).expect("policy")
}

pub fn test_config() -> LoopConfig {
    let mut config = Config::default().self_upgrading_loop;
    let public =
        selfup_plugins::signing::PublicKey::from_file(&dev_key("dev.pub")).expect("keys/dev.pub");
    config.security.trusted_keys = vec![public.to_base64()];
    config.decision.auto_approve_threshold = 0.6;
    config.ab_testing.min_sample_size = 100;
    // The default code paths (./src) would scan this crate's own source.
    config.discovery.pattern_recognition.code_paths = Vec::new();
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
                &policy(),
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
        let orchestrator = orchestrator(&store, &clock, host, &router, &catalog_dir, config);
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

    /// The loop with `engine` deciding (and `llm` writing specifications)
    /// instead of the rules; everything else as before.
    pub fn use_engine(
        &mut self,
        engine: Arc<dyn selfup_loop::decide::DecisionEngine>,
        llm: Option<Arc<selfup_llm::LlmClient>>,
    ) {
        let ctx = self.orchestrator.context();
        let (config, host) = (ctx.config.clone(), ctx.host.clone());
        let mut orchestrator = orchestrator(
            &self.store,
            &self.clock,
            host,
            &self.router,
            &self.catalog_dir,
            config,
        )
        .into_context();
        orchestrator.engine = engine;
        orchestrator.llm = llm;
        self.orchestrator = Orchestrator::new(orchestrator);
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

    /// Replaces the loop with one running `config` on the same store,
    /// clock, router and catalog (a restart with a new configuration).
    pub fn reconfigure(&mut self, config: LoopConfig) {
        let host = self.orchestrator.context().host.clone();
        self.orchestrator = orchestrator(
            &self.store,
            &self.clock,
            host,
            &self.router,
            &self.catalog_dir,
            config,
        );
    }

    /// Adds a directory package `dir_name` to the catalog: the component of
    /// the built plugin `base` (e.g. `test-files-1.0.0`) with `manifest`.
    pub fn add_catalog_directory(&self, dir_name: &str, base: &str, manifest: &serde_json::Value) {
        let package = self.catalog_dir.join(dir_name);
        std::fs::create_dir_all(&package).expect("package directory");
        std::fs::copy(
            plugins_dir().join(base).join("plugin.wasm"),
            package.join("plugin.wasm"),
        )
        .expect("copy the component");
        let mut manifest = manifest.clone();
        // The signature lists every file anew.
        if let Some(map) = manifest.as_object_mut() {
            map.remove("files");
        }
        std::fs::write(
            package.join("manifest.json"),
            serde_json::to_vec_pretty(&manifest).expect("manifest JSON"),
        )
        .expect("write the manifest");
        let key = selfup_plugins::signing::SecretKey::from_file(&dev_key("dev.key"), None)
            .expect("keys/dev.key");
        selfup_plugins::signing::sign_package(&package, &key).expect("sign the package");
    }

    /// The newest upgrade of `plugin`.
    pub fn upgrade_of(&self, plugin: &str) -> Upgrade {
        self.store
            .upgrades(&UpgradeFilter {
                states: Vec::new(),
                plugin: Some(plugin.to_owned()),
            })
            .expect("upgrades")
            .pop()
            .unwrap_or_else(|| panic!("no upgrade of {plugin}"))
    }

    /// Upgrade `id`, which must exist.
    pub fn upgrade(&self, id: i64) -> Upgrade {
        self.store
            .upgrade(id)
            .expect("upgrade")
            .unwrap_or_else(|| panic!("no upgrade {id}"))
    }

    /// `name@version` of the active provider of `capability`, per the registry.
    pub fn active(&self, capability: &str) -> Option<String> {
        self.store
            .capabilities()
            .expect("capabilities")
            .into_iter()
            .find(|c| c.capability == capability)
            .and_then(|c| c.active)
    }

    /// `name@version` of every installed plugin version.
    pub fn installed(&self) -> Vec<String> {
        self.store
            .list_plugins()
            .expect("plugins")
            .iter()
            .map(|p| p.manifest.id())
            .collect()
    }

    /// What the router serves `capability` with: the primary's
    /// `name@version` and the rollout's upgrade id, if any.
    pub fn routed(&self, capability: &str) -> (Option<String>, Option<i64>) {
        let table = self.router.table();
        let route = table.get(capability);
        (
            route
                .and_then(|r| r.primary.as_ref())
                .map(|t| format!("{}@{}", t.plugin, t.version)),
            route.and_then(|r| r.rollout.as_ref()).map(|r| r.upgrade_id),
        )
    }

    /// Calls `capability` through the dispatcher; returns who served it
    /// (`name@version`) and the output, and panics if the call failed.
    pub async fn serve(
        &self,
        capability: &str,
        subject: &str,
        input: &serde_json::Value,
    ) -> (String, serde_json::Value) {
        let outcome = self
            .dispatcher
            .call(capability, subject, &input.to_string())
            .await;
        let served = format!(
            "{}@{}",
            outcome.plugin.as_deref().unwrap_or("?"),
            outcome.version.as_deref().unwrap_or("?")
        );
        let output = outcome
            .output
            .unwrap_or_else(|e| panic!("{capability} served by {served} failed: {e:?}"));
        (
            served,
            serde_json::from_str(output.get()).expect("output JSON"),
        )
    }

    /// The file of artifact `hash` under `<home>/artifacts/sha256/`.
    pub fn artifact_path(&self, hash: &str) -> PathBuf {
        ArtifactStore::new(self.home.artifacts_dir()).path(hash)
    }

    /// The artifact hashes of the files of installed `name@version`.
    pub fn artifacts_of(&self, name: &str, version: &str) -> Vec<String> {
        let version = semver::Version::parse(version).expect("version");
        self.store
            .plugin(name, &version)
            .expect("plugin")
            .unwrap_or_else(|| panic!("{name}@{version} is not installed"))
            .files
            .into_iter()
            .map(|f| f.hash)
            .collect()
    }

    /// Sets the modification time of every stored artifact `age` back
    /// (retention leaves artifacts younger than an hour alone).
    pub fn age_artifacts(&self, age: std::time::Duration) {
        let when = std::time::SystemTime::now() - age;
        let root = self.home.artifacts_dir().join("sha256");
        for prefix in std::fs::read_dir(&root).expect("artifacts") {
            let prefix = prefix.expect("entry").path();
            for file in std::fs::read_dir(&prefix).expect("prefix") {
                let path = file.expect("entry").path();
                std::fs::File::open(&path)
                    .and_then(|f| f.set_modified(when))
                    .unwrap_or_else(|e| panic!("ageing {}: {e}", path.display()));
            }
        }
    }

    /// Runs a cycle and prints what it did.
    pub async fn cycle(&self) -> Vec<Change> {
        let changes = self.orchestrator.cycle().await.expect("cycle");
        print(&changes);
        changes
    }

    /// Runs a tick and prints what it did.
    pub async fn tick(&self) -> Vec<Change> {
        let changes = self.orchestrator.tick().await.expect("tick");
        print(&changes);
        changes
    }

    /// Serves `calls` requests of `capability` (to distinct subjects),
    /// waits for their telemetry, moves the clock past the stage and ticks
    /// until upgrade `id` is final (at most `max_ticks` looks).
    pub async fn drive_to_final(
        &self,
        id: i64,
        capability: &str,
        input: &serde_json::Value,
        max_ticks: usize,
    ) -> UpgradeState {
        for round in 0..max_ticks {
            for i in 0..10 {
                let _ = self
                    .dispatcher
                    .call(
                        capability,
                        &format!("subject-{round}-{i}"),
                        &input.to_string(),
                    )
                    .await;
            }
            self.flush();
            self.clock.advance_hours(1.0);
            self.tick().await;
            let state = self.upgrade(id).state;
            if state.is_final() {
                return state;
            }
        }
        panic!(
            "upgrade {id} is still {} after {max_ticks} ticks",
            self.upgrade(id).state
        )
    }
}

/// The loop of a `World`: `config` over its store, clock and catalog, with
/// every routing change applied to its router at once.
fn orchestrator(
    store: &Arc<Store>,
    clock: &VirtualClock,
    host: WasmHost,
    router: &Arc<Router>,
    catalog_dir: &Path,
    config: LoopConfig,
) -> Orchestrator {
    let refresh = {
        let (router, store) = (router.clone(), store.clone());
        Arc::new(move || {
            if let Err(e) = router.refresh(&store) {
                panic!("routing refresh failed: {e}");
            }
        })
    };
    Orchestrator::new(LoopContext {
        store: store.clone(),
        config: config.clone(),
        clock: Arc::new(clock.clone()),
        host,
        catalog: CatalogSource {
            directory: Some(catalog_dir.to_owned()),
            index_url: None,
        },
        http: reqwest::Client::new(),
        engine: Arc::new(RuleBased::new(config.decision.clone())),
        llm: None,
        on_routing_change: Some(refresh),
        step_pause: std::time::Duration::ZERO,
    })
}

/// `test_config` with one short stage: 100 % of traffic to the candidate
/// for an hour, passing with 5 calls. An upgrade completes in one look.
pub fn fast_config() -> LoopConfig {
    let mut config = test_config();
    config.rollout.stages = vec![Stage {
        name: "full".to_owned(),
        traffic_percentage: 100.0,
        duration_hours: 1.0,
        gates: Vec::new(),
    }];
    config.ab_testing.min_sample_size = 5;
    config
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
