//! The store's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused an operation.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("creating", "reading", …).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The database was written by a newer selfup.
    #[error(
        "the database {path} has schema version {found}, newer than this selfup understands ({supported}); upgrade selfup or use another --home"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// A plugin version that is already installed.
    #[error(
        "{name}@{version} is already installed; remove it first (selfup plugin remove {name}@{version}) to reinstall"
    )]
    AlreadyInstalled {
        /// Plugin name.
        name: String,
        /// Version.
        version: String,
    },
    /// No plugin (or version) by that name.
    #[error("{what} is not installed; see `selfup plugin list`")]
    NotInstalled {
        /// `name` or `name@version`.
        what: String,
    },
    /// An older version than one installed before (anti-rollback).
    #[error(
        "{name}@{version} is older than {name}@{floor}, which was installed before; selfup refuses downgrades. To go back, roll back the upgrade that installed the newer version (selfup rollback ID), which restores its snapshot"
    )]
    Downgrade {
        /// Plugin name.
        name: String,
        /// The refused version.
        version: String,
        /// The highest version ever installed.
        floor: String,
    },
    /// The same version as before, with different content.
    #[error(
        "{name}@{version} was installed before with different content (digest {before}, now {now}); a version's content never changes — publish the change under a new version"
    )]
    ContentChanged {
        /// Plugin name.
        name: String,
        /// The version.
        version: String,
        /// The digest recorded then.
        before: String,
        /// The digest of this package.
        now: String,
    },
    /// A change that would leave a capability without its chosen provider.
    #[error("{0}")]
    Refused(String),
    /// A stored row that does not parse (the database was edited by hand?).
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What did not parse.
        detail: String,
    },
    /// The telemetry writer has stopped.
    #[error("the telemetry writer has stopped")]
    WriterStopped,
}

impl StoreError {
    /// Wraps an I/O error with the action and path.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
