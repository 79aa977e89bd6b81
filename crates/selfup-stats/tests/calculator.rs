//! The `selfup stats` calculator: values, JSON field names, and error text.

use serde_json::{Value, json};

use selfup_stats::calculator::{self, CalcError, PowerArgs, Solved};

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn ztest_json() {
    let out = calculator::ztest("5/83", "12/99", true, 0.05).unwrap();
    assert!(close(out.statistic, -1.4078304, 1e-7));
    assert!(close(out.p_value, 0.1591813, 1e-6));
    let v = serde_json::to_value(&out).unwrap();
    assert_eq!(
        keys(&v),
        [
            "ci_high",
            "ci_low",
            "confidence",
            "effect",
            "p_value",
            "pooled",
            "statistic"
        ]
    );
    assert!(out.to_string().starts_with("z = -1.407830, p = 0.159181"));
}

#[test]
fn welch_json_from_summaries() {
    // R's sleep data as n,mean,sd.
    let out = calculator::welch_test("10,0.75,1.789010", "10,2.33,2.002249", 0.05).unwrap();
    assert!(close(out.statistic, -1.8608, 1e-4));
    assert!(close(out.df, 17.776, 1e-4));
    assert!(close(out.p_value, 0.07939, 1e-4));
    let v = serde_json::to_value(&out).unwrap();
    assert_eq!(
        keys(&v),
        [
            "ci_high",
            "ci_low",
            "confidence",
            "df",
            "effect",
            "p_value",
            "statistic"
        ]
    );
}

#[test]
fn mannwhitney_json_from_file_text() {
    let a = "# latencies of a\n1 2 2\n3,3,3\n4\n";
    let b = "3 4 4 5 5 6 6";
    let out = calculator::mannwhitney("a.txt", a, "b.txt", b, 0.05).unwrap();
    assert_eq!(out.statistic, 3.5);
    assert!(close(out.p_value, 0.0075909, 1e-4));
    assert_eq!(out.effect, -2.0);
    let v = serde_json::to_value(&out).unwrap();
    assert_eq!(
        keys(&v),
        [
            "ci_high",
            "ci_low",
            "confidence",
            "effect",
            "n_a",
            "n_b",
            "p_value",
            "statistic"
        ]
    );
}

#[test]
fn srm_json() {
    let out = calculator::srm("1000,1200", "0.5,0.5").unwrap();
    assert!(close(out.p_value, 0.000020079, 1e-4));
    assert!(out.mismatch);
    let v = serde_json::to_value(&out).unwrap();
    assert_eq!(
        keys(&v),
        ["df", "expected", "mismatch", "p_value", "statistic"]
    );
    assert!(out.to_string().contains("MISMATCH"));
}

#[test]
fn hash_json() {
    let out = calculator::hash("seed", "a", None, None).unwrap();
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({ "bucket": 0.0505 })
    );
    let out = calculator::hash("seed", "a", Some("0.5,0.5"), Some(0.05)).unwrap();
    // Outside 5 % coverage: no arm, and no "arm" key.
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({ "bucket": 0.0505 })
    );
    let out = calculator::hash("seed", "a", Some("0.5,0.5"), Some(0.25)).unwrap();
    assert_eq!(out.arm, Some(0));
    assert!(matches!(
        calculator::hash("seed", "a", None, Some(0.5)),
        Err(CalcError::Usage {
            argument: "coverage",
            ..
        })
    ));
}

#[test]
fn power_solves_each_unknown() {
    let base = PowerArgs {
        baseline: Some(0.10),
        ..PowerArgs::default()
    };
    let size = calculator::power(PowerArgs {
        effect: Some(0.02),
        ..base
    })
    .unwrap();
    assert_eq!(size.solved, Solved::SampleSize);
    assert!(
        size.power >= 0.8 && size.n_per_arm > 3000 && size.n_per_arm < 4500,
        "{size:?}"
    );
    let mde = calculator::power(PowerArgs {
        n: Some(size.n_per_arm),
        ..base
    })
    .unwrap();
    assert_eq!(mde.solved, Solved::Mde);
    assert!(mde.effect <= 0.02 && mde.effect > 0.019, "{mde:?}");
    let pw = calculator::power(PowerArgs {
        effect: Some(0.02),
        n: Some(size.n_per_arm),
        sequential: true,
        ..base
    })
    .unwrap();
    assert!(
        pw.power < 0.8,
        "sequential costs power at the same n: {pw:?}"
    );
    let v = serde_json::to_value(&pw).unwrap();
    assert_eq!(
        keys(&v),
        [
            "alpha",
            "effect",
            "n_per_arm",
            "power",
            "sequential",
            "solved"
        ]
    );
    let e = calculator::power(PowerArgs::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--baseline: give exactly one of --baseline RATE (a proportion) or --sd SD (a mean)"
    );
}

#[test]
fn bad_arguments_say_what_was_expected() {
    let e = calculator::ztest("5/3", "1/2", true, 0.05).unwrap_err();
    assert!(e.to_string().starts_with("--a: cannot read \"5/3\""), "{e}");
    let e = calculator::srm("1000,12x0", "0.5,0.5").unwrap_err();
    assert_eq!(
        e.to_string(),
        "--counts: cannot read \"1000,12x0\"; expected whole numbers separated by commas (e.g. 1000,1200)"
    );
    let e = calculator::welch_test("10,1,1", "10,1,1", 1.5).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("--alpha: 1.5 is not a significance level")
    );
    let e = calculator::mannwhitney("a.txt", "1 2 3", "b.txt", "4 NaN", 0.05).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--b b.txt, line 1: cannot read \"NaN\"; expected a number"
    );
    let e = calculator::mannwhitney("a.txt", "5 5 5", "b.txt", "5 5", 0.05).unwrap_err();
    assert_eq!(
        e.to_string(),
        "insufficient data: no variation: the rank variance (every observation is tied) is zero, so the test statistic is undefined"
    );
}
