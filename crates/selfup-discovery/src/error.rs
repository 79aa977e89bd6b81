//! Why discovery could not run.

use selfup_store::StoreError;

/// A discovery failure.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// Reading telemetry, events or history failed.
    #[error("reading the store: {0}")]
    Store(#[from] StoreError),
}
