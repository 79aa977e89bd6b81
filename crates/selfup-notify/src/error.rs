//! The notifier's error type. Delivery failures are not errors of the
//! notifier: they are recorded in the delivery log.

use selfup_store::StoreError;

/// What can stop a notifier step (the store, or a task that panicked).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The store failed.
    #[error("notifications: {0}")]
    Store(#[from] StoreError),
    /// A background task stopped unexpectedly.
    #[error("notifications: a background task stopped: {0}")]
    Task(String),
}
