//! The published reference values of issue 3, kept as tests.

use selfup_stats::assignment::{HashVersion, bucket_ranges, hash, hash_v2};
use selfup_stats::fixed::hodges_lehmann::hodges_lehmann;
use selfup_stats::fixed::mann_whitney::mann_whitney;
use selfup_stats::fixed::proportions::{Pooling, two_proportion_z};
use selfup_stats::fixed::welch::welch;
use selfup_stats::health::srm::srm;
use selfup_stats::{Alternative, Moments, Proportion};

/// Relative closeness at the published precision.
fn assert_close(actual: f64, expected: f64, rel: f64, what: &str) {
    let tol = rel * expected.abs().max(f64::MIN_POSITIVE);
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: got {actual}, expected {expected} (±{tol})"
    );
}

#[test]
fn srm_reference() {
    let r = srm(&[1000, 1200], &[0.5, 0.5]).unwrap();
    assert_close(r.p_value, 0.000020079, 1e-4, "srm 1000/1200");
    let r = srm(&[310, 98], &[0.75, 0.25]).unwrap();
    assert_close(r.p_value, 0.647434186, 1e-8, "srm 310/98");
    let r = srm(&[500, 500, 600], &[0.34, 0.33, 0.33]).unwrap();
    assert_close(r.p_value, 0.000592638, 1e-6, "srm 3 arms");
    let r = srm(&[0, 0], &[0.5, 0.5]).unwrap();
    assert_eq!(r.p_value, 1.0);
}

/// GrowthBook SDK spec (`cases.json`, "hash"): [seed, subject, version, bucket].
#[test]
fn hash_reference() {
    let cases: &[(&str, &str, HashVersion, f64)] = &[
        ("", "a", HashVersion::V1, 0.22),
        ("", "b", HashVersion::V1, 0.077),
        ("b", "a", HashVersion::V1, 0.946),
        ("ef", "d", HashVersion::V1, 0.652),
        ("asdf", "8952klfjas09ujk", HashVersion::V1, 0.549),
        ("", "123", HashVersion::V1, 0.011),
        ("", "___)((*\":&", HashVersion::V1, 0.563),
        ("seed", "a", HashVersion::V2, 0.0505),
        ("seed", "b", HashVersion::V2, 0.2696),
        ("foo", "ab", HashVersion::V2, 0.2575),
        ("foo", "def", HashVersion::V2, 0.2019),
        ("89123klj", "8952klfjas09ujkasdf", HashVersion::V2, 0.124),
        ("90850943850283058242805", "123", HashVersion::V2, 0.7516),
        ("()**(%$##$%#$#", "___)((*\":&", HashVersion::V2, 0.0128),
    ];
    for &(seed, subject, version, expected) in cases {
        assert_eq!(
            hash(seed, subject, version),
            expected,
            "{seed:?} {subject:?}"
        );
    }
    assert_eq!(hash_v2("seed", "a"), 0.0505);
}

/// GrowthBook SDK spec (`cases.json`, "getBucketRange"), the valid inputs.
#[test]
fn bucket_range_reference() {
    type Case<'a> = (&'a [f64], f64, &'a [(f64, f64)]);
    let cases: &[Case] = &[
        (&[0.5, 0.5], 1.0, &[(0.0, 0.5), (0.5, 1.0)]),
        (&[0.5, 0.5], 0.5, &[(0.0, 0.25), (0.5, 0.75)]),
        (&[0.5, 0.5], 0.0, &[(0.0, 0.0), (0.5, 0.5)]),
        (
            &[0.25; 4],
            1.0,
            &[(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)],
        ),
        (&[0.4, 0.6], 1.0, &[(0.0, 0.4), (0.4, 1.0)]),
        (&[0.2, 0.3, 0.5], 1.0, &[(0.0, 0.2), (0.2, 0.5), (0.5, 1.0)]),
        (
            &[0.2, 0.3, 0.5],
            0.2,
            &[(0.0, 0.04), (0.2, 0.26), (0.5, 0.6)],
        ),
        (&[0.4, 0.5999], 1.0, &[(0.0, 0.4), (0.4, 0.9999)]),
    ];
    for &(weights, coverage, expected) in cases {
        let ranges = bucket_ranges(weights, coverage).unwrap();
        assert_eq!(ranges.len(), expected.len());
        for (r, &(s, e)) in ranges.iter().zip(expected) {
            assert!(
                (r.start - s).abs() < 1e-12 && (r.end - e).abs() < 1e-12,
                "{weights:?} {coverage}: {r:?}"
            );
        }
    }
    // The spec's invalid inputs are errors here, not silent fall-backs to equal weights.
    assert!(bucket_ranges(&[0.5, 0.5], -0.2).is_err());
    assert!(bucket_ranges(&[0.5, 0.5], 1.5).is_err());
    assert!(bucket_ranges(&[0.4, 0.1], 1.0).is_err());
    assert!(bucket_ranges(&[0.7, 0.6], 1.0).is_err());
}

#[test]
fn pooled_z_reference() {
    let r = two_proportion_z(
        Proportion::new(5, 83).unwrap(),
        Proportion::new(12, 99).unwrap(),
        Pooling::Pooled,
        Alternative::TwoSided,
        0.05,
    )
    .unwrap();
    assert_close(r.statistic, -1.4078304, 1e-7, "z");
    assert_close(r.p_value, 0.1591813, 1e-6, "p");
}

/// R's `sleep` data: `t.test(extra ~ group, data = sleep)`.
#[test]
fn welch_sleep_reference() {
    let g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    let g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
    let r = welch(
        &Moments::from_values(&g1).unwrap(),
        &Moments::from_values(&g2).unwrap(),
        Alternative::TwoSided,
        0.05,
    )
    .unwrap();
    assert_close(r.statistic, -1.8608, 1e-4, "t");
    assert_close(r.df.unwrap(), 17.776, 1e-4, "df");
    assert_close(r.p_value, 0.07939, 1e-4, "p");
    assert_close(r.ci_low.unwrap(), -3.3654832, 1e-7, "ci low");
    assert_close(r.ci_high.unwrap(), 0.2054832, 1e-6, "ci high");
}

#[test]
fn mann_whitney_ties_reference() {
    let x = [1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0];
    let y = [3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 6.0];
    let r = mann_whitney(&x, &y, Alternative::TwoSided, true).unwrap();
    assert_eq!(r.u, 3.5);
    assert_close(r.p_value, 0.0075909, 1e-4, "p");
}

#[test]
fn hodges_lehmann_reference() {
    let r = hodges_lehmann(&[10.0, 20.0, 30.0, 40.0], &[1.0, 2.0, 3.0, 4.0], 0.05).unwrap();
    assert_eq!(r.shift, 22.5);
}
