//! Design before the start: power, sample size and minimum detectable effect.
//!
//! All three reduce to one function, the power of the planned test at an
//! absolute effect `Δ = x − y` with `n_x` and `n_y = ratio·n_x` observations:
//!
//! * fixed horizon: `Φ((Δ − z·se₀)/se₁) + Φ((−Δ − z·se₀)/se₁)` (two-sided),
//!   with `se₀` the standard error the test uses under the null (pooled, for
//!   proportions) and `se₁` the one under the alternative (Fleiss; statsmodels'
//!   `power_proportions_2indep` and `NormalIndPower`);
//! * sequential: the same with `z·se₀` replaced by the radius of the
//!   always-valid boundary at the horizon. This is the probability of crossing
//!   the boundary at the last look, a lower bound on the probability of
//!   crossing by then (the test may cross earlier and never un-crosses).
//!
//! Sample size and MDE invert the power by bisection (power is monotone in
//! `n` and in `|Δ|`). Effects are absolute differences; for proportions
//! `p_x = baseline + Δ`.

use serde::{Deserialize, Serialize};

use crate::dist;
use crate::error::{Result, StatsError, check_alpha, check_open_unit};
use crate::hypothesis::Alternative;
use crate::sequential::formulas::{one_sided_radius, optimal_mixing_variance, two_sided_radius};

/// How the test will be run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Method {
    /// One look at the planned size.
    FixedHorizon,
    /// The normal mSPRT with mixing variance `tau2`, or (None) the τ² tuned to the horizon.
    Sequential {
        /// Mixing variance; `None` tunes it to the planned horizon.
        tau2: Option<f64>,
    },
}

/// The metric being compared.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Metric {
    /// A rate with baseline `baseline` in the `y` arm.
    Proportion {
        /// The baseline rate, 0 < baseline < 1.
        baseline: f64,
    },
    /// A mean with standard deviation `sd` in both arms.
    Mean {
        /// Per-observation standard deviation.
        sd: f64,
    },
}

/// The planned test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Design {
    /// Significance level.
    pub alpha: f64,
    /// Alternative hypothesis.
    pub alternative: Alternative,
    /// Fixed horizon or sequential.
    pub method: Method,
    /// `n_y / n_x` (1 for an even split).
    pub ratio: f64,
}

impl Design {
    /// A two-sided, fixed-horizon, even-split design at `alpha`.
    pub fn fixed(alpha: f64) -> Design {
        Design {
            alpha,
            alternative: Alternative::TwoSided,
            method: Method::FixedHorizon,
            ratio: 1.0,
        }
    }

    fn validate(&self) -> Result<()> {
        check_alpha(self.alpha)?;
        if !(self.ratio.is_finite() && self.ratio > 0.0) {
            return Err(StatsError::invalid("ratio", "a finite number > 0"));
        }
        if let Method::Sequential { tau2: Some(t) } = self.method
            && !(t.is_finite() && t > 0.0)
        {
            return Err(StatsError::invalid("tau2", "a finite number > 0"));
        }
        Ok(())
    }
}

/// A sample size: the real-valued solution and whole observations per arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleSize {
    /// Observations needed in `x` (rounded up).
    pub n_x: u64,
    /// Observations needed in `y` (rounded up).
    pub n_y: u64,
    /// The real-valued `n_x` at which power equals the target.
    pub n_x_exact: f64,
}

/// Standard errors (null, alternative) of `x − y` at effect `delta` and size `n_x`.
fn standard_errors(metric: Metric, delta: f64, n_x: f64, ratio: f64) -> Result<(f64, f64)> {
    let n_y = ratio * n_x;
    match metric {
        Metric::Mean { sd } => {
            if !(sd.is_finite() && sd > 0.0) {
                return Err(StatsError::invalid("sd", "a finite number > 0"));
            }
            let se = sd * (1.0 / n_x + 1.0 / n_y).sqrt();
            Ok((se, se))
        }
        Metric::Proportion { baseline } => {
            check_open_unit("baseline", baseline)?;
            let px = baseline + delta;
            if !(px > 0.0 && px < 1.0) {
                return Err(StatsError::invalid(
                    "effect",
                    "an effect that keeps baseline + effect strictly between 0 and 1",
                ));
            }
            let pooled = (n_x * px + n_y * baseline) / (n_x + n_y);
            let se0 = (pooled * (1.0 - pooled) * (1.0 / n_x + 1.0 / n_y)).sqrt();
            let se1 = (px * (1.0 - px) / n_x + baseline * (1.0 - baseline) / n_y).sqrt();
            Ok((se0, se1))
        }
    }
}

/// Power of the planned test at absolute effect `effect` with `n_x` observations in `x`.
pub fn power(design: &Design, metric: Metric, effect: f64, n_x: f64) -> Result<f64> {
    design.validate()?;
    if !(n_x.is_finite() && n_x >= 1.0) {
        return Err(StatsError::invalid("n", "a number of observations ≥ 1"));
    }
    if !effect.is_finite() {
        return Err(StatsError::invalid("effect", "a finite number"));
    }
    let (se0, se1) = standard_errors(metric, effect, n_x, design.ratio)?;
    let alpha = design.alpha;
    let one_sided = design.alternative != Alternative::TwoSided;
    // The critical distance from 0 the estimate must pass.
    let critical = match design.method {
        Method::FixedHorizon => {
            let q = if one_sided {
                1.0 - alpha
            } else {
                1.0 - alpha / 2.0
            };
            dist::normal_quantile(q) * se0
        }
        Method::Sequential { tau2 } => {
            let v = se1 * se1;
            let tau2 = tau2.unwrap_or_else(|| optimal_mixing_variance(v, alpha));
            if one_sided {
                one_sided_radius(v, tau2, alpha)
            } else {
                two_sided_radius(v, tau2, alpha)
            }
        }
    };
    let up = dist::normal_cdf((effect - critical) / se1);
    let down = dist::normal_cdf((-effect - critical) / se1);
    Ok(match design.alternative {
        Alternative::TwoSided => up + down,
        Alternative::Greater => up,
        Alternative::Less => down,
    }
    .clamp(0.0, 1.0))
}

/// The smallest sample that reaches `target_power` at absolute effect `effect`.
pub fn sample_size(
    design: &Design,
    metric: Metric,
    effect: f64,
    target_power: f64,
) -> Result<SampleSize> {
    check_open_unit("power", target_power)?;
    if effect == 0.0 {
        return Err(StatsError::invalid("effect", "a non-zero effect"));
    }
    const MAX_N: f64 = 1e15;
    let at = |n: f64| power(design, metric, effect, n);
    if at(MAX_N)? < target_power {
        return Err(StatsError::invalid(
            "effect",
            "an effect the test can detect (in this direction, at any sample size)",
        ));
    }
    let (mut lo, mut hi) = (1.0, 2.0);
    if at(lo)? >= target_power {
        hi = lo;
    } else {
        // Terminates: power at MAX_N reaches the target and power grows with n.
        while at(hi)? < target_power && hi < MAX_N {
            lo = hi;
            hi = (hi * 2.0).min(MAX_N);
        }
    }
    for _ in 0..200 {
        if hi - lo <= 1e-9 * hi {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if at(mid)? >= target_power {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let n_x = hi.ceil();
    Ok(SampleSize {
        n_x: n_x as u64,
        n_y: (design.ratio * n_x).ceil() as u64,
        n_x_exact: hi,
    })
}

/// The smallest absolute effect that `n_x` observations in `x` detect with
/// `target_power`: positive, except for `Alternative::Less`, where it is negative.
pub fn minimum_detectable_effect(
    design: &Design,
    metric: Metric,
    n_x: f64,
    target_power: f64,
) -> Result<f64> {
    check_open_unit("power", target_power)?;
    let sign = if design.alternative == Alternative::Less {
        -1.0
    } else {
        1.0
    };
    // Largest effect the metric allows in this direction.
    let limit = match metric {
        Metric::Mean { sd } => sd.abs() * 1e6,
        Metric::Proportion { baseline } => {
            check_open_unit("baseline", baseline)?;
            let room = if sign > 0.0 { 1.0 - baseline } else { baseline };
            room * (1.0 - 1e-12)
        }
    };
    let at = |d: f64| power(design, metric, sign * d, n_x);
    if at(limit)? < target_power {
        return Err(StatsError::invalid(
            "n",
            "a sample large enough to reach the target power at some effect",
        ));
    }
    let (mut lo, mut hi) = (0.0, limit);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if at(mid)? >= target_power {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(sign * hi)
}
