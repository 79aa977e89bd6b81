//! Per-client rate limiting: a token bucket per client address. A client
//! that floods gets `429 Too Many Requests` with `Retry-After`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets are spread over shards so clients rarely share a lock.
const SHARDS: usize = 16;

/// Forget clients idle this long (keeps the table small).
const IDLE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per client address.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    shards: Vec<Mutex<HashMap<IpAddr, Bucket>>>,
}

impl RateLimiter {
    /// `per_second` requests on average, bursts up to `burst`; `None` when
    /// `per_second` is 0 (no limit).
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        (per_second > 0).then(|| Self {
            per_second: f64::from(per_second),
            burst: f64::from(burst.max(per_second)),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        })
    }

    /// Takes one token for `client`, or says how long to wait.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let shard = match client {
            IpAddr::V4(v4) => v4.octets()[3] as usize,
            IpAddr::V6(v6) => v6.octets()[15] as usize,
        } % SHARDS;
        let mut buckets = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| now.duration_since(b.last) < IDLE);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_refused_until_the_bucket_refills() {
        let limiter = RateLimiter::new(10, 20).expect("limited");
        let client: IpAddr = "127.0.0.1".parse().expect("ip");
        let other: IpAddr = "10.0.0.2".parse().expect("ip");
        let t0 = Instant::now();
        for _ in 0..20 {
            limiter.check(client, t0).expect("within the burst");
        }
        let wait = limiter.check(client, t0).expect_err("flooded");
        assert!(
            wait > Duration::from_millis(50) && wait <= Duration::from_millis(100),
            "{wait:?}"
        );
        limiter
            .check(other, t0)
            .expect("another client is not affected");
        limiter
            .check(client, t0 + Duration::from_millis(150))
            .expect("refilled");
        assert!(RateLimiter::new(0, 0).is_none(), "0 disables the limit");
    }

    #[test]
    fn equality_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
