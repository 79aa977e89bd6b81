//! A whole selfup in one process for the lifecycle benchmarks (real
//! clock unless given another): store, host, router, dispatcher, writer
//! and orchestrator.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use selfup_core::clock::Clock;
use selfup_core::config::{Config, LoopConfig};
use selfup_gateway::dispatch::Sampling;
use selfup_gateway::{Dispatcher, PluginLoader, Router};
use selfup_loop::Orchestrator;
use selfup_loop::decide::RuleBased;
use selfup_loop::install::install;
use selfup_loop::orchestrator::{CatalogSource, LoopContext};
use selfup_plugins::wasm::{HostConfig, WasmHost};
use selfup_store::telemetry::{TelemetryWriter, WriterConfig};
use selfup_store::{Home, Store};

pub fn plugins_dir() -> PathBuf {
    std::env::var_os("SELFUP_PLUGINS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins"))
}

pub fn bench_config() -> LoopConfig {
    let mut config = Config::default().self_upgrading_loop;
    let key = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../keys/dev.pub");
    let public = selfup_plugins::signing::PublicKey::from_file(&key).expect("keys/dev.pub");
    config.security.trusted_keys = vec![public.to_base64()];
    config.decision.auto_approve_threshold = 0.5;
    config.ab_testing.min_sample_size = 20;
    config
}

pub struct World {
    pub _dir: tempfile::TempDir,
    pub home: Home,
    pub store: Arc<Store>,
    pub router: Arc<Router>,
    pub dispatcher: Arc<Dispatcher>,
    pub writer: TelemetryWriter,
    pub host: WasmHost,
    pub catalog_dir: PathBuf,
}

impl World {
    pub fn new(clock: Arc<dyn Clock>, installed: &[&str], catalog: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = Home::new(dir.path().join("home"));
        let store = Arc::new(Store::open(&home).expect("store"));
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
                "bench",
                clock.as_ref(),
                &selfup_loop::install::InstallPolicy::from_config(&bench_config().security)
                    .expect("policy"),
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
        let dispatcher = Arc::new(
            Dispatcher::new(router.clone(), writer.sink(), clock)
                .with_sampling(Sampling::at_rate(0.05, 200)),
        );
        Self {
            _dir: dir,
            home,
            store,
            router,
            dispatcher,
            writer,
            host,
            catalog_dir,
        }
    }

    pub fn orchestrator(
        &self,
        config: LoopConfig,
        clock: Arc<dyn Clock>,
        in_process_reload: bool,
    ) -> Orchestrator {
        let hook: Option<Arc<dyn Fn() + Send + Sync>> = in_process_reload.then(|| {
            let (router, store) = (self.router.clone(), self.store.clone());
            Arc::new(move || {
                let _ = router.refresh(&store);
            }) as Arc<dyn Fn() + Send + Sync>
        });
        Orchestrator::new(LoopContext {
            store: self.store.clone(),
            engine: Arc::new(RuleBased::new(config.decision.clone())),
            llm: None,
            config,
            clock,
            host: self.host.clone(),
            catalog: CatalogSource {
                directory: Some(self.catalog_dir.clone()),
                index_url: None,
            },
            http: reqwest::Client::new(),
            on_routing_change: hook,
            step_pause: Duration::ZERO,
        })
    }
}
