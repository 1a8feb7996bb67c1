//! Reading the times and dates found in import files. One hand-written parser covers RFC 3339 and
//! the shapes Shopify, Stripe and spreadsheets write, because a general date library costs more per
//! row than everything else an event import does, and imports must stay fast.

use chrono::NaiveDate;
use trailmap_model::Timestamp;

const ACCEPTED: &str = "expected RFC 3339 like 2024-01-15T10:23:45Z or 2024-01-15 10:23:45+01:00, \
     2024-01-15 10:23:45 -0500, 2024-01-15 10:23[:45] (UTC), 2024-01-15 (midnight UTC), \
     or Unix seconds or milliseconds";

/// Reads a point in time. Accepted forms:
/// - RFC 3339, with or without fractional seconds, `Z` or an offset, `T` or a space between date
///   and time (`2024-01-15T10:23:45.123Z`, `2024-01-15 10:23:45+01:00`);
/// - Shopify's `2024-01-15 10:23:45 -0500`;
/// - Stripe's `2024-01-15 10:23:45` and `2024-01-15 10:23`, read as UTC;
/// - a date alone, `2024-01-15`, read as midnight UTC;
/// - Unix seconds (up to 11 digits, optionally with a fraction: `1700000000.5`) or milliseconds
///   (12 or 13 digits).
///
/// Fractions finer than a millisecond are truncated. The error quotes the value and lists the forms.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    let trimmed = text.trim();
    parse(trimmed.as_bytes())
        .map(Timestamp)
        .ok_or_else(|| format!("not a time: {trimmed:?} ({ACCEPTED})"))
}

/// Reads a period of whole days: a day (`2024-03-05`, or any time [`parse_timestamp`] reads, taken
/// as its UTC date) is that day; a month (`2024-03`) is its first to its last day.
pub fn parse_period(text: &str) -> Result<(NaiveDate, NaiveDate), String> {
    let t = text.trim();
    let b = t.as_bytes();
    if b.len() == 7 && b[4] == b'-' {
        let month = digits(&b[0..4]).zip(digits(&b[5..7])).and_then(|(y, m)| {
            let first = NaiveDate::from_ymd_opt(y as i32, m as u32, 1)?;
            let last = first
                .checked_add_months(chrono::Months::new(1))?
                .pred_opt()?;
            Some((first, last))
        });
        return month.ok_or_else(|| format!("not a month: {t:?} (expected YYYY-MM)"));
    }
    match parse_timestamp(t) {
        Ok(ts) => Ok((ts.date(), ts.date())),
        Err(_) => Err(format!(
            "not a date: {t:?} (expected YYYY-MM-DD or a month YYYY-MM)"
        )),
    }
}

fn parse(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    if b.len() < 5 || b[4] != b'-' {
        return parse_unix(b);
    }
    if b.len() < 10 || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let midnight = days_from_civil(year, month, day) * Timestamp::MS_PER_DAY;
    let rest = &b[10..];
    if rest.is_empty() {
        return Some(midnight);
    }
    if !matches!(rest[0], b'T' | b't' | b' ') {
        return None;
    }
    let rest = &rest[1..];
    if rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let hour = digits(&rest[0..2])?;
    let minute = digits(&rest[3..5])?;
    let mut i = 5;
    let mut second = 0;
    if rest.get(i) == Some(&b':') {
        second = digits(rest.get(i + 1..i + 3)?)?;
        i += 3;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut millis = 0;
    if matches!(rest.get(i), Some(b'.' | b',')) {
        i += 1;
        let start = i;
        while rest.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(rest[i] - b'0');
            }
            i += 1;
        }
        let len = i - start;
        if len == 0 {
            return None;
        }
        for _ in len..3 {
            millis *= 10;
        }
    }
    while rest.get(i) == Some(&b' ') {
        i += 1;
    }
    let offset_minutes = parse_zone(&rest[i..])?;
    Some(
        midnight
            + ((hour * 60 + minute - offset_minutes) * 60 + second) * Timestamp::MS_PER_SECOND
            + millis,
    )
}

/// Reads what follows the time: nothing or `Z` or `UTC` (UTC), or `±HH:MM`, `±HHMM`, `±HH`.
fn parse_zone(z: &[u8]) -> Option<i64> {
    match z {
        [] | [b'Z' | b'z'] | b"UTC" | b"GMT" => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            Some(if *sign == b'-' { -minutes } else { minutes })
        }
        _ => None,
    }
}

/// Unix seconds (up to 11 digits, with an optional fraction) or milliseconds (12 or 13 digits).
fn parse_unix(b: &[u8]) -> Option<i64> {
    let (whole, frac) = match b.iter().position(|&c| c == b'.') {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    if whole.is_empty() || whole.len() > 13 {
        return None;
    }
    let n = digits(whole)?;
    if whole.len() >= 12 {
        // Milliseconds; a fraction of a millisecond is dropped.
        frac.map_or(Some(()), |f| digits(f).map(|_| ()))?;
        return Some(n);
    }
    let mut millis = 0;
    if let Some(f) = frac {
        if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
            return None;
        }
        for k in 0..3 {
            millis = millis * 10 + f.get(k).map_or(0, |d| i64::from(d - b'0'));
        }
    }
    Some(n * Timestamp::MS_PER_SECOND + millis)
}

/// The value of a run of ASCII digits; None when empty or when anything else is in it.
fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some(n)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm), exact for the proleptic
/// Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        parse_timestamp(text).unwrap().0
    }

    #[test]
    fn reads_every_accepted_form() {
        let base = 1_705_314_225_000; // 2024-01-15T10:23:45Z
        assert_eq!(ms("2024-01-15T10:23:45Z"), base);
        assert_eq!(ms("2024-01-15T10:23:45.123Z"), base + 123);
        assert_eq!(ms("2024-01-15T10:23:45.1Z"), base + 100);
        assert_eq!(ms("2024-01-15T10:23:45.123456789Z"), base + 123);
        assert_eq!(ms("2024-01-15 10:23:45Z"), base);
        assert_eq!(ms("2024-01-15T11:23:45+01:00"), base);
        assert_eq!(ms("2024-01-15 05:23:45 -0500"), base);
        assert_eq!(ms("2024-01-15 05:23:45-05"), base);
        assert_eq!(ms("2024-01-15 10:23:45"), base);
        assert_eq!(ms("2024-01-15 10:23"), base - 45_000);
        assert_eq!(ms("2024-01-15"), 1_705_276_800_000);
        assert_eq!(ms("  1705314225 "), base);
        assert_eq!(ms("1705314225123"), base + 123);
        assert_eq!(ms("1705314225.5"), base + 500);
        assert_eq!(ms("2024-02-29T00:00:00Z"), 1_709_164_800_000);
        assert_eq!(ms("1969-12-31T23:59:59Z"), -1000);
    }

    #[test]
    fn agrees_with_chrono_on_offsets() {
        for text in [
            "2023-12-31T23:59:59.999-08:00",
            "2000-03-01T00:00:00+14:00",
            "1999-12-31T12:00:00Z",
        ] {
            let want = chrono::DateTime::parse_from_rfc3339(text)
                .unwrap()
                .timestamp_millis();
            assert_eq!(ms(text), want, "{text}");
        }
    }

    #[test]
    fn refuses_garbage_with_the_value_and_the_forms() {
        let e = parse_timestamp("15/01/2024").unwrap_err();
        assert!(
            e.starts_with("not a time: \"15/01/2024\" (expected RFC 3339"),
            "{e}"
        );
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-02-30",
            "2024-01-15T25:00:00Z",
            "2024-01-15T10:23:45+0",
            "2024-01-15T10:23:45.Z",
            "12345678901234",
            "2024-01-15X10:00",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn periods_are_days_or_months() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            parse_period("2024-02").unwrap(),
            (d("2024-02-01"), d("2024-02-29"))
        );
        assert_eq!(
            parse_period("2024-12").unwrap(),
            (d("2024-12-01"), d("2024-12-31"))
        );
        assert_eq!(
            parse_period("2024-03-05").unwrap(),
            (d("2024-03-05"), d("2024-03-05"))
        );
        assert!(
            parse_period("2024-13")
                .unwrap_err()
                .contains("not a month: \"2024-13\"")
        );
        assert!(
            parse_period("March")
                .unwrap_err()
                .contains("not a date: \"March\"")
        );
    }
}
