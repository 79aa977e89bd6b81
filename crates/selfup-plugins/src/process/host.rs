//! The process host: its configuration, and loading a plugin version
//! (unpacking its files into a directory of their own).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use selfup_core::manifest::PluginManifest;

use super::command::{self, Interpreters};
use super::{ProcessError, ProcessPlugin};

/// Name of the file that marks a fully unpacked package directory.
const COMPLETE_MARKER: &str = ".selfup-complete";

/// How the process host runs plugins.
#[derive(Debug, Clone)]
pub struct ProcessHostConfig {
    /// Interpreters by entry-point extension; see [`command`].
    pub interpreters: Interpreters,
    /// CPU seconds of each process over its life (Linux: `RLIMIT_CPU`;
    /// Windows: the job's per-process user-mode time limit).
    pub cpu_seconds_per_process: u64,
    /// Windows: processes alive at once in a plugin's job, the server
    /// included (`JOB_OBJECT_LIMIT_ACTIVE_PROCESS`; a Python virtual
    /// environment's `python.exe` is a launcher that starts the real one,
    /// so at least 2). Linux has no per-tree process cap.
    pub max_processes_per_plugin: u32,
    /// Longest a start (spawn, `initialize`, `tools/list`) may take.
    pub start_timeout: Duration,
    /// The first wait after a failed start; doubled after each failure.
    pub restart_backoff: Duration,
    /// The longest wait between restarts.
    pub max_restart_backoff: Duration,
}

impl Default for ProcessHostConfig {
    fn default() -> Self {
        Self {
            interpreters: command::default_interpreters(),
            cpu_seconds_per_process: 3600,
            max_processes_per_plugin: 16,
            start_timeout: Duration::from_secs(30),
            restart_backoff: Duration::from_millis(200),
            max_restart_backoff: Duration::from_secs(30),
        }
    }
}

/// Runs process plugins. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ProcessHost {
    config: Arc<ProcessHostConfig>,
}

/// What loading one process plugin version needs.
#[derive(Debug, Clone)]
pub struct ProcessLoadSpec {
    /// The manifest.
    pub manifest: Arc<PluginManifest>,
    /// The package's files: package-relative path → where its bytes are.
    pub files: BTreeMap<String, PathBuf>,
    /// The directory to unpack the files into (reused when complete).
    pub package_dir: PathBuf,
    /// The plugin's private data directory (its `HOME`).
    pub data_dir: PathBuf,
}

impl ProcessHost {
    /// A host with `config`.
    pub fn new(config: ProcessHostConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ProcessHostConfig {
        &self.config
    }

    /// Unpacks the plugin's files and returns the plugin; its process
    /// starts on the first call.
    pub fn load(&self, spec: ProcessLoadSpec) -> Result<Arc<ProcessPlugin>, ProcessError> {
        if !cfg!(any(target_os = "linux", windows)) {
            return Err(ProcessError::Unsupported);
        }
        let launch = command::launch(
            &spec.manifest.entry_point,
            &spec.package_dir,
            &self.config.interpreters,
        )?;
        unpack(&spec.files, &spec.package_dir, &spec.manifest.entry_point)?;
        let tmp = spec.data_dir.join("tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| ProcessError::io(&tmp, e))?;
        Ok(Arc::new(ProcessPlugin::new(
            self.config.clone(),
            spec,
            launch,
        )))
    }
}

/// Copies `files` into `dir` (once: a complete directory is reused), the
/// entry point executable, everything else read-only.
fn unpack(
    files: &BTreeMap<String, PathBuf>,
    dir: &Path,
    entry_point: &str,
) -> Result<(), ProcessError> {
    if dir.join(COMPLETE_MARKER).is_file() {
        return Ok(());
    }
    let parent = dir.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(|e| ProcessError::io(parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".unpack-")
        .tempdir_in(parent)
        .map_err(|e| ProcessError::io(parent, e))?;
    for (relative, source) in files {
        if relative
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(ProcessError::io(
                relative,
                std::io::Error::other("not a plain package-relative path"),
            ));
        }
        let target = staging.path().join(relative);
        if let Some(p) = target.parent() {
            std::fs::create_dir_all(p).map_err(|e| ProcessError::io(p, e))?;
        }
        std::fs::copy(source, &target).map_err(|e| ProcessError::io(source, e))?;
        // Permissions are Unix modes; elsewhere the files stay as copied.
        #[cfg(not(unix))]
        let _ = entry_point;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if relative == entry_point {
                0o555
            } else {
                0o444
            };
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
                .map_err(|e| ProcessError::io(&target, e))?;
        }
    }
    let marker = staging.path().join(COMPLETE_MARKER);
    std::fs::write(&marker, b"").map_err(|e| ProcessError::io(&marker, e))?;
    if dir.exists() {
        // An incomplete directory left by a crash.
        std::fs::remove_dir_all(dir).map_err(|e| ProcessError::io(dir, e))?;
    }
    let staged = staging.keep();
    match std::fs::rename(&staged, dir) {
        Ok(()) => Ok(()),
        // Another loader finished first: use its directory.
        Err(_) if dir.join(COMPLETE_MARKER).is_file() => {
            let _ = std::fs::remove_dir_all(&staged);
            Ok(())
        }
        Err(e) => Err(ProcessError::io(dir, e)),
    }
}
