//! A mergeable value histogram for rank tests (Mann–Whitney, Hodges–Lehmann).
//!
//! Rank tests need the order of every observation, which sums cannot give.
//! [`RankSketch`] keeps `value → count` bins and comes in two resolutions:
//!
//! * [`Resolution::Exact`] keeps every distinct value. Tests on it are exactly
//!   the tests on the raw data; its size is the number of distinct values
//!   (for latencies in whole microseconds over a 1 ms – 60 s range, at most
//!   ~60 000 bins whatever the call count).
//! * [`Resolution::Relative`] rounds each value into logarithmic bins whose
//!   width is a fixed fraction of the value (the DDSketch mapping): with
//!   accuracy `a`, a bin's representative is within `a` relative of every value
//!   in it, and the sketch has `ln(max/min) / ln((1+a)/(1−a))` bins — about 690
//!   for 0.1 ms … 100 s at `a = 1 %`, a few kilobytes for any number of calls.
//!   The tests then run exactly on the rounded data: the only change is that
//!   values closer than ~`2a` relative may share a bin and count as a tie
//!   (half a win each in U, and a tie correction in its variance). The
//!   Hodges–Lehmann shift is correspondingly within ~`a` of the value on the
//!   raw data.
//!
//! Both resolutions merge exactly (bin counts add), so per-interval sketches
//! roll up into per-stage and per-experiment ones.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StatsError};

/// How finely a [`RankSketch`] keeps values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resolution {
    /// Every distinct value is its own bin.
    Exact,
    /// Logarithmic bins of relative half-width `accuracy` (0 < accuracy < 1).
    Relative {
        /// Maximum relative error of a bin's representative value.
        accuracy: f64,
    },
}

/// Dense log-bin counts for values of one sign.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Dense {
    offset: i64,
    counts: Vec<u64>,
}

impl Dense {
    fn add(&mut self, key: i64, count: u64) {
        if self.counts.is_empty() {
            self.offset = key;
            self.counts.push(0);
        } else if key < self.offset {
            let grow = (self.offset - key) as usize;
            let mut counts = vec![0; grow];
            counts.extend_from_slice(&self.counts);
            self.counts = counts;
            self.offset = key;
        } else if key >= self.offset + self.counts.len() as i64 {
            self.counts.resize((key - self.offset + 1) as usize, 0);
        }
        self.counts[(key - self.offset) as usize] += count;
    }

    fn iter(&self) -> impl DoubleEndedIterator<Item = (i64, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| (self.offset + i as i64, *c))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Bins {
    Exact(BTreeMap<u64, u64>),
    Log {
        ln_gamma: f64,
        negative: Dense,
        zero: u64,
        positive: Dense,
    },
}

/// A mergeable histogram of a sample, the sufficient statistic of the rank tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankSketch {
    resolution: Resolution,
    count: u64,
    bins: Bins,
}

/// Maps a finite f64 to a u64 with the same order (−0.0 and 0.0 coincide).
pub(crate) fn ordered_bits(x: f64) -> u64 {
    let x = if x == 0.0 { 0.0 } else { x };
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Inverse of [`ordered_bits`].
pub(crate) fn from_ordered_bits(b: u64) -> f64 {
    if b >> 63 == 1 {
        f64::from_bits(b & !(1 << 63))
    } else {
        f64::from_bits(!b)
    }
}

impl RankSketch {
    /// An empty sketch that keeps every distinct value.
    pub fn exact() -> RankSketch {
        RankSketch {
            resolution: Resolution::Exact,
            count: 0,
            bins: Bins::Exact(BTreeMap::new()),
        }
    }

    /// An empty sketch with logarithmic bins of relative accuracy `accuracy` (e.g. 0.01).
    pub fn relative(accuracy: f64) -> Result<RankSketch> {
        if !(accuracy > 0.0 && accuracy < 1.0) {
            return Err(StatsError::invalid(
                "accuracy",
                "a relative accuracy strictly between 0 and 1",
            ));
        }
        let gamma = (1.0 + accuracy) / (1.0 - accuracy);
        Ok(RankSketch {
            resolution: Resolution::Relative { accuracy },
            count: 0,
            bins: Bins::Log {
                ln_gamma: gamma.ln(),
                negative: Dense::default(),
                zero: 0,
                positive: Dense::default(),
            },
        })
    }

    /// An exact sketch of `values`.
    pub fn from_values(values: &[f64]) -> Result<RankSketch> {
        let mut s = RankSketch::exact();
        s.extend(values)?;
        Ok(s)
    }

    /// The resolution chosen at construction.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Number of non-empty bins (the sketch's size).
    pub fn bin_count(&self) -> usize {
        match &self.bins {
            Bins::Exact(map) => map.len(),
            Bins::Log {
                negative,
                zero,
                positive,
                ..
            } => negative.iter().count() + usize::from(*zero > 0) + positive.iter().count(),
        }
    }

    /// Adds one finite value.
    pub fn push(&mut self, x: f64) -> Result<()> {
        self.push_n(x, 1)
    }

    /// Adds `count` copies of one finite value.
    pub fn push_n(&mut self, x: f64, count: u64) -> Result<()> {
        if !x.is_finite() {
            return Err(StatsError::invalid("value", "a finite number"));
        }
        if count == 0 {
            return Ok(());
        }
        let total = self.count.checked_add(count).ok_or(StatsError::invalid(
            "count",
            "a total number of observations below 2^64",
        ))?;
        match &mut self.bins {
            Bins::Exact(map) => *map.entry(ordered_bits(x)).or_insert(0) += count,
            Bins::Log {
                ln_gamma,
                negative,
                zero,
                positive,
            } => {
                if x == 0.0 {
                    *zero += count;
                } else {
                    let key = (x.abs().ln() / *ln_gamma).ceil() as i64;
                    if x > 0.0 {
                        positive.add(key, count);
                    } else {
                        negative.add(key, count);
                    }
                }
            }
        }
        self.count = total;
        Ok(())
    }

    /// Adds every value of a slice.
    pub fn extend(&mut self, values: &[f64]) -> Result<()> {
        for &v in values {
            self.push(v)?;
        }
        Ok(())
    }

    /// Adds the bins of `other`, which must have the same resolution.
    pub fn merge(&mut self, other: &RankSketch) -> Result<()> {
        if self.resolution != other.resolution {
            return Err(StatsError::Incompatible(
                "rank sketches with different resolutions",
            ));
        }
        for (value, count) in other.bins() {
            self.push_n(value, count)?;
        }
        Ok(())
    }

    /// The bins as `(representative value, count)`, in increasing value order.
    pub fn bins(&self) -> Vec<(f64, u64)> {
        match &self.bins {
            Bins::Exact(map) => map
                .iter()
                .map(|(b, c)| (from_ordered_bits(*b), *c))
                .collect(),
            Bins::Log {
                ln_gamma,
                negative,
                zero,
                positive,
            } => {
                let gamma = ln_gamma.exp();
                let rep = |k: i64| 2.0 * (k as f64 * ln_gamma).exp() / (gamma + 1.0);
                let mut out: Vec<(f64, u64)> =
                    negative.iter().rev().map(|(k, c)| (-rep(k), c)).collect();
                if *zero > 0 {
                    out.push((0.0, *zero));
                }
                out.extend(positive.iter().map(|(k, c)| (rep(k), c)));
                out
            }
        }
    }

    /// The `q`-quantile (0 ≤ q ≤ 1) as a bin representative: the smallest value
    /// with at least `q·n` observations at or below it. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (value, count) in self.bins() {
            seen += count;
            if seen >= rank {
                return Some(value);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_bits_round_trip_and_order() {
        let xs = [-1e300, -2.5, -0.0, 0.0, 1e-300, 3.0, 1e300];
        for w in xs.windows(2) {
            assert!(ordered_bits(w[0]) <= ordered_bits(w[1]));
        }
        for x in xs {
            assert_eq!(
                from_ordered_bits(ordered_bits(x)),
                if x == 0.0 { 0.0 } else { x }
            );
        }
    }

    #[test]
    fn relative_bins_are_within_accuracy() {
        let mut s = RankSketch::relative(0.01).unwrap();
        let xs: Vec<f64> = (1..2000).map(|i| i as f64 * 0.37).collect();
        s.extend(&xs).unwrap();
        s.push(0.0).unwrap();
        s.push(-5.0).unwrap();
        let bins = s.bins();
        assert_eq!(bins.iter().map(|b| b.1).sum::<u64>(), s.count());
        assert!(bins.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(bins[0].0.signum(), -1.0);
        let q = s.quantile(0.5).unwrap();
        let exact = xs[xs.len() / 2 - 1];
        assert!((q - exact).abs() / exact < 0.021, "{q} vs {exact}");
    }

    #[test]
    fn merge_needs_same_resolution() {
        let mut a = RankSketch::exact();
        a.push(1.0).unwrap();
        let b = RankSketch::relative(0.01).unwrap();
        assert!(a.merge(&b).is_err());
        let mut c = RankSketch::exact();
        c.extend(&[1.0, 2.0]).unwrap();
        a.merge(&c).unwrap();
        assert_eq!(a.bins(), vec![(1.0, 2), (2.0, 1)]);
        assert!(a.push(f64::INFINITY).is_err());
    }
}
