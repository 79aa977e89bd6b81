//! The upgrade lifecycle: states, who may cause a transition, and which
//! transitions are legal.
//!
//! ```text
//! Proposed ─► Rejected | Deferred | AwaitingApproval | Approved
//! Deferred ─► Proposed | Approved | Rejected
//! AwaitingApproval ─► Approved | Rejected | Deferred
//! Approved ─► Planned ─► Validating ─► RollingOut(0) ─► RollingOut(1) … ─► Completed
//! RollingOut(k) ─► RolledBack(reason)      Completed ─► RolledBack(reason) (by hand)
//! any state that is not final ─► Failed(reason)
//! ```
//!
//! An illegal transition is an error, never a panic: the store refuses it and
//! nothing changes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What an upgrade brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeKind {
    /// A newer version of an installed plugin.
    NewVersion,
    /// A plugin providing a capability nobody serves yet.
    NewCapability,
}

impl UpgradeKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            UpgradeKind::NewVersion => "new_version",
            UpgradeKind::NewCapability => "new_capability",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new_version" => Some(UpgradeKind::NewVersion),
            "new_capability" => Some(UpgradeKind::NewCapability),
            _ => None,
        }
    }
}

/// Where an upgrade is in its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UpgradeState {
    /// Found, not decided yet.
    Proposed,
    /// Decided against.
    Rejected {
        /// Why.
        reason: String,
    },
    /// Not now; looked at again in a later cycle.
    Deferred {
        /// Why.
        reason: String,
    },
    /// Above the risk line: a human must approve or reject it.
    AwaitingApproval,
    /// Approved; about to be planned.
    Approved,
    /// Dependencies resolved, snapshot taken.
    Planned,
    /// Installed (not active); being scanned and replayed.
    Validating,
    /// Serving in rollout stage `stage` (an index into `rollout.stages`).
    RollingOut {
        /// The stage index.
        stage: usize,
    },
    /// The candidate serves all traffic and is the active version.
    Completed,
    /// Traffic went back to the incumbent.
    RolledBack {
        /// Why: the gate and its numbers, a human's reason, or recovery.
        reason: String,
    },
    /// Something went wrong outside the evidence (a package that does not
    /// install, a validation that fails, a crash that cannot be resumed).
    Failed {
        /// Why.
        reason: String,
    },
}

impl UpgradeState {
    /// The state's name as stored and shown (`rolling_out`, `rolled_back`, …).
    pub fn name(&self) -> &'static str {
        match self {
            UpgradeState::Proposed => "proposed",
            UpgradeState::Rejected { .. } => "rejected",
            UpgradeState::Deferred { .. } => "deferred",
            UpgradeState::AwaitingApproval => "awaiting_approval",
            UpgradeState::Approved => "approved",
            UpgradeState::Planned => "planned",
            UpgradeState::Validating => "validating",
            UpgradeState::RollingOut { .. } => "rolling_out",
            UpgradeState::Completed => "completed",
            UpgradeState::RolledBack { .. } => "rolled_back",
            UpgradeState::Failed { .. } => "failed",
        }
    }

    /// Rebuilds a state from its stored parts.
    pub fn from_parts(name: &str, stage: Option<usize>, reason: Option<String>) -> Option<Self> {
        let reason = || reason.clone().unwrap_or_default();
        Some(match name {
            "proposed" => UpgradeState::Proposed,
            "rejected" => UpgradeState::Rejected { reason: reason() },
            "deferred" => UpgradeState::Deferred { reason: reason() },
            "awaiting_approval" => UpgradeState::AwaitingApproval,
            "approved" => UpgradeState::Approved,
            "planned" => UpgradeState::Planned,
            "validating" => UpgradeState::Validating,
            "rolling_out" => UpgradeState::RollingOut { stage: stage? },
            "completed" => UpgradeState::Completed,
            "rolled_back" => UpgradeState::RolledBack { reason: reason() },
            "failed" => UpgradeState::Failed { reason: reason() },
            _ => return None,
        })
    }

    /// The stage, for `RollingOut`.
    pub fn stage(&self) -> Option<usize> {
        match self {
            UpgradeState::RollingOut { stage } => Some(*stage),
            _ => None,
        }
    }

    /// The reason, for the states that carry one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            UpgradeState::Rejected { reason }
            | UpgradeState::Deferred { reason }
            | UpgradeState::RolledBack { reason }
            | UpgradeState::Failed { reason } => Some(reason),
            _ => None,
        }
    }

    /// No transition leaves this state (except a manual rollback of a
    /// completed upgrade).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            UpgradeState::Rejected { .. }
                | UpgradeState::Completed
                | UpgradeState::RolledBack { .. }
                | UpgradeState::Failed { .. }
        )
    }

    /// The upgrade is being carried out: it counts against
    /// `cycle.max_concurrent_upgrades`.
    pub fn is_in_flight(&self) -> bool {
        matches!(
            self,
            UpgradeState::Approved
                | UpgradeState::Planned
                | UpgradeState::Validating
                | UpgradeState::RollingOut { .. }
        )
    }
}

impl fmt::Display for UpgradeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpgradeState::RollingOut { stage } => write!(f, "rolling_out({stage})"),
            other => match other.reason() {
                Some(reason) => write!(f, "{}({reason})", other.name()),
                None => f.write_str(other.name()),
            },
        }
    }
}

/// Who or what caused a transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Actor {
    /// A decision rule of the rule-based engine.
    Rule(String),
    /// An LLM decision (its id in the decision log).
    Llm(String),
    /// A rollout gate.
    Gate(String),
    /// A person (from the CLI or the API).
    Human(String),
    /// The orchestrator carrying out an approved upgrade.
    Orchestrator,
    /// Start-up recovery after a crash.
    Recovery,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Rule(n) => write!(f, "rule:{n}"),
            Actor::Llm(n) => write!(f, "llm:{n}"),
            Actor::Gate(n) => write!(f, "gate:{n}"),
            Actor::Human(n) => write!(f, "human:{n}"),
            Actor::Orchestrator => f.write_str("orchestrator"),
            Actor::Recovery => f.write_str("recovery"),
        }
    }
}

/// A transition the lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an upgrade cannot go from {from} to {to}")]
pub struct IllegalTransition {
    /// The current state.
    pub from: String,
    /// The requested state.
    pub to: String,
}

/// Checks that `from → to` is a legal transition for a rollout with
/// `stage_count` stages.
pub fn check_transition(
    from: &UpgradeState,
    to: &UpgradeState,
    stage_count: usize,
) -> Result<(), IllegalTransition> {
    use UpgradeState as S;
    let legal = match (from, to) {
        (
            S::Proposed,
            S::Rejected { .. } | S::Deferred { .. } | S::AwaitingApproval | S::Approved,
        ) => true,
        (S::Deferred { .. }, S::Proposed | S::Approved | S::Rejected { .. }) => true,
        (S::AwaitingApproval, S::Approved | S::Rejected { .. } | S::Deferred { .. }) => true,
        (S::Approved, S::Planned) => true,
        (S::Planned, S::Validating) => true,
        (S::Validating, S::RollingOut { stage: 0 }) => stage_count > 0,
        (S::RollingOut { stage: a }, S::RollingOut { stage: b }) => *b == a + 1 && *b < stage_count,
        (S::RollingOut { stage }, S::Completed) => stage + 1 == stage_count,
        (S::RollingOut { .. } | S::Completed, S::RolledBack { .. }) => true,
        (from, S::Failed { .. }) => !from.is_final(),
        _ => false,
    };
    if legal {
        Ok(())
    } else {
        Err(IllegalTransition {
            from: from.to_string(),
            to: to.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_states() -> Vec<UpgradeState> {
        let r = || "why".to_owned();
        vec![
            UpgradeState::Proposed,
            UpgradeState::Rejected { reason: r() },
            UpgradeState::Deferred { reason: r() },
            UpgradeState::AwaitingApproval,
            UpgradeState::Approved,
            UpgradeState::Planned,
            UpgradeState::Validating,
            UpgradeState::RollingOut { stage: 0 },
            UpgradeState::RollingOut { stage: 1 },
            UpgradeState::RollingOut { stage: 2 },
            UpgradeState::RollingOut { stage: 3 },
            UpgradeState::Completed,
            UpgradeState::RolledBack { reason: r() },
            UpgradeState::Failed { reason: r() },
        ]
    }

    /// The legal transitions for four stages, written out by hand.
    fn expected_legal() -> Vec<(&'static str, &'static str)> {
        vec![
            ("proposed", "rejected(why)"),
            ("proposed", "deferred(why)"),
            ("proposed", "awaiting_approval"),
            ("proposed", "approved"),
            ("proposed", "failed(why)"),
            ("deferred(why)", "proposed"),
            ("deferred(why)", "rejected(why)"),
            ("deferred(why)", "approved"),
            ("deferred(why)", "failed(why)"),
            ("awaiting_approval", "rejected(why)"),
            ("awaiting_approval", "deferred(why)"),
            ("awaiting_approval", "approved"),
            ("awaiting_approval", "failed(why)"),
            ("approved", "planned"),
            ("approved", "failed(why)"),
            ("planned", "validating"),
            ("planned", "failed(why)"),
            ("validating", "rolling_out(0)"),
            ("validating", "failed(why)"),
            ("rolling_out(0)", "rolling_out(1)"),
            ("rolling_out(0)", "rolled_back(why)"),
            ("rolling_out(0)", "failed(why)"),
            ("rolling_out(1)", "rolling_out(2)"),
            ("rolling_out(1)", "rolled_back(why)"),
            ("rolling_out(1)", "failed(why)"),
            ("rolling_out(2)", "rolling_out(3)"),
            ("rolling_out(2)", "rolled_back(why)"),
            ("rolling_out(2)", "failed(why)"),
            ("rolling_out(3)", "completed"),
            ("rolling_out(3)", "rolled_back(why)"),
            ("rolling_out(3)", "failed(why)"),
            ("completed", "rolled_back(why)"),
        ]
    }

    #[test]
    fn every_pair_of_states_is_legal_exactly_when_listed() {
        let expected = expected_legal();
        for from in all_states() {
            for to in all_states() {
                let listed =
                    expected.contains(&(from.to_string().as_str(), to.to_string().as_str()));
                let result = check_transition(&from, &to, 4);
                assert_eq!(result.is_ok(), listed, "{from} -> {to}: {result:?}");
            }
        }
    }

    #[test]
    fn stages_cannot_be_skipped_or_exceeded() {
        let at = |stage| UpgradeState::RollingOut { stage };
        assert!(check_transition(&at(0), &at(2), 4).is_err());
        assert!(check_transition(&at(1), &UpgradeState::Completed, 4).is_err());
        assert!(check_transition(&at(3), &at(4), 4).is_err());
        assert!(check_transition(&UpgradeState::Validating, &at(0), 0).is_err());
        let err = check_transition(&at(0), &UpgradeState::Completed, 4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "an upgrade cannot go from rolling_out(0) to completed"
        );
    }

    #[test]
    fn states_round_trip_through_their_stored_parts() {
        for state in all_states() {
            let back = UpgradeState::from_parts(
                state.name(),
                state.stage(),
                state.reason().map(str::to_owned),
            );
            assert_eq!(back.as_ref(), Some(&state));
        }
        assert_eq!(UpgradeState::from_parts("rolling_out", None, None), None);
        assert_eq!(UpgradeState::from_parts("exploded", None, None), None);
    }

    #[test]
    fn in_flight_and_final() {
        assert!(UpgradeState::RollingOut { stage: 1 }.is_in_flight());
        assert!(!UpgradeState::AwaitingApproval.is_in_flight());
        assert!(UpgradeState::Completed.is_final());
        assert!(
            !UpgradeState::Deferred {
                reason: String::new()
            }
            .is_final()
        );
    }
}
