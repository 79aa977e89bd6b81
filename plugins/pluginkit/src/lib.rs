//! Shared glue for the selfup example plugins.
//!
//! A plugin crate implements [`Plugin`] on a unit type with its pure logic
//! (testable natively with `cargo test`) and calls [`export_plugin!`], which
//! on `wasm32` generates the WIT bindings of `selfup:plugin/plugin` and
//! exports them. Everything else a plugin needs — typed errors, request
//! parsing with helpful messages, call counters for `health` — lives here.

mod error;
mod export;
mod request;
pub mod runtime;

pub use error::{ErrorCode, PluginError};
pub use request::Request;

/// The WIT bindings generator, re-exported for [`export_plugin!`].
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub use wit_bindgen;

/// The pure behaviour of one plugin, independent of the component glue.
pub trait Plugin {
    /// The capability names the plugin serves, e.g. `text.summarize`.
    const CAPABILITIES: &'static [&'static str];

    /// Serve one request for `capability` (always one of
    /// [`Plugin::CAPABILITIES`]); `request` is the raw JSON text.
    fn execute(capability: &str, request: &str) -> Result<String, PluginError>;

    /// Extra plugin-specific fields for the `health` details object.
    fn health_details() -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }
}
