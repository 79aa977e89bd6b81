//! The selfup domain: capability and plugin names, plugin manifests,
//! call outcomes and telemetry records, and the configuration model.
//!
//! Invariant: this crate does no I/O and reads no clock. Everything here is
//! a pure function of its inputs, so it is cheap to test exhaustively and
//! every other crate can depend on it.

pub mod call;
pub mod clock;
pub mod config;
pub mod dependencies;
pub mod manifest;
pub mod names;
pub mod pattern;
pub mod telemetry;
pub mod upgrade;
