//! The one reader of durations written as text, shared by every front end (a funnel's window, a
//! session gap, an attribution lookback, a fixture's `+1h30m`): numbers each followed by a unit,
//! `ms`, `s`, `m` (or `min`), `h`, `d` or `w`, as in `30m`, `24h`, `7d`, `2w`, `1h30m` or `1.5d`;
//! a bare number is days. It lives here, with the types every crate speaks, so the test fixtures
//! (which the app depends on) read the same language as the app's requests.

use crate::Timestamp;

/// The longest duration read: ten years, far beyond any window or lookback that means something,
/// and small enough that no sum overflows.
pub const MAX_DURATION_MS: i64 = 3650 * Timestamp::MS_PER_DAY;

/// Reads a duration into milliseconds, or says why it cannot (without naming a field: the caller
/// knows which one it read).
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a duration; write a number and a unit (ms, s, m, h, d, w), as in 30m, 24h or 7d");
    if text.is_empty() {
        return Err(bad());
    }
    let number_end = |rest: &str| rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
    let mut total = 0.0_f64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = number_end(rest);
        let letters = rest[digits..].find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len() - digits);
        if digits == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        let unit = match &rest[digits..digits + letters] {
            // A bare number, alone, is days; in a sequence every number needs its unit.
            "" if rest.len() == text.len() => Timestamp::MS_PER_DAY,
            "ms" => 1,
            "s" => Timestamp::MS_PER_SECOND,
            "m" | "min" => Timestamp::MS_PER_MINUTE,
            "h" => Timestamp::MS_PER_HOUR,
            "d" => Timestamp::MS_PER_DAY,
            "w" => 7 * Timestamp::MS_PER_DAY,
            _ => return Err(bad()),
        };
        total += number * unit as f64;
        rest = &rest[digits + letters..];
    }
    if !total.is_finite() || total.round() < 1.0 {
        return Err(format!("{text:?} must be more than zero"));
    }
    if total > MAX_DURATION_MS as f64 {
        return Err(format!("{text:?} must be at most ten years"));
    }
    Ok(total.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_every_unit_and_refuse_what_is_not_one() {
        const DAY: i64 = Timestamp::MS_PER_DAY;
        for (text, ms) in [
            ("30m", 30 * 60_000),
            ("24h", DAY),
            ("7d", 7 * DAY),
            ("2w", 14 * DAY),
            ("7", 7 * DAY),
            (" 1.5d ", 36 * 3_600_000),
            ("1h30m", 90 * 60_000),
            ("90s", 90_000),
            ("250ms", 250),
            ("5min", 300_000),
            ("3650d", 3650 * DAY),
        ] {
            assert_eq!(parse_duration(text), Ok(ms), "{text:?}");
        }
        for bad in ["", "d", "7x", "0d", "-1d", "1h30", "99999999999w", "3651d", "1..2d", "0.0001ms"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(parse_duration("soon").unwrap_err().starts_with("\"soon\" is not a duration"));
    }
}
