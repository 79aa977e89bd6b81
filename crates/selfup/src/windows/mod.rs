//! What selfup needs from Windows to run as a service: where its data
//! lives ([`layout`]), its entries under `HKLM\SOFTWARE\OpenClaw`
//! ([`registry`]), the permissions of its data directory ([`acl`]) and its
//! Event Log source ([`event_log`]). The pure parts (names, paths, key
//! paths) build and are tested everywhere; the parts that call Windows
//! build on Windows only.

// Elsewhere only the tests use the pure parts.
#![cfg_attr(not(windows), allow(dead_code))]

#[cfg(windows)]
pub mod acl;
pub mod event_log;
pub mod layout;
pub mod registry;
