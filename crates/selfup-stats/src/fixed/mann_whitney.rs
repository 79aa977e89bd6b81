//! Mann–Whitney U test (asymptotic, with tie and continuity correction).
//!
//! Works on [`RankSketch`]es, so the same code serves a handful of raw values
//! (exact sketch) and ten million latencies (relative sketch). Matches SciPy's
//! `mannwhitneyu(x, y, method="asymptotic", use_continuity=True)`.

use serde::{Deserialize, Serialize};

use crate::dist;
use crate::error::{Insufficient, Result, StatsError};
use crate::fixed::require_n;
use crate::hypothesis::Alternative;
use crate::sketch::RankSketch;

/// The Mann–Whitney result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// U of `x`: pairs with `x > y`, plus half the tied pairs.
    pub u: f64,
    /// Standardised U of `x` (tie-corrected, continuity-corrected towards the null mean).
    pub z: f64,
    /// The p-value under the alternative.
    pub p_value: f64,
    /// `U / (n_x·n_y)`: the probability that a random `x` exceeds a random `y` (ties half).
    pub prob_x_greater: f64,
    /// Size of `x`.
    pub n_x: u64,
    /// Size of `y`.
    pub n_y: u64,
    /// The alternative tested (`Greater`: `x` tends to be larger).
    pub alternative: Alternative,
    /// Whether the continuity correction was applied.
    pub continuity: bool,
}

/// Mann–Whitney U test of two raw samples.
pub fn mann_whitney(
    x: &[f64],
    y: &[f64],
    alternative: Alternative,
    continuity: bool,
) -> Result<MannWhitney> {
    let sx = RankSketch::from_values(x)?;
    let sy = RankSketch::from_values(y)?;
    mann_whitney_sketch(&sx, &sy, alternative, continuity)
}

/// Mann–Whitney U test from two sketches of the same resolution; O(bins).
pub fn mann_whitney_sketch(
    x: &RankSketch,
    y: &RankSketch,
    alternative: Alternative,
    continuity: bool,
) -> Result<MannWhitney> {
    if x.resolution() != y.resolution() {
        return Err(StatsError::Incompatible(
            "rank sketches with different resolutions",
        ));
    }
    require_n("x", x.count(), 2)?;
    require_n("y", y.count(), 2)?;
    let (bx, by) = (x.bins(), y.bins());
    // Walk the merged bins in value order: 2U = Σ a·(2·below_y + b), ties Σ(t³ − t).
    let (mut i, mut j) = (0, 0);
    let mut below_y: u128 = 0;
    let mut twice_u: u128 = 0;
    let mut tie_sum: f64 = 0.0;
    while i < bx.len() || j < by.len() {
        let vx = bx.get(i).map(|b| b.0);
        let vy = by.get(j).map(|b| b.0);
        let (a, b) = match (vx, vy) {
            (Some(p), Some(q)) if p == q => {
                i += 1;
                j += 1;
                (bx[i - 1].1, by[j - 1].1)
            }
            (Some(p), Some(q)) if p < q => {
                i += 1;
                (bx[i - 1].1, 0)
            }
            (Some(_), None) => {
                i += 1;
                (bx[i - 1].1, 0)
            }
            _ => {
                j += 1;
                (0, by[j - 1].1)
            }
        };
        twice_u += u128::from(a) * (2 * below_y + u128::from(b));
        below_y += u128::from(b);
        let t = (a + b) as f64;
        tie_sum += t * t * t - t;
    }
    let (nx, ny) = (x.count() as f64, y.count() as f64);
    let n = nx + ny;
    let u1 = twice_u as f64 / 2.0;
    let mu = nx * ny / 2.0;
    let var = nx * ny / 12.0 * ((n + 1.0) - tie_sum / (n * (n - 1.0)));
    if var <= 0.0 {
        return Err(Insufficient::ZeroVariance {
            what: "the rank variance (every observation is tied)",
        }
        .into());
    }
    let s = var.sqrt();
    let cc = if continuity { 0.5 } else { 0.0 };
    let u2 = nx * ny - u1;
    let p_value = match alternative {
        Alternative::TwoSided => 2.0 * dist::normal_sf((u1.max(u2) - mu - cc) / s),
        Alternative::Greater => dist::normal_sf((u1 - mu - cc) / s),
        Alternative::Less => dist::normal_sf((u2 - mu - cc) / s),
    }
    .clamp(0.0, 1.0);
    let dev = u1 - mu;
    let z = if dev == 0.0 {
        0.0
    } else {
        (dev - cc * dev.signum()) / s
    };
    Ok(MannWhitney {
        u: u1,
        z,
        p_value,
        prob_x_greater: u1 / (nx * ny),
        n_x: x.count(),
        n_y: y.count(),
        alternative,
        continuity,
    })
}
