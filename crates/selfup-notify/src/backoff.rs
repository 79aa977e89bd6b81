//! When to try a failed delivery again: exponential backoff (base, 2×base,
//! 4×base, … capped) stretched by up to a quarter by a jitter drawn from
//! the delivery id and attempt (so deliveries failing together spread out,
//! and a test sees the same delays every run), or the receiver's
//! `Retry-After` when that is later.

use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime};

/// The longest `Retry-After` honoured (a receiver asking for more gets this).
const MAX_RETRY_AFTER_MS: i64 = 3_600_000;

/// The backoff policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    /// The delay after the first failure.
    pub base: Duration,
    /// The longest delay.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// Milliseconds to wait after the `attempt`-th (1-based) failed attempt
    /// of `delivery_id`, at least `retry_after_ms` when the receiver sent one.
    pub fn delay_ms(&self, delivery_id: &str, attempt: u32, retry_after_ms: Option<i64>) -> i64 {
        let base = self.base.as_millis().min(i64::MAX as u128) as i64;
        let cap = self.cap.as_millis().min(i64::MAX as u128) as i64;
        let exp = attempt.saturating_sub(1).min(40);
        let nominal = base.saturating_mul(1_i64 << exp).min(cap);
        let jitter = nominal / 4 * (jitter_permille(delivery_id, attempt) as i64) / 1000;
        let backoff = nominal.saturating_add(jitter);
        match retry_after_ms {
            Some(after) => backoff.max(after.clamp(0, MAX_RETRY_AFTER_MS)),
            None => backoff,
        }
    }
}

fn jitter_permille(delivery_id: &str, attempt: u32) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (delivery_id, attempt).hash(&mut h);
    h.finish() % 1000
}

/// A `Retry-After` header's delay in ms: delta-seconds, or an HTTP date
/// (read against the system clock, as the receiver wrote it).
pub(crate) fn parse_retry_after(value: &str) -> Option<i64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Some(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_bounded_jitter_up_to_the_cap() {
        let b = Backoff::default();
        for (attempt, nominal) in [
            (1, 1_000),
            (2, 2_000),
            (3, 4_000),
            (9, 256_000),
            (10, 300_000),
            (60, 300_000),
        ] {
            let d = b.delay_ms("42-0", attempt, None);
            assert!(d >= nominal && d <= nominal + nominal / 4, "{attempt}: {d}");
            assert_eq!(d, b.delay_ms("42-0", attempt, None), "deterministic");
        }
        assert_eq!(b.delay_ms("42-0", 1, Some(30_000)), 30_000);
        assert_eq!(b.delay_ms("42-0", 1, Some(i64::MAX)), MAX_RETRY_AFTER_MS);
    }

    #[test]
    fn reads_both_forms_of_retry_after() {
        assert_eq!(parse_retry_after(" 120 "), Some(120_000));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
