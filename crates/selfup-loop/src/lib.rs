//! The self-upgrading loop: the catalog of candidates, the market scan,
//! decisions, plans (dependencies and snapshots), validation (component
//! checks and performance replay), staged rollout with gates and automatic
//! rollback, manual rollback strategies, retention, and the orchestrator
//! that runs it all on a clock.
//!
//! Invariants: the loop never serves traffic; it changes the registry and
//! the rollouts only through store transactions that carry their audit
//! rows; it reads time only through a `Clock`, so the same code runs a
//! 14-day rollout in production and in a test in seconds.

pub mod analyser;
pub mod catalog;
pub mod clock;
pub mod decide;
pub mod experiment;
pub mod generator;
pub mod install;
pub mod lifecycle;
pub mod llm_engine;
pub mod orchestrator;
pub mod perf;
pub mod progress;
pub mod rollout;
pub mod scan;

pub use orchestrator::{Orchestrator, OrchestratorError};
