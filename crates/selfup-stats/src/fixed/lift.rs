//! Relative lift `mean(x) / mean(y) − 1` with its delta-method variance.
//!
//! With `V_x`, `V_y` the variances of the two sample means (independent arms),
//! `Var(x̄/ȳ) ≈ V_x/ȳ² + x̄²·V_y/ȳ⁴`; the test is a z-test of the lift against 0.

use crate::dist;
use crate::error::{Insufficient, Result, check_alpha};
use crate::fixed::require_n;
use crate::hypothesis::{Alternative, TestResult};
use crate::summary::Moments;

/// Relative lift of `x` over the baseline `y`, with a normal (delta-method) interval.
pub fn relative_lift(
    x: &Moments,
    y: &Moments,
    alternative: Alternative,
    alpha: f64,
) -> Result<TestResult> {
    check_alpha(alpha)?;
    require_n("x", x.n, 2)?;
    require_n("y", y.n, 2)?;
    if y.mean == 0.0 {
        return Err(Insufficient::ZeroBaseline {
            sample: "y".to_string(),
        }
        .into());
    }
    let ratio = x.mean / y.mean;
    let var = (x.variance_of_mean() + ratio * ratio * y.variance_of_mean()) / (y.mean * y.mean);
    if !(var > 0.0 && var.is_finite()) {
        return Err(Insufficient::ZeroVariance {
            what: "the delta-method variance of the lift",
        }
        .into());
    }
    let se = var.sqrt();
    let lift = ratio - 1.0;
    let z = lift / se;
    let (ci_low, ci_high) = alternative.interval(lift, se, alpha, dist::normal_quantile);
    TestResult {
        statistic: z,
        p_value: alternative.normal_p(z),
        effect: lift,
        std_error: se,
        ci_low,
        ci_high,
        df: None,
        alternative,
        confidence: 1.0 - alpha,
    }
    .checked()
}
