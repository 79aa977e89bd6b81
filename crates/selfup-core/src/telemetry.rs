//! Telemetry records: one per call, and the events an agent reports.

use serde::{Deserialize, Serialize};

use crate::call::{CallCost, ErrorKind};

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The plugin answered.
    Ok,
    /// The call failed; the record's `error_kind` says how.
    Error,
}

/// One call, as recorded by the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// When the call started, in milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// The capability called.
    pub capability: String,
    /// The plugin that served it (empty when none could).
    pub plugin: String,
    /// That plugin's version (empty when none could).
    pub version: String,
    /// A stable hash of the caller's subject; the subject itself is not kept.
    pub subject_hash: i64,
    /// How the call ended.
    pub outcome: Outcome,
    /// The kind of failure, for `Outcome::Error`.
    pub error_kind: Option<ErrorKind>,
    /// What it cost.
    pub cost: CallCost,
    /// The experiment arm the call belonged to, during a rollout.
    pub experiment: Option<ExperimentTag>,
}

/// Which side of a rollout served a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// The version serving before the upgrade.
    Incumbent,
    /// The new version, serving live traffic.
    Candidate,
    /// The new version answering a mirrored request; its answer was
    /// compared with the incumbent's and discarded.
    Shadow,
}

impl Arm {
    /// A small stable integer for compact storage.
    pub fn code(self) -> u8 {
        match self {
            Arm::Incumbent => 0,
            Arm::Candidate => 1,
            Arm::Shadow => 2,
        }
    }

    /// The inverse of [`Arm::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Arm::Incumbent),
            1 => Some(Arm::Candidate),
            2 => Some(Arm::Shadow),
            _ => None,
        }
    }
}

/// Ties a call to the rollout stage and arm it was served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExperimentTag {
    /// The upgrade whose rollout this is.
    pub upgrade_id: i64,
    /// The rollout stage index.
    pub stage: u32,
    /// The arm.
    pub arm: Arm,
    /// For shadow calls: whether the candidate's answer differed from the
    /// incumbent's.
    pub mismatch: Option<bool>,
}

/// The kinds of events an agent reports about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentEventType {
    /// A request the agent could not serve with any capability.
    UnmetRequest,
    /// A user corrected the agent's output.
    UserCorrection,
    /// The agent finished (or abandoned) a task.
    TaskOutcome,
}

impl AgentEventType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentEventType::UnmetRequest => "unmet_request",
            AgentEventType::UserCorrection => "user_correction",
            AgentEventType::TaskOutcome => "task_outcome",
        }
    }
}

/// An event the agent reported, kept for gap analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentEvent {
    /// When it was received, in milliseconds since the Unix epoch.
    pub ts_ms: i64,
    /// The kind of event.
    pub event_type: AgentEventType,
    /// A stable hash of the subject, when the agent named one.
    pub subject_hash: Option<i64>,
    /// What the agent wanted (unmet requests), or the capability concerned.
    pub intent: Option<String>,
    /// Free text: the user's request, the correction, the outcome.
    pub text: Option<String>,
    /// The whole event as received (JSON), for later analysis.
    pub payload: String,
}

/// A stable 64-bit hash of a subject (the caller's user or session); the
/// subject itself is never stored.
pub fn subject_hash(subject: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"selfup-subject\0")
        .chain_update(subject.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

/// The hash calls without a subject carry (the hash of `""`): they cannot
/// be told apart, so per-subject analyses leave them out.
pub fn anonymous_subject_hash() -> i64 {
    subject_hash("")
}
