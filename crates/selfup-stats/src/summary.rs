//! Sufficient statistics: what a store keeps per arm so a look is O(1) in the calls.
//!
//! [`Moments`] holds `(n, mean, M2)` (Welford / Chan et al.): adding a value or
//! merging two summaries is exact up to rounding and never suffers the
//! catastrophic cancellation of `Σx² − (Σx)²/n`. A store that can only keep
//! `(n, Σx, Σx²)` (SQL `SUM`) converts with [`Moments::from_sums`]; that path
//! loses about `ε·mean²/variance` relative precision in the variance, which is
//! harmless for latencies and rates (coefficient of variation above ~1e-4).
//! [`Proportion`] holds `(successes, trials)`.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StatsError};

/// Count, mean and sum of squared deviations of a sample; mergeable.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Moments {
    /// Number of observations.
    pub n: u64,
    /// Sample mean (0 when `n == 0`).
    pub mean: f64,
    /// Sum of squared deviations from the mean, `Σ(x − mean)²`.
    pub m2: f64,
}

impl Moments {
    /// The empty summary.
    pub const EMPTY: Moments = Moments {
        n: 0,
        mean: 0.0,
        m2: 0.0,
    };

    /// Summarises a slice of finite values.
    pub fn from_values(values: &[f64]) -> Result<Moments> {
        let mut m = Moments::EMPTY;
        for &v in values {
            m.push(v)?;
        }
        Ok(m)
    }

    /// Builds a summary from a count, a mean and a sample standard deviation (ddof 1).
    pub fn from_mean_sd(n: u64, mean: f64, sd: f64) -> Result<Moments> {
        if !mean.is_finite() {
            return Err(StatsError::invalid("mean", "a finite number"));
        }
        if !(sd.is_finite() && sd >= 0.0) {
            return Err(StatsError::invalid("sd", "a finite number ≥ 0"));
        }
        let m2 = if n > 1 { sd * sd * (n - 1) as f64 } else { 0.0 };
        Ok(Moments {
            n,
            mean: if n == 0 { 0.0 } else { mean },
            m2,
        })
    }

    /// Builds a summary from `(n, Σx, Σx²)` as a SQL store keeps them.
    pub fn from_sums(n: u64, sum: f64, sum_sq: f64) -> Result<Moments> {
        if !sum.is_finite() {
            return Err(StatsError::invalid("sum", "a finite number"));
        }
        if !(sum_sq.is_finite() && sum_sq >= 0.0) {
            return Err(StatsError::invalid("sum of squares", "a finite number ≥ 0"));
        }
        if n == 0 {
            return Ok(Moments::EMPTY);
        }
        let nf = n as f64;
        let mean = sum / nf;
        let m2 = (sum_sq - sum * mean).max(0.0);
        Ok(Moments { n, mean, m2 })
    }

    /// Summary of a binary outcome: `successes` ones among `trials`.
    pub fn from_proportion(p: Proportion) -> Moments {
        if p.trials == 0 {
            return Moments::EMPTY;
        }
        let n = p.trials as f64;
        let s = p.successes as f64;
        let mean = s / n;
        Moments {
            n: p.trials,
            mean,
            m2: s * (1.0 - mean) * (1.0 - mean) + (n - s) * mean * mean,
        }
    }

    /// Adds one finite value (Welford's update).
    pub fn push(&mut self, x: f64) -> Result<()> {
        if !x.is_finite() {
            return Err(StatsError::invalid("value", "a finite number"));
        }
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        Ok(())
    }

    /// Combines two summaries of disjoint samples (Chan, Golub and LeVeque).
    pub fn merge(&self, other: &Moments) -> Moments {
        if self.n == 0 {
            return *other;
        }
        if other.n == 0 {
            return *self;
        }
        let n = self.n + other.n;
        let (na, nb, nf) = (self.n as f64, other.n as f64, n as f64);
        let delta = other.mean - self.mean;
        Moments {
            n,
            mean: self.mean + delta * nb / nf,
            m2: self.m2 + other.m2 + delta * delta * na * nb / nf,
        }
    }

    /// Sum of the values.
    pub fn sum(&self) -> f64 {
        self.mean * self.n as f64
    }

    /// Sample variance with `n − 1` in the denominator (0 when `n < 2`).
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            self.m2 / (self.n - 1) as f64
        }
    }

    /// Sample standard deviation (ddof 1).
    pub fn sd(&self) -> f64 {
        self.variance().sqrt()
    }

    /// Estimated variance of the sample mean, `s²/n` (0 when `n < 2`).
    pub fn variance_of_mean(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            self.variance() / self.n as f64
        }
    }
}

/// Successes among trials: the sufficient statistic of a rate (errors, timeouts, wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Proportion {
    /// Number of successes (events).
    pub successes: u64,
    /// Number of trials.
    pub trials: u64,
}

impl Proportion {
    /// A proportion; fails when `successes > trials`.
    pub fn new(successes: u64, trials: u64) -> Result<Proportion> {
        if successes > trials {
            return Err(StatsError::invalid(
                "proportion",
                "successes no larger than trials",
            ));
        }
        Ok(Proportion { successes, trials })
    }

    /// The observed rate (0 when there are no trials).
    pub fn rate(&self) -> f64 {
        if self.trials == 0 {
            0.0
        } else {
            self.successes as f64 / self.trials as f64
        }
    }

    /// Combines two disjoint counts.
    pub fn merge(&self, other: &Proportion) -> Proportion {
        Proportion {
            successes: self.successes + other.successes,
            trials: self.trials + other.trials,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_equals_whole() {
        let xs = [1.0, 2.5, 3.0, 10.0, -4.0, 0.5];
        let whole = Moments::from_values(&xs).unwrap();
        let a = Moments::from_values(&xs[..2]).unwrap();
        let b = Moments::from_values(&xs[2..]).unwrap();
        let m = a.merge(&b);
        assert_eq!(m.n, whole.n);
        assert!((m.mean - whole.mean).abs() < 1e-12);
        assert!((m.m2 - whole.m2).abs() < 1e-9);
        let s = Moments::from_sums(6, xs.iter().sum(), xs.iter().map(|x| x * x).sum()).unwrap();
        assert!((s.variance() - whole.variance()).abs() < 1e-9);
    }

    #[test]
    fn proportion_moments() {
        let m = Moments::from_proportion(Proportion::new(3, 10).unwrap());
        assert!((m.mean - 0.3).abs() < 1e-15);
        // 0.3·0.7·10/9
        assert!((m.variance() - 0.21 * 10.0 / 9.0).abs() < 1e-12);
        assert!(Proportion::new(4, 3).is_err());
        assert!(Moments::from_values(&[f64::NAN]).is_err());
    }
}
