//! Per-write-key rate limits: a token bucket per key. A key may send `burst` requests at once and
//! `rate_per_second` sustained; a request over that is answered 429 `rate_limited` with
//! `Retry-After`, as Segment answers, and well-behaved clients (Segment's among them) back off and
//! retry. The default is generous (2,000 requests a second, 200,000 events a second in batches
//! of 100), so it stops a runaway client without throttling a real site or the load benchmark.

use crate::error::ApiError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tracking API's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackingOptions {
    /// Requests per second each write key may send, sustained. Zero or less means no limit.
    pub rate_per_second: f64,
    /// Requests each write key may send at once after being idle (the bucket's size).
    pub burst: f64,
}

impl Default for TrackingOptions {
    fn default() -> TrackingOptions {
        TrackingOptions { rate_per_second: 2000.0, burst: 4000.0 }
    }
}

/// The environment variable that sets the rate limit: `RATE` or `RATE/BURST` requests (per second,
/// per write key), or `off`.
pub const RATE_LIMIT_VAR: &str = "TRAILMAP_RATE_LIMIT";

impl TrackingOptions {
    /// The defaults, with the rate limit from `TRAILMAP_RATE_LIMIT` when it is set.
    pub fn from_env() -> Result<TrackingOptions, String> {
        match std::env::var(RATE_LIMIT_VAR) {
            Ok(text) => TrackingOptions::parse_rate_limit(&text),
            Err(_) => Ok(TrackingOptions::default()),
        }
    }

    /// Reads `RATE`, `RATE/BURST` or `off` (the burst defaults to twice the rate).
    pub fn parse_rate_limit(text: &str) -> Result<TrackingOptions, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(TrackingOptions { rate_per_second: 0.0, burst: 0.0 });
        }
        let bad = || format!("{RATE_LIMIT_VAR}={text:?} is not RATE, RATE/BURST (requests per second per write key) or off");
        let (rate, burst) = match text.split_once('/') {
            Some((r, b)) => (r.trim().parse::<f64>().map_err(|_| bad())?, Some(b.trim().parse::<f64>().map_err(|_| bad())?)),
            None => (text.parse::<f64>().map_err(|_| bad())?, None),
        };
        let burst = burst.unwrap_or(rate * 2.0);
        if !rate.is_finite() || rate <= 0.0 || !burst.is_finite() || burst < 1.0 {
            return Err(bad());
        }
        Ok(TrackingOptions { rate_per_second: rate, burst })
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every write key seen, by key hash.
#[derive(Debug)]
pub(super) struct RateLimits {
    options: TrackingOptions,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimits {
    pub(super) fn new(options: TrackingOptions) -> RateLimits {
        RateLimits { options, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from the key's bucket at `now`; when it is empty, how long until it
    /// holds one again.
    pub(super) fn check(&self, key_hash: &str, now: Instant) -> Result<(), Duration> {
        let TrackingOptions { rate_per_second: rate, burst } = self.options;
        if rate <= 0.0 {
            return Ok(());
        }
        // A poisoned lock only means another request panicked mid-update; the numbers are
        // still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = match buckets.get_mut(key_hash) {
            Some(b) => b,
            None => buckets.entry(key_hash.to_string()).or_insert(Bucket { tokens: burst, at: now }),
        };
        let idle = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + idle * rate).min(burst);
        bucket.at = bucket.at.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

/// The 429 answer: `rate_limited`, with `Retry-After` in whole seconds (at least one).
pub(super) fn rate_limited(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("this write key sent more requests than its limit; retry in {seconds} s"),
    )
    .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let limits = RateLimits::new(TrackingOptions { rate_per_second: 10.0, burst: 3.0 });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limits.check("k", t0), Ok(()));
        }
        // Empty: the next token comes in a tenth of a second.
        let wait = limits.check("k", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-9, "{wait:?}");
        // Another key has its own bucket.
        assert_eq!(limits.check("other", t0), Ok(()));
        // After 0.25 s two tokens have come back (and a half).
        let t1 = t0 + Duration::from_millis(250);
        assert_eq!(limits.check("k", t1), Ok(()));
        assert_eq!(limits.check("k", t1), Ok(()));
        let wait = limits.check("k", t1).unwrap_err();
        assert!((wait.as_secs_f64() - 0.05).abs() < 1e-9, "{wait:?}");
        // A long rest refills only up to the burst.
        let t2 = t1 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(limits.check("k", t2), Ok(()));
        }
        assert!(limits.check("k", t2).is_err());
        // An instant from before the last one (threads race) takes nothing back.
        assert!(limits.check("k", t1).is_err());
    }

    #[test]
    fn no_limit_and_parsing() {
        let off = RateLimits::new(TrackingOptions { rate_per_second: 0.0, burst: 0.0 });
        let t = Instant::now();
        assert!((0..10_000).all(|_| off.check("k", t).is_ok()));
        assert_eq!(TrackingOptions::parse_rate_limit("50/80"), Ok(TrackingOptions { rate_per_second: 50.0, burst: 80.0 }));
        assert_eq!(TrackingOptions::parse_rate_limit(" 50 "), Ok(TrackingOptions { rate_per_second: 50.0, burst: 100.0 }));
        assert_eq!(TrackingOptions::parse_rate_limit("OFF").map(|o| o.rate_per_second), Ok(0.0));
        for bad in ["", "fast", "0", "-1/5", "10/0", "NaN", "5/x"] {
            assert!(TrackingOptions::parse_rate_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retry_after_is_whole_seconds_at_least_one() {
        for (wait, expected) in [(Duration::from_millis(1), "1"), (Duration::from_millis(1500), "2"), (Duration::from_secs(3), "3")] {
            let r = rate_limited(wait);
            assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(r.headers()[header::RETRY_AFTER], expected);
        }
    }
}
