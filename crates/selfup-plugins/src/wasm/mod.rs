//! The wasm host: WASI preview 2 components under wasmtime.
//!
//! One [`WasmHost`] owns the engine (pooling allocator, epoch interruption,
//! a ticker thread) and a cache of compiled components. [`WasmHost::load`]
//! turns a manifest and component bytes into a [`WasmPlugin`], which keeps
//! a pool of live instances: each is initialised once, serves many calls
//! one at a time, and is dropped (and replaced on the next call) when it
//! traps, times out or runs out of memory.

mod bindings;
mod engine;
mod instance;
mod limits;
mod linker;
mod plugin;

pub use engine::{HostConfig, HostError, LoadSpec, WasmHost};
pub use plugin::WasmPlugin;
