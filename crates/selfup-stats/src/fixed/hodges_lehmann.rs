//! Hodges–Lehmann shift: the median of all pairwise differences `x_i − y_j`,
//! with the distribution-free interval from their order statistics.
//!
//! The interval is `[D_(k), D_(nm+1−k)]` where `D` are the sorted pairwise
//! differences and `k = ⌈nm/2 − ½ − z_{1−α/2}·√(nm(n+m+1)/12)⌉` (at least 1):
//! the normal approximation, with continuity correction, to the exact rank
//! `qwilcox(α/2, n, m)` that R's `wilcox.test(conf.int = TRUE)` uses.
//! Order statistics are found without listing the `nm` differences: a
//! bisection over the (ordered) bits of `f64` counting pairs with a two-pointer
//! walk, O((bins_x + bins_y) · 64) per order statistic.

use serde::{Deserialize, Serialize};

use crate::dist;
use crate::error::{Result, StatsError, check_alpha};
use crate::fixed::require_n;
use crate::sketch::{RankSketch, from_ordered_bits, ordered_bits};

/// The Hodges–Lehmann estimate and its confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HodgesLehmann {
    /// Median of the pairwise differences `x − y`.
    pub shift: f64,
    /// Lower confidence bound.
    pub ci_low: f64,
    /// Upper confidence bound.
    pub ci_high: f64,
    /// Nominal confidence level (1 − α).
    pub confidence: f64,
}

/// Hodges–Lehmann shift of two raw samples.
pub fn hodges_lehmann(x: &[f64], y: &[f64], alpha: f64) -> Result<HodgesLehmann> {
    let sx = RankSketch::from_values(x)?;
    let sy = RankSketch::from_values(y)?;
    hodges_lehmann_sketch(&sx, &sy, alpha)
}

/// Hodges–Lehmann shift from two sketches of the same resolution.
pub fn hodges_lehmann_sketch(x: &RankSketch, y: &RankSketch, alpha: f64) -> Result<HodgesLehmann> {
    check_alpha(alpha)?;
    if x.resolution() != y.resolution() {
        return Err(StatsError::Incompatible(
            "rank sketches with different resolutions",
        ));
    }
    require_n("x", x.count(), 1)?;
    require_n("y", y.count(), 1)?;
    let pairs = PairwiseDifferences::new(x.bins(), y.bins());
    let total = u128::from(x.count()) * u128::from(y.count());
    let shift = if total % 2 == 1 {
        pairs.kth(total / 2 + 1)
    } else {
        0.5 * (pairs.kth(total / 2) + pairs.kth(total / 2 + 1))
    };
    let (n, m) = (x.count() as f64, y.count() as f64);
    let nm = n * m;
    let z = dist::normal_quantile(1.0 - alpha / 2.0);
    let k_real = (nm / 2.0 - 0.5 - z * (nm * (n + m + 1.0) / 12.0).sqrt()).ceil();
    let k = if k_real < 1.0 {
        1
    } else {
        (k_real as u128).min(total)
    };
    Ok(HodgesLehmann {
        shift,
        ci_low: pairs.kth(k),
        ci_high: pairs.kth(total + 1 - k),
        confidence: 1.0 - alpha,
    })
}

/// The multiset `{x_i − y_j}` of two weighted sorted samples, queried by rank.
struct PairwiseDifferences {
    x: Vec<(f64, u64)>,
    y: Vec<(f64, u64)>,
}

impl PairwiseDifferences {
    fn new(x: Vec<(f64, u64)>, y: Vec<(f64, u64)>) -> Self {
        PairwiseDifferences { x, y }
    }

    /// Number of pairs with `x_i − y_j ≤ d` (differences computed in f64).
    fn count_le(&self, d: f64) -> u128 {
        let total_y: u128 = self.y.iter().map(|b| u128::from(b.1)).sum();
        let mut j = 0;
        let mut y_before: u128 = 0;
        let mut count: u128 = 0;
        for &(xv, a) in &self.x {
            // Smallest j with xv − y_j ≤ d; it only moves right as xv grows.
            while j < self.y.len() && xv - self.y[j].0 > d {
                y_before += u128::from(self.y[j].1);
                j += 1;
            }
            count += u128::from(a) * (total_y - y_before);
        }
        count
    }

    /// The k-th smallest difference (1-based, 1 ≤ k ≤ n·m).
    fn kth(&self, k: u128) -> f64 {
        let (Some(x_lo), Some(x_hi)) = (self.x.first(), self.x.last()) else {
            return 0.0;
        };
        let (Some(y_lo), Some(y_hi)) = (self.y.first(), self.y.last()) else {
            return 0.0;
        };
        // Every difference lies in [lo, hi]; find the smallest d with count_le(d) ≥ k.
        let (mut lo, mut hi) = (ordered_bits(x_lo.0 - y_hi.0), ordered_bits(x_hi.0 - y_lo.0));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.count_le(from_ordered_bits(mid)) >= k {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        from_ordered_bits(lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_kth(x: &[f64], y: &[f64], k: usize) -> f64 {
        let mut d: Vec<f64> = x
            .iter()
            .flat_map(|a| y.iter().map(move |b| a - b))
            .collect();
        d.sort_by(f64::total_cmp);
        d[k - 1]
    }

    #[test]
    fn kth_matches_brute_force() {
        let x = [0.3, -1.2, 4.4, 4.4, 2.0, 7.5, 0.0];
        let y = [1.0, 1.0, -3.3, 2.2, 9.9];
        let pairs = PairwiseDifferences::new(
            RankSketch::from_values(&x).unwrap().bins(),
            RankSketch::from_values(&y).unwrap().bins(),
        );
        for k in 1..=35 {
            assert_eq!(pairs.kth(k as u128), brute_kth(&x, &y, k), "k = {k}");
        }
    }
}
