//! Distribution functions the tests need, as plain `f64 -> f64` functions.
//!
//! Thin wrappers over statrs' special functions (erfc, regularised incomplete
//! beta and gamma), written so that tail probabilities keep their relative
//! precision (`sf` is never computed as `1 - cdf`). statrs' `erfc` is
//! accurate to about 1e-10 relative, well inside the 1e-6 the tests demand.
//! Outside their domain (NaN, df ≤ 0, p outside (0, 1)) the functions return
//! NaN like `f64` methods do, never panic; the tests check their inputs first.

use statrs::function::{beta, erf, gamma};

/// Standard normal CDF Φ(x).
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erf::erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal survival function 1 − Φ(x), precise in the upper tail.
pub fn normal_sf(x: f64) -> f64 {
    0.5 * erf::erfc(x / std::f64::consts::SQRT_2)
}

/// Standard normal quantile Φ⁻¹(p) for 0 < p < 1.
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    -std::f64::consts::SQRT_2 * erf::erfc_inv(2.0 * p)
}

/// Student's t survival function P(T > t) with `df` degrees of freedom.
pub fn t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if df.is_infinite() {
        return normal_sf(t);
    }
    if df > LARGE_DF {
        return normal_sf(t_to_z(t, df));
    }
    let h = df / (df + t * t);
    let tail = 0.5 * beta::beta_reg(df / 2.0, 0.5, h);
    if t >= 0.0 { tail } else { 1.0 - tail }
}

/// Student's t CDF P(T ≤ t).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    t_sf(-t, df)
}

/// Student's t quantile for 0 < p < 1.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if df.is_infinite() {
        return normal_quantile(p);
    }
    // Work in the lower tail (t ≤ 0) for relative precision, then mirror.
    if df > LARGE_DF {
        return cornish_fisher(normal_quantile(p), df);
    }
    let lower = p.min(1.0 - p);
    let y = beta::inv_beta_reg(0.5 * df, 0.5, 2.0 * lower);
    let start = -(df * (1.0 - y) / y).sqrt();
    let mut t = if start.is_finite() {
        start
    } else {
        normal_quantile(lower)
    };
    // statrs' inverse beta loses digits for large df: polish with Newton steps
    // on the (accurate) CDF.
    let ln_norm = gamma::ln_gamma(0.5 * (df + 1.0))
        - gamma::ln_gamma(0.5 * df)
        - 0.5 * (df * std::f64::consts::PI).ln();
    for _ in 0..8 {
        let density = (ln_norm - 0.5 * (df + 1.0) * (t * t / df).ln_1p()).exp();
        if density.is_nan() || density <= 0.0 {
            break;
        }
        let step = (t_cdf(t, df) - lower) / density;
        t -= step;
        if step.abs() <= 1e-15 * t.abs() {
            break;
        }
    }
    if p >= 0.5 { -t } else { t }
}

/// Above this many degrees of freedom statrs' incomplete beta loses digits
/// (its `ln B(a, ½)` cancels); the t distribution is then computed from the
/// Cornish–Fisher expansion (Abramowitz & Stegun 26.7.5, four terms), whose
/// error is O(df⁻⁵).
const LARGE_DF: f64 = 1e5;

/// The t quantile whose normal quantile is `z` (Cornish–Fisher, A&S 26.7.5).
fn cornish_fisher(z: f64, df: f64) -> f64 {
    let z2 = z * z;
    let g1 = z * (z2 + 1.0) / 4.0;
    let g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
    let g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
    let g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
    z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df
}

/// Inverts [`cornish_fisher`]: the normal deviate with the same tail as `t`.
fn t_to_z(t: f64, df: f64) -> f64 {
    let mut z = t - t * (t * t + 1.0) / (4.0 * df);
    for _ in 0..20 {
        let slope = 1.0 + (3.0 * z * z + 1.0) / (4.0 * df);
        let step = (cornish_fisher(z, df) - t) / slope;
        z -= step;
        if step.abs() <= 1e-16 * z.abs().max(1e-300) {
            break;
        }
    }
    z
}

/// χ² survival function P(X > x) with `df` degrees of freedom.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    gamma::gamma_ur(df / 2.0, x / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn normal_values() {
        assert!(close(normal_cdf(1.959963984540054), 0.975, 1e-10));
        assert!(close(normal_sf(8.0), 6.22096057427174e-16, 1e-9));
        assert!(close(normal_quantile(0.975), 1.959963984540054, 1e-12));
    }

    #[test]
    fn t_values() {
        // scipy.stats.t.sf(2.0, 5) and t.ppf(0.975, 17.776)
        assert!(close(t_sf(2.0, 5.0), 0.05096973941492914, 1e-10));
        assert!(close(t_cdf(-2.0, 5.0), 0.05096973941492914, 1e-10));
        assert!(close(t_quantile(0.975, 10.0), 2.2281388519649385, 1e-9));
        assert!(close(t_quantile(0.025, 10.0), -2.2281388519649385, 1e-9));
        // scipy.stats.t.ppf(0.975, 2e7)
        assert!(close(t_quantile(0.975, 2e7), 1.959964103153622, 1e-9));
    }

    #[test]
    fn chi2_values() {
        // scipy.stats.chi2.sf(3.0, 2) = exp(-1.5)
        assert!(close(chi2_sf(3.0, 2.0), (-1.5f64).exp(), 1e-12));
        assert_eq!(chi2_sf(0.0, 3.0), 1.0);
    }
}
