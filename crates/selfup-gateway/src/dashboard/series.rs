//! Latency percentiles and error rate over time, per capability version:
//! the calls of a window streamed once per version (one indexed range read
//! each) into equal time buckets.

use selfup_store::{Store, StoreError};
use serde::Serialize;

/// Most buckets a series may be cut into.
pub const MAX_BUCKETS: u32 = 500;

/// One time bucket of one version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// Start of the bucket, ms since the Unix epoch.
    pub t_ms: i64,
    /// Calls in the bucket.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// `errors / calls`.
    pub error_rate: f64,
    /// Median latency, ms (nearest rank).
    pub p50_ms: f64,
    /// 95th percentile latency, ms.
    pub p95_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
}

/// The buckets of one capability version that had calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionSeries {
    /// The capability.
    pub capability: String,
    /// The plugin serving it (empty for calls nobody could serve).
    pub plugin: String,
    /// Its version (empty when nobody served it).
    pub version: String,
    /// Buckets with at least one call, in time order.
    pub points: Vec<Point>,
}

/// Every version's series over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Start of the window.
    pub from_ms: i64,
    /// End of the window (exclusive).
    pub to_ms: i64,
    /// Width of a bucket, ms.
    pub bucket_ms: i64,
    /// Per capability version, by capability, plugin and version.
    pub series: Vec<VersionSeries>,
}

/// The calls of `[from_ms, to_ms)` cut into `buckets` buckets (1 to
/// [`MAX_BUCKETS`]) per capability version.
pub fn series(store: &Store, from_ms: i64, to_ms: i64, buckets: u32) -> Result<Series, StoreError> {
    let to_ms = to_ms.max(from_ms + 1);
    let buckets = buckets.clamp(1, MAX_BUCKETS);
    let bucket_ms = ((to_ms - from_ms) / i64::from(buckets)).max(1);
    let mut out = Vec::new();
    for target in store.call_targets_between(from_ms, to_ms)? {
        let mut acc: Vec<(u64, Vec<u64>)> = vec![(0, Vec::new()); buckets as usize];
        store.for_each_call(target.id, from_ms, to_ms, |call| {
            let index = ((call.ts_ms - from_ms) / bucket_ms).clamp(0, i64::from(buckets) - 1);
            let slot = &mut acc[index as usize];
            slot.0 += u64::from(call.failed);
            slot.1.push(call.latency_us);
        })?;
        let points: Vec<Point> = acc
            .into_iter()
            .enumerate()
            .filter(|(_, (_, latencies))| !latencies.is_empty())
            .map(|(i, (errors, mut latencies))| {
                latencies.sort_unstable();
                let calls = latencies.len() as u64;
                Point {
                    t_ms: from_ms + i as i64 * bucket_ms,
                    calls,
                    errors,
                    error_rate: errors as f64 / calls as f64,
                    p50_ms: nearest_rank_ms(&latencies, 0.50),
                    p95_ms: nearest_rank_ms(&latencies, 0.95),
                    p99_ms: nearest_rank_ms(&latencies, 0.99),
                }
            })
            .collect();
        if !points.is_empty() {
            out.push(VersionSeries {
                capability: target.capability,
                plugin: target.plugin,
                version: target.version,
                points,
            });
        }
    }
    Ok(Series {
        from_ms,
        to_ms,
        bucket_ms,
        series: out,
    })
}

/// The nearest-rank `q` quantile of sorted microseconds, in ms.
fn nearest_rank_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_picks_the_value_at_the_rank() {
        let v: Vec<u64> = (1..=100).map(|x| x * 1000).collect();
        assert_eq!(nearest_rank_ms(&v, 0.5), 50.0);
        assert_eq!(nearest_rank_ms(&v, 0.95), 95.0);
        assert_eq!(nearest_rank_ms(&v, 0.99), 99.0);
        assert_eq!(nearest_rank_ms(&[7000], 0.99), 7.0);
        assert_eq!(nearest_rank_ms(&[], 0.5), 0.0);
    }
}
