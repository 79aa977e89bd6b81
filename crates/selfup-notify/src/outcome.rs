//! How one delivery attempt went, as a channel reports it.

/// The result of one attempt on one channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The receiver accepted it.
    Delivered,
    /// Worth trying again (a server error, a timeout, a refused connection).
    Retry {
        /// What went wrong.
        error: String,
        /// How long the receiver asked us to wait (`Retry-After`), in ms.
        retry_after_ms: Option<i64>,
    },
    /// Retrying cannot help (the receiver refused it, or the channel is
    /// misconfigured).
    Failed {
        /// What went wrong.
        error: String,
    },
}

impl Outcome {
    /// A retryable failure without a `Retry-After`.
    pub fn retry(error: impl Into<String>) -> Self {
        Outcome::Retry {
            error: error.into(),
            retry_after_ms: None,
        }
    }

    /// A final failure.
    pub fn failed(error: impl Into<String>) -> Self {
        Outcome::Failed {
            error: error.into(),
        }
    }
}
