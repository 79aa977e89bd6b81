//! Comparison across rollout stages (strata).
//!
//! When the traffic split changes between stages (5 % → 25 % → 50 %) and the
//! metric drifts over time, pooling all calls compares a candidate mostly seen
//! late with an incumbent mostly seen early: the pooled difference can have the
//! wrong sign (Simpson's paradox). The stratified estimate compares within each
//! stage and combines with Mantel–Haenszel weights `w = n_x·n_y/(n_x+n_y)`
//! (which, unlike inverse-variance weights, stay finite when a stage has no
//! variance, e.g. zero errors): `θ = Σwθ_k/Σw`, `Var θ = Σw²V_k/(Σw)²`.

use serde::{Deserialize, Serialize};

use crate::dist;
use crate::error::{Insufficient, Result, check_alpha};
use crate::hypothesis::{Alternative, TestResult};
use crate::summary::Moments;

/// One stage's summaries of the two arms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stratum {
    /// The candidate arm in this stage.
    pub x: Moments,
    /// The baseline arm in this stage.
    pub y: Moments,
}

/// The stratified comparison, with the naive pooled difference for contrast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stratified {
    /// The stratified z-test of `x − y`.
    pub combined: TestResult,
    /// `mean(all x) − mean(all y)`, ignoring stages.
    pub pooled_difference: f64,
    /// `x − y` within each stage used (stages lacking data in an arm are skipped).
    pub per_stratum: Vec<f64>,
    /// True when the pooled and the stratified differences have opposite signs.
    pub simpson: bool,
}

/// Stratified difference in means `x − y` across stages.
pub fn stratified_difference(
    strata: &[Stratum],
    alternative: Alternative,
    alpha: f64,
) -> Result<Stratified> {
    check_alpha(alpha)?;
    let used: Vec<&Stratum> = strata.iter().filter(|s| s.x.n >= 2 && s.y.n >= 2).collect();
    if used.is_empty() {
        return Err(Insufficient::TooFewObservations {
            sample: "every stratum".to_string(),
            n: 0,
            min: 2,
        }
        .into());
    }
    let (mut sw, mut swd, mut sw2v) = (0.0, 0.0, 0.0);
    let mut per_stratum = Vec::with_capacity(used.len());
    for s in &used {
        let (nx, ny) = (s.x.n as f64, s.y.n as f64);
        let w = nx * ny / (nx + ny);
        let d = s.x.mean - s.y.mean;
        sw += w;
        swd += w * d;
        sw2v += w * w * (s.x.variance_of_mean() + s.y.variance_of_mean());
        per_stratum.push(d);
    }
    let effect = swd / sw;
    let var = sw2v / (sw * sw);
    if var <= 0.0 {
        return Err(Insufficient::ZeroVariance {
            what: "the variance in every stratum",
        }
        .into());
    }
    let se = var.sqrt();
    let z = effect / se;
    let (ci_low, ci_high) = alternative.interval(effect, se, alpha, dist::normal_quantile);
    let (px, py) = used
        .iter()
        .fold((Moments::EMPTY, Moments::EMPTY), |(a, b), s| {
            (a.merge(&s.x), b.merge(&s.y))
        });
    let pooled_difference = px.mean - py.mean;
    Ok(Stratified {
        combined: TestResult {
            statistic: z,
            p_value: alternative.normal_p(z),
            effect,
            std_error: se,
            ci_low,
            ci_high,
            df: None,
            alternative,
            confidence: 1.0 - alpha,
        }
        .checked()?,
        pooled_difference,
        per_stratum,
        simpson: pooled_difference * effect < 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simpsons_paradox_is_flagged() {
        // Early stage: 5 % candidate traffic while the metric is high; late
        // stage: 50 % while it is low. The candidate is 0.5 better in both.
        let m = |n, mean| Moments::from_mean_sd(n, mean, 1.0).unwrap();
        let strata = [
            Stratum {
                x: m(50, 10.5),
                y: m(950, 10.0),
            },
            Stratum {
                x: m(1000, 5.5),
                y: m(1000, 5.0),
            },
        ];
        let r = stratified_difference(&strata, Alternative::TwoSided, 0.05).unwrap();
        assert!(r.pooled_difference < -1.5, "{r:?}");
        assert!((r.combined.effect - 0.5).abs() < 1e-12);
        assert!(r.simpson);
        assert!(r.combined.p_value < 1e-6);
    }
}
