//! Exit codes: 0 success, 1 failure, 2 invalid input or configuration,
//! 3 the capability call failed (its error kind is printed).

use std::fmt;

/// An error that ends the program with a specific exit code.
#[derive(Debug)]
pub struct Exit {
    /// The process exit code.
    pub code: u8,
    /// What to print on stderr (may be several lines).
    pub message: String,
}

impl Exit {
    /// An exit with `code` and `message`.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}
