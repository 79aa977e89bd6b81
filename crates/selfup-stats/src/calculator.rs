//! The `selfup stats` calculator: argument parsing and printable results.
//!
//! Pure functions for the binary to call after clap has split the command
//! line: each takes the arguments as the user typed them (`"5/83"`,
//! `"n,mean,sd"`, `"1000,1200"`, a file's text), parses them with errors that
//! name the argument and the expected form, runs the test (two-sided), and
//! returns a result that serialises with the stable field names `statistic`,
//! `p_value`, `ci_low`, `ci_high`, `df`, `effect`, `bucket` (`--json`) and
//! prints as one line of text ([`std::fmt::Display`]). Reading `--a FILE` is
//! the binary's job; [`mannwhitney`] takes the file's text and its name.

use std::fmt;

use serde::Serialize;

use crate::assignment::{bucket_ranges, choose_arm, hash_v2};
use crate::design::{self, Design, Method, Metric};
use crate::error::StatsError;
use crate::fixed::hodges_lehmann::hodges_lehmann;
use crate::fixed::mann_whitney::mann_whitney;
use crate::fixed::proportions::{Pooling, two_proportion_z};
use crate::fixed::welch::welch;
use crate::health::srm::srm as srm_test;
use crate::hypothesis::Alternative;
use crate::summary::{Moments, Proportion};

/// Why a calculator command could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalcError {
    /// An argument could not be read.
    #[error("--{argument}: cannot read {value:?}; expected {expected}")]
    Parse {
        /// The argument's name, without dashes.
        argument: &'static str,
        /// What the user gave.
        value: String,
        /// The form expected, with an example.
        expected: &'static str,
    },
    /// A value in a sample file could not be read.
    #[error("--{argument} {file}, line {line}: cannot read {token:?}; expected a number")]
    BadSampleValue {
        /// The argument that named the file.
        argument: &'static str,
        /// The file's name, as given.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The offending text.
        token: String,
    },
    /// Arguments that are readable but do not fit together.
    #[error("--{argument}: {message}")]
    Usage {
        /// The argument at fault.
        argument: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// The test itself refused (invalid domain or insufficient data).
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// Shorthand result type.
pub type CalcResult<T> = std::result::Result<T, CalcError>;

/// Parses `"successes/trials"`, e.g. `"5/83"`.
pub fn parse_proportion(argument: &'static str, value: &str) -> CalcResult<Proportion> {
    const EXPECTED: &str = "successes/trials with whole numbers, successes ≤ trials (e.g. 5/83)";
    let err = || CalcError::Parse {
        argument,
        value: value.to_string(),
        expected: EXPECTED,
    };
    let (s, t) = value.split_once('/').ok_or_else(err)?;
    let s: u64 = s.trim().parse().map_err(|_| err())?;
    let t: u64 = t.trim().parse().map_err(|_| err())?;
    Proportion::new(s, t).map_err(|_| err())
}

/// Parses `"n,mean,sd"`, e.g. `"10,0.75,1.79"`.
pub fn parse_summary(argument: &'static str, value: &str) -> CalcResult<Moments> {
    const EXPECTED: &str = "n,mean,sd with a whole n and a finite sd ≥ 0 (e.g. 10,0.75,1.79)";
    let err = || CalcError::Parse {
        argument,
        value: value.to_string(),
        expected: EXPECTED,
    };
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let [n, mean, sd] = parts.as_slice() else {
        return Err(err());
    };
    let n: u64 = n.parse().map_err(|_| err())?;
    let mean: f64 = mean.parse().map_err(|_| err())?;
    let sd: f64 = sd.parse().map_err(|_| err())?;
    Moments::from_mean_sd(n, mean, sd).map_err(|_| err())
}

/// Parses a comma-separated list of whole counts, e.g. `"1000,1200"`.
pub fn parse_counts(argument: &'static str, value: &str) -> CalcResult<Vec<u64>> {
    value
        .split(',')
        .map(|c| c.trim().parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| CalcError::Parse {
            argument,
            value: value.to_string(),
            expected: "whole numbers separated by commas (e.g. 1000,1200)",
        })
}

/// Parses a comma-separated list of weights ≥ 0, e.g. `"0.5,0.5"`.
pub fn parse_weights(argument: &'static str, value: &str) -> CalcResult<Vec<f64>> {
    let err = || CalcError::Parse {
        argument,
        value: value.to_string(),
        expected: "finite numbers ≥ 0 separated by commas (e.g. 0.5,0.5)",
    };
    let weights = value
        .split(',')
        .map(|c| c.trim().parse::<f64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| err())?;
    if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(err());
    }
    Ok(weights)
}

/// Parses a sample file's text: numbers separated by whitespace, commas or
/// semicolons; blank lines and `#` comments are ignored.
pub fn parse_sample(argument: &'static str, file: &str, text: &str) -> CalcResult<Vec<f64>> {
    let mut values = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for token in line
            .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .filter(|t| !t.is_empty())
        {
            match token.parse::<f64>() {
                Ok(v) if v.is_finite() => values.push(v),
                _ => {
                    return Err(CalcError::BadSampleValue {
                        argument,
                        file: file.to_string(),
                        line: i + 1,
                        token: token.to_string(),
                    });
                }
            }
        }
    }
    Ok(values)
}

fn check_alpha(alpha: f64) -> CalcResult<f64> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(alpha)
    } else {
        Err(CalcError::Usage {
            argument: "alpha",
            message: format!(
                "{alpha} is not a significance level; give a number between 0 and 1 (e.g. 0.05)"
            ),
        })
    }
}

/// `selfup stats ztest`: two-proportion z-test of `a` against `b` (effect `p_a − p_b`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZTestOutput {
    /// The z statistic.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower bound of the (unpooled, Wald) interval for `p_a − p_b`.
    pub ci_low: f64,
    /// Upper bound of that interval.
    pub ci_high: f64,
    /// `p_a − p_b`.
    pub effect: f64,
    /// Whether the test used the pooled standard error.
    pub pooled: bool,
    /// Confidence level of the interval.
    pub confidence: f64,
}

/// Runs `ztest --a S/N --b S/N [--unpooled] [--alpha A]`.
pub fn ztest(a: &str, b: &str, pooled: bool, alpha: f64) -> CalcResult<ZTestOutput> {
    let alpha = check_alpha(alpha)?;
    let (x, y) = (parse_proportion("a", a)?, parse_proportion("b", b)?);
    let pooling = if pooled {
        Pooling::Pooled
    } else {
        Pooling::Unpooled
    };
    let r = two_proportion_z(x, y, pooling, Alternative::TwoSided, alpha)?;
    Ok(ZTestOutput {
        statistic: r.statistic,
        p_value: r.p_value,
        ci_low: r.ci_low.unwrap_or(r.effect),
        ci_high: r.ci_high.unwrap_or(r.effect),
        effect: r.effect,
        pooled,
        confidence: r.confidence,
    })
}

/// `selfup stats welch`: Welch's t-test of `a` against `b` (effect `mean_a − mean_b`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WelchOutput {
    /// The t statistic.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower bound of the interval for `mean_a − mean_b`.
    pub ci_low: f64,
    /// Upper bound of that interval.
    pub ci_high: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// `mean_a − mean_b`.
    pub effect: f64,
    /// Confidence level of the interval.
    pub confidence: f64,
}

/// Runs `welch --a n,mean,sd --b n,mean,sd [--alpha A]`.
pub fn welch_test(a: &str, b: &str, alpha: f64) -> CalcResult<WelchOutput> {
    let alpha = check_alpha(alpha)?;
    let (x, y) = (parse_summary("a", a)?, parse_summary("b", b)?);
    let r = welch(&x, &y, Alternative::TwoSided, alpha)?;
    Ok(WelchOutput {
        statistic: r.statistic,
        p_value: r.p_value,
        ci_low: r.ci_low.unwrap_or(r.effect),
        ci_high: r.ci_high.unwrap_or(r.effect),
        df: r.df.unwrap_or(f64::INFINITY),
        effect: r.effect,
        confidence: r.confidence,
    })
}

/// `selfup stats mannwhitney`: U test with the Hodges–Lehmann shift of `a` over `b`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MannWhitneyOutput {
    /// U of sample `a`.
    pub statistic: f64,
    /// Two-sided asymptotic p-value (tie- and continuity-corrected).
    pub p_value: f64,
    /// Lower bound of the Hodges–Lehmann interval.
    pub ci_low: f64,
    /// Upper bound of the Hodges–Lehmann interval.
    pub ci_high: f64,
    /// Hodges–Lehmann shift `a − b` (median of pairwise differences).
    pub effect: f64,
    /// Size of `a`.
    pub n_a: u64,
    /// Size of `b`.
    pub n_b: u64,
    /// Confidence level of the interval.
    pub confidence: f64,
}

/// Runs `mannwhitney --a FILE --b FILE [--alpha A]` on the files' texts.
pub fn mannwhitney(
    a_file: &str,
    a_text: &str,
    b_file: &str,
    b_text: &str,
    alpha: f64,
) -> CalcResult<MannWhitneyOutput> {
    let alpha = check_alpha(alpha)?;
    let x = parse_sample("a", a_file, a_text)?;
    let y = parse_sample("b", b_file, b_text)?;
    let mw = mann_whitney(&x, &y, Alternative::TwoSided, true)?;
    let hl = hodges_lehmann(&x, &y, alpha)?;
    Ok(MannWhitneyOutput {
        statistic: mw.u,
        p_value: mw.p_value,
        ci_low: hl.ci_low,
        ci_high: hl.ci_high,
        effect: hl.shift,
        n_a: mw.n_x,
        n_b: mw.n_y,
        confidence: hl.confidence,
    })
}

/// `selfup stats srm`: χ² sample-ratio check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SrmOutput {
    /// Pearson's χ².
    pub statistic: f64,
    /// p-value; below 0.001 is a mismatch.
    pub p_value: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// Expected counts per arm.
    pub expected: Vec<f64>,
    /// True when `p_value < 0.001` or a zero-weight arm got traffic.
    pub mismatch: bool,
}

/// Runs `srm --counts C1,C2,... --weights W1,W2,...`.
pub fn srm(counts: &str, weights: &str) -> CalcResult<SrmOutput> {
    let counts = parse_counts("counts", counts)?;
    let weights = parse_weights("weights", weights)?;
    if counts.len() != weights.len() {
        return Err(CalcError::Usage {
            argument: "weights",
            message: format!(
                "{} weight(s) for {} count(s); give one weight per arm",
                weights.len(),
                counts.len()
            ),
        });
    }
    let r = srm_test(&counts, &weights)?;
    Ok(SrmOutput {
        mismatch: r.p_value < 0.001 || r.unexpected > 0,
        statistic: r.statistic,
        p_value: r.p_value,
        df: r.df,
        expected: r.expected,
    })
}

/// `selfup stats hash`: a subject's bucket, and its arm when weights are given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HashOutput {
    /// The bucket in `[0, 1)` (GrowthBook hash v2).
    pub bucket: f64,
    /// The arm index, when weights were given; `None` outside coverage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arm: Option<usize>,
}

/// Runs `hash --seed S --subject ID [--weights W1,W2 [--coverage C]]`.
pub fn hash(
    seed: &str,
    subject: &str,
    weights: Option<&str>,
    coverage: Option<f64>,
) -> CalcResult<HashOutput> {
    let bucket = hash_v2(seed, subject);
    let arm = match weights {
        None => {
            if coverage.is_some() {
                return Err(CalcError::Usage {
                    argument: "coverage",
                    message: "needs --weights to place the subject in an arm".to_string(),
                });
            }
            None
        }
        Some(w) => {
            let weights = parse_weights("weights", w)?;
            let coverage = coverage.unwrap_or(1.0);
            let ranges = bucket_ranges(&weights, coverage)?;
            choose_arm(bucket, &ranges)
        }
    };
    Ok(HashOutput { bucket, arm })
}

/// Arguments of `selfup stats power`. Give `--baseline` (a rate) or `--sd` (a
/// mean); give `--effect` and `--n` for the power, only `--effect` for the sample
/// size, only `--n` for the minimum detectable effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerArgs {
    /// Baseline rate of a proportion metric.
    pub baseline: Option<f64>,
    /// Standard deviation of a mean metric.
    pub sd: Option<f64>,
    /// Absolute effect to detect (candidate minus baseline).
    pub effect: Option<f64>,
    /// Observations per arm.
    pub n: Option<u64>,
    /// Significance level (0.05).
    pub alpha: f64,
    /// Target power (0.8).
    pub power: f64,
    /// Plan for the sequential (always-valid) test instead of one look.
    pub sequential: bool,
}

impl Default for PowerArgs {
    fn default() -> Self {
        PowerArgs {
            baseline: None,
            sd: None,
            effect: None,
            n: None,
            alpha: 0.05,
            power: 0.8,
            sequential: false,
        }
    }
}

/// What `selfup stats power` solved for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Solved {
    /// Power at a given effect and size.
    Power,
    /// Size for a given effect and power.
    SampleSize,
    /// Minimum detectable effect for a given size and power.
    Mde,
}

/// The result of `selfup stats power` (two-sided, even split).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerOutput {
    /// Which quantity was solved for.
    pub solved: Solved,
    /// Absolute effect (candidate minus baseline): given, or the MDE.
    pub effect: f64,
    /// Observations per arm: given, or the sample size.
    pub n_per_arm: u64,
    /// Power at `effect` and `n_per_arm`.
    pub power: f64,
    /// Significance level.
    pub alpha: f64,
    /// Whether the sequential test was planned.
    pub sequential: bool,
}

/// Runs `power`.
pub fn power(args: PowerArgs) -> CalcResult<PowerOutput> {
    let alpha = check_alpha(args.alpha)?;
    if !(args.power > 0.0 && args.power < 1.0) {
        return Err(CalcError::Usage {
            argument: "power",
            message: format!(
                "{} is not a power; give a number between 0 and 1 (e.g. 0.8)",
                args.power
            ),
        });
    }
    let metric = match (args.baseline, args.sd) {
        (Some(baseline), None) => Metric::Proportion { baseline },
        (None, Some(sd)) => Metric::Mean { sd },
        _ => {
            return Err(CalcError::Usage {
                argument: "baseline",
                message: "give exactly one of --baseline RATE (a proportion) or --sd SD (a mean)"
                    .to_string(),
            });
        }
    };
    let design = Design {
        method: if args.sequential {
            Method::Sequential { tau2: None }
        } else {
            Method::FixedHorizon
        },
        ..Design::fixed(alpha)
    };
    let (solved, effect, n) = match (args.effect, args.n) {
        (Some(effect), Some(n)) => (Solved::Power, effect, n),
        (Some(effect), None) => {
            let size = design::sample_size(&design, metric, effect, args.power)?;
            (Solved::SampleSize, effect, size.n_x)
        }
        (None, Some(n)) => {
            let effect = design::minimum_detectable_effect(&design, metric, n as f64, args.power)?;
            (Solved::Mde, effect, n)
        }
        (None, None) => {
            return Err(CalcError::Usage {
                argument: "effect",
                message: "give --effect (for the sample size), --n (for the minimum detectable effect) or both (for the power)".to_string(),
            });
        }
    };
    let achieved = design::power(&design, metric, effect, n as f64)?;
    Ok(PowerOutput {
        solved,
        effect,
        n_per_arm: n,
        power: achieved,
        alpha,
        sequential: args.sequential,
    })
}

fn pct(confidence: f64) -> String {
    format!("{}%", (confidence * 1000.0).round() / 10.0)
}

impl fmt::Display for ZTestOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "z = {:.6}, p = {:.6}, difference a − b = {:.6}, {} CI [{:.6}, {:.6}]",
            self.statistic,
            self.p_value,
            self.effect,
            pct(self.confidence),
            self.ci_low,
            self.ci_high
        )
    }
}

impl fmt::Display for WelchOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "t = {:.6}, df = {:.3}, p = {:.6}, difference a − b = {:.6}, {} CI [{:.6}, {:.6}]",
            self.statistic,
            self.df,
            self.p_value,
            self.effect,
            pct(self.confidence),
            self.ci_low,
            self.ci_high
        )
    }
}

impl fmt::Display for MannWhitneyOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "U = {}, p = {:.6}, Hodges–Lehmann shift a − b = {}, {} CI [{}, {}] (n = {} vs {})",
            self.statistic,
            self.p_value,
            self.effect,
            pct(self.confidence),
            self.ci_low,
            self.ci_high,
            self.n_a,
            self.n_b
        )
    }
}

impl fmt::Display for SrmOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "chi2 = {:.6}, df = {}, p = {:.9}: {}",
            self.statistic,
            self.df,
            self.p_value,
            if self.mismatch {
                "sample ratio MISMATCH (p < 0.001): check routing and logging"
            } else {
                "no mismatch"
            }
        )
    }
}

impl fmt::Display for HashOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bucket = {}", self.bucket)?;
        if let Some(arm) = self.arm {
            write!(f, ", arm = {arm}")?;
        }
        Ok(())
    }
}

impl fmt::Display for PowerOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.solved {
            Solved::Power => "power",
            Solved::SampleSize => "sample size",
            Solved::Mde => "minimum detectable effect",
        };
        write!(
            f,
            "{what}: n = {} per arm, effect = {:.6}, power = {:.4} at alpha = {}{}",
            self.n_per_arm,
            self.effect,
            self.power,
            self.alpha,
            if self.sequential { " (sequential)" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_argument() {
        let e = ztest("5/83", "12of99", true, 0.05).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--b: cannot read \"12of99\"; expected successes/trials with whole numbers, successes ≤ trials (e.g. 5/83)"
        );
        let e = welch_test("10,1", "10,1,1", 0.05).unwrap_err();
        assert!(e.to_string().starts_with("--a: cannot read \"10,1\""));
        let e = parse_sample("b", "lat.txt", "1 2\n3 x\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--b lat.txt, line 2: cannot read \"x\"; expected a number"
        );
        let e = srm("1,2", "0.5").unwrap_err();
        assert!(matches!(
            e,
            CalcError::Usage {
                argument: "weights",
                ..
            }
        ));
    }

    #[test]
    fn insufficient_data_is_typed() {
        let e = ztest("0/10", "0/10", true, 0.05).unwrap_err();
        assert!(
            matches!(e, CalcError::Stats(ref s) if s.is_insufficient()),
            "{e}"
        );
    }
}
