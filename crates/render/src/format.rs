//! Numbers and dates as people read them: counts with thousands separators, money with its
//! currency symbol, rates as percentages, compact tick labels (1.2k, $3.4M), "nice" axis ticks in
//! 1-2-5 steps, and date ticks that suit the span shown.

use chrono::{Datelike, Months, NaiveDate};
use trailmap_model::Currency;

/// How the values of a chart are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueFormat {
    /// Whole things: customers, orders, visits. "1,234".
    #[default]
    Count,
    /// Money in major units (dollars, euros: `Money::major()`), with the currency's symbol.
    /// "$1,234", "$12.50".
    Money(Currency),
    /// A rate given as a fraction (0.342), written as a percentage: "34.2%".
    Percent,
    /// Any other number, with up to two decimals: "3.14".
    Number,
}

/// Values beyond this magnitude are clamped, so that sums and spans never overflow to infinity.
pub const MAX_MAGNITUDE: f64 = 1e15;

/// Makes a value safe to compute with: non-finite becomes `None`, huge is clamped.
pub fn clean(value: f64) -> Option<f64> {
    value.is_finite().then(|| value.clamp(-MAX_MAGNITUDE, MAX_MAGNITUDE))
}

impl ValueFormat {
    /// The value written in full, for labels next to marks.
    pub fn format(self, value: f64) -> String {
        let Some(v) = clean(value) else { return "–".to_string() };
        match self {
            ValueFormat::Count => {
                if v.fract() == 0.0 || v.abs() >= 100.0 {
                    group_thousands(v.round(), 0)
                } else {
                    trim_decimals(group_thousands(v, 1))
                }
            }
            ValueFormat::Money(currency) => {
                let digits = if v.abs() >= 1000.0 || v.fract() == 0.0 { 0 } else { 2 };
                money(v, currency, group_thousands(v.abs(), digits))
            }
            ValueFormat::Percent => percent(v),
            ValueFormat::Number => trim_decimals(group_thousands(v, 2)),
        }
    }

    /// The value written short, for axis ticks: 12k, $1.5M, 40%.
    pub fn format_tick(self, value: f64) -> String {
        let Some(v) = clean(value) else { return "–".to_string() };
        match self {
            ValueFormat::Percent => percent(v),
            ValueFormat::Money(currency) => money(v, currency, compact(v.abs())),
            ValueFormat::Count | ValueFormat::Number => {
                let text = compact(v.abs());
                if v < 0.0 { format!("-{text}") } else { text }
            }
        }
    }

    /// Whether axis steps must be whole numbers (there is no half customer).
    fn integer_steps(self) -> bool {
        matches!(self, ValueFormat::Count)
    }
}

fn money(v: f64, currency: Currency, digits: String) -> String {
    let sign = if v < 0.0 { "-" } else { "" };
    match currency.as_str() {
        "USD" => format!("{sign}${digits}"),
        "EUR" => format!("{sign}€{digits}"),
        "GBP" => format!("{sign}£{digits}"),
        "JPY" => format!("{sign}¥{digits}"),
        code => format!("{sign}{code} {digits}"),
    }
}

fn percent(v: f64) -> String {
    let p = v * 100.0;
    let text = trim_decimals(format!("{p:.1}"));
    format!("{text}%")
}

fn compact(v: f64) -> String {
    let (scaled, suffix) = if v >= 1e12 {
        (v / 1e12, "T")
    } else if v >= 1e9 {
        (v / 1e9, "B")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let digits = if suffix.is_empty() && scaled.fract() == 0.0 { 0 } else { 1 };
    let text = trim_decimals(group_thousands(scaled, digits));
    format!("{text}{suffix}")
}

/// "1234567.8" → "1,234,567.8" with `digits` decimals.
fn group_thousands(v: f64, digits: usize) -> String {
    let text = format!("{:.*}", digits, v.abs());
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// "12.50" stays for money elsewhere; here "3.10" → "3.1" and "3.00" → "3".
fn trim_decimals(text: String) -> String {
    if !text.contains('.') {
        return text;
    }
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Axis ticks in 1-2-5 steps covering `min..=max`, about `target` of them. The axis includes zero
/// when all values are on one side of it, so bars and lines are not exaggerated.
pub fn nice_ticks(min: f64, max: f64, target: usize, format: ValueFormat) -> Vec<f64> {
    let (mut lo, mut hi) = match (clean(min), clean(max)) {
        (Some(a), Some(b)) if a <= b => (a, b),
        (Some(a), Some(b)) => (b, a),
        _ => (0.0, 1.0),
    };
    lo = lo.min(0.0);
    hi = hi.max(0.0);
    if hi - lo <= 0.0 {
        hi = lo + 1.0;
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let mut step = magnitude
        * if norm <= 1.0 {
            1.0
        } else if norm <= 2.0 {
            2.0
        } else if norm <= 5.0 {
            5.0
        } else {
            10.0
        };
    if format.integer_steps() {
        step = step.max(1.0);
    }
    let start = (lo / step).floor();
    let end = (hi / step).ceil();
    let count = ((end - start) as usize).min(60);
    (0..=count).map(|i| (start + i as f64) * step).map(|v| if v == 0.0 { 0.0 } else { v }).collect()
}

/// Dates to label on a time axis from `first` to `last`: months for spans of two months or more
/// (years for very long spans), evenly spaced days otherwise. Each comes with its label.
pub fn date_ticks(first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDate, String)> {
    let days = (last - first).num_days();
    if days <= 0 {
        return vec![(first, first.format("%b %-d, %Y").to_string())];
    }
    if days < 60 {
        let step = (days as f64 / 6.0).ceil().max(1.0) as i64;
        return (0..=days / step)
            .map(|i| first + chrono::Duration::days(i * step))
            .map(|d| (d, d.format("%b %-d").to_string()))
            .collect();
    }
    let months = (last.year() - first.year()) * 12 + last.month() as i32 - first.month() as i32;
    let step = match months {
        0..=8 => 1,
        9..=18 => 2,
        19..=36 => 3,
        37..=72 => 6,
        _ => 12 * ((months / 12) as u32 / 6).max(1),
    };
    let mut out = Vec::new();
    let mut month = NaiveDate::from_ymd_opt(first.year(), first.month(), 1).unwrap_or(first);
    if month < first {
        month = month.checked_add_months(Months::new(1)).unwrap_or(last);
    }
    while month <= last && out.len() < 40 {
        let label = if out.is_empty() || month.month() == 1 {
            month.format("%b %Y").to_string()
        } else {
            month.format("%b").to_string()
        };
        out.push((month, label));
        match month.checked_add_months(Months::new(step)) {
            Some(next) => month = next,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_values() {
        assert_eq!(ValueFormat::Count.format(1234567.0), "1,234,567");
        assert_eq!(ValueFormat::Count.format(3.5), "3.5");
        assert_eq!(ValueFormat::Count.format(-42.0), "-42");
        assert_eq!(ValueFormat::Money(Currency::USD).format(12.5), "$12.50");
        assert_eq!(ValueFormat::Money(Currency::USD).format(-12.5), "-$12.50");
        assert_eq!(ValueFormat::Money(Currency::EUR).format(1234.56), "€1,235");
        assert_eq!(ValueFormat::Money(Currency::parse("chf").unwrap_or(Currency::USD)).format(5.0), "CHF 5");
        assert_eq!(ValueFormat::Percent.format(0.342), "34.2%");
        assert_eq!(ValueFormat::Percent.format(0.5), "50%");
        assert_eq!(ValueFormat::Number.format(1.23456), "1.23");
        assert_eq!(ValueFormat::Count.format(f64::NAN), "–");
    }

    #[test]
    fn formats_ticks_compactly() {
        assert_eq!(ValueFormat::Count.format_tick(12_000.0), "12k");
        assert_eq!(ValueFormat::Count.format_tick(2_500.0), "2,500");
        assert_eq!(ValueFormat::Money(Currency::USD).format_tick(1_500_000.0), "$1.5M");
        assert_eq!(ValueFormat::Percent.format_tick(0.4), "40%");
        assert_eq!(ValueFormat::Count.format_tick(-20_000.0), "-20k");
    }

    #[test]
    fn ticks_step_one_two_five() {
        assert_eq!(nice_ticks(0.0, 97.0, 5, ValueFormat::Count), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(nice_ticks(3.0, 7.0, 4, ValueFormat::Count), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_ticks(-30.0, 45.0, 5, ValueFormat::Count), vec![-40.0, -20.0, 0.0, 20.0, 40.0, 60.0]);
        // All zeros still give an axis; counts never get fractional steps.
        assert_eq!(nice_ticks(0.0, 0.0, 5, ValueFormat::Count), vec![0.0, 1.0]);
        assert_eq!(nice_ticks(0.0, 0.34, 4, ValueFormat::Percent).last().copied(), Some(0.4));
        let huge = nice_ticks(0.0, f64::MAX, 5, ValueFormat::Count);
        assert!(huge.iter().all(|v| v.is_finite()) && huge.len() >= 2);
        assert_eq!(nice_ticks(f64::NAN, f64::INFINITY, 5, ValueFormat::Count), vec![0.0, 1.0]);
    }

    #[test]
    fn date_ticks_suit_the_span() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        let year = date_ticks(d(2025, 11, 1), d(2026, 10, 31));
        assert_eq!(year.first().map(|t| t.1.as_str()), Some("Nov 2025"));
        assert_eq!(year.len(), 6);
        let week = date_ticks(d(2026, 3, 1), d(2026, 3, 7));
        assert_eq!(week.len(), 7);
        assert_eq!(week[0].1, "Mar 1");
    }
}
