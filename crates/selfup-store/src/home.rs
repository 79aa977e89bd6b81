//! The layout of a selfup home directory.

use std::path::{Path, PathBuf};

use crate::StoreError;

/// The directories and files under one selfup home.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// A home rooted at `root` (nothing is created until [`Home::create`]).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Creates the home and its subdirectories if they are missing.
    pub fn create(&self) -> Result<(), StoreError> {
        for dir in [
            self.root.clone(),
            self.artifacts_dir(),
            self.staging_dir(),
            self.cache_dir(),
            self.plugin_data_dir(),
            self.logs_dir(),
        ] {
            std::fs::create_dir_all(&dir).map_err(|e| StoreError::io("creating", &dir, e))?;
        }
        Ok(())
    }

    /// The home directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.root.join("selfup.db")
    }

    /// The content-addressed artifact store.
    pub fn artifacts_dir(&self) -> PathBuf {
        self.root.join("artifacts")
    }

    /// Where packages are unpacked and checked before install.
    pub fn staging_dir(&self) -> PathBuf {
        self.root.join("staging")
    }

    /// Derived data that can be rebuilt (compiled plugins).
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    /// Per-plugin directories that relative `allowed_file_paths` resolve against.
    pub fn plugin_data_dir(&self) -> PathBuf {
        self.root.join("plugin-data")
    }

    /// Log files.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }
}
