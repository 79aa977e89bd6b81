//! The steps of an upgrade's life, as methods of the orchestrator. Each
//! state change is one store transaction with its event and audit row.

mod deploy;
mod monitor;
mod proposals;
mod retention;
mod rollback;

use selfup_core::config::{RolloutConfig, RolloutStrategy, Stage};

pub use rollback::RollbackStrategy;

use crate::orchestrator::{Change, Orchestrator};

/// The stages an upgrade goes through under `rollout.default_strategy`:
/// `gradual` every configured stage; `canary` the shadow stages, the first
/// live stage and the last; `immediate` only the last (100 %).
pub fn effective_stages(rollout: &RolloutConfig) -> Vec<Stage> {
    let stages = &rollout.stages;
    let Some(last) = stages.last() else {
        return Vec::new();
    };
    match rollout.default_strategy {
        RolloutStrategy::Gradual => stages.clone(),
        RolloutStrategy::Immediate => vec![last.clone()],
        RolloutStrategy::Canary => {
            let mut out: Vec<Stage> = stages
                .iter()
                .take_while(|s| s.traffic_percentage == 0.0)
                .cloned()
                .collect();
            if let Some(first_live) = stages
                .iter()
                .find(|s| s.traffic_percentage > 0.0 && s.traffic_percentage < 100.0)
            {
                out.push(first_live.clone());
            }
            out.push(last.clone());
            out
        }
    }
}

impl Orchestrator {
    pub(crate) fn stages(&self) -> Vec<Stage> {
        effective_stages(&self.ctx.config.rollout)
    }

    pub(crate) fn change(&self, upgrade_id: Option<i64>, text: impl Into<String>) -> Change {
        Change {
            ts_ms: self.now(),
            upgrade_id,
            text: text.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_pick_their_stages() {
        let mut rollout = RolloutConfig::default();
        let names = |r: &RolloutConfig| {
            effective_stages(r)
                .into_iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&rollout),
            ["internal", "canary_5", "gradual_25", "full"]
        );
        rollout.default_strategy = RolloutStrategy::Canary;
        assert_eq!(names(&rollout), ["internal", "canary_5", "full"]);
        rollout.default_strategy = RolloutStrategy::Immediate;
        assert_eq!(names(&rollout), ["full"]);
    }
}
