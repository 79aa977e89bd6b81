//! The stateful sequential test a gate keeps between looks (serialisable, so
//! the loop can persist it with the rollout).

use serde::{Deserialize, Serialize};

use crate::error::{Insufficient, Result, StatsError, check_alpha};
use crate::fixed::require_n;
use crate::hypothesis::Alternative;
use crate::sequential::formulas::{
    ln_mixture_ratio, ln_mixture_ratio_one_sided, one_sided_radius, optimal_mixing_variance,
    two_sided_radius,
};
use crate::summary::{Moments, Proportion};

/// Parameters fixed before the first look.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequentialConfig {
    /// Significance level; the false-positive rate over all looks stays below it.
    pub alpha: f64,
    /// Two-sided, or one-sided for guardrails (`Greater`: alarm when `x − y > 0`).
    pub alternative: Alternative,
    /// Mixing variance τ² of the alternative, in squared units of the effect.
    pub tau2: f64,
    /// Looks with fewer observations in an arm are "insufficient data" (the
    /// normal approximation with a plug-in variance needs some data).
    pub min_per_arm: u64,
}

impl SequentialConfig {
    /// A configuration with an explicit mixing variance τ².
    pub fn new(alpha: f64, alternative: Alternative, tau2: f64) -> Result<SequentialConfig> {
        check_alpha(alpha)?;
        if !(tau2.is_finite() && tau2 > 0.0) {
            return Err(StatsError::invalid("tau2", "a finite number > 0"));
        }
        Ok(SequentialConfig {
            alpha,
            alternative,
            tau2,
            min_per_arm: 30,
        })
    }

    /// A configuration tuned to be most precise at the planned horizon: `n_per_arm`
    /// observations per arm of a metric with standard deviation `sd` in each arm.
    pub fn for_horizon(
        alpha: f64,
        alternative: Alternative,
        sd: f64,
        n_per_arm: u64,
    ) -> Result<SequentialConfig> {
        check_alpha(alpha)?;
        if !(sd.is_finite() && sd > 0.0) {
            return Err(StatsError::invalid("sd", "a finite number > 0"));
        }
        if n_per_arm == 0 {
            return Err(StatsError::invalid("n_per_arm", "at least 1"));
        }
        let v = 2.0 * sd * sd / n_per_arm as f64;
        SequentialConfig::new(alpha, alternative, optimal_mixing_variance(v, alpha))
    }

    /// Sets the minimum observations per arm before a look counts.
    pub fn with_min_per_arm(mut self, min_per_arm: u64) -> SequentialConfig {
        self.min_per_arm = min_per_arm.max(2);
        self
    }
}

/// What carries over from one look to the next.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequentialState {
    /// Looks taken (insufficient-data looks are not counted).
    pub looks: u64,
    /// The running minimum of `1/Λ` (1 before the first look).
    pub p_value: f64,
    /// The running maximum of the lower bounds.
    pub ci_low: Option<f64>,
    /// The running minimum of the upper bounds.
    pub ci_high: Option<f64>,
}

impl Default for SequentialState {
    fn default() -> Self {
        SequentialState {
            looks: 0,
            p_value: 1.0,
            ci_low: None,
            ci_high: None,
        }
    }
}

/// The result of one look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequentialLook {
    /// `θ̂ / √V` at this look (for display; decisions use `p_value`).
    pub statistic: f64,
    /// The estimate `θ̂ = x − y` at this look.
    pub effect: f64,
    /// `√V` at this look.
    pub std_error: f64,
    /// Always-valid p-value (never larger than at the previous look).
    pub p_value: f64,
    /// Lower bound of the confidence sequence (intersected over looks).
    pub ci_low: Option<f64>,
    /// Upper bound of the confidence sequence (intersected over looks).
    pub ci_high: Option<f64>,
    /// Number of looks so far, this one included.
    pub looks: u64,
    /// True when `p_value < alpha`: the null can be rejected now.
    pub reject: bool,
}

/// A sequential test: configuration plus the state carried between looks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequentialTest {
    /// Fixed parameters.
    pub config: SequentialConfig,
    /// State after the last look.
    pub state: SequentialState,
}

impl SequentialTest {
    /// A test that has not looked yet.
    pub fn new(config: SequentialConfig) -> SequentialTest {
        SequentialTest {
            config,
            state: SequentialState::default(),
        }
    }

    /// Looks at the difference of means `x − y` from cumulative summaries.
    pub fn look(&mut self, x: &Moments, y: &Moments) -> Result<SequentialLook> {
        require_n("x", x.n, self.config.min_per_arm.max(2))?;
        require_n("y", y.n, self.config.min_per_arm.max(2))?;
        self.look_estimate(x.mean - y.mean, x.variance_of_mean() + y.variance_of_mean())
    }

    /// Looks at the difference of rates `p_x − p_y` (unpooled variance).
    pub fn look_proportions(&mut self, x: Proportion, y: Proportion) -> Result<SequentialLook> {
        require_n("x", x.trials, self.config.min_per_arm.max(2))?;
        require_n("y", y.trials, self.config.min_per_arm.max(2))?;
        let (px, py) = (x.rate(), y.rate());
        let v = px * (1.0 - px) / x.trials as f64 + py * (1.0 - py) / y.trials as f64;
        self.look_estimate(px - py, v)
    }

    /// Looks at any asymptotically normal estimate with variance `variance`
    /// (for example a relative lift with its delta-method variance).
    pub fn look_estimate(&mut self, estimate: f64, variance: f64) -> Result<SequentialLook> {
        if !estimate.is_finite() || !variance.is_finite() || variance < 0.0 {
            return Err(StatsError::invalid(
                "estimate",
                "a finite estimate with a finite variance ≥ 0",
            ));
        }
        if variance == 0.0 {
            return Err(Insufficient::ZeroVariance {
                what: "the variance of the estimate",
            }
            .into());
        }
        let SequentialConfig {
            alpha,
            alternative,
            tau2,
            ..
        } = self.config;
        let ln_lambda = match alternative {
            Alternative::TwoSided => ln_mixture_ratio(estimate, variance, tau2),
            Alternative::Greater => ln_mixture_ratio_one_sided(estimate, variance, tau2),
            Alternative::Less => ln_mixture_ratio_one_sided(-estimate, variance, tau2),
        };
        let p_now = (-ln_lambda).exp().min(1.0);
        let (low, high) = match alternative {
            Alternative::TwoSided => {
                let r = two_sided_radius(variance, tau2, alpha);
                (Some(estimate - r), Some(estimate + r))
            }
            Alternative::Greater => (
                Some(estimate - one_sided_radius(variance, tau2, alpha)),
                None,
            ),
            Alternative::Less => (
                None,
                Some(estimate + one_sided_radius(variance, tau2, alpha)),
            ),
        };
        let state = &mut self.state;
        state.looks += 1;
        state.p_value = state.p_value.min(p_now);
        state.ci_low = max_opt(state.ci_low, low);
        state.ci_high = min_opt(state.ci_high, high);
        Ok(SequentialLook {
            statistic: estimate / variance.sqrt(),
            effect: estimate,
            std_error: variance.sqrt(),
            p_value: state.p_value,
            ci_low: state.ci_low,
            ci_high: state.ci_high,
            looks: state.looks,
            reject: state.p_value < alpha,
        })
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_value_never_rises() {
        let cfg = SequentialConfig::new(0.05, Alternative::TwoSided, 0.01).unwrap();
        let mut t = SequentialTest::new(cfg);
        let mut last = 1.0;
        for (est, v) in [(0.3, 0.01), (0.0, 0.005), (0.5, 0.002), (0.0, 0.001)] {
            let look = t.look_estimate(est, v).unwrap();
            assert!(look.p_value <= last);
            last = look.p_value;
        }
        assert!(t.look_estimate(0.1, 0.0).unwrap_err().is_insufficient());
        assert_eq!(t.state.looks, 4);
    }

    #[test]
    fn too_few_per_arm_is_insufficient() {
        let cfg = SequentialConfig::new(0.05, Alternative::Greater, 0.01).unwrap();
        let mut t = SequentialTest::new(cfg);
        let x = Moments::from_values(&[1.0, 2.0, 3.0]).unwrap();
        assert!(t.look(&x, &x).unwrap_err().is_insufficient());
    }
}
