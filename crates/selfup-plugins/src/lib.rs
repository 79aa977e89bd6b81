//! selfup's plugins: packages (safe unpacking) and the hosts that run
//! them. The wasm host runs WASI preview 2 components under wasmtime with
//! enforced memory, time and file limits; the process host runs MCP
//! servers as child processes under OS limits; every host exposes loaded
//! plugins as [`RunningPlugin`].
//!
//! Invariants: this is the only crate that knows wasmtime. It never reads
//! the store: callers hand it manifests and component bytes.

pub mod host;
pub mod package;
pub mod process;
pub mod scan;
pub mod signing;
pub mod wasm;

pub use host::{CallResult, HealthReport, PluginStats, RunningPlugin};
