//! The process host: plugins whose entry point is a program speaking MCP
//! over stdio (`runtime: process`, the seed's PROCESS isolation).
//!
//! [`ProcessHost::load`] unpacks the package's files into a directory of
//! their own and returns a [`ProcessPlugin`]; the process starts on the
//! first call (or health check), under OS limits ([`limits`]; on Windows
//! in a job object of its own, `job.rs`; on Linux without network unless
//! the manifest allows hosts, `netns.rs`), with a scrubbed environment
//! ([`command`]). `initialize` and `tools/list` map the
//! server's tools to the manifest's capabilities ([`tools`]); every call is
//! a `tools/call` with the manifest's per-call timeout. A process that dies
//! or times out is dropped and started again on the next call, with an
//! exponential backoff after failed starts.

pub mod command;
mod error;
mod host;
#[cfg(windows)]
mod job;
pub mod limits;
#[cfg(target_os = "linux")]
mod netns;
mod plugin;
#[cfg(not(windows))]
mod procfs;
pub mod tools;

pub use error::ProcessError;
pub use host::{ProcessHost, ProcessHostConfig, ProcessLoadSpec};
pub use limits::{
    AppliedLimits, CpuRateStatus, JobLimits, LandlockStatus, LinuxLimits, NetworkStatus,
};
pub use plugin::ProcessPlugin;
