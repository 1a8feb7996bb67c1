//! Throttles for guesses: sign-in passwords and share-link passwords. Each failure is counted
//! under one or more keys (an email with the client's address, an address alone, a link); past a
//! key's free failures, every further try must wait a delay that doubles with each failure, up to a
//! cap. Delays grow instead of locking an account, and the key that slows a guesser down always
//! includes something the guesser controls (their address), so someone who knows an owner's email
//! cannot keep the owner out from elsewhere.
//!
//! In memory, per process: a restart forgets every count, which only gives a guesser a fresh start
//! per restart (and restarts are not theirs to trigger).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use trailmap_model::Timestamp;

/// How one kind of key is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Failures within the window that cost nothing.
    pub free: usize,
    /// The wait after the first failure past the free ones; it doubles with each further failure.
    pub base_ms: i64,
    /// The longest wait.
    pub cap_ms: i64,
    /// How long a failure is remembered.
    pub window_ms: i64,
}

impl Rule {
    /// The wait after the `failures`-th failure in the window (none while within the free ones).
    pub fn delay_ms(&self, failures: usize) -> i64 {
        if failures < self.free {
            return 0;
        }
        let doublings = u32::try_from(failures - self.free).unwrap_or(u32::MAX).min(30);
        self.base_ms.saturating_mul(1_i64 << doublings).min(self.cap_ms)
    }
}

const MINUTE: i64 = Timestamp::MS_PER_MINUTE;

/// Sign-ins per email from one address: five free tries, then 30 s, 1 min, 2 min ... up to 15 min.
pub const SIGN_IN_PER_EMAIL_AND_ADDRESS: Rule = Rule { free: 5, base_ms: MINUTE / 2, cap_ms: 15 * MINUTE, window_ms: 60 * MINUTE };
/// Sign-ins from one address across emails (someone trying many accounts): twenty free tries.
pub const SIGN_IN_PER_ADDRESS: Rule = Rule { free: 20, base_ms: MINUTE, cap_ms: 15 * MINUTE, window_ms: 60 * MINUTE };
/// A share link's password from one address: five free tries, then growing waits up to 15 min.
pub const SHARE_PER_LINK_AND_ADDRESS: Rule = Rule { free: 5, base_ms: MINUTE / 2, cap_ms: 15 * MINUTE, window_ms: 60 * MINUTE };
/// A share link's password from every address together (guessing from many addresses): fifty
/// free tries an hour, then growing waits of at most a minute, so the people given the password
/// are slowed down at worst, never shut out.
pub const SHARE_PER_LINK: Rule = Rule { free: 50, base_ms: 2_000, cap_ms: MINUTE, window_ms: 60 * MINUTE };

/// Failure times per key.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Throttle {
    /// Ok when a try under every one of `keys` may be made at `now`; otherwise the seconds until
    /// it may (the longest wait among the keys).
    pub fn check(&self, keys: &[(String, Rule)], now: Timestamp) -> Result<(), u64> {
        // A poisoned lock only means another request panicked mid-update; the counts are still
        // usable, and refusing every sign-in for it would be worse.
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut wait_ms = 0;
        for (key, rule) in keys {
            let Some(times) = failures.get_mut(key) else { continue };
            while times.front().is_some_and(|t| *t <= now.0 - rule.window_ms) {
                times.pop_front();
            }
            if let Some(last) = times.back() {
                wait_ms = wait_ms.max(last + rule.delay_ms(times.len()) - now.0);
            }
        }
        if wait_ms > 0 { Err(u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000)) } else { Ok(()) }
    }

    /// Counts one failure under each of `keys`.
    pub fn record_failure(&self, keys: &[(String, Rule)], now: Timestamp) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Keys whose failures have all left the longest window are dropped, so the map stays as
        // small as the guessing of the last hour.
        let longest = keys.iter().map(|(_, r)| r.window_ms).max().unwrap_or(0);
        failures.retain(|_, times| times.back().is_some_and(|t| *t > now.0 - longest));
        for (key, _) in keys {
            failures.entry(key.clone()).or_default().push_back(now.0);
        }
    }

    /// Forgets a key's failures (after a success: the right password from that address).
    pub fn forget(&self, key: &str) {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }
}

/// A client address as logs may show it: the last byte of an IPv4 address and all but the first
/// 48 bits of an IPv6 address zeroed, as analytics tools anonymise IPs; enough to see a flood
/// from one network, never one person's address. Client addresses are not stored anywhere.
pub fn masked(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0")
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
        }
        Err(_) => "unknown".to_string(),
    }
}

/// The keys a sign-in for `email` from `address` is counted under.
pub fn sign_in_keys(email: &str, address: &str) -> [(String, Rule); 2] {
    [(sign_in_key(email, address), SIGN_IN_PER_EMAIL_AND_ADDRESS), (format!("sign-in-from:{address}"), SIGN_IN_PER_ADDRESS)]
}

/// The key of one email from one address, forgotten when that address signs in.
pub fn sign_in_key(email: &str, address: &str) -> String {
    format!("sign-in:{}|{address}", email.trim().to_lowercase())
}

/// The keys a share link's password try from `address` is counted under.
pub fn share_keys(token: &str, address: &str) -> [(String, Rule); 2] {
    [(share_key(token, address), SHARE_PER_LINK_AND_ADDRESS), (format!("share:{token}"), SHARE_PER_LINK)]
}

/// The key of one link from one address, forgotten when that address gives the right password.
pub fn share_key(token: &str, address: &str) -> String {
    format!("share:{token}|{address}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1000;

    #[test]
    fn logged_addresses_are_masked() {
        assert_eq!(masked("203.0.113.77"), "203.0.113.0");
        assert_eq!(masked("2001:db8:85a3:8d3:1319:8a2e:370:7348"), "2001:db8:85a3::");
        assert_eq!(masked("unknown"), "unknown");
    }

    #[test]
    fn delays_double_past_the_free_failures_up_to_the_cap() {
        let rule = SIGN_IN_PER_EMAIL_AND_ADDRESS;
        let delays: Vec<i64> = (0..12).map(|n| rule.delay_ms(n) / SEC).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]);
    }

    #[test]
    fn a_guesser_elsewhere_does_not_keep_the_owner_out() {
        let throttle = Throttle::default();
        let t0 = 1_000_000_000;
        for i in 0..5 {
            let at = Timestamp(t0 + i * SEC);
            assert_eq!(throttle.check(&sign_in_keys("Olive@x.example", "6.6.6.6"), at), Ok(()), "try {i}");
            throttle.record_failure(&sign_in_keys("olive@x.example", "6.6.6.6"), at);
        }
        // The guesser's sixth try waits 30 s from their last failure...
        assert_eq!(throttle.check(&sign_in_keys("olive@x.example", "6.6.6.6"), Timestamp(t0 + 4 * SEC)), Err(30));
        // ...while the owner, from their own address, is not slowed at all.
        assert_eq!(throttle.check(&sign_in_keys("olive@x.example", "1.2.3.4"), Timestamp(t0 + 5 * SEC)), Ok(()));
        // Each further failure doubles the guesser's wait.
        let at = Timestamp(t0 + 34 * SEC);
        assert_eq!(throttle.check(&sign_in_keys("olive@x.example", "6.6.6.6"), at), Ok(()));
        throttle.record_failure(&sign_in_keys("olive@x.example", "6.6.6.6"), at);
        assert_eq!(throttle.check(&sign_in_keys("olive@x.example", "6.6.6.6"), Timestamp(t0 + 35 * SEC)), Err(59));
        // A success from that address forgets its count for the email.
        throttle.forget(&sign_in_key("OLIVE@x.example ", "6.6.6.6"));
        assert_eq!(throttle.check(&sign_in_keys("olive@x.example", "6.6.6.6"), Timestamp(t0 + 36 * SEC)), Ok(()));
    }

    #[test]
    fn one_address_trying_many_emails_is_slowed_after_twenty() {
        let throttle = Throttle::default();
        let t0 = 5_000_000_000;
        for i in 0..20 {
            let email = format!("user{i}@x.example");
            assert_eq!(throttle.check(&sign_in_keys(&email, "9.9.9.9"), Timestamp(t0 + i)), Ok(()), "try {i}");
            throttle.record_failure(&sign_in_keys(&email, "9.9.9.9"), Timestamp(t0 + i));
        }
        assert_eq!(throttle.check(&sign_in_keys("new@x.example", "9.9.9.9"), Timestamp(t0 + 20)), Err(60));
        assert_eq!(throttle.check(&sign_in_keys("new@x.example", "1.1.1.1"), Timestamp(t0 + 20)), Ok(()));
    }

    #[test]
    fn failures_leave_the_window() {
        let throttle = Throttle::default();
        let t0 = 9_000_000_000;
        for i in 0..6 {
            throttle.record_failure(&share_keys("tok", "2.2.2.2"), Timestamp(t0 + i * SEC));
        }
        assert!(throttle.check(&share_keys("tok", "2.2.2.2"), Timestamp(t0 + 6 * SEC)).is_err());
        // Another link is not affected, nor the same link from another address.
        assert_eq!(throttle.check(&share_keys("other", "2.2.2.2"), Timestamp(t0 + 6 * SEC)), Ok(()));
        assert_eq!(throttle.check(&share_keys("tok", "3.3.3.3"), Timestamp(t0 + 6 * SEC)), Ok(()));
        // An hour after the last failure everything is forgotten.
        assert_eq!(throttle.check(&share_keys("tok", "2.2.2.2"), Timestamp(t0 + 5 * SEC + 60 * MINUTE)), Ok(()));
    }

    #[test]
    fn many_addresses_guessing_one_link_are_slowed_but_never_shut_out_for_long() {
        let throttle = Throttle::default();
        let t0 = 2_000_000_000;
        for i in 0..60 {
            throttle.record_failure(&share_keys("tok", &format!("10.0.0.{i}")), Timestamp(t0 + i));
        }
        let wait = throttle.check(&share_keys("tok", "1.2.3.4"), Timestamp(t0 + 60)).unwrap_err();
        assert_eq!(wait, 60, "ten failures past fifty: capped at one minute");
    }
}
