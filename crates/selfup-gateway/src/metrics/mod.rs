//! Prometheus metrics: the dispatcher records every call into atomic
//! counters and histograms ([`calls`]); `GET /metrics` ([`scrape`]) renders
//! them with the telemetry writer's counters and, read from the store at
//! scrape time, rollout weights and upgrades by state ([`text`]).

pub mod calls;
pub mod histogram;
pub mod scrape;
pub mod text;

pub use calls::{CallMetrics, Observation};
