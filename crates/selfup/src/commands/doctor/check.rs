//! One finding of `selfup doctor`: a status, what was found, what to do.

use serde::Serialize;

/// How a check came out, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing to do.
    Ok,
    /// Works, but needs attention.
    Warn,
    /// Broken: selfup cannot do its job until it is fixed.
    Fail,
}

impl Status {
    /// `ok`, `warn`, `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    /// The process exit code of a run whose worst status is this.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Warn => 1,
            Status::Fail => 2,
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked, e.g. `store.integrity`.
    pub name: &'static str,
    /// How it came out.
    pub status: Status,
    /// What was found, one line.
    pub finding: String,
    /// What to do about it (none when all is well).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

impl Check {
    /// A check that passed.
    pub fn ok(name: &'static str, finding: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Ok,
            finding: finding.into(),
            action: None,
        }
    }

    /// A warning, with what to do.
    pub fn warn(name: &'static str, finding: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Warn,
            finding: finding.into(),
            action: Some(action.into()),
        }
    }

    /// A failure, with what to do.
    pub fn fail(name: &'static str, finding: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Fail,
            finding: finding.into(),
            action: Some(action.into()),
        }
    }
}
