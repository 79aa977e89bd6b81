//! Seeded simulations: the reasons the loop trusts (and distrusts) each test.
//! Deterministic (fixed seeds), sized to run in seconds in a debug build.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;

use selfup_stats::assignment::{bucket_ranges, choose_arm, hash_v2};
use selfup_stats::design::{self, Design, Method, Metric};
use selfup_stats::fixed::proportions::{Pooling, two_proportion_z};
use selfup_stats::fixed::welch::welch;
use selfup_stats::health::srm::{SrmPolicy, SrmVerdict, srm};
use selfup_stats::sequential::{SequentialConfig, SequentialTest};
use selfup_stats::{Alternative, Moments, Proportion};

/// Standard normal draws (Box–Muller, both values used).
struct Normals {
    rng: Pcg64Mcg,
    spare: Option<f64>,
}

impl Normals {
    fn new(seed: u64) -> Self {
        Normals {
            rng: Pcg64Mcg::seed_from_u64(seed),
            spare: None,
        }
    }

    fn next(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1: f64 = 1.0 - self.rng.random::<f64>();
        let u2: f64 = self.rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        self.spare = Some(r * t.sin());
        r * t.cos()
    }

    fn batch(&mut self, n: usize, mean: f64) -> Moments {
        let mut m = Moments::EMPTY;
        for _ in 0..n {
            m.push(mean + self.next()).expect("finite");
        }
        m
    }
}

/// Wilson score interval for `k` successes in `n` at z = 3.29 (99.9 %).
fn wilson(k: usize, n: usize) -> (f64, f64) {
    let z = 3.290_526_731_491_926;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    (centre - half, centre + half)
}

/// A/A test, a look after each of `looks` batches: how often does each test
/// ever reject at α = 0.05?
fn peeking(seed: u64, reps: usize, looks: usize, batch: usize) -> (usize, usize) {
    let mut normals = Normals::new(seed);
    let config =
        SequentialConfig::for_horizon(0.05, Alternative::TwoSided, 1.0, (looks * batch) as u64)
            .expect("valid");
    let (mut fixed_hits, mut seq_hits) = (0, 0);
    for _ in 0..reps {
        let (mut x, mut y) = (Moments::EMPTY, Moments::EMPTY);
        let mut test = SequentialTest::new(config);
        let (mut fixed, mut seq) = (false, false);
        for _ in 0..looks {
            x = x.merge(&normals.batch(batch, 0.0));
            y = y.merge(&normals.batch(batch, 0.0));
            let p = welch(&x, &y, Alternative::TwoSided, 0.05)
                .expect("data")
                .p_value;
            fixed |= p < 0.05;
            if let Ok(look) = test.look(&x, &y) {
                seq |= look.reject;
            }
        }
        fixed_hits += usize::from(fixed);
        seq_hits += usize::from(seq);
    }
    (fixed_hits, seq_hits)
}

#[test]
fn peeking_inflates_the_fixed_test_but_not_the_sequential_one() {
    let reps = 4000;
    let (fixed, seq) = peeking(11, reps, 10, 50);
    let (fixed_lo, fixed_hi) = wilson(fixed, reps);
    let (_, seq_hi) = wilson(seq, reps);
    eprintln!(
        "10 looks: fixed FPR {:.4} [{fixed_lo:.4}, {fixed_hi:.4}], sequential FPR {:.4} (upper {seq_hi:.4})",
        fixed as f64 / reps as f64,
        seq as f64 / reps as f64
    );
    // Armitage, McPherson and Rowe (1969): 10 looks at α = 0.05 → 0.193.
    assert!(
        fixed_lo <= 0.193 && 0.193 <= fixed_hi,
        "fixed-horizon FPR off 0.19"
    );
    assert!(fixed_lo > 0.15, "peeking must inflate the fixed test");
    assert!(seq_hi <= 0.05, "sequential FPR above alpha");
}

#[test]
fn the_sequential_test_holds_however_often_one_looks() {
    let reps = 1500;
    let (fixed, seq) = peeking(12, reps, 200, 5);
    let (fixed_lo, _) = wilson(fixed, reps);
    let (_, seq_hi) = wilson(seq, reps);
    eprintln!(
        "200 looks: fixed FPR {:.4}, sequential FPR {:.4} (upper {seq_hi:.4})",
        fixed as f64 / reps as f64,
        seq as f64 / reps as f64
    );
    assert!(
        fixed_lo > 0.3,
        "200 peeks of a fixed test should reject A/A often"
    );
    assert!(seq_hi <= 0.05, "sequential FPR above alpha");
}

#[test]
fn power_at_the_designed_mde_is_the_design_power() {
    // Proportions, fixed horizon, pooled z-test: baseline 10 %, 2000 per arm.
    let design = Design::fixed(0.05);
    let metric = Metric::Proportion { baseline: 0.10 };
    let n = 2000;
    let mde = design::minimum_detectable_effect(&design, metric, n as f64, 0.8).expect("mde");
    let mut rng = Pcg64Mcg::seed_from_u64(21);
    let reps = 3000;
    let mut hits = 0;
    for _ in 0..reps {
        let mut draw = |p: f64| {
            let s = (0..n).filter(|_| rng.random::<f64>() < p).count() as u64;
            Proportion::new(s, n).expect("valid")
        };
        let (x, y) = (draw(0.10 + mde), draw(0.10));
        let r = two_proportion_z(x, y, Pooling::Pooled, Alternative::TwoSided, 0.05).expect("data");
        hits += usize::from(r.p_value < 0.05);
    }
    let (lo, hi) = wilson(hits, reps);
    eprintln!(
        "fixed: MDE {mde:.5} at n = {n}: simulated power {:.4} [{lo:.4}, {hi:.4}]",
        hits as f64 / reps as f64
    );
    assert!(lo <= 0.8 && 0.8 <= hi, "simulated power off the design");
}

#[test]
fn sequential_power_at_its_mde_is_at_least_the_design_power() {
    // Means, sequential (τ² tuned to the horizon), 10 looks up to 1000 per arm.
    let design = Design {
        method: Method::Sequential { tau2: None },
        ..Design::fixed(0.05)
    };
    let metric = Metric::Mean { sd: 1.0 };
    let (looks, batch) = (10, 100);
    let n = looks * batch;
    let mde = design::minimum_detectable_effect(&design, metric, n as f64, 0.8).expect("mde");
    let config =
        SequentialConfig::for_horizon(0.05, Alternative::TwoSided, 1.0, n as u64).expect("valid");
    let mut normals = Normals::new(31);
    let reps = 1500;
    let mut hits = 0;
    for _ in 0..reps {
        let (mut x, mut y) = (Moments::EMPTY, Moments::EMPTY);
        let mut test = SequentialTest::new(config);
        let mut reject = false;
        for _ in 0..looks {
            x = x.merge(&normals.batch(batch, mde));
            y = y.merge(&normals.batch(batch, 0.0));
            reject |= test.look(&x, &y).map(|l| l.reject).unwrap_or(false);
        }
        hits += usize::from(reject);
    }
    let (lo, hi) = wilson(hits, reps);
    eprintln!(
        "sequential: MDE {mde:.5} at n = {n}: simulated power {:.4} [{lo:.4}, {hi:.4}]",
        hits as f64 / reps as f64
    );
    assert!(hi >= 0.8, "sequential power below its (lower-bound) design");
}

#[test]
fn srm_catches_a_53_47_router_at_100k() {
    let n = 100_000;
    // A router that compares the sticky bucket with 0.53 instead of 0.50.
    let mut counts = [0u64; 2];
    let mut fair = [0u64; 2];
    let ranges = bucket_ranges(&[0.5, 0.5], 1.0).expect("valid");
    for i in 0..n {
        let bucket = hash_v2("exp-router", &format!("subject-{i}"));
        counts[usize::from(bucket >= 0.53)] += 1;
        fair[choose_arm(bucket, &ranges).expect("full coverage")] += 1;
    }
    let policy = SrmPolicy::default();
    let broken = policy.check(&counts, &[0.5, 0.5]).expect("valid");
    eprintln!("53/47 router: counts {counts:?}: {broken:?}");
    assert!(matches!(broken, SrmVerdict::Mismatch(_)));
    let healthy = policy.check(&fair, &[0.5, 0.5]).expect("valid");
    eprintln!("50/50 router: counts {fair:?}: {healthy:?}");
    assert!(matches!(healthy, SrmVerdict::Healthy(_)));

    // And across many seeded experiments: caught every time.
    let mut rng = Pcg64Mcg::seed_from_u64(41);
    let reps = 40;
    let caught = (0..reps)
        .filter(|_| {
            let a = (0..n).filter(|_| rng.random::<f64>() < 0.53).count() as u64;
            srm(&[a, n - a], &[0.5, 0.5]).expect("valid").p_value < 0.001
        })
        .count();
    assert_eq!(caught, reps);
}

#[test]
fn raising_coverage_never_moves_a_subject() {
    let weights = [0.2, 0.3, 0.5];
    let steps = [0.05, 0.25, 0.5, 1.0];
    let ranges: Vec<_> = steps
        .iter()
        .map(|c| bucket_ranges(&weights, *c).expect("valid"))
        .collect();
    let mut per_arm = [0usize; 3];
    for i in 0..20_000 {
        let bucket = hash_v2("coverage-seed", &format!("u{i}"));
        let arms: Vec<Option<usize>> = ranges.iter().map(|r| choose_arm(bucket, r)).collect();
        for w in arms.windows(2) {
            if let Some(a) = w[0] {
                assert_eq!(w[1], Some(a), "subject u{i} moved when coverage grew");
            }
        }
        if let Some(Some(a)) = arms.last() {
            per_arm[*a] += 1;
        }
    }
    // At full coverage the split follows the weights.
    let srm = srm(&per_arm.map(|c| c as u64), &weights).expect("valid");
    assert!(srm.p_value > 0.001, "{per_arm:?}");
}
