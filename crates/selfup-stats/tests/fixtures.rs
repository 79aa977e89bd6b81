//! Checks selfup-stats against the fixtures that `tests/fixtures/generate.py`
//! computed with SciPy and statsmodels (see that script for the provenance of
//! each kind). Every value must agree to 1e-6 relative.

use std::collections::BTreeMap;

use serde_json::Value;

use selfup_stats::design::{self, Design, Method, Metric};
use selfup_stats::dist;
use selfup_stats::fixed::hodges_lehmann::hodges_lehmann;
use selfup_stats::fixed::lift::relative_lift;
use selfup_stats::fixed::mann_whitney::{mann_whitney, mann_whitney_sketch};
use selfup_stats::fixed::proportions::{Pooling, two_proportion_z};
use selfup_stats::fixed::welch::welch;
use selfup_stats::health::multiple::{benjamini_hochberg, benjamini_hochberg_reject};
use selfup_stats::health::srm::srm;
use selfup_stats::health::stratified::{Stratum, stratified_difference};
use selfup_stats::sequential::{SequentialConfig, SequentialTest};
use selfup_stats::{Alternative, Moments, Proportion, RankSketch, StatsError};

const REL: f64 = 1e-6;

/// Collects mismatches for one case.
struct Check<'a> {
    name: &'a str,
    failures: Vec<String>,
}

impl Check<'_> {
    fn value(&mut self, field: &str, actual: f64, expected: &Value) {
        let Some(e) = expected.as_f64() else {
            self.failures
                .push(format!("{}: {field}: expected is not a number", self.name));
            return;
        };
        // Probabilities are compared relatively all the way down; other values
        // (effects, bounds) get a tiny absolute floor for expected zeros.
        let floor = if matches!(field, "p_value" | "sf" | "cdf" | "power") {
            0.0
        } else {
            1e-12
        };
        let close = (actual - e).abs() <= REL * e.abs() + floor;
        if !close {
            self.failures.push(format!(
                "{}: {field}: got {actual:e}, expected {e:e}",
                self.name
            ));
        }
    }

    fn field(&mut self, field: &str, actual: f64, expected: &Value) {
        self.value(field, actual, &expected[field]);
    }

    fn opt_field(&mut self, field: &str, actual: Option<f64>, expected: &Value) {
        match (actual, expected.get(field)) {
            (_, None) => {}
            (Some(a), Some(e)) if !e.is_null() => self.value(field, a, e),
            (None, Some(e)) if e.is_null() => {}
            (a, Some(e)) => self
                .failures
                .push(format!("{}: {field}: got {a:?}, expected {e}", self.name)),
        }
    }

    fn fail(&mut self, message: String) {
        self.failures.push(format!("{}: {message}", self.name));
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("fixture number")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("fixture array").iter().map(f).collect()
}

fn alternative(v: &Value) -> Alternative {
    match v.as_str() {
        Some("greater") => Alternative::Greater,
        Some("less") => Alternative::Less,
        _ => Alternative::TwoSided,
    }
}

fn proportion(v: &Value) -> Proportion {
    Proportion::new(
        v[0].as_u64().expect("count"),
        v[1].as_u64().expect("trials"),
    )
    .expect("valid")
}

fn moments(v: &Value) -> Moments {
    Moments::from_values(&floats(v)).expect("finite")
}

/// Runs `result`; an "insufficient" fixture expects the typed error.
fn expect_ok<T>(c: &mut Check, expected: &Value, result: Result<T, StatsError>) -> Option<T> {
    let insufficient = expected.get("insufficient").is_some();
    match (result, insufficient) {
        (Ok(v), false) => Some(v),
        (Err(e), true) if e.is_insufficient() => None,
        (Err(e), _) => {
            c.fail(format!("unexpected error: {e}"));
            None
        }
        (Ok(_), true) => {
            c.fail("expected insufficient data, got a result".to_string());
            None
        }
    }
}

fn run_case(case: &Value, c: &mut Check) {
    let inp = &case["input"];
    let exp = &case["expected"];
    match case["kind"].as_str().expect("kind") {
        "normal" => {
            c.field("cdf", dist::normal_cdf(f(&inp["x"])), exp);
            c.field("sf", dist::normal_sf(f(&inp["x"])), exp);
        }
        "normal_quantile" => c.field("q", dist::normal_quantile(f(&inp["p"])), exp),
        "t" => c.field("sf", dist::t_sf(f(&inp["t"]), f(&inp["df"])), exp),
        "t_quantile" => c.field("q", dist::t_quantile(f(&inp["p"]), f(&inp["df"])), exp),
        "chi2" => c.field("sf", dist::chi2_sf(f(&inp["x"]), f(&inp["df"])), exp),
        kind @ ("ztest_pooled" | "ztest_unpooled") => {
            let pooling = if kind == "ztest_pooled" {
                Pooling::Pooled
            } else {
                Pooling::Unpooled
            };
            let r = two_proportion_z(
                proportion(&inp["x"]),
                proportion(&inp["y"]),
                pooling,
                alternative(&inp["alternative"]),
                0.05,
            );
            if let Some(r) = expect_ok(c, exp, r) {
                c.field("statistic", r.statistic, exp);
                c.field("p_value", r.p_value, exp);
                c.opt_field("effect", Some(r.effect), exp);
                c.opt_field("ci_low", r.ci_low, exp);
                c.opt_field("ci_high", r.ci_high, exp);
            }
        }
        "welch" => {
            let r = welch(
                &moments(&inp["x"]),
                &moments(&inp["y"]),
                alternative(&inp["alternative"]),
                0.05,
            );
            if let Some(r) = expect_ok(c, exp, r) {
                c.field("statistic", r.statistic, exp);
                c.field("p_value", r.p_value, exp);
                c.opt_field("df", r.df, exp);
                c.opt_field("ci_low", r.ci_low, exp);
                c.opt_field("ci_high", r.ci_high, exp);
            }
        }
        "lift" => {
            let r = relative_lift(
                &moments(&inp["x"]),
                &moments(&inp["y"]),
                Alternative::TwoSided,
                0.05,
            );
            if let Some(r) = expect_ok(c, exp, r) {
                c.field("effect", r.effect, exp);
                c.field("statistic", r.statistic, exp);
                c.field("p_value", r.p_value, exp);
                c.opt_field("ci_low", r.ci_low, exp);
                c.opt_field("ci_high", r.ci_high, exp);
            }
        }
        "mann_whitney" => {
            let (x, y) = (floats(&inp["x"]), floats(&inp["y"]));
            let alt = alternative(&inp["alternative"]);
            let cc = inp["continuity"].as_bool().unwrap_or(true);
            if let Some(r) = expect_ok(c, exp, mann_whitney(&x, &y, alt, cc)) {
                c.field("u", r.u, exp);
                c.field("p_value", r.p_value, exp);
                // The same test from sketches built in two halves and merged.
                let half = x.len() / 2;
                let mut sx = RankSketch::from_values(&x[..half]).expect("finite");
                sx.merge(&RankSketch::from_values(&x[half..]).expect("finite"))
                    .expect("same resolution");
                let sy = RankSketch::from_values(&y).expect("finite");
                match mann_whitney_sketch(&sx, &sy, alt, cc) {
                    Ok(m) if m == r => {}
                    other => c.fail(format!("merged sketches disagree: {other:?}")),
                }
            }
        }
        "hodges_lehmann" => {
            let r = hodges_lehmann(&floats(&inp["x"]), &floats(&inp["y"]), f(&inp["alpha"]));
            if let Some(r) = expect_ok(c, exp, r) {
                c.field("shift", r.shift, exp);
                c.field("ci_low", r.ci_low, exp);
                c.field("ci_high", r.ci_high, exp);
            }
        }
        "srm" => {
            let counts: Vec<u64> = inp["counts"]
                .as_array()
                .expect("counts")
                .iter()
                .map(|v| v.as_u64().expect("count"))
                .collect();
            if let Some(r) = expect_ok(c, exp, srm(&counts, &floats(&inp["weights"]))) {
                c.field("statistic", r.statistic, exp);
                c.field("p_value", r.p_value, exp);
                c.field("df", r.df, exp);
            }
        }
        "bh" => {
            let ps = floats(&inp["p_values"]);
            let adjusted = benjamini_hochberg(&ps).expect("valid p-values");
            for (a, e) in adjusted
                .iter()
                .zip(exp["adjusted"].as_array().expect("adjusted"))
            {
                c.value("p_value", *a, e);
            }
            let reject = benjamini_hochberg_reject(&ps, f(&inp["q"])).expect("valid");
            let want: Vec<bool> = exp["reject"]
                .as_array()
                .expect("reject")
                .iter()
                .map(|v| v.as_bool().expect("bool"))
                .collect();
            if reject != want {
                c.fail(format!("reject {reject:?}, expected {want:?}"));
            }
        }
        kind @ ("power_mean" | "power_proportion") => {
            let metric = if kind == "power_mean" {
                Metric::Mean { sd: f(&inp["sd"]) }
            } else {
                Metric::Proportion {
                    baseline: f(&inp["baseline"]),
                }
            };
            let d = Design {
                alpha: f(&inp["alpha"]),
                alternative: alternative(&inp["alternative"]),
                method: Method::FixedHorizon,
                ratio: f(&inp["ratio"]),
            };
            let (effect, n) = (f(&inp["effect"]), f(&inp["n"]));
            match design::power(&d, metric, effect, n) {
                Ok(p) => c.field("power", p, exp),
                Err(e) => c.fail(format!("power: {e}")),
            }
            match design::sample_size(&d, metric, effect, 0.8) {
                Ok(s) => c.field("n_exact", s.n_x_exact, exp),
                Err(e) => c.fail(format!("sample size: {e}")),
            }
            if exp.get("mde").is_some() {
                match design::minimum_detectable_effect(&d, metric, n, 0.8) {
                    Ok(m) => c.field("mde", m, exp),
                    Err(e) => c.fail(format!("mde: {e}")),
                }
            }
        }
        "msprt" => {
            let config = SequentialConfig::new(
                f(&inp["alpha"]),
                alternative(&inp["alternative"]),
                f(&inp["tau2"]),
            )
            .expect("valid");
            let mut test = SequentialTest::new(config);
            for look in inp["looks"].as_array().expect("looks") {
                match test.look_estimate(f(&look["estimate"]), f(&look["variance"])) {
                    Ok(r) => {
                        c.field("p_value", r.p_value, look);
                        c.opt_field("ci_low", r.ci_low, look);
                        c.opt_field("ci_high", r.ci_high, look);
                    }
                    Err(e) => c.fail(format!("look: {e}")),
                }
            }
        }
        "stratified" => {
            let strata: Vec<Stratum> = inp["strata"]
                .as_array()
                .expect("strata")
                .iter()
                .map(|s| Stratum {
                    x: moments(&s["x"]),
                    y: moments(&s["y"]),
                })
                .collect();
            if let Some(r) = expect_ok(
                c,
                exp,
                stratified_difference(&strata, Alternative::TwoSided, 0.05),
            ) {
                c.field("effect", r.combined.effect, exp);
                c.field("statistic", r.combined.statistic, exp);
                c.field("p_value", r.combined.p_value, exp);
                c.opt_field("ci_low", r.combined.ci_low, exp);
                c.opt_field("ci_high", r.combined.ci_high, exp);
                c.field("pooled_difference", r.pooled_difference, exp);
            }
        }
        other => c.fail(format!("unknown kind {other}")),
    }
}

#[test]
fn fixtures_match_scipy_and_statsmodels() {
    let text = include_str!("fixtures/stats_fixtures.json");
    let doc: Value = serde_json::from_str(text).expect("fixture file is JSON");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 300, "only {} fixtures", cases.len());
    let mut failures = Vec::new();
    let mut per_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let mut check = Check {
            name,
            failures: Vec::new(),
        };
        run_case(case, &mut check);
        let entry = per_kind
            .entry(case["kind"].as_str().unwrap_or("?").to_string())
            .or_default();
        entry.0 += 1;
        if check.failures.is_empty() {
            entry.1 += 1;
        }
        failures.extend(check.failures);
    }
    for (kind, (total, passed)) in &per_kind {
        eprintln!("{kind:>18}: {passed}/{total}");
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
