//! Installing a package: stage it, check its component, store its files
//! as artifacts, register it — all or nothing.

use std::path::Path;

use anyhow::Context as _;
use selfup_core::clock::Clock;
use selfup_plugins::package::{UnpackLimits, stage};
use selfup_plugins::wasm::WasmHost;
use selfup_store::Store;
use selfup_store::artifacts::ArtifactStore;
use selfup_store::registry::{NewPlugin, PluginFile};

use crate::exit::Exit;

/// What an install did.
#[derive(Debug)]
pub struct Installed {
    /// `name@version`.
    pub id: String,
    /// Capabilities it became the active provider of.
    pub activated: Vec<String>,
    /// Capabilities it provides but does not serve yet.
    pub inactive: Vec<String>,
}

/// Installs the package at `path`. On any failure nothing changes: the
/// staging directory is removed, artifacts this install created are
/// deleted, and the registry transaction is not committed.
pub fn install(
    store: &Store,
    host: &WasmHost,
    path: &Path,
    activate: bool,
    actor: &str,
    clock: &dyn Clock,
) -> anyhow::Result<Installed> {
    let home = store.home();
    let staged = stage(path, &home.staging_dir(), &UnpackLimits::default())
        .map_err(|e| Exit::new(2, format!("cannot install {}: {e}", path.display())))?;
    let manifest = &staged.manifest;
    let id = manifest.id();
    if store
        .plugin(manifest.name.as_str(), &manifest.version)?
        .is_some()
    {
        return Err(Exit::new(
            2,
            format!("{id} is already installed; remove it first (selfup plugin remove {id}) to reinstall"),
        )
        .into());
    }
    let entry = staged
        .entry_point()
        .with_context(|| format!("{id}: the staged entry point disappeared"))?;
    let bytes = std::fs::read(&entry.staged_at)
        .with_context(|| format!("cannot read {}", entry.staged_at.display()))?;
    host.check_component(&bytes)
        .map_err(|e| Exit::new(2, format!("cannot install {id}: {e}")))?;

    let artifacts = ArtifactStore::new(home.artifacts_dir());
    let mut created = Vec::new();
    let result = (|| -> anyhow::Result<Vec<String>> {
        let mut files = Vec::new();
        let mut entry_hash = String::new();
        for file in &staged.files {
            let stored = artifacts.put_file(&file.staged_at)?;
            if stored.created {
                created.push(stored.hash.clone());
            }
            if file.path == manifest.entry_point {
                entry_hash = stored.hash.clone();
            }
            files.push(PluginFile {
                path: file.path.clone(),
                hash: stored.hash,
                size: stored.size,
            });
        }
        let new = NewPlugin {
            manifest,
            entry_hash: &entry_hash,
            files: &files,
        };
        Ok(store.install_plugin(new, activate, actor, clock.now_ms())?)
    })();
    match result {
        Ok(activated) => {
            let inactive = manifest
                .provided_capabilities
                .iter()
                .map(|c| c.to_string())
                .filter(|c| !activated.contains(c))
                .collect();
            Ok(Installed {
                id,
                activated,
                inactive,
            })
        }
        Err(e) => {
            for hash in created {
                if let Err(cleanup) = artifacts.remove(&hash) {
                    tracing::warn!(%hash, error = %cleanup, "cannot remove an artifact of the failed install");
                }
            }
            Err(e.context(format!("cannot install {id}; nothing was changed")))
        }
    }
}
