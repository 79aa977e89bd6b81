//! One module per command group.

pub mod config;
pub mod discovery;
pub mod doctor;
pub mod lifecycle;
pub mod mcp;
pub mod patterns_scan;
pub mod plugin;
pub mod private_file;
pub mod serve;
pub mod service;
pub mod signing;
pub mod specs;
pub mod stats;
#[cfg(windows)]
pub mod stop_event;
pub mod telemetry;
pub mod token;
