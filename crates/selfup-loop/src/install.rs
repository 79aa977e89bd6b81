//! Installing a package: stage it, check its component, store its files
//! as artifacts, register it — all or nothing.

use std::path::Path;

use selfup_core::clock::Clock;
use selfup_plugins::package::{PackageError, UnpackLimits, stage};
use selfup_plugins::wasm::{HostError, WasmHost};
use selfup_store::artifacts::ArtifactStore;
use selfup_store::registry::{NewPlugin, PluginFile};
use selfup_store::{Store, StoreError};

/// What an install did.
#[derive(Debug, Clone, PartialEq)]
pub struct Installed {
    /// `name@version`.
    pub id: String,
    /// Capabilities it became the active provider of.
    pub activated: Vec<String>,
    /// Capabilities it provides but does not serve yet.
    pub inactive: Vec<String>,
}

/// Why an install was refused or failed. Nothing was changed either way.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The package is unsafe, malformed or incomplete.
    #[error("cannot install {path}: {source}")]
    Package {
        /// The package given.
        path: String,
        /// What is wrong with it.
        source: PackageError,
    },
    /// The code is not a component selfup can run.
    #[error("cannot install {id}: {source}")]
    Component {
        /// `name@version`.
        id: String,
        /// What wasmtime refused.
        source: HostError,
    },
    /// That version is installed already.
    #[error("{id} is already installed; remove it first (selfup plugin remove {id}) to reinstall")]
    AlreadyInstalled {
        /// `name@version`.
        id: String,
    },
    /// Refused by policy: a downgrade, or a version whose content changed.
    #[error("cannot install {id}: {source}")]
    Policy {
        /// `name@version`.
        id: String,
        /// The refusal.
        source: StoreError,
    },
    /// The store failed; the install was undone.
    #[error("cannot install {id}; nothing was changed: {source}")]
    Store {
        /// `name@version`.
        id: String,
        /// The store's error.
        source: StoreError,
    },
}

impl InstallError {
    /// Whether the package itself is at fault (the user can fix it), as
    /// opposed to the machine.
    pub fn is_package_fault(&self) -> bool {
        !matches!(self, InstallError::Store { .. })
    }
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
) -> Result<Installed, InstallError> {
    let home = store.home();
    let staged = stage(path, &home.staging_dir(), &UnpackLimits::default()).map_err(|source| {
        InstallError::Package {
            path: path.display().to_string(),
            source,
        }
    })?;
    let manifest = &staged.manifest;
    let id = manifest.id();
    let store_error = |source| InstallError::Store {
        id: id.clone(),
        source,
    };
    if store
        .plugin(manifest.name.as_str(), &manifest.version)
        .map_err(store_error)?
        .is_some()
    {
        return Err(InstallError::AlreadyInstalled { id });
    }
    let entry = staged
        .entry_point()
        .ok_or_else(|| InstallError::Package {
            path: path.display().to_string(),
            source: PackageError::MissingEntryPoint(manifest.entry_point.clone()),
        })?
        .staged_at
        .clone();
    let bytes =
        std::fs::read(&entry).map_err(|e| store_error(StoreError::io("reading", &entry, e)))?;
    host.check_component(&bytes)
        .map_err(|source| InstallError::Component {
            id: id.clone(),
            source,
        })?;

    let artifacts = ArtifactStore::new(home.artifacts_dir());
    let mut created = Vec::new();
    let result = (|| -> Result<Vec<String>, StoreError> {
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
        store.install_plugin(new, activate, actor, clock.now_ms())
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
        Err(source) => {
            for hash in created {
                if let Err(cleanup) = artifacts.remove(&hash) {
                    tracing::warn!(%hash, error = %cleanup, "cannot remove an artifact of the failed install");
                }
            }
            Err(match source {
                StoreError::AlreadyInstalled { .. } => InstallError::AlreadyInstalled { id },
                source @ (StoreError::Downgrade { .. } | StoreError::ContentChanged { .. }) => {
                    InstallError::Policy { id, source }
                }
                source => InstallError::Store { id, source },
            })
        }
    }
}
