//! The shared vocabulary of tests: the alternative hypothesis and the result.

use serde::{Deserialize, Serialize};

use crate::dist;
use crate::error::{Result, StatsError};

/// Which alternative a test is against. Differences are always `x − y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alternative {
    /// `x − y ≠ 0`.
    #[default]
    TwoSided,
    /// `x − y < 0` (one-sided; a guardrail where lower is worse for `x`).
    Less,
    /// `x − y > 0` (one-sided; a guardrail where higher is worse for `x`).
    Greater,
}

impl Alternative {
    /// p-value of a statistic whose null distribution has survival function `sf`
    /// and is symmetric about zero.
    pub(crate) fn p_value(self, stat: f64, sf: impl Fn(f64) -> f64) -> f64 {
        let p = match self {
            Alternative::TwoSided => 2.0 * sf(stat.abs()),
            Alternative::Less => sf(-stat),
            Alternative::Greater => sf(stat),
        };
        p.clamp(0.0, 1.0)
    }

    /// Confidence bounds `estimate ∓ q·se`, open on the side the alternative does not test.
    /// `quantile(p)` is the null quantile function.
    pub(crate) fn interval(
        self,
        estimate: f64,
        se: f64,
        alpha: f64,
        quantile: impl Fn(f64) -> f64,
    ) -> (Option<f64>, Option<f64>) {
        match self {
            Alternative::TwoSided => {
                let q = quantile(1.0 - alpha / 2.0);
                (Some(estimate - q * se), Some(estimate + q * se))
            }
            Alternative::Greater => (Some(estimate - quantile(1.0 - alpha) * se), None),
            Alternative::Less => (None, Some(estimate + quantile(1.0 - alpha) * se)),
        }
    }

    /// Normal-theory p-value of a z statistic.
    pub(crate) fn normal_p(self, z: f64) -> f64 {
        self.p_value(z, dist::normal_sf)
    }
}

/// The result of a fixed-horizon test. Bounds are `None` where the interval is
/// open (the untested side of a one-sided test).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// The test statistic (z, t, ...).
    pub statistic: f64,
    /// The p-value under the stated alternative.
    pub p_value: f64,
    /// The point estimate of the effect (`x − y`, or the relative lift).
    pub effect: f64,
    /// Standard error of `effect`.
    pub std_error: f64,
    /// Lower confidence bound on the effect.
    pub ci_low: Option<f64>,
    /// Upper confidence bound on the effect.
    pub ci_high: Option<f64>,
    /// Degrees of freedom, for t tests.
    pub df: Option<f64>,
    /// The alternative tested.
    pub alternative: Alternative,
    /// Confidence level of the interval (1 − α).
    pub confidence: f64,
}

impl TestResult {
    /// True when the p-value is below `alpha`.
    pub fn significant(&self, alpha: f64) -> bool {
        self.p_value < alpha
    }

    /// Refuses a result with a NaN anywhere (finite inputs whose differences
    /// or squares overflow `f64`).
    pub(crate) fn checked(self) -> Result<TestResult> {
        let bounds = [self.ci_low, self.ci_high, self.df];
        if self.statistic.is_nan()
            || self.p_value.is_nan()
            || self.effect.is_nan()
            || self.std_error.is_nan()
            || bounds.iter().flatten().any(|b| b.is_nan())
        {
            return Err(StatsError::invalid(
                "data",
                "values whose differences and squares fit in an f64",
            ));
        }
        Ok(self)
    }
}
