//! Degenerate inputs give typed results, never NaN.

use selfup_stats::design::{self, Design, Metric};
use selfup_stats::fixed::hodges_lehmann::hodges_lehmann;
use selfup_stats::fixed::lift::relative_lift;
use selfup_stats::fixed::mann_whitney::mann_whitney;
use selfup_stats::fixed::proportions::{Pooling, two_proportion_z};
use selfup_stats::fixed::welch::welch;
use selfup_stats::health::multiple::benjamini_hochberg;
use selfup_stats::health::srm::{SrmPolicy, SrmVerdict, srm};
use selfup_stats::health::stratified::{Stratum, stratified_difference};
use selfup_stats::sequential::{SequentialConfig, SequentialTest};
use selfup_stats::{Alternative, Insufficient, Moments, Proportion, StatsError};

const TWO: Alternative = Alternative::TwoSided;

fn m(xs: &[f64]) -> Moments {
    Moments::from_values(xs).unwrap()
}

fn insufficient<T: std::fmt::Debug>(r: Result<T, StatsError>) -> Insufficient {
    match r {
        Err(StatsError::InsufficientData(i)) => i,
        other => panic!("expected insufficient data, got {other:?}"),
    }
}

#[test]
fn too_few_observations() {
    let one = m(&[1.0]);
    let many = m(&[1.0, 2.0, 3.0]);
    assert!(matches!(
        insufficient(welch(&one, &many, TWO, 0.05)),
        Insufficient::TooFewObservations { n: 1, min: 2, .. }
    ));
    assert!(matches!(
        insufficient(welch(&many, &Moments::EMPTY, TWO, 0.05)),
        Insufficient::TooFewObservations { n: 0, .. }
    ));
    let p = |s, n| Proportion::new(s, n).unwrap();
    insufficient(two_proportion_z(
        p(0, 0),
        p(1, 5),
        Pooling::Pooled,
        TWO,
        0.05,
    ));
    insufficient(mann_whitney(&[1.0], &[1.0, 2.0], TWO, true));
    insufficient(hodges_lehmann(&[], &[1.0], 0.05));
    insufficient(relative_lift(&one, &many, TWO, 0.05));
}

#[test]
fn zero_variance_and_zero_baseline() {
    let c = m(&[2.0, 2.0, 2.0]);
    assert!(matches!(
        insufficient(welch(&c, &c, TWO, 0.05)),
        Insufficient::ZeroVariance { .. }
    ));
    let p = |s, n| Proportion::new(s, n).unwrap();
    for pooling in [Pooling::Pooled, Pooling::Unpooled] {
        insufficient(two_proportion_z(p(0, 50), p(0, 70), pooling, TWO, 0.05));
        insufficient(two_proportion_z(p(50, 50), p(70, 70), pooling, TWO, 0.05));
    }
    let zero = m(&[0.0, 0.0, 0.0]);
    assert!(matches!(
        insufficient(relative_lift(&c, &zero, TWO, 0.05)),
        Insufficient::ZeroBaseline { .. }
    ));
    insufficient(relative_lift(&c, &c, TWO, 0.05));
    insufficient(mann_whitney(&[4.0, 4.0], &[4.0, 4.0, 4.0], TWO, true));
    // Constant but different samples are a perfectly good rank comparison.
    let r = mann_whitney(&[1.0, 1.0, 1.0], &[2.0, 2.0, 2.0], TWO, true).unwrap();
    assert!(r.p_value.is_finite() && r.u == 0.0);
    let mut seq = SequentialTest::new(
        SequentialConfig::new(0.05, TWO, 1.0)
            .unwrap()
            .with_min_per_arm(2),
    );
    insufficient(seq.look(&c, &c));
    assert_eq!(seq.state.looks, 0, "an insufficient look does not count");
    let s = Stratum { x: c, y: c };
    insufficient(stratified_difference(&[s, s], TWO, 0.05));
}

#[test]
fn srm_edge_cases() {
    assert_eq!(srm(&[0, 0, 0], &[1.0, 1.0, 1.0]).unwrap().p_value, 1.0);
    assert!(matches!(
        insufficient(srm(&[10, 20], &[1.0, 0.0])),
        Insufficient::TooFewArms
    ));
    assert!(srm(&[10, 20], &[0.5]).is_err());
    let policy = SrmPolicy::default();
    assert!(matches!(
        policy.check(&[3, 9], &[0.5, 0.5]).unwrap(),
        SrmVerdict::NotEnoughData(_)
    ));
    // Traffic to a zero-weight arm is a mismatch whatever the χ² says.
    assert!(matches!(
        policy.check(&[500, 5, 500], &[0.5, 0.0, 0.5]).unwrap(),
        SrmVerdict::Mismatch(_)
    ));
}

#[test]
fn bad_input_is_an_error_not_a_nan() {
    assert!(Moments::from_values(&[1.0, f64::NAN]).is_err());
    assert!(Moments::from_sums(3, f64::INFINITY, 1.0).is_err());
    assert!(Moments::from_mean_sd(3, 1.0, -1.0).is_err());
    assert!(benjamini_hochberg(&[0.5, 1.5]).is_err());
    assert!(benjamini_hochberg(&[]).unwrap().is_empty());
    let c = m(&[1.0, 2.0]);
    assert!(matches!(
        welch(&c, &c, TWO, 0.0),
        Err(StatsError::InvalidInput {
            parameter: "alpha",
            ..
        })
    ));
    assert!(SequentialConfig::new(0.05, TWO, 0.0).is_err());
    let mut seq = SequentialTest::new(SequentialConfig::new(0.05, TWO, 1.0).unwrap());
    assert!(seq.look_estimate(f64::NAN, 1.0).is_err());
    let d = Design::fixed(0.05);
    assert!(design::power(&d, Metric::Proportion { baseline: 0.9 }, 0.2, 100.0).is_err());
    assert!(design::power(&d, Metric::Mean { sd: 0.0 }, 0.2, 100.0).is_err());
    assert!(design::sample_size(&d, Metric::Mean { sd: 1.0 }, 0.0, 0.8).is_err());
    assert!(
        design::minimum_detectable_effect(&d, Metric::Proportion { baseline: 0.5 }, 1.0, 0.99)
            .is_err()
    );
}

#[test]
fn extreme_but_valid_inputs_stay_finite() {
    let big = Moments {
        n: 10_000_000,
        mean: 1e6,
        m2: 1e-3,
    };
    let small = Moments {
        n: 2,
        mean: -1e-300,
        m2: 1e300,
    };
    for (x, y) in [(big, small), (small, big), (big, big)] {
        for alt in [TWO, Alternative::Less, Alternative::Greater] {
            if let Ok(r) = welch(&x, &y, alt, 0.05) {
                assert!(
                    r.statistic.is_finite() && (0.0..=1.0).contains(&r.p_value),
                    "{r:?}"
                );
                assert!(r.df.unwrap().is_finite());
            }
        }
    }
    let r = two_proportion_z(
        Proportion::new(1, 100_000_000).unwrap(),
        Proportion::new(99_999_999, 100_000_000).unwrap(),
        Pooling::Pooled,
        TWO,
        0.05,
    )
    .unwrap();
    assert!(r.statistic.is_finite() && r.p_value == 0.0);
    let mut seq =
        SequentialTest::new(SequentialConfig::new(0.05, Alternative::Greater, 1e-4).unwrap());
    for (est, v) in [(-1e3, 1e-12), (1e3, 1e-12), (0.0, 1e12)] {
        let look = seq.look_estimate(est, v).unwrap();
        assert!((0.0..=1.0).contains(&look.p_value), "{look:?}");
        assert!(look.ci_low.unwrap().is_finite());
    }
}
