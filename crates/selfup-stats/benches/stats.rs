//! Benchmarks of issue 3: a sequential look at an experiment summarised from
//! 10 million calls, and building that summary from 10 million values held in
//! memory. (Reading the values from the store is selfup-store's job and is
//! benchmarked there; here the "store" is a `Vec<f64>`.)
//!
//! Run: `CARGO_TARGET_DIR=/work/targets/stats cargo bench -p selfup-stats --bench stats`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use selfup_stats::fixed::hodges_lehmann::hodges_lehmann_sketch;
use selfup_stats::fixed::lift::relative_lift;
use selfup_stats::fixed::mann_whitney::mann_whitney_sketch;
use selfup_stats::fixed::welch::welch;
use selfup_stats::health::srm::SrmPolicy;
use selfup_stats::sequential::{SequentialConfig, SequentialTest};
use selfup_stats::{Alternative, Moments, Proportion, RankSketch};

const CALLS: usize = 10_000_000;

/// Log-normal latencies in milliseconds (median ~20 ms), rounded to 1 µs.
fn latencies(n: usize, seed: u64, scale: f64) -> Vec<f64> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let u1: f64 = 1.0 - rng.random::<f64>();
            let u2: f64 = rng.random::<f64>();
            let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            ((3.0 + 0.6 * z).exp() * scale * 1000.0).round() / 1000.0
        })
        .collect()
}

fn sketch(values: &[f64]) -> RankSketch {
    let mut s = RankSketch::relative(0.01).expect("valid accuracy");
    s.extend(values).expect("finite values");
    s
}

/// Everything a gate computes for one metric of one experiment, from raw values.
fn whole_analysis(x: &[f64], y: &[f64], config: SequentialConfig) -> f64 {
    let (mx, my) = (
        Moments::from_values(x).expect("finite"),
        Moments::from_values(y).expect("finite"),
    );
    let (sx, sy) = (sketch(x), sketch(y));
    let srm = SrmPolicy::default()
        .check(&[mx.n, my.n], &[0.5, 0.5])
        .expect("valid");
    let w = welch(&mx, &my, Alternative::TwoSided, 0.05).expect("data");
    let l = relative_lift(&mx, &my, Alternative::TwoSided, 0.05).expect("data");
    let seq = SequentialTest::new(config).look(&mx, &my).expect("data");
    let mw = mann_whitney_sketch(&sx, &sy, Alternative::Greater, true).expect("data");
    let hl = hodges_lehmann_sketch(&sx, &sy, 0.05).expect("data");
    black_box(&srm);
    w.p_value + l.p_value + seq.p_value + mw.p_value + hl.shift
}

fn benches(c: &mut Criterion) {
    let half = CALLS / 2;
    let x = latencies(half, 1, 1.02);
    let y = latencies(half, 2, 1.0);
    let all: Vec<f64> = x.iter().chain(&y).copied().collect();
    let mx = Moments::from_values(&x).expect("finite");
    let my = Moments::from_values(&y).expect("finite");
    let config = SequentialConfig::for_horizon(0.05, Alternative::TwoSided, my.sd(), half as u64)
        .expect("valid");

    let mut g = c.benchmark_group("look");
    g.bench_function("sequential_means_10M_calls", |b| {
        let mut test = SequentialTest::new(config);
        b.iter(|| test.look(black_box(&mx), black_box(&my)).expect("data"))
    });
    let (px, py) = (
        Proportion::new(51_000, half as u64).expect("valid"),
        Proportion::new(50_000, half as u64).expect("valid"),
    );
    g.bench_function("sequential_proportions_10M_calls", |b| {
        let mut test = SequentialTest::new(config);
        b.iter(|| {
            test.look_proportions(black_box(px), black_box(py))
                .expect("data")
        })
    });
    g.bench_function("sequential_guardrail_one_sided_10M_calls", |b| {
        let guard = SequentialConfig {
            alternative: Alternative::Greater,
            ..config
        };
        let mut test = SequentialTest::new(guard);
        b.iter(|| test.look(black_box(&mx), black_box(&my)).expect("data"))
    });
    g.finish();

    let (sx, sy) = (sketch(&x), sketch(&y));
    eprintln!(
        "rank sketch bins at 1 %: {} and {}",
        sx.bin_count(),
        sy.bin_count()
    );
    let mut g = c.benchmark_group("rank_tests");
    g.bench_function("mann_whitney_on_sketches_10M_calls", |b| {
        b.iter(|| {
            mann_whitney_sketch(black_box(&sx), black_box(&sy), Alternative::Greater, true)
                .expect("data")
        })
    });
    g.bench_function("hodges_lehmann_on_sketches_10M_calls", |b| {
        b.iter(|| hodges_lehmann_sketch(black_box(&sx), black_box(&sy), 0.05).expect("data"))
    });
    g.finish();

    let mut g = c.benchmark_group("build_10M_values");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("moments_welford", |b| {
        b.iter(|| Moments::from_values(black_box(&all)).expect("finite"))
    });
    g.bench_function("sums_then_from_sums", |b| {
        b.iter(|| {
            let (s, s2) = black_box(&all)
                .iter()
                .fold((0.0, 0.0), |(s, s2), v| (s + v, s2 + v * v));
            Moments::from_sums(all.len() as u64, s, s2).expect("finite")
        })
    });
    g.bench_function("rank_sketch_relative_1pct", |b| {
        b.iter(|| sketch(black_box(&all)))
    });
    g.bench_function("whole_analysis_from_raw_values", |b| {
        b.iter(|| whole_analysis(black_box(&x), black_box(&y), config))
    });
    g.finish();
}

criterion_group!(stats_benches, benches);
criterion_main!(stats_benches);
