//! Turns a route from the store into a running plugin.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use selfup_core::manifest::Runtime;
use selfup_plugins::RunningPlugin;
use selfup_plugins::process::{ProcessHost, ProcessLoadSpec};
use selfup_plugins::wasm::{LoadSpec, WasmHost};
use selfup_store::Home;
use selfup_store::artifacts::ArtifactStore;
use selfup_store::registry::Route;

/// Loads plugin versions from the artifact store into the hosts.
#[derive(Clone)]
pub struct PluginLoader {
    wasm: WasmHost,
    process: ProcessHost,
    artifacts: ArtifactStore,
    data_root: PathBuf,
    process_root: PathBuf,
}

impl PluginLoader {
    /// A loader for the plugins of `home`, run by `wasm`.
    pub fn new(home: &Home, wasm: WasmHost) -> Self {
        Self {
            wasm,
            process: ProcessHost::default(),
            artifacts: ArtifactStore::new(home.artifacts_dir()),
            data_root: home.plugin_data_dir(),
            process_root: home.cache_dir().join("process"),
        }
    }

    /// The same loader with `process` running the process plugins
    /// (instead of a host with the default configuration).
    pub fn with_process_host(mut self, process: ProcessHost) -> Self {
        self.process = process;
        self
    }

    /// The wasm host.
    pub fn wasm_host(&self) -> &WasmHost {
        &self.wasm
    }

    /// Loads the plugin version a route names. The error is a message for
    /// the callers of its capabilities.
    pub fn load(&self, route: &Route) -> Result<Arc<dyn RunningPlugin>, String> {
        let manifest = route.manifest.clone();
        if manifest.runtime == Runtime::Process {
            return self.load_process(route);
        }
        let spec = LoadSpec {
            component_path: self.artifacts.path(&route.entry_hash),
            component_hash: route.entry_hash.clone(),
            data_dir: self.data_root.join(manifest.name.as_str()),
            manifest,
        };
        let id = spec.manifest.id();
        self.wasm
            .load(spec)
            .map(|p| p as Arc<dyn RunningPlugin>)
            .map_err(|e| format!("{id} cannot be loaded: {e}"))
    }

    /// Loads a process plugin: its files (the manifest's signed list, and
    /// the entry point) are unpacked from the artifact store into
    /// `<home>/cache/process/<name>-<version>-<entry hash>`.
    fn load_process(&self, route: &Route) -> Result<Arc<dyn RunningPlugin>, String> {
        let manifest = route.manifest.clone();
        let mut files: BTreeMap<String, PathBuf> = manifest
            .files
            .iter()
            .map(|(path, hash)| (path.clone(), self.artifacts.path(hash)))
            .collect();
        files.insert(
            manifest.entry_point.clone(),
            self.artifacts.path(&route.entry_hash),
        );
        let short = route.entry_hash.get(..16).unwrap_or(&route.entry_hash);
        let spec = ProcessLoadSpec {
            package_dir: self
                .process_root
                .join(format!("{}-{}-{short}", manifest.name, manifest.version)),
            data_dir: self.data_root.join(manifest.name.as_str()),
            files,
            manifest,
        };
        let id = spec.manifest.id();
        self.process
            .load(spec)
            .map(|p| p as Arc<dyn RunningPlugin>)
            .map_err(|e| format!("{id} cannot be loaded: {e}"))
    }
}
