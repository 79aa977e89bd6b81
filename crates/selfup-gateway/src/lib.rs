//! selfup's gateway: the call path (router → plugin host → telemetry) and
//! the HTTP API in front of it.
//!
//! Invariants: the gateway never changes the registry and never computes
//! statistics on the request path; it reads the routing the store holds,
//! reloading when the registry generation moves. Every call, served or
//! not, writes one telemetry record without waiting for disk.

pub mod dashboard;
pub mod dispatch;
pub mod http;
pub mod lifecycle;
pub mod limits;
pub mod loader;
pub mod mcp;
pub mod metrics;
pub mod router;
pub mod subject;

pub use dispatch::{CallOutcome, Dispatcher};
pub use loader::PluginLoader;
pub use router::Router;
