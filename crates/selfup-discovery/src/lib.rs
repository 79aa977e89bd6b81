//! Discovery: what could be better, from evidence.
//!
//! - [`code`]: patterns in source code — clones across files and languages
//!   (exact, renamed, near-miss) and abstraction gaps — parsed with
//!   tree-sitter.
//! - [`behavior`]: runtime behaviour of each capability version, recent
//!   against baseline (latency, errors, memory and CPU per call).
//! - [`usage`]: how capabilities are used (frequency, sequences, failure
//!   rates, completion times).
//! - [`gaps`]: what the agent was asked for and could not do, and the
//!   offered packages that would close each gap.
//! - [`trends`]: how the patterns found changed over the days.
//!
//! Every finding is a [`selfup_core::pattern::Pattern`], ranked by the
//! specification's opportunity score; [`analyze_runtime`] records the
//! runtime and usage findings in the store's pattern history.

pub mod behavior;
pub mod code;
pub mod error;
pub mod gaps;
pub mod text;
pub mod trends;
pub mod usage;
pub mod window;

pub use error::DiscoveryError;

use selfup_core::config::DiscoveryConfig;
use selfup_store::Store;

/// The sources pattern history records runtime findings under.
pub const RUNTIME_SOURCE: &str = "runtime";
/// See [`RUNTIME_SOURCE`].
pub const USAGE_SOURCE: &str = "usage";
/// The source code scans are recorded under.
pub const CODE_SOURCE: &str = "code";

/// Runtime behaviour and usage, analysed together.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuntimeAnalysis {
    /// Behaviour per version.
    pub behavior: behavior::BehaviorReport,
    /// Usage per capability.
    pub usage: usage::UsageReport,
}

/// Analyses runtime behaviour and usage as of `now_ms` and records both
/// sets of patterns in the store's history (when `runtime_analysis` is
/// enabled; otherwise returns `None` and records nothing).
pub fn analyze_runtime(
    store: &Store,
    config: &DiscoveryConfig,
    now_ms: i64,
) -> Result<Option<RuntimeAnalysis>, DiscoveryError> {
    if !config.runtime_analysis.enabled {
        return Ok(None);
    }
    let started = std::time::Instant::now();
    let behavior = behavior::analyze_behavior(store, &config.runtime_analysis, now_ms)?;
    let behavior_ms = started.elapsed().as_secs_f64() * 1000.0;
    let usage = usage::analyze_usage(store, config, now_ms)?;
    let usage_ms = started.elapsed().as_secs_f64() * 1000.0 - behavior_ms;
    store.record_patterns(
        RUNTIME_SOURCE,
        now_ms,
        &serde_json::json!({
            "calls_read": behavior.calls_read,
            "versions": behavior.versions.len(),
            "windows": behavior.windows,
            "elapsed_ms": behavior_ms,
        }),
        &behavior.patterns,
    )?;
    store.record_patterns(
        USAGE_SOURCE,
        now_ms,
        &serde_json::json!({
            "calls_read": usage.calls_read,
            "capabilities": usage.capabilities.len(),
            "sequences": usage.sequences.len(),
            "period": usage.period,
            "elapsed_ms": usage_ms,
        }),
        &usage.patterns,
    )?;
    Ok(Some(RuntimeAnalysis { behavior, usage }))
}
