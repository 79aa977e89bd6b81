//! What every plugin host offers: a loaded plugin version that can be
//! called, asked for its health, and shut down.

use std::future::Future;
use std::pin::Pin;

use selfup_core::call::{CallCost, CallError};
use serde::Serialize;

/// A boxed future, so hosts of different kinds fit one trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The result of one call: the output or a typed error, and its cost.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    /// The plugin's JSON output, or why there is none.
    pub output: Result<String, CallError>,
    /// What the call cost.
    pub cost: CallCost,
}

/// A plugin's answer to a health check, with the host's counters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    /// Whether the plugin says it can serve (false if it could not be asked).
    pub healthy: bool,
    /// The plugin's own details (JSON), or why it could not be asked.
    pub details: serde_json::Value,
    /// The host's counters for this plugin.
    pub stats: PluginStats,
}

/// Counters a host keeps per loaded plugin version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PluginStats {
    /// Calls started.
    pub calls: u64,
    /// Calls that failed (any kind).
    pub failures: u64,
    /// Instances lost to a trap, timeout or memory exhaustion.
    pub instances_lost: u64,
    /// Instances created.
    pub instances_created: u64,
    /// Instances alive now (idle or busy).
    pub instances_live: u64,
}

/// A loaded plugin version.
pub trait RunningPlugin: Send + Sync {
    /// Serves one request for `capability` with the JSON `input`.
    fn call<'a>(&'a self, capability: &'a str, input: &'a str) -> BoxFuture<'a, CallResult>;

    /// Asks the plugin whether it is healthy.
    fn health(&self) -> BoxFuture<'_, HealthReport>;

    /// Shuts down every instance; later calls start fresh ones.
    fn shutdown(&self) -> BoxFuture<'_, ()>;

    /// The host's counters.
    fn stats(&self) -> PluginStats;
}
