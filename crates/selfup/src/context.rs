//! Resolving the home and the configuration, and opening the store.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use selfup_core::config::{self, Config, DecisionEngine};
use selfup_loop::Orchestrator;
use selfup_loop::decide::RuleBased;
use selfup_loop::orchestrator::{CatalogSource, LoopContext};
use selfup_plugins::wasm::{HostConfig, WasmHost};
use selfup_store::system_clock::SystemClock;
use selfup_store::telemetry::WriterConfig;
use selfup_store::{Home, Store};

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// What most commands need: the home, the configuration, the store.
pub struct Context {
    /// The selfup home.
    pub home: Home,
    /// The effective configuration.
    pub config: Config,
    /// Where the configuration came from (`None`: built-in defaults).
    pub config_source: Option<PathBuf>,
}

impl Context {
    /// Resolves the home and loads the configuration. Without `--home` on
    /// Windows, an installed service's data directory and configuration
    /// file (from the registry) are the defaults.
    pub fn load(global: &GlobalArgs) -> anyhow::Result<Self> {
        let home = Home::new(global.home.clone().unwrap_or_else(default_home));
        let candidate = global
            .config
            .clone()
            .or_else(|| {
                let in_home = home.root().join("config.yaml");
                in_home.is_file().then_some(in_home)
            })
            .or_else(|| {
                global
                    .home
                    .is_none()
                    .then(installed_config)
                    .flatten()
                    .filter(|file| file.is_file())
            });
        let config = match &candidate {
            Some(path) => load_config(path)?,
            None => Config::default(),
        };
        Ok(Self {
            home,
            config,
            config_source: candidate,
        })
    }

    /// Opens (creating if needed) the store in the home.
    pub fn open_store(&self) -> anyhow::Result<Arc<Store>> {
        let store = Store::open(&self.home).with_context(|| {
            format!("cannot open the selfup home {}", self.home.root().display())
        })?;
        Ok(Arc::new(store))
    }

    /// Starts a wasm host configured from the configuration.
    pub fn wasm_host(&self) -> anyhow::Result<WasmHost> {
        let host = &self.config.self_upgrading_loop.host;
        Ok(WasmHost::new(HostConfig {
            cache_dir: Some(self.home.cache_dir()),
            max_instances_per_plugin: host.max_instances_per_plugin as usize,
            epoch_tick: Duration::from_millis(u64::from(host.epoch_tick_ms)),
            max_compile_time: Duration::try_from_secs_f64(host.max_compile_seconds)
                .unwrap_or(Duration::from_secs(60)),
            ..HostConfig::default()
        })?)
    }

    /// What a package must pass to be installed, from `security.*`.
    pub fn install_policy(&self) -> anyhow::Result<selfup_loop::install::InstallPolicy> {
        selfup_loop::install::InstallPolicy::from_config(&self.config.self_upgrading_loop.security)
            .map_err(|e| Exit::new(2, format!("security.trusted_keys: {e}")).into())
    }

    /// The telemetry writer's settings from the configuration.
    pub fn writer_config(&self) -> WriterConfig {
        let t = &self.config.self_upgrading_loop.telemetry;
        WriterConfig {
            queue_capacity: t.queue_capacity as usize,
            max_batch: t.max_batch as usize,
        }
    }
}

impl Context {
    /// The loop over `store`, on the real clock. `on_change` is called
    /// after a routing change (an in-process gateway reloads at once).
    pub fn orchestrator(
        &self,
        store: Arc<Store>,
        on_change: Option<Arc<dyn Fn() + Send + Sync>>,
    ) -> anyhow::Result<Orchestrator> {
        let config = self.config.self_upgrading_loop.clone();
        let llm = llm_client(&config.decision, &store)?;
        let engine = decision_engine(&config.decision, llm.clone());
        let catalog = &config.catalog;
        let directory = (!catalog.directory.is_empty()).then(|| {
            let dir = PathBuf::from(&catalog.directory);
            if dir.is_absolute() {
                dir
            } else {
                self.home.root().join(dir)
            }
        });
        let index_url = (!catalog.index_url.is_empty()).then(|| catalog.index_url.clone());
        Ok(Orchestrator::new(LoopContext {
            store,
            clock: Arc::new(SystemClock),
            host: self.wasm_host()?,
            catalog: CatalogSource {
                directory,
                index_url,
            },
            http: reqwest::Client::new(),
            engine,
            llm,
            on_routing_change: on_change,
            step_pause: step_pause(),
            config,
        }))
    }
}

/// The LLM client of the `llm` and `hybrid` engines (none for
/// `rule_based`); its calls are logged in `store`, and budgeted from that log.
pub fn llm_client(
    decision: &selfup_core::config::DecisionConfig,
    store: &Arc<Store>,
) -> anyhow::Result<Option<Arc<selfup_llm::LlmClient>>> {
    if decision.engine == DecisionEngine::RuleBased {
        return Ok(None);
    }
    let llm = &decision.llm;
    if std::env::var(&llm.api_key_env).map_or(true, |k| k.trim().is_empty())
        && llm.base_url.contains("api.openai.com")
    {
        tracing::warn!(
            env = %llm.api_key_env,
            "decision.llm.api_key_env names an unset variable: OpenAI will refuse every call, and the {:?} engine will fall back until it is set",
            decision.engine
        );
    }
    let ledger: Arc<dyn selfup_llm::Ledger> = store.clone();
    let client = selfup_llm::LlmClient::new(llm, ledger, Arc::new(SystemClock))
        .map_err(|e| Exit::new(2, format!("decision.llm: {e}")))?;
    Ok(Some(Arc::new(client)))
}

/// The engine `decision.engine` names (the rules when there is no client).
pub fn decision_engine(
    decision: &selfup_core::config::DecisionConfig,
    client: Option<Arc<selfup_llm::LlmClient>>,
) -> Arc<dyn selfup_loop::decide::DecisionEngine> {
    use selfup_loop::llm_engine::{LlmEngine, Mode};
    let mode = match decision.engine {
        DecisionEngine::Llm => Mode::Llm,
        DecisionEngine::Hybrid => Mode::Hybrid,
        DecisionEngine::RuleBased => return Arc::new(RuleBased::new(decision.clone())),
    };
    match client {
        Some(client) => Arc::new(LlmEngine::new(mode, decision.clone(), client)),
        None => Arc::new(RuleBased::new(decision.clone())),
    }
}

/// `SELFUP_STEP_PAUSE_MS`: a pause after every state change of an upgrade.
/// A testing aid (the crash test kills the process between steps); unset,
/// there is none.
fn step_pause() -> std::time::Duration {
    std::env::var("SELFUP_STEP_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(std::time::Duration::ZERO, std::time::Duration::from_millis)
}

/// Reads and checks a configuration file; invalid files exit with 2.
pub fn load_config(path: &Path) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
    config::parse(&path.display().to_string(), &text)
        .map_err(|errors| Exit::new(2, errors.to_string()).into())
}

/// The configuration file of the installed Windows service (the
/// registry's `ConfigFile`), if any.
fn installed_config() -> Option<PathBuf> {
    #[cfg(windows)]
    {
        crate::windows::registry::default_installation().and_then(|i| i.config_file)
    }
    #[cfg(not(windows))]
    {
        None
    }
}

/// The platform's data directory for selfup: on Windows the installed
/// service's (the registry's `DataPath`), else
/// `%ProgramData%\OpenClaw\SelfUpgradingLoop`.
pub fn default_home() -> PathBuf {
    #[cfg(windows)]
    {
        if let Some(installed) = crate::windows::registry::default_installation() {
            return installed.data_path;
        }
        let base = std::env::var_os("ProgramData")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(r"C:\ProgramData"));
        base.join("OpenClaw").join("SelfUpgradingLoop")
    }
    #[cfg(not(windows))]
    {
        directories::BaseDirs::new()
            .map(|dirs| dirs.data_dir().join("selfup"))
            .unwrap_or_else(|| PathBuf::from(".selfup"))
    }
}
