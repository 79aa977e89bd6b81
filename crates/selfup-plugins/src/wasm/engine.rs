//! The wasm engine: configuration, the epoch ticker, and compiled
//! component caches (in memory and on disk).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use selfup_core::manifest::PluginManifest;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::bindings::PluginPre;
use super::limits::InstanceState;
use super::linker::{NETWORK_INTERFACES, plugin_linker};
use super::plugin::WasmPlugin;

/// How the wasm host is set up.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Where compiled components are cached across runs (`None`: memory only).
    pub cache_dir: Option<PathBuf>,
    /// Live instances per plugin version: how many calls it serves at once.
    pub max_instances_per_plugin: usize,
    /// How often the epoch advances: the granularity of time limits.
    pub epoch_tick: Duration,
    /// Component instances the pooling allocator reserves room for
    /// (0: allocate on demand instead of pooling).
    pub pooled_instances: u32,
    /// Longest a component may take to compile when it is checked for
    /// install; beyond it the package is refused.
    pub max_compile_time: Duration,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            max_instances_per_plugin: 4,
            epoch_tick: Duration::from_millis(10),
            pooled_instances: 256,
            max_compile_time: Duration::from_secs(60),
        }
    }
}

/// Why the host could not start or load a plugin.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// wasmtime refused the configuration.
    #[error("cannot start the wasm engine: {0}")]
    Engine(String),
    /// The bytes are not a valid component for this host.
    #[error(
        "the plugin's code is not a valid WebAssembly component: {0}; build it for wasm32-wasip2"
    )]
    InvalidComponent(String),
    /// The component imports a network interface.
    #[error(
        "the plugin imports {0}, but plugins get no network access (security_profile.allowed_network_hosts is not supported for wasm plugins yet); remove the network use"
    )]
    NetworkImport(String),
    /// The component imports something the host does not provide.
    #[error(
        "the plugin imports {import}, which selfup does not provide ({detail}); plugins may import WASI 0.2 cli, clocks, filesystem, io and random only"
    )]
    UnsupportedImport {
        /// The import's name.
        import: String,
        /// wasmtime's explanation.
        detail: String,
    },
    /// The component does not implement the `selfup:plugin` world.
    #[error("the component does not implement the selfup:plugin world of wit/plugin.wit: {0}")]
    NotAPlugin(String),
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A stored component no longer matches its hash.
    #[error(
        "the component {path} does not match its hash {expected}; it was altered on disk — reinstall the plugin"
    )]
    HashMismatch {
        /// The file.
        path: PathBuf,
        /// The hash it should have.
        expected: String,
    },
    /// Compiling the component took longer than allowed.
    #[error(
        "compiling the plugin's code took longer than {0:?} (host.max_compile_seconds); a plugin this large or complex is refused"
    )]
    CompileTimeout(Duration),
    /// An allowed file path cannot be provided to the plugin.
    #[error("security_profile.allowed_file_paths entry {path:?} cannot be opened: {reason}")]
    FilePath {
        /// The entry.
        path: String,
        /// Why.
        reason: String,
    },
}

/// What the host needs to load one plugin version.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// Its manifest.
    pub manifest: Arc<PluginManifest>,
    /// SHA-256 of the component (the artifact name).
    pub component_hash: String,
    /// Where the component's bytes are (read only if not already compiled).
    pub component_path: PathBuf,
    /// The directory relative `allowed_file_paths` resolve against.
    pub data_dir: PathBuf,
}

/// The wasm host: an engine, a linker, and compiled components.
#[derive(Clone)]
pub struct WasmHost {
    pub(crate) inner: Arc<HostInner>,
}

pub(crate) struct HostInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<InstanceState>,
    pub(crate) config: HostConfig,
    compiled: Mutex<HashMap<String, Component>>,
    engine_key: String,
    pooling: bool,
    ticker_stop: Arc<AtomicBool>,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for HostInner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
        let handle = self.ticker.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

fn engine_config(pooled_instances: u32) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    if pooled_instances > 0 {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(pooled_instances)
            .total_core_instances(pooled_instances.saturating_mul(8))
            .total_memories(pooled_instances.saturating_mul(2))
            .total_tables(pooled_instances.saturating_mul(4))
            .total_stacks(pooled_instances)
            .max_memory_size(4 << 30)
            .max_memories_per_component(8)
            .max_tables_per_component(16)
            .max_core_instances_per_component(32);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

impl WasmHost {
    /// Starts an engine with `config`. If the pooling allocator cannot
    /// reserve its address space (a tight `ulimit -v`), falls back to
    /// allocating on demand and says so in the log.
    pub fn new(config: HostConfig) -> Result<Self, HostError> {
        let (engine, pooling) = match Engine::new(&engine_config(config.pooled_instances)) {
            Ok(engine) => (engine, config.pooled_instances > 0),
            Err(e) if config.pooled_instances > 0 => {
                tracing::warn!(error = %e, "the pooling allocator is unavailable; allocating instances on demand");
                (
                    Engine::new(&engine_config(0)).map_err(|e| HostError::Engine(e.to_string()))?,
                    false,
                )
            }
            Err(e) => return Err(HostError::Engine(e.to_string())),
        };
        let linker = plugin_linker(&engine).map_err(|e| HostError::Engine(e.to_string()))?;
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("{:016x}", hasher.finish());
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.clone();
            let stop = ticker_stop.clone();
            let tick = config.epoch_tick.max(Duration::from_millis(1));
            std::thread::Builder::new()
                .name("selfup-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| HostError::Engine(format!("cannot start the epoch thread: {e}")))?
        };
        Ok(Self {
            inner: Arc::new(HostInner {
                engine,
                linker,
                config,
                compiled: Mutex::new(HashMap::new()),
                engine_key,
                pooling,
                ticker_stop,
                ticker: Mutex::new(Some(ticker)),
            }),
        })
    }

    /// Whether instances come from the pooling allocator.
    pub fn is_pooling(&self) -> bool {
        self.inner.pooling
    }

    /// Compiles `bytes` and checks that the component links against what
    /// selfup provides and implements the plugin world. Install calls this
    /// before anything is stored.
    pub fn check_component(&self, bytes: &[u8]) -> Result<(), HostError> {
        let hash = hex::encode(Sha256::digest(bytes));
        let limit = self.inner.config.max_compile_time;
        let (tx, rx) = std::sync::mpsc::channel();
        let (host, owned) = (self.clone(), bytes.to_vec());
        // Cranelift cannot be interrupted: the compile runs on its own
        // thread, and past the limit the package is refused while that
        // thread finishes in the background.
        std::thread::Builder::new()
            .name("selfup-compile".into())
            .spawn(move || {
                let _ = tx.send(host.compile(&hash, || Ok(owned)));
            })
            .map_err(|e| HostError::Engine(format!("cannot start a compilation thread: {e}")))?;
        let component = match rx.recv_timeout(limit) {
            Ok(result) => result?,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                return Err(HostError::CompileTimeout(limit));
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Err(HostError::Engine(
                    "the compilation thread stopped without an answer".into(),
                ));
            }
        };
        self.instantiate_pre(&component).map(|_| ())
    }

    /// Loads a plugin version: compiles (or fetches from the caches) its
    /// component and prepares instances. No instance is created until the
    /// first call.
    pub fn load(&self, spec: LoadSpec) -> Result<Arc<WasmPlugin>, HostError> {
        let path = spec.component_path.clone();
        let expected = spec.component_hash.clone();
        let component = self.compile(&spec.component_hash, || {
            let bytes = std::fs::read(&path).map_err(|e| HostError::Io {
                action: "reading",
                path: path.clone(),
                source: e,
            })?;
            if hex::encode(Sha256::digest(&bytes)) != expected {
                return Err(HostError::HashMismatch {
                    path: path.clone(),
                    expected: expected.clone(),
                });
            }
            Ok(bytes)
        })?;
        let pre = self.instantiate_pre(&component)?;
        let preopens = resolve_preopens(&spec.manifest, &spec.data_dir)?;
        Ok(Arc::new(WasmPlugin::new(
            self.clone(),
            spec.manifest,
            pre,
            preopens,
        )))
    }

    fn instantiate_pre(
        &self,
        component: &Component,
    ) -> Result<PluginPre<InstanceState>, HostError> {
        let engine = &self.inner.engine;
        for (name, _) in component.component_type().imports(engine) {
            if NETWORK_INTERFACES.iter().any(|p| name.starts_with(p)) {
                return Err(HostError::NetworkImport(name.to_owned()));
            }
        }
        let instance_pre = self.inner.linker.instantiate_pre(component).map_err(|e| {
            let detail = format!("{e:#}");
            let import = component
                .component_type()
                .imports(engine)
                .map(|(name, _)| name.to_owned())
                .find(|name| detail.contains(name.as_str()))
                .unwrap_or_else(|| "an interface".to_owned());
            HostError::UnsupportedImport { import, detail }
        })?;
        PluginPre::new(instance_pre).map_err(|e| HostError::NotAPlugin(format!("{e:#}")))
    }

    /// Compiles a component, using the in-memory and on-disk caches.
    fn compile(
        &self,
        hash: &str,
        bytes: impl FnOnce() -> Result<Vec<u8>, HostError>,
    ) -> Result<Component, HostError> {
        if let Some(c) = self.lock_compiled().get(hash) {
            return Ok(c.clone());
        }
        let engine = &self.inner.engine;
        let cached = self.cache_path(hash);
        let from_disk = cached.as_deref().filter(|p| p.is_file()).and_then(|p| {
            // SAFETY: the file is one this host serialised into its own cache
            // directory (named by content hash and engine compatibility key);
            // wasmtime additionally checks the header and engine settings and
            // refuses a mismatching artifact.
            match unsafe { Component::deserialize_file(engine, p) } {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(path = %p.display(), error = %e, "ignoring an unusable compiled cache entry");
                    None
                }
            }
        });
        let component = match from_disk {
            Some(c) => c,
            None => {
                let bytes = bytes()?;
                if !bytes.starts_with(b"\0asm") {
                    return Err(HostError::InvalidComponent(
                        "it is not WebAssembly at all (no \\0asm header)".into(),
                    ));
                }
                let component = Component::new(engine, &bytes)
                    .map_err(|e| HostError::InvalidComponent(one_line(&format!("{e:#}"))))?;
                if let Some(path) = &cached
                    && let Err(e) = write_cache(path, &component)
                {
                    tracing::warn!(path = %path.display(), error = %e, "cannot cache the compiled component");
                }
                component
            }
        };
        self.lock_compiled()
            .insert(hash.to_owned(), component.clone());
        Ok(component)
    }

    fn lock_compiled(&self) -> std::sync::MutexGuard<'_, HashMap<String, Component>> {
        self.inner
            .compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn cache_path(&self, hash: &str) -> Option<PathBuf> {
        let valid = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        let dir = self.inner.config.cache_dir.as_ref().filter(|_| valid)?;
        Some(
            dir.join(format!("wasmtime-{}", self.inner.engine_key))
                .join(format!("{hash}.cwasm")),
        )
    }
}

/// Collapses a multi-line error chain into one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn write_cache(path: &Path, component: &Component) -> Result<(), Box<dyn std::error::Error>> {
    let bytes = component.serialize()?;
    let dir = path.parent().ok_or("cache path has no parent")?;
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, &bytes)?;
    tmp.persist(path)?;
    Ok(())
}

/// A directory made visible to the guest: host path and the guest's name for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Preopen {
    pub(crate) host: PathBuf,
    pub(crate) guest: String,
}

/// Resolves `allowed_file_paths`: absolute paths as they are (seen by the
/// guest with `/` separators, see [`guest_path`]), relative ones under
/// `data_dir` (created if missing) and seen by the guest as `/<path>`.
fn resolve_preopens(manifest: &PluginManifest, data_dir: &Path) -> Result<Vec<Preopen>, HostError> {
    let mut out = Vec::new();
    for entry in &manifest.security_profile.allowed_file_paths {
        let as_path = Path::new(entry);
        let (host, guest) = if as_path.is_absolute() {
            (as_path.to_owned(), guest_path(entry))
        } else {
            let trimmed = entry.trim_start_matches("./");
            let host = data_dir.join(trimmed);
            std::fs::create_dir_all(&host).map_err(|e| HostError::FilePath {
                path: entry.clone(),
                reason: format!("creating {}: {e}", host.display()),
            })?;
            (host, format!("/{}", trimmed.trim_end_matches('/')))
        };
        if !host.is_dir() {
            return Err(HostError::FilePath {
                path: entry.clone(),
                reason: format!("{} is not an existing directory", host.display()),
            });
        }
        out.push(Preopen { host, guest });
    }
    Ok(out)
}

/// The name under which the guest sees the absolute host directory `path`.
/// WASI paths separate components with `/` only, so on Windows
/// `C:\data\in` is seen as `C:/data/in` (a guest opening
/// `C:/data/in/file.txt` reads `C:\data\in\file.txt`); elsewhere the name is
/// the path itself.
fn guest_path(path: &str) -> String {
    if std::path::MAIN_SEPARATOR == '\\' {
        path.replace('\\', "/")
    } else {
        path.to_owned()
    }
}
