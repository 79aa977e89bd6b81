//! Why a process plugin cannot be loaded or started.

use std::path::PathBuf;

/// A process plugin that cannot be loaded or started.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// This platform has no process sandbox selfup can use.
    #[error("process plugins need Linux or Windows job objects")]
    Unsupported,
    /// The entry point needs an interpreter the host does not allow or has not found.
    #[error(
        "entry point \"{entry_point}\" needs an interpreter for \".{extension}\" files, and the host has none (allowed: {allowed})"
    )]
    NoInterpreter {
        /// The manifest's entry point.
        entry_point: String,
        /// Its extension.
        extension: String,
        /// The extensions the host has interpreters for.
        allowed: String,
    },
    /// Unpacking the package's files failed.
    #[error("cannot prepare {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The sandbox could not be prepared.
    #[error("cannot prepare the sandbox: {0}")]
    Sandbox(String),
    /// The program could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The MCP handshake failed or took too long.
    #[error("the MCP handshake failed: {0}")]
    Handshake(String),
    /// A provided capability has no tool on the server.
    #[error(
        "the server has no tool for capability \"{capability}\" (looked for \"{exact}\" and \"{underscored}\"; it has: {available})"
    )]
    MissingTool {
        /// The capability.
        capability: String,
        /// The tool name tried first.
        exact: String,
        /// The tool name tried second.
        underscored: String,
        /// The tools the server listed.
        available: String,
    },
    /// The tool `tool_names` names for a capability is not on the server.
    #[error(
        "the server has no tool \"{tool}\", which tool_names names for capability \"{capability}\" (it has: {available})"
    )]
    MissingDeclaredTool {
        /// The capability.
        capability: String,
        /// The tool the manifest names.
        tool: String,
        /// The tools the server listed.
        available: String,
    },
}

impl ProcessError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ProcessError::Io {
            path: path.into(),
            source,
        }
    }
}
