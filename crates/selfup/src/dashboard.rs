//! What the gateway's dashboard needs from the loop: the capability gaps
//! and the current look at an in-flight upgrade's gates. Both only read.

use selfup_gateway::lifecycle::LifecycleError;
use selfup_loop::Orchestrator;
use selfup_loop::catalog::Catalog;
use selfup_loop::lifecycle::effective_stages;
use selfup_loop::rollout::gates::{Monitor, evaluate};
use selfup_loop::rollout::stats::RolloutStats;

use crate::api::{json, store_error};

/// Calls read per query while catching up with a rollout.
const READ_BATCH: usize = 50_000;

/// The gaps now (a week of unmet requests, unserved and failing calls),
/// with the catalog packages that would close each.
pub fn gaps(
    orchestrator: &Orchestrator,
    catalog: &Catalog,
) -> Result<serde_json::Value, LifecycleError> {
    let ctx = orchestrator.context();
    let config = &ctx.config.discovery;
    let now = ctx.clock.now_ms();
    let failed = |e: selfup_discovery::DiscoveryError| LifecycleError::Failed(e.to_string());
    let offered: Vec<_> = catalog.entries.iter().map(|e| e.manifest.clone()).collect();
    let usage = selfup_discovery::usage::analyze_usage(&ctx.store, config, now).map_err(failed)?;
    let report =
        selfup_discovery::gaps::analyze_gaps(&ctx.store, config, &offered, Some(&usage), now)
            .map_err(failed)?;
    json(&report)
}

/// Upgrade `id`'s stage judged now, as the controller would at its next
/// look (the sequential tests advanced on a copy, nothing recorded), with
/// the stages it goes through; `verdict` is null when it has no rollout.
pub fn current_gates(
    orchestrator: &Orchestrator,
    id: i64,
) -> Result<serde_json::Value, LifecycleError> {
    let ctx = orchestrator.context();
    let stages = effective_stages(&ctx.config.rollout);
    let rollout = ctx
        .store
        .rollouts()
        .map_err(store_error)?
        .into_iter()
        .find(|r| r.upgrade_id == id);
    let Some(rollout) = rollout else {
        return Ok(serde_json::json!({
            "upgrade_id": id,
            "stage": null,
            "stages": json(&stages)?,
            "verdict": null,
        }));
    };
    let mut stats = RolloutStats::default();
    loop {
        let calls = ctx
            .store
            .experiment_calls(id, stats.last_rowid, READ_BATCH)
            .map_err(store_error)?;
        stats.ingest(&calls);
        if calls.len() < READ_BATCH {
            break;
        }
    }
    let mut monitor: Monitor = serde_json::from_value(rollout.monitor.clone()).unwrap_or_default();
    let stage = stages
        .get(rollout.stage)
        .cloned()
        .unwrap_or_else(|| selfup_core::config::Stage {
            name: format!("stage {}", rollout.stage),
            traffic_percentage: rollout.traffic_percentage,
            duration_hours: 0.0,
            gates: Vec::new(),
        });
    let verdict = evaluate(
        &ctx.config,
        &stage,
        &rollout,
        &stats.stage(rollout.stage as u32),
        &mut monitor,
        ctx.clock.now_ms(),
    );
    Ok(serde_json::json!({
        "upgrade_id": id,
        "stage": rollout.stage,
        "stages": json(&stages)?,
        "verdict": json(&verdict)?,
    }))
}
