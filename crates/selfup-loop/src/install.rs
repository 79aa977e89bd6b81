//! Installing a package: stage it, verify its signature, scan it, check
//! its component, store its files as artifacts, register it — all or
//! nothing.

use std::path::Path;

use selfup_core::clock::Clock;
use selfup_core::config::SecurityConfig;
use selfup_plugins::package::{PackageError, UnpackLimits, stage};
use selfup_plugins::scan::{ScanPolicy, ScanReport, scan_staged};
use selfup_plugins::signing::{KeyError, PublicKey, SignatureError, verify_staged};
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

/// What a package must pass before it is installed.
#[derive(Debug, Clone)]
pub struct InstallPolicy {
    /// Refuse packages without a valid signature by a trusted key.
    pub require_signature: bool,
    /// The keys whose signatures are accepted.
    pub trusted_keys: Vec<PublicKey>,
    /// The static scan; a Critical finding blocks the install.
    pub scan: ScanPolicy,
}

impl InstallPolicy {
    /// The policy of `security.*`; fails if a trusted key does not parse.
    pub fn from_config(security: &SecurityConfig) -> Result<Self, KeyError> {
        Ok(Self {
            require_signature: security.code_signing_required,
            trusted_keys: security
                .trusted_keys
                .iter()
                .map(|k| PublicKey::parse(k))
                .collect::<Result<_, _>>()?,
            scan: ScanPolicy::from_config(security),
        })
    }
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
    /// The signature is missing (while required), invalid or untrusted.
    #[error("cannot install {path}: {source}")]
    Signature {
        /// The package given.
        path: String,
        /// Why the signature is refused.
        source: SignatureError,
    },
    /// The static scan found something that blocks the install.
    #[error("cannot install {id}: the security scan blocks it:\n{}", blocking(.report))]
    Scan {
        /// `name@version`.
        id: String,
        /// The whole report.
        report: ScanReport,
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

fn blocking(report: &ScanReport) -> String {
    report
        .blocking()
        .map(|f| format!("  {f}"))
        .collect::<Vec<_>>()
        .join("\n")
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
    policy: &InstallPolicy,
) -> Result<Installed, InstallError> {
    let home = store.home();
    let staged = stage(path, &home.staging_dir(), &UnpackLimits::default()).map_err(|source| {
        InstallError::Package {
            path: path.display().to_string(),
            source,
        }
    })?;
    // A signature is checked whenever there is one; it is required when
    // the policy says so.
    let signed = staged
        .files
        .iter()
        .any(|f| f.path == selfup_plugins::signing::SIGNATURE_FILE);
    if signed || policy.require_signature {
        verify_staged(&staged, &policy.trusted_keys).map_err(|source| InstallError::Signature {
            path: path.display().to_string(),
            source,
        })?;
    }
    let manifest = &staged.manifest;
    let id = manifest.id();
    let report = scan_staged(&staged, &policy.scan);
    if !report.passed {
        return Err(InstallError::Scan { id, report });
    }
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
    // A process plugin's entry point is a program or script, not a
    // component: it is checked when it starts (the MCP handshake).
    if manifest.runtime == selfup_core::manifest::Runtime::Wasm {
        let bytes =
            std::fs::read(&entry).map_err(|e| store_error(StoreError::io("reading", &entry, e)))?;
        host.check_component(&bytes)
            .map_err(|source| InstallError::Component {
                id: id.clone(),
                source,
            })?;
    }

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
