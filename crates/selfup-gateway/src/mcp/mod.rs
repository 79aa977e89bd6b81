//! selfup as an MCP server: the capabilities are the tools.
//!
//! - `tools/list`: every routed capability, with the input schema of the
//!   plugin version serving it (`input_schemas` in its manifest; `{"type":
//!   "object"}` when it declares none);
//! - `tools/call`: goes through [`Dispatcher::call`](crate::Dispatcher::call),
//!   so rollout splits, shadowing, input sampling and telemetry are exactly
//!   those of an HTTP call;
//! - `notifications/tools/list_changed` whenever the routing table changes:
//!   on `subscriptions/listen` streams (protocol 2026-07-28) and to the peer
//!   of every handshake-era session.
//!
//! The subject of a call (sticky rollout assignment) is `_meta.subject` of
//! the request when given, else the MCP session id (`Mcp-Session-Id`, legacy
//! streamable HTTP), else the connection's (stdio), else empty — as an HTTP
//! call without `subject`.
//!
//! Transports: [`http_service`] (streamable HTTP, mounted at `/mcp` by
//! [`crate::http::routes`]) and [`serve_stdio`] (`selfup mcp`).

mod server;
mod tools;
mod transport;

pub use server::{McpServer, SUBJECT_META_KEY};
pub use transport::{StdioError, http_service, serve_stdio};
