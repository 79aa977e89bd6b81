//! The typed failure a plugin returns, mirroring the WIT `plugin-error`.

use std::fmt;

/// Why a plugin refused or failed a request (WIT `error-code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request did not fit what the capability expects.
    InvalidInput,
    /// The plugin does not provide the requested capability.
    UnsupportedCapability,
    /// The plugin could not serve the request.
    Internal,
}

/// A failure with a human-readable message (WIT `plugin-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    /// The kind of failure.
    pub code: ErrorCode,
    /// What was wrong and, where it helps, what the caller should do.
    pub message: String,
}

impl PluginError {
    /// An `invalid-input` error.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InvalidInput,
            message: message.into(),
        }
    }

    /// An `internal` error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: message.into(),
        }
    }

    /// An `unsupported-capability` error naming what is supported instead.
    pub fn unsupported(capability: &str, supported: &[&str]) -> Self {
        Self {
            code: ErrorCode::UnsupportedCapability,
            message: format!(
                "capability `{capability}` is not provided by this plugin; it provides: {}",
                supported.join(", ")
            ),
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for PluginError {}
