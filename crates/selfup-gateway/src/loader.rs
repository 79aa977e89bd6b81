//! Turns a route from the store into a running plugin.

use std::path::PathBuf;
use std::sync::Arc;

use selfup_core::manifest::Runtime;
use selfup_plugins::RunningPlugin;
use selfup_plugins::wasm::{LoadSpec, WasmHost};
use selfup_store::Home;
use selfup_store::artifacts::ArtifactStore;
use selfup_store::registry::Route;

/// Loads plugin versions from the artifact store into the hosts.
#[derive(Clone)]
pub struct PluginLoader {
    wasm: WasmHost,
    artifacts: ArtifactStore,
    data_root: PathBuf,
}

impl PluginLoader {
    /// A loader for the plugins of `home`, run by `wasm`.
    pub fn new(home: &Home, wasm: WasmHost) -> Self {
        Self {
            wasm,
            artifacts: ArtifactStore::new(home.artifacts_dir()),
            data_root: home.plugin_data_dir(),
        }
    }

    /// The wasm host.
    pub fn wasm_host(&self) -> &WasmHost {
        &self.wasm
    }

    /// Loads the plugin version a route names. The error is a message for
    /// the callers of its capabilities.
    pub fn load(&self, route: &Route) -> Result<Arc<dyn RunningPlugin>, String> {
        let manifest = route.manifest.clone();
        match manifest.runtime {
            Runtime::Wasm => {}
            Runtime::Process => {
                return Err(format!(
                    "{} is a process plugin; this selfup runs wasm plugins only",
                    manifest.id()
                ));
            }
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
}
