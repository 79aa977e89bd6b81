//! Closed forms of the normal mSPRT: log mixture likelihood ratios and
//! confidence-sequence radii, as functions of the estimate's variance `V`
//! and the mixing variance `τ²`.

use crate::dist;

/// `ln Λ` of the two-sided normal mixture for a deviation `d = θ̂ − θ₀`.
pub fn ln_mixture_ratio(d: f64, v: f64, tau2: f64) -> f64 {
    0.5 * (v / (v + tau2)).ln() + tau2 * d * d / (2.0 * v * (v + tau2))
}

/// `ln Λ⁺` of the one-sided (half-normal, `θ > θ₀`) mixture for `d = θ̂ − θ₀`:
/// `Λ⁺ = 2 · Λ · Φ(d·τ / √(V(V+τ²)))`. Under any `θ ≤ θ₀` it is a supermartingale.
pub fn ln_mixture_ratio_one_sided(d: f64, v: f64, tau2: f64) -> f64 {
    let phi = dist::normal_cdf(d * tau2.sqrt() / (v * (v + tau2)).sqrt());
    if phi <= 0.0 {
        return f64::NEG_INFINITY;
    }
    std::f64::consts::LN_2 + ln_mixture_ratio(d, v, tau2) + phi.ln()
}

/// Radius of the two-sided `1 − α` confidence sequence:
/// `√(V(V+τ²)/τ² · (2 ln(1/α) + ln((V+τ²)/V)))`.
pub fn two_sided_radius(v: f64, tau2: f64, alpha: f64) -> f64 {
    (v * (v + tau2) / tau2 * (2.0 * (1.0 / alpha).ln() + ((v + tau2) / v).ln())).sqrt()
}

/// Distance `c ≥ 0` at which the one-sided mixture reaches `1/α`
/// (`Λ⁺(c) = 1/α`), found by bisection; the one-sided bound is `θ̂ − c`.
pub fn one_sided_radius(v: f64, tau2: f64, alpha: f64) -> f64 {
    let target = (1.0 / alpha).ln();
    // Λ⁺(d) ≥ Λ(d) for d ≥ 0, so the two-sided radius brackets the root.
    let (mut lo, mut hi) = (0.0, two_sided_radius(v, tau2, alpha));
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if ln_mixture_ratio_one_sided(mid, v, tau2) >= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The mixing variance `τ²` that makes the two-sided confidence sequence
/// narrowest when the estimate's variance is `v_horizon` (the planned end of
/// the experiment): `τ² = r·V` with `r = 2 ln(1/α) + ln(1 + r)`.
pub fn optimal_mixing_variance(v_horizon: f64, alpha: f64) -> f64 {
    let two_l = 2.0 * (1.0 / alpha).ln();
    let mut r = two_l;
    for _ in 0..50 {
        r = two_l + (1.0 + r).ln();
    }
    r * v_horizon
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radius_is_where_the_ratio_reaches_one_over_alpha() {
        let (v, tau2, alpha) = (0.04, 0.3, 0.05);
        let r = two_sided_radius(v, tau2, alpha);
        assert!((ln_mixture_ratio(r, v, tau2) - (1.0f64 / alpha).ln()).abs() < 1e-12);
        let c = one_sided_radius(v, tau2, alpha);
        assert!((ln_mixture_ratio_one_sided(c, v, tau2) - (1.0f64 / alpha).ln()).abs() < 1e-9);
        assert!(c < r);
    }

    #[test]
    fn optimal_tau_minimises_the_radius() {
        let (v, alpha) = (0.01, 0.05);
        let t = optimal_mixing_variance(v, alpha);
        let best = two_sided_radius(v, t, alpha);
        for f in [0.5, 0.9, 1.1, 2.0] {
            assert!(two_sided_radius(v, t * f, alpha) >= best);
        }
    }
}
