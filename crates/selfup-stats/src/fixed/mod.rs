//! Fixed-horizon tests: valid when the data are looked at once, at the planned size.
//!
//! Every two-sample function takes `(x, y)` and reports differences as `x − y`
//! (the convention of R and SciPy, which the reference values use). To compare a
//! candidate against the incumbent, pass `(candidate, incumbent)`.

pub mod hodges_lehmann;
pub mod lift;
pub mod mann_whitney;
pub mod proportions;
pub mod welch;

use crate::error::{Insufficient, Result};

/// Fails with [`Insufficient::TooFewObservations`] when `n < min`.
pub(crate) fn require_n(sample: &str, n: u64, min: u64) -> Result<()> {
    if n < min {
        return Err(Insufficient::TooFewObservations {
            sample: sample.to_string(),
            n,
            min,
        }
        .into());
    }
    Ok(())
}
