//! Typed failures: bad input is an error, too little data is its own outcome.

use serde::Serialize;

/// Why a test could not produce a number. Callers must handle it: it is the
/// "not enough evidence yet" outcome of a gate, never a NaN.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Insufficient {
    /// A sample has fewer observations than the test needs.
    #[error("sample {sample} has {n} observation(s); the test needs at least {min}")]
    TooFewObservations {
        /// Which sample ("x", "y", an arm index, ...).
        sample: String,
        /// How many observations it has.
        n: u64,
        /// How many the test needs.
        min: u64,
    },
    /// Every observation is the same value, so the standard error is zero.
    #[error("no variation: {what} is zero, so the test statistic is undefined")]
    ZeroVariance {
        /// What was zero (for example "pooled variance").
        what: &'static str,
    },
    /// A relative effect was asked for but the baseline is zero.
    #[error("the baseline ({sample}) is zero, so a relative effect is undefined")]
    ZeroBaseline {
        /// Which sample is the baseline.
        sample: String,
    },
    /// Fewer than two arms take part (for example all weights but one are zero).
    #[error("fewer than two arms with positive weight and data")]
    TooFewArms,
}

/// The error type of every fallible function in this crate.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum StatsError {
    /// The data cannot support the test yet; collect more or accept "inconclusive".
    #[error("insufficient data: {0}")]
    InsufficientData(#[from] Insufficient),
    /// An argument is outside its domain (negative count, probability above 1, NaN, ...).
    #[error("invalid {parameter}: {expected}")]
    InvalidInput {
        /// The parameter's name.
        parameter: &'static str,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// Two sketches or summaries that cannot be combined (different resolutions).
    #[error("cannot merge: {0}")]
    Incompatible(&'static str),
}

impl StatsError {
    /// Shorthand for an [`StatsError::InvalidInput`].
    pub(crate) fn invalid(parameter: &'static str, expected: &'static str) -> Self {
        StatsError::InvalidInput {
            parameter,
            expected,
        }
    }

    /// True when the failure is "not enough data" rather than bad input.
    pub fn is_insufficient(&self) -> bool {
        matches!(self, StatsError::InsufficientData(_))
    }
}

/// Shorthand result type.
pub type Result<T> = std::result::Result<T, StatsError>;

/// Checks a significance level: 0 < alpha < 1.
pub(crate) fn check_alpha(alpha: f64) -> Result<f64> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(alpha)
    } else {
        Err(StatsError::invalid(
            "alpha",
            "a number strictly between 0 and 1",
        ))
    }
}

/// Checks a probability strictly inside (0, 1) (power, confidence, rates).
pub(crate) fn check_open_unit(parameter: &'static str, p: f64) -> Result<f64> {
    if p > 0.0 && p < 1.0 {
        Ok(p)
    } else {
        Err(StatsError::invalid(
            parameter,
            "a number strictly between 0 and 1",
        ))
    }
}
