//! selfup's store: one SQLite database (WAL mode) and a content-addressed
//! artifact directory under the selfup home.
//!
//! Invariants: this is the only crate that knows SQL. Every registry change
//! is one transaction together with its audit row. Telemetry goes through
//! one batching writer thread, so callers never wait on disk.

pub mod artifacts;
pub mod audit;
pub mod calls;
mod db;
pub mod decisions;
pub mod error;
pub mod events;
pub mod home;
pub mod inspect;
pub mod llm_calls;
mod migrations;
pub mod notifications;
pub mod overview;
pub mod patterns;
pub mod registry;
pub mod rollouts;
pub mod snapshots;
pub mod system_clock;
pub mod telemetry;
pub mod tokens;
pub mod tx;
pub mod upgrades;

pub use db::Store;
pub use error::StoreError;
pub use home::Home;
