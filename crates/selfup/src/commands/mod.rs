//! One module per command group.

pub mod config;
pub mod lifecycle;
pub mod plugin;
pub mod serve;
pub mod signing;
pub mod stats;
pub mod telemetry;
pub mod token;
