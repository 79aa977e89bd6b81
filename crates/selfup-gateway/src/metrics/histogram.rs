//! A latency histogram of atomic counters: recording is one bucket search
//! and two relaxed additions, never a lock.

use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the buckets, µs: from 25 µs (a trivial wasm call takes
/// about 1 µs in the host, tens of µs through the gateway) to 300 s, the
/// largest per-call time limit a manifest takes by default.
pub const BUCKET_BOUNDS_US: [u64; 22] = [
    25,
    50,
    100,
    250,
    500,
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    30_000_000,
    60_000_000,
    120_000_000,
    300_000_000,
];

/// Observations per bucket (not cumulative; the last one is `+Inf`) and
/// their sum.
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    buckets: [AtomicU64; BUCKET_BOUNDS_US.len() + 1],
    sum_us: AtomicU64,
}

/// A point-in-time copy of a histogram, cumulative as Prometheus wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// `(upper bound in seconds, observations at or below it)`, ascending.
    pub cumulative: Vec<(f64, u64)>,
    /// All observations (the `+Inf` bucket).
    pub count: u64,
    /// Sum of the observations, seconds.
    pub sum_seconds: f64,
}

impl LatencyHistogram {
    /// Records one observation of `latency_us` microseconds.
    pub fn observe(&self, latency_us: u64) {
        let index = BUCKET_BOUNDS_US.partition_point(|&bound| bound < latency_us);
        self.buckets[index].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(latency_us, Ordering::Relaxed);
    }

    /// The cumulative counts. Taken bucket by bucket while calls go on, so
    /// the sum may be a call ahead of or behind the counts, never wrong by
    /// more than the calls in flight.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let mut cumulative = Vec::with_capacity(BUCKET_BOUNDS_US.len());
        for (bound, bucket) in BUCKET_BOUNDS_US.iter().zip(&self.buckets) {
            running += bucket.load(Ordering::Relaxed);
            cumulative.push((*bound as f64 / 1e6, running));
        }
        let last = self.buckets[BUCKET_BOUNDS_US.len()].load(Ordering::Relaxed);
        HistogramSnapshot {
            cumulative,
            count: running + last,
            sum_seconds: self.sum_us.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let h = LatencyHistogram::default();
        for us in [0, 25, 26, 1_000, 400_000_000] {
            h.observe(us);
        }
        let s = h.snapshot();
        assert_eq!(s.count, 5);
        assert_eq!(s.cumulative[0], (0.000_025, 2)); // 0 and 25 (bounds are inclusive)
        assert_eq!(s.cumulative[1], (0.000_05, 3));
        assert_eq!(s.cumulative[5], (0.001, 4));
        assert_eq!(s.cumulative.last().map(|c| c.1), Some(4)); // 400 s is only in +Inf
        assert!((s.sum_seconds - 400.001_051).abs() < 1e-9);
    }

    #[test]
    fn bounds_ascend() {
        assert!(BUCKET_BOUNDS_US.windows(2).all(|w| w[0] < w[1]));
    }
}
