//! The outcome of one capability call, as every caller sees it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The stable kind of a failed call. These strings are API: HTTP clients,
/// telemetry and the loop's gates match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No installed plugin serves the capability.
    UnknownCapability,
    /// The request did not fit what the capability expects.
    InvalidInput,
    /// The call ran past the plugin's `max_execution_time_seconds`.
    Timeout,
    /// The plugin ran past a resource cap (memory).
    ResourceExhausted,
    /// The plugin failed: it returned an error, trapped, or could not start.
    PluginError,
}

impl ErrorKind {
    /// All kinds, in a fixed order.
    pub const ALL: [ErrorKind; 5] = [
        ErrorKind::UnknownCapability,
        ErrorKind::InvalidInput,
        ErrorKind::Timeout,
        ErrorKind::ResourceExhausted,
        ErrorKind::PluginError,
    ];

    /// The wire name, e.g. `resource_exhausted`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UnknownCapability => "unknown_capability",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ResourceExhausted => "resource_exhausted",
            ErrorKind::PluginError => "plugin_error",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A small stable integer for compact storage.
    pub fn code(self) -> u8 {
        match self {
            ErrorKind::UnknownCapability => 1,
            ErrorKind::InvalidInput => 2,
            ErrorKind::Timeout => 3,
            ErrorKind::ResourceExhausted => 4,
            ErrorKind::PluginError => 5,
        }
    }

    /// The inverse of [`ErrorKind::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed call: its kind and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct CallError {
    /// The stable kind.
    pub kind: ErrorKind,
    /// What happened, and what to do where that helps.
    pub message: String,
}

impl CallError {
    /// Builds an error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// What a call cost, measured by the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCost {
    /// Wall-clock time of the call in the host, in microseconds.
    pub latency_us: u64,
    /// The instance's linear memory high-water mark after the call, in bytes.
    pub peak_memory_bytes: u64,
    /// CPU time the call used on the host's threads, in microseconds.
    pub cpu_us: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_names_codes_and_serde() {
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::parse(k.as_str()), Some(k));
            assert_eq!(ErrorKind::from_code(k.code()), Some(k));
            let json = serde_json::to_string(&k).expect("serialise");
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(ErrorKind::parse("nope"), None);
        assert_eq!(ErrorKind::from_code(0), None);
    }
}
