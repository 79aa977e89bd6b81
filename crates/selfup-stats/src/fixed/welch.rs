//! Welch's unequal-variance t-test with Welch–Satterthwaite degrees of freedom.

use crate::dist;
use crate::error::{Insufficient, Result, check_alpha};
use crate::fixed::require_n;
use crate::hypothesis::{Alternative, TestResult};
use crate::summary::Moments;

/// Welch's t-test of `mean(x) − mean(y)` from summaries, with its t interval.
pub fn welch(x: &Moments, y: &Moments, alternative: Alternative, alpha: f64) -> Result<TestResult> {
    check_alpha(alpha)?;
    require_n("x", x.n, 2)?;
    require_n("y", y.n, 2)?;
    let (vx, vy) = (x.variance_of_mean(), y.variance_of_mean());
    let var = vx + vy;
    if var <= 0.0 {
        return Err(Insufficient::ZeroVariance {
            what: "the variance of both samples",
        }
        .into());
    }
    let se = var.sqrt();
    // Welch–Satterthwaite, written with shares of the variance so it cannot overflow.
    let (sx, sy) = (vx / var, vy / var);
    let df = 1.0 / (sx * sx / (x.n - 1) as f64 + sy * sy / (y.n - 1) as f64);
    let diff = x.mean - y.mean;
    let t = diff / se;
    let (ci_low, ci_high) = alternative.interval(diff, se, alpha, |p| dist::t_quantile(p, df));
    TestResult {
        statistic: t,
        p_value: alternative.p_value(t, |s| dist::t_sf(s, df)),
        effect: diff,
        std_error: se,
        ci_low,
        ci_high,
        df: Some(df),
        alternative,
        confidence: 1.0 - alpha,
    }
    .checked()
}
