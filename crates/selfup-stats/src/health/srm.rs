//! Sample-ratio mismatch: a χ² goodness-of-fit test of arm counts against the
//! configured weights. A mismatch means routing or logging is broken, and no
//! other result of the experiment can be trusted.
//!
//! Arms with weight 0 are left out of the test (their count should be 0 and is
//! reported as `unexpected`). Unlike GrowthBook's `checkSrm`, arms with
//! positive weight and a count of 0 stay in: an arm that receives nothing is
//! the clearest mismatch there is.

use serde::{Deserialize, Serialize};

use crate::dist;
use crate::error::{Insufficient, Result, StatsError};

/// The χ² statistic and its p-value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Srm {
    /// Pearson's χ² statistic.
    pub statistic: f64,
    /// P(χ²_df ≥ statistic).
    pub p_value: f64,
    /// Degrees of freedom: arms with positive weight, minus one.
    pub df: f64,
    /// Expected count per arm (0 for zero-weight arms).
    pub expected: Vec<f64>,
    /// Observations in arms whose weight is zero.
    pub unexpected: u64,
}

/// χ² test of `counts` against `weights` (any positive scale; normalised over
/// the arms with positive weight). All-zero counts give statistic 0 and p = 1.
pub fn srm(counts: &[u64], weights: &[f64]) -> Result<Srm> {
    if counts.len() != weights.len() {
        return Err(StatsError::invalid(
            "weights",
            "one weight per arm count (same length as counts)",
        ));
    }
    if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(StatsError::invalid("weights", "finite numbers ≥ 0"));
    }
    let arms: Vec<(u64, f64)> = counts
        .iter()
        .zip(weights)
        .filter(|(_, w)| **w > 0.0)
        .map(|(c, w)| (*c, *w))
        .collect();
    if arms.len() < 2 {
        return Err(Insufficient::TooFewArms.into());
    }
    let unexpected = counts
        .iter()
        .zip(weights)
        .filter(|(_, w)| **w == 0.0)
        .map(|(c, _)| *c)
        .sum();
    let total: f64 = arms.iter().map(|(c, _)| *c as f64).sum();
    let weight_sum: f64 = arms.iter().map(|(_, w)| w).sum();
    let expected: Vec<f64> = weights.iter().map(|w| w / weight_sum * total).collect();
    let df = (arms.len() - 1) as f64;
    if total == 0.0 {
        return Ok(Srm {
            statistic: 0.0,
            p_value: 1.0,
            df,
            expected,
            unexpected,
        });
    }
    let statistic: f64 = counts
        .iter()
        .zip(&expected)
        .filter(|(_, e)| **e > 0.0)
        .map(|(c, e)| (*c as f64 - e).powi(2) / e)
        .sum();
    Ok(Srm {
        statistic,
        p_value: dist::chi2_sf(statistic, df),
        df,
        expected,
        unexpected,
    })
}

/// When to raise the alarm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SrmPolicy {
    /// Alarm when p is below this (GrowthBook: 0.001).
    pub alpha: f64,
    /// No verdict until every arm with positive weight expects at least this many.
    pub min_expected_per_arm: f64,
}

impl Default for SrmPolicy {
    fn default() -> Self {
        SrmPolicy {
            alpha: 0.001,
            min_expected_per_arm: 30.0,
        }
    }
}

/// The verdict of an SRM check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum SrmVerdict {
    /// Counts are consistent with the weights.
    Healthy(Srm),
    /// Counts do not match the weights, or a zero-weight arm received traffic.
    Mismatch(Srm),
    /// Too few observations for a verdict.
    NotEnoughData(Srm),
}

impl SrmPolicy {
    /// Applies the policy to arm counts and configured weights.
    pub fn check(&self, counts: &[u64], weights: &[f64]) -> Result<SrmVerdict> {
        let result = srm(counts, weights)?;
        if result.unexpected > 0 {
            return Ok(SrmVerdict::Mismatch(result));
        }
        let enough = weights
            .iter()
            .zip(&result.expected)
            .filter(|(w, _)| **w > 0.0)
            .all(|(_, e)| *e >= self.min_expected_per_arm);
        Ok(if !enough {
            SrmVerdict::NotEnoughData(result)
        } else if result.p_value < self.alpha {
            SrmVerdict::Mismatch(result)
        } else {
            SrmVerdict::Healthy(result)
        })
    }
}
