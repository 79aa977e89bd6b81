//! Sticky assignment compatible with GrowthBook's SDKs.
//!
//! A subject's bucket is a number in `[0, 1)` derived from `(seed, subject)`
//! with FNV-1a 32-bit over UTF-16 code units (JavaScript's `charCodeAt`), so a
//! deployment and a GrowthBook SDK place every subject identically. Arms own
//! ranges that start at fixed offsets and grow with coverage: raising coverage
//! (5 % → 25 % → 100 %) only adds subjects, it never moves one.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StatsError};

/// GrowthBook hashing versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashVersion {
    /// `fnv1a32(subject + seed) % 1000 / 1000` (legacy: 1000 buckets, correlated across seeds).
    V1,
    /// `fnv1a32(str(fnv1a32(seed + subject))) % 10000 / 10000` (the default).
    #[default]
    V2,
}

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// FNV-1a 32-bit over the UTF-16 code units of `parts`, concatenated.
pub fn fnv1a32_utf16(parts: &[&str]) -> u32 {
    let mut h = FNV_OFFSET;
    for part in parts {
        for unit in part.encode_utf16() {
            h ^= u32::from(unit);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    h
}

/// The bucket of `subject` in the experiment with `seed`, in `[0, 1)`.
pub fn hash(seed: &str, subject: &str, version: HashVersion) -> f64 {
    match version {
        HashVersion::V1 => f64::from(fnv1a32_utf16(&[subject, seed]) % 1000) / 1000.0,
        HashVersion::V2 => {
            let inner = fnv1a32_utf16(&[seed, subject]).to_string();
            f64::from(fnv1a32_utf16(&[&inner]) % 10_000) / 10_000.0
        }
    }
}

/// Version-2 bucket of `subject` under `seed` (what new experiments use).
pub fn hash_v2(seed: &str, subject: &str) -> f64 {
    hash(seed, subject, HashVersion::V2)
}

/// The half-open range `[start, end)` of buckets that an arm owns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BucketRange {
    /// First bucket in the arm.
    pub start: f64,
    /// First bucket past the arm.
    pub end: f64,
}

impl BucketRange {
    /// True when `bucket` falls in `[start, end)`.
    pub fn contains(&self, bucket: f64) -> bool {
        bucket >= self.start && bucket < self.end
    }
}

/// Equal weights for `arms` arms.
pub fn equal_weights(arms: usize) -> Vec<f64> {
    if arms == 0 {
        return Vec::new();
    }
    vec![1.0 / arms as f64; arms]
}

/// Arm ranges for `weights` (summing to 1 within ±0.01, as GrowthBook accepts)
/// at `coverage` in `[0, 1]`: arm `i` owns `[Σw_<i, Σw_<i + coverage·w_i)`.
pub fn bucket_ranges(weights: &[f64], coverage: f64) -> Result<Vec<BucketRange>> {
    if !(0.0..=1.0).contains(&coverage) {
        return Err(StatsError::invalid("coverage", "a number in [0, 1]"));
    }
    if weights.is_empty() {
        return Err(StatsError::invalid("weights", "at least one weight"));
    }
    if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(StatsError::invalid("weights", "finite numbers ≥ 0"));
    }
    let total: f64 = weights.iter().sum();
    if !(0.99..=1.01).contains(&total) {
        return Err(StatsError::invalid(
            "weights",
            "weights that sum to 1 (±0.01)",
        ));
    }
    let mut cumulative = 0.0;
    Ok(weights
        .iter()
        .map(|w| {
            let start = cumulative;
            cumulative += w;
            BucketRange {
                start,
                end: start + coverage * w,
            }
        })
        .collect())
}

/// The arm whose range holds `bucket`, or `None` when the subject is outside the experiment.
pub fn choose_arm(bucket: f64, ranges: &[BucketRange]) -> Option<usize> {
    ranges.iter().position(|r| r.contains(bucket))
}

/// Assigns `subject` to an arm: the hash, then the ranges.
pub fn assign(seed: &str, subject: &str, ranges: &[BucketRange]) -> Option<usize> {
    choose_arm(hash_v2(seed, subject), ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_not_utf8() {
        // "é" is one UTF-16 unit (0xE9) but two UTF-8 bytes; "😀" is a surrogate pair.
        let one = fnv1a32_utf16(&["é"]);
        assert_eq!(one, (FNV_OFFSET ^ 0xE9).wrapping_mul(FNV_PRIME));
        let pair = fnv1a32_utf16(&["😀"]);
        let expect =
            ((FNV_OFFSET ^ 0xD83D).wrapping_mul(FNV_PRIME) ^ 0xDE00).wrapping_mul(FNV_PRIME);
        assert_eq!(pair, expect);
    }

    #[test]
    fn rejects_bad_ranges() {
        assert!(bucket_ranges(&[0.5, 0.5], 1.5).is_err());
        assert!(bucket_ranges(&[0.7, 0.6], 1.0).is_err());
        assert!(bucket_ranges(&[f64::NAN, 1.0], 1.0).is_err());
        assert!(bucket_ranges(&[], 1.0).is_err());
    }
}
