//! The rank sketch's trade-off, measured: 1 % bins against the exact data.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use selfup_stats::fixed::hodges_lehmann::hodges_lehmann_sketch;
use selfup_stats::fixed::mann_whitney::mann_whitney_sketch;
use selfup_stats::{Alternative, RankSketch};

fn latencies(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let u1: f64 = 1.0 - rng.random::<f64>();
            let u2: f64 = rng.random::<f64>();
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            (3.0 + 0.6 * z).exp() * scale
        })
        .collect()
}

#[test]
fn relative_sketch_tracks_the_exact_tests() {
    let (x, y) = (latencies(20_000, 5, 1.03), latencies(20_000, 6, 1.0));
    let (mut ex, mut ey) = (RankSketch::exact(), RankSketch::exact());
    ex.extend(&x).unwrap();
    ey.extend(&y).unwrap();
    let (mut rx, mut ry) = (
        RankSketch::relative(0.01).unwrap(),
        RankSketch::relative(0.01).unwrap(),
    );
    rx.extend(&x).unwrap();
    ry.extend(&y).unwrap();
    assert!(rx.bin_count() < 500, "{} bins", rx.bin_count());

    let exact = mann_whitney_sketch(&ex, &ey, Alternative::TwoSided, true).unwrap();
    let approx = mann_whitney_sketch(&rx, &ry, Alternative::TwoSided, true).unwrap();
    eprintln!(
        "exact: U {} z {:.4} p {:.3e}; 1 % sketch: U {} z {:.4} p {:.3e}",
        exact.u, exact.z, exact.p_value, approx.u, approx.z, approx.p_value
    );
    // Pairs that share a bin count half: U moves by at most half of those pairs,
    // in practice a tiny fraction of n·m.
    assert!((exact.prob_x_greater - approx.prob_x_greater).abs() < 2e-3);
    assert!((exact.z - approx.z).abs() < 0.05);

    let hl_exact = hodges_lehmann_sketch(&ex, &ey, 0.05).unwrap();
    let hl_approx = hodges_lehmann_sketch(&rx, &ry, 0.05).unwrap();
    eprintln!("HL exact {hl_exact:?}\nHL 1 %   {hl_approx:?}");
    // Each representative is within 1 % of its values, so each difference is
    // within 1 % of the larger value (~20 here): the shift moves by well under 0.4.
    let typical = 20.0;
    assert!((hl_exact.shift - hl_approx.shift).abs() < 0.01 * typical);
    assert!((hl_exact.ci_low - hl_approx.ci_low).abs() < 0.01 * typical);
    assert!((hl_exact.ci_high - hl_approx.ci_high).abs() < 0.01 * typical);
}
