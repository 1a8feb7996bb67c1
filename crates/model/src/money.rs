//! Money in minor units (cents, pence) with an ISO 4217 currency code. Integers, not floats, so sums
//! over millions of orders are exact.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency code, upper case, three letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");

    /// Reads a three-letter code in any case; anything else is refused.
    pub fn parse(code: &str) -> Option<Currency> {
        let bytes = code.trim().as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        Some(Currency([
            bytes[0].to_ascii_uppercase(),
            bytes[1].to_ascii_uppercase(),
            bytes[2].to_ascii_uppercase(),
        ]))
    }

    pub fn as_str(&self) -> &str {
        // The constructor admits only ASCII letters, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Minor units per major unit. The zero-decimal currencies are the ones a small business is
    /// likely to meet; everything else has two decimals.
    pub fn minor_per_major(&self) -> i64 {
        match self.as_str() {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "HUF" | "TWD" | "UGX" | "XAF" | "XOF" => 1,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 1000,
            _ => 100,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Currency::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a currency code: {text:?}")))
    }
}

/// Which character a business's files use as the decimal mark. Numbers with grouping separators or
/// a decimal comma are read only when the business (or an import) declares one: "1,234" is 1234
/// with [`DecimalMark::Point`] and 1.234 with [`DecimalMark::Comma`], and is refused when nothing
/// says which, because guessing wrong is a silent 1,000× error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecimalMark {
    /// "1,234.56": `.` marks decimals; `,`, spaces and `'` group thousands.
    Point,
    /// "1.234,56": `,` marks decimals; `.`, spaces and `'` group thousands.
    Comma,
}

impl DecimalMark {
    pub fn as_str(self) -> &'static str {
        match self {
            DecimalMark::Point => "point",
            DecimalMark::Comma => "comma",
        }
    }

    /// The character itself.
    pub fn char(self) -> char {
        match self {
            DecimalMark::Point => '.',
            DecimalMark::Comma => ',',
        }
    }

    /// Reads "point" or "comma" (or the characters `.` and `,`), in any case.
    pub fn parse(text: &str) -> Option<DecimalMark> {
        match text.trim().to_ascii_lowercase().as_str() {
            "point" | "." | "dot" | "period" => Some(DecimalMark::Point),
            "comma" | "," => Some(DecimalMark::Comma),
            _ => None,
        }
    }
}

impl fmt::Display for DecimalMark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount of money in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    /// Converts a plain decimal amount ("12.50", "-3", ".5") to minor units, exactly, without going
    /// through floating point: an optional sign, digits, and at most one `.` as the decimal point.
    /// Returns None for anything else (thousands separators, a decimal comma, a currency symbol:
    /// those need a declared [`DecimalMark`], which `trailmap-ingest` applies before calling this)
    /// and for more decimals than the currency has (trailing zeros aside: "12.500" is 12.50).
    pub fn parse_decimal(text: &str, currency: Currency) -> Option<Money> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() && frac.is_empty() {
            return None;
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let scale = currency.minor_per_major();
        let decimals = scale.ilog10() as usize;
        let frac = frac.trim_end_matches('0');
        if frac.len() > decimals {
            return None;
        }
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
        let mut frac_minor: i64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
        for _ in frac.len()..decimals {
            frac_minor *= 10;
        }
        let minor = whole.checked_mul(scale)?.checked_add(frac_minor)?;
        Some(Money { minor: if negative { -minor } else { minor }, currency })
    }

    /// The amount in major units, for display and statistics.
    pub fn major(&self) -> f64 {
        self.minor as f64 / self.currency.minor_per_major() as f64
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = self.currency.minor_per_major();
        let decimals = scale.ilog10() as usize;
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if decimals == 0 {
            write!(f, "{sign}{abs} {}", self.currency)
        } else {
            let scale = scale as u64;
            write!(f, "{sign}{}.{:0decimals$} {}", abs / scale, abs % scale, self.currency)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_decimals_exactly() {
        let m = |t| Money::parse_decimal(t, Currency::USD).map(|m| m.minor);
        assert_eq!(m("12.50"), Some(1250));
        assert_eq!(m("1299.9"), Some(129990));
        assert_eq!(m("1,299.9"), None, "grouping needs a declared decimal mark");
        assert_eq!(m("12,50"), None, "a decimal comma needs a declared decimal mark");
        assert_eq!(m("1_299"), None);
        assert_eq!(m("-3"), Some(-300));
        assert_eq!(m(".5"), Some(50));
        assert_eq!(m("0.123"), None);
        assert_eq!(m("12.5x"), None);
        assert_eq!(m(""), None);
        assert_eq!(m("-"), None);
        assert_eq!(Money::parse_decimal("1500", Currency::parse("jpy").unwrap()).unwrap().minor, 1500);
    }

    #[test]
    fn displays_with_currency_decimals() {
        assert_eq!(Money::new(-1205, Currency::EUR).to_string(), "-12.05 EUR");
        assert_eq!(Currency::parse("us"), None);
    }
}
