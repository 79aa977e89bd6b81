//! Two-proportion z-test (pooled or unpooled standard error).

use serde::{Deserialize, Serialize};

use crate::dist;
use crate::error::{Insufficient, Result, check_alpha};
use crate::fixed::require_n;
use crate::hypothesis::{Alternative, TestResult};
use crate::summary::Proportion;

/// How the standard error of `p_x − p_y` is estimated for the test statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Under the null, from the pooled rate (the classic test; statsmodels' `proportions_ztest`).
    #[default]
    Pooled,
    /// From each arm's own rate (the Wald test).
    Unpooled,
}

/// Two-proportion z-test of `x` against `y`. The effect is `p_x − p_y`; the interval is
/// always the unpooled Wald interval (the pooled standard error only holds under the null).
pub fn two_proportion_z(
    x: Proportion,
    y: Proportion,
    pooling: Pooling,
    alternative: Alternative,
    alpha: f64,
) -> Result<TestResult> {
    check_alpha(alpha)?;
    require_n("x", x.trials, 2)?;
    require_n("y", y.trials, 2)?;
    let (nx, ny) = (x.trials as f64, y.trials as f64);
    let (px, py) = (x.rate(), y.rate());
    let diff = px - py;
    let se_unpooled = (px * (1.0 - px) / nx + py * (1.0 - py) / ny).sqrt();
    let se_test = match pooling {
        Pooling::Pooled => {
            let p = (x.successes + y.successes) as f64 / (nx + ny);
            (p * (1.0 - p) * (1.0 / nx + 1.0 / ny)).sqrt()
        }
        Pooling::Unpooled => se_unpooled,
    };
    if se_test <= 0.0 {
        return Err(Insufficient::ZeroVariance {
            what: "the standard error of the difference in rates",
        }
        .into());
    }
    let z = diff / se_test;
    let (ci_low, ci_high) = alternative.interval(diff, se_unpooled, alpha, dist::normal_quantile);
    TestResult {
        statistic: z,
        p_value: alternative.normal_p(z),
        effect: diff,
        std_error: se_unpooled,
        ci_low,
        ci_high,
        df: None,
        alternative,
        confidence: 1.0 - alpha,
    }
    .checked()
}
