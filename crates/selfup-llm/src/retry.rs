//! When to retry and how long to wait, as the official SDKs do
//! (openai-python `_base_client.py`: `_should_retry`,
//! `_parse_retry_after_header`, `_calculate_retry_timeout`; openai-node
//! `core.ts` likewise): connection errors, timeouts, 408, 409, 429 and 5xx
//! are retried up to `max_retries` times; an `x-should-retry` header
//! decides when present; the wait is the server's `retry-after-ms` or
//! `Retry-After` (seconds or an HTTP date) when it is within 60 s, else
//! 0.5 s doubling per retry up to 8 s, minus up to 25 % jitter.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// The first backoff (openai-python `INITIAL_RETRY_DELAY`).
pub const INITIAL_RETRY_DELAY: Duration = Duration::from_millis(500);
/// The longest backoff (openai-python `MAX_RETRY_DELAY`).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(8);
/// The longest server-requested wait we honour; a server asking for more
/// is not retried (the loop asks again next cycle).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Statuses never retried, whatever the headers say: the request itself
/// is wrong (or the key, or the URL), so sending it again cannot help.
const NEVER_RETRIED: [u16; 5] = [400, 401, 403, 404, 422];

/// Whether a response with this status and these headers may be retried.
pub fn retryable_status(status: u16, headers: &HeaderMap) -> bool {
    if NEVER_RETRIED.contains(&status) {
        return false;
    }
    // A non-standard header OpenAI sends; the SDKs obey it.
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some("true") => return true,
        Some("false") => return false,
        _ => {}
    }
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// The wait a server asked for: `retry-after-ms` (milliseconds), then
/// `retry-after` as seconds (a float is accepted, as the SDKs do) or as an
/// HTTP date relative to `now`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return seconds(ms / 1000.0);
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.trim().parse::<f64>() {
        return seconds(secs);
    }
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn seconds(s: f64) -> Option<Duration> {
    (s.is_finite() && s >= 0.0).then(|| Duration::from_secs_f64(s.min(1e9)))
}

/// The exponential backoff before retry number `retries_taken + 1`, with
/// `unit` in [0, 1) choosing the jitter (openai-python: `sleep * (1 - 0.25 * random())`).
pub fn backoff(retries_taken: u32, unit: f64) -> Duration {
    let base = INITIAL_RETRY_DELAY.as_secs_f64() * 2f64.powi(retries_taken.min(30) as i32);
    let capped = base.min(MAX_RETRY_DELAY.as_secs_f64());
    Duration::from_secs_f64(capped * (1.0 - 0.25 * unit.clamp(0.0, 1.0)))
}

/// How long to wait before the next retry, or `None` when the server asked
/// for longer than [`MAX_RETRY_AFTER`] (then the call fails now).
pub fn delay(retries_taken: u32, headers: Option<&HeaderMap>, now: SystemTime) -> Option<Duration> {
    if let Some(wait) = headers.and_then(|h| retry_after(h, now)) {
        if wait > MAX_RETRY_AFTER {
            return None;
        }
        if wait > Duration::ZERO {
            return Some(wait);
        }
    }
    Some(backoff(retries_taken, jitter_unit()))
}

/// A number in [0, 1) from the process's random hasher keys (no RNG crate
/// needed for jitter).
fn jitter_unit() -> f64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header value"));
        }
        h
    }

    #[test]
    fn statuses_are_retried_as_the_sdks_do() {
        let none = HeaderMap::new();
        for s in [408, 409, 429, 500, 502, 503, 504] {
            assert!(retryable_status(s, &none), "{s}");
        }
        for s in [400, 401, 403, 404, 422, 418] {
            assert!(!retryable_status(s, &none), "{s}");
        }
        assert!(!retryable_status(
            503,
            &headers(&[("x-should-retry", "false")])
        ));
        assert!(retryable_status(
            418,
            &headers(&[("x-should-retry", "true")])
        ));
        assert!(!retryable_status(
            400,
            &headers(&[("x-should-retry", "true")])
        ));
    }

    #[test]
    fn retry_after_is_read_in_every_form() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ms = headers(&[("retry-after-ms", "1500"), ("retry-after", "9")]);
        assert_eq!(retry_after(&ms, now), Some(Duration::from_millis(1500)));
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2.5")]), now),
            Some(Duration::from_millis(2500))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &date)]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(
            delay(0, Some(&headers(&[("retry-after", "61")])), now),
            None
        );
        assert_eq!(
            delay(0, Some(&headers(&[("retry-after", "3")])), now),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn backoff_doubles_to_eight_seconds_with_a_quarter_of_jitter() {
        assert_eq!(backoff(0, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(1, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(3, 0.0), Duration::from_secs(4));
        assert_eq!(backoff(10, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(0, 1.0), Duration::from_millis(375));
        for _ in 0..100 {
            let d = delay(2, None, SystemTime::now()).expect("delay");
            assert!(d >= Duration::from_millis(1500) && d <= Duration::from_secs(2));
        }
    }
}
