//! Numbers as people's files write them, read by explicit rules and never guessed. "12,50" is
//! 12.50 in a European export and 1,250 in an American one; which it is depends on the decimal
//! mark, so a number whose reading depends on it is refused until the business (or the import)
//! declares one. The rules, all of them:
//!
//! - Undeclared: digits with at most one `.` as the decimal point ("1234.56", "-3", ".5"). A comma,
//!   a space or an apostrophe inside the number is refused as ambiguous, and so is a lone `.`
//!   followed by exactly three digits after one to three others ("1.500": 1.5, or 1,500 written
//!   the European way), except where the amount's currency has three decimals.
//! - [`DecimalMark::Point`] ("1,234.56"): `.` marks decimals; `,`, a space (also no-break and thin
//!   spaces) or `'` group thousands, in groups of exactly three digits, one kind of separator per
//!   number.
//! - [`DecimalMark::Comma`] ("1.234,56"): `,` marks decimals; `.`, a space or `'` group thousands,
//!   by the same rules.
//! - A sign is a leading `-` (or `+`); parentheses ("(12.50)") and a trailing minus are refused,
//!   because they are read differently by different tools.
//! - An amount may carry one currency symbol or ISO code before or after it ("$12.50", "12,50 €",
//!   "EUR 12.50"); it must agree with the row's currency, or the amount is refused.
//! - An amount has at most as many decimals as its currency ("0.125" USD is refused), trailing
//!   zeros aside.
//!
//! A number written as a JSON number is unambiguous and read as JSON reads it.

use trailmap_model::{Currency, DecimalMark, Money};

/// How to declare the decimal mark, for the end of a refusal.
pub const DECLARE_HINT: &str =
    "declare the decimal mark of the file (import option `decimal`: point for 1,234.56, comma for 1.234,56) or of the business";

/// A number reduced to its parts: sign, integer digits, fraction digits.
#[derive(Debug, PartialEq, Eq)]
struct Plain {
    negative: bool,
    whole: String,
    fraction: String,
}

impl Plain {
    /// The number as `-1234.56`, which `Money::parse_decimal` and `f64` both read exactly.
    fn text(&self) -> String {
        let sign = if self.negative { "-" } else { "" };
        let whole = if self.whole.is_empty() { "0" } else { &self.whole };
        if self.fraction.is_empty() {
            format!("{sign}{whole}")
        } else {
            format!("{sign}{whole}.{}", self.fraction)
        }
    }
}

/// Currency signs that may precede or follow an amount, and the currencies each may stand for.
const SYMBOLS: &[(&str, &[&str])] = &[
    ("US$", &["USD"]),
    ("CA$", &["CAD"]),
    ("C$", &["CAD"]),
    ("A$", &["AUD"]),
    ("AU$", &["AUD"]),
    ("NZ$", &["NZD"]),
    ("HK$", &["HKD"]),
    ("S$", &["SGD"]),
    ("R$", &["BRL"]),
    ("MX$", &["MXN"]),
    ("$", &["USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN", "ARS", "CLP", "COP", "TWD"]),
    ("€", &["EUR"]),
    ("£", &["GBP"]),
    ("¥", &["JPY", "CNY"]),
    ("₹", &["INR"]),
    ("₩", &["KRW"]),
    ("₽", &["RUB"]),
    ("₺", &["TRY"]),
    ("₪", &["ILS"]),
    ("₫", &["VND"]),
    ("฿", &["THB"]),
    ("₱", &["PHP"]),
    ("zł", &["PLN"]),
    ("Kč", &["CZK"]),
    ("kr.", &["DKK"]),
    ("kr", &["SEK", "NOK", "DKK", "ISK"]),
    ("Fr.", &["CHF"]),
];

/// Reads an amount of money in `currency`, which is what the row says (its currency column) or
/// the file's default.
pub fn parse_amount(text: &str, mark: Option<DecimalMark>, currency: Currency) -> Result<Money, String> {
    let original = text.trim();
    let (negative, rest) = take_sign(original);
    let (symbol, rest) = take_currency(rest);
    if let Some(symbol) = symbol
        && !symbol_fits(symbol, currency)
    {
        return Err(format!("{original:?} is written in {symbol}, but the row's currency is {currency}"));
    }
    // A sign may also follow the symbol: "$-12.50".
    let (negative_after, rest) = if negative { (false, rest) } else { take_sign(rest) };
    let plain = plain(original, rest.trim(), negative || negative_after, mark, currency.minor_per_major().ilog10())?;
    Money::parse_decimal(&plain.text(), currency).ok_or_else(|| {
        if plain.fraction.trim_end_matches('0').len() > currency.minor_per_major().ilog10() as usize {
            format!("{original:?} has more decimals than {currency} has")
        } else {
            format!("{original:?} is too large an amount")
        }
    })
}

/// Reads a number that is not money (a rating, a scale).
pub fn parse_number(text: &str, mark: Option<DecimalMark>) -> Result<f64, String> {
    let original = text.trim();
    let (negative, rest) = take_sign(original);
    let plain = plain(original, rest, negative, mark, 0)?;
    plain
        .text()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{original:?} is not a number"))
}

/// Reads a whole number (a quantity); "2.0" is 2, "2.5" is refused.
pub fn parse_whole(text: &str, mark: Option<DecimalMark>) -> Result<i64, String> {
    let original = text.trim();
    let (negative, rest) = take_sign(original);
    let plain = plain(original, rest, negative, mark, 0)?;
    if !plain.fraction.bytes().all(|b| b == b'0') {
        return Err(format!("{original:?} is not a whole number"));
    }
    let whole = if plain.whole.is_empty() { "0" } else { &plain.whole };
    let value: i64 = whole.parse().map_err(|_| format!("{original:?} is too large"))?;
    Ok(if plain.negative { -value } else { value })
}

/// Reads the text of a JSON number (always `.` for decimals, no grouping, maybe an exponent) as
/// money. Floating-point JSON numbers print their shortest exact form, so "12.5" stays 12.5.
pub fn parse_json_amount(text: &str, currency: Currency) -> Result<Money, String> {
    let value: f64 = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
    let exact = if text.contains(['e', 'E']) { format_plain(value) } else { text.to_string() };
    Money::parse_decimal(&exact, currency).ok_or_else(|| format!("{text} has more decimals than {currency} has, or is too large"))
}

/// An f64 without an exponent, for the rare JSON number written with one ("1e3").
fn format_plain(value: f64) -> String {
    let text = format!("{value}");
    if text.contains(['e', 'E']) { format!("{value:.0}") } else { text }
}

fn take_sign(text: &str) -> (bool, &str) {
    if let Some(rest) = text.strip_prefix('-').or_else(|| text.strip_prefix('\u{2212}')) {
        (true, rest.trim_start())
    } else if let Some(rest) = text.strip_prefix('+') {
        (false, rest.trim_start())
    } else {
        (false, text)
    }
}

/// Takes one currency symbol or three-letter code off the start or the end.
fn take_currency(text: &str) -> (Option<&str>, &str) {
    for (symbol, _) in SYMBOLS {
        if let Some(rest) = text.strip_prefix(symbol) {
            return (Some(symbol), rest.trim_start());
        }
        if let Some(rest) = text.strip_suffix(symbol) {
            return (Some(symbol), rest.trim_end());
        }
    }
    let code = |part: &str| part.len() == 3 && part.bytes().all(|b| b.is_ascii_alphabetic());
    if let Some((head, rest)) = text.split_once(' ')
        && code(head)
    {
        return (Some(head), rest.trim_start());
    }
    if let Some((rest, tail)) = text.rsplit_once(' ')
        && code(tail)
    {
        return (Some(tail), rest.trim_end());
    }
    (None, text)
}

fn symbol_fits(symbol: &str, currency: Currency) -> bool {
    match SYMBOLS.iter().find(|(s, _)| *s == symbol) {
        Some((_, codes)) => codes.contains(&currency.as_str()),
        None => symbol.eq_ignore_ascii_case(currency.as_str()),
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}')
}

/// The digits of a number written with `mark` (None: undeclared), or why it is refused.
/// `money_decimals` is how many decimals the amount's currency has (0 for plain numbers and
/// currencies without minor units), which decides whether "1.500" could be a decimal.
fn plain(original: &str, body: &str, negative: bool, mark: Option<DecimalMark>, money_decimals: u32) -> Result<Plain, String> {
    if body.starts_with('(') || original.starts_with('(') {
        return Err(format!("{original:?}: a negative amount in parentheses is not read; write it with a leading minus"));
    }
    if body.ends_with(['-', '\u{2212}']) {
        return Err(format!("{original:?}: a trailing minus is not read; write the minus first"));
    }
    if body.is_empty() {
        return Err(format!("{original:?} is not a number"));
    }
    if let Some(bad) = body.chars().find(|&c| !(c.is_ascii_digit() || matches!(c, '.' | ',' | '\'') || is_space(c))) {
        return Err(format!("{original:?} is not a number (it has {bad:?})"));
    }
    match mark {
        None => undeclared(original, body, negative, money_decimals),
        Some(mark) => declared(original, body, negative, mark),
    }
}

fn undeclared(original: &str, body: &str, negative: bool, money_decimals: u32) -> Result<Plain, String> {
    if body.contains(',') {
        let reading = match body.split_once(',') {
            Some((_, after)) if after.len() == 3 && !body.contains('.') => {
                "a thousands comma (1,234 is 1234) or a decimal comma (1,234 is 1.234)"
            }
            Some((_, after)) if !after.contains([',', '.']) && after.len() < 3 => "a decimal comma, as European files write it",
            _ => "a thousands separator or a decimal mark",
        };
        return Err(format!("{original:?} is ambiguous: its comma could be {reading}; {DECLARE_HINT}"));
    }
    if body.contains(|c: char| c == '\'' || is_space(c)) {
        return Err(format!("{original:?} groups its digits, which is read only with a declared decimal mark; {DECLARE_HINT}"));
    }
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if fraction.contains('.') {
        return Err(format!("{original:?} is not a number (two decimal points); if the points group thousands, {DECLARE_HINT}"));
    }
    if money_decimals < 3 && fraction.len() == 3 && (1..=3).contains(&whole.len()) && !whole.starts_with('0') {
        return Err(format!(
            "{original:?} is ambiguous: {whole}.{fraction} with a decimal point, or {whole}{fraction} with a thousands point as European files write it; {DECLARE_HINT}"
        ));
    }
    Ok(Plain { negative, whole: whole.to_string(), fraction: fraction.to_string() })
}

fn declared(original: &str, body: &str, negative: bool, mark: DecimalMark) -> Result<Plain, String> {
    let decimal = mark.char();
    let (whole, fraction) = match body.split_once(decimal) {
        Some((w, f)) => (w, f),
        None => (body, ""),
    };
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{original:?} is not a number with the decimal {}: only digits may follow the decimal mark", mark.as_str()));
    }
    let mut separator: Option<char> = None;
    let mut groups: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, c) in whole.char_indices() {
        if c.is_ascii_digit() {
            continue;
        }
        if c == decimal {
            return Err(format!("{original:?} has two decimal marks"));
        }
        let kind = if is_space(c) { ' ' } else { c };
        if separator.is_some_and(|s| s != kind) {
            return Err(format!("{original:?} mixes thousands separators"));
        }
        separator = Some(kind);
        groups.push(&whole[start..i]);
        start = i + c.len_utf8();
    }
    groups.push(&whole[start..]);
    if separator.is_some() {
        let first = groups[0];
        let well_grouped = (1..=3).contains(&first.len()) && groups[1..].iter().all(|g| g.len() == 3);
        if !well_grouped {
            return Err(format!(
                "{original:?} is not a number with the decimal {}: thousands are grouped in threes (1{}234{}56)",
                mark.as_str(),
                if mark == DecimalMark::Point { ',' } else { '.' },
                decimal
            ));
        }
    }
    Ok(Plain { negative, whole: groups.concat(), fraction: fraction.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const USD: Currency = Currency::USD;
    const EUR: Currency = Currency::EUR;

    fn cents(text: &str, mark: Option<DecimalMark>, currency: Currency) -> Result<i64, String> {
        parse_amount(text, mark, currency).map(|m| m.minor)
    }

    #[test]
    fn undeclared_reads_only_plain_numbers() {
        assert_eq!(cents("12.50", None, USD), Ok(1250));
        assert_eq!(cents("-3", None, USD), Ok(-300));
        assert_eq!(cents(".5", None, USD), Ok(50));
        assert_eq!(cents("1234.5", None, USD), Ok(123450));
        assert_eq!(cents("0.500", None, USD), Ok(50), "a leading zero cannot be a thousands group");
        for ambiguous in ["12,50", "1.234,56", "1,234", "1,234.56", "1 234", "1'234", "1.500", "12.500"] {
            let error = cents(ambiguous, None, USD).unwrap_err();
            assert!(error.contains("decimal mark") || error.contains("ambiguous"), "{ambiguous}: {error}");
        }
        assert!(cents("12,50", None, USD).unwrap_err().contains("decimal comma"));
    }

    #[test]
    fn a_declared_point_reads_grouped_numbers() {
        let p = Some(DecimalMark::Point);
        assert_eq!(cents("1,234.56", p, USD), Ok(123456));
        assert_eq!(cents("1,234,567", p, USD), Ok(123456700));
        assert_eq!(cents("1 234.5", p, USD), Ok(123450));
        assert_eq!(cents("1'234", p, USD), Ok(123400));
        assert_eq!(cents("1.500", p, USD), Ok(150));
        assert!(cents("12,50", p, USD).is_err(), "a group of two is not a thousands group");
        assert!(cents("1,234 567", p, USD).is_err(), "mixed separators");
        assert!(cents("1,234,56", p, USD).is_err());
    }

    #[test]
    fn a_declared_comma_reads_european_numbers() {
        let c = Some(DecimalMark::Comma);
        assert_eq!(cents("12,50", c, EUR), Ok(1250));
        assert_eq!(cents("1.234,56", c, EUR), Ok(123456));
        assert_eq!(cents("1 234,56 €", c, EUR), Ok(123456));
        assert_eq!(cents("1.500", c, EUR), Ok(150000));
        assert_eq!(cents("-1.234", c, EUR), Ok(-123400));
        assert!(cents("12.50", c, EUR).is_err(), "a group of two after a thousands point");
        assert!(cents("1,2,3", c, EUR).is_err());
    }

    #[test]
    fn signs_symbols_and_decimals_follow_rules() {
        assert_eq!(cents("$12.50", None, USD), Ok(1250));
        assert_eq!(cents("-$12.50", None, USD), Ok(-1250));
        assert_eq!(cents("$-12.50", None, USD), Ok(-1250));
        assert_eq!(cents("USD 12.50", None, USD), Ok(1250));
        assert_eq!(cents("12.50 usd", None, USD), Ok(1250));
        assert!(cents("€12.50", None, USD).unwrap_err().contains("row's currency is USD"));
        assert!(cents("12.50 EUR", None, USD).is_err());
        assert!(cents("(12.50)", None, USD).unwrap_err().contains("parentheses"));
        assert!(cents("12.50-", None, USD).unwrap_err().contains("trailing minus"));
        assert!(cents("0.125", None, USD).unwrap_err().contains("more decimals"));
        assert!(cents("12.5x", None, USD).is_err());
        assert!(cents("", None, USD).is_err());
        assert!(cents("-", None, USD).is_err());
        assert!(cents("1e3", None, USD).is_err());
        assert!(cents("99999999999999999999", None, USD).unwrap_err().contains("too large"));
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(cents("1.500", None, kwd), Ok(1500), "three decimals are that currency's own");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(cents("¥1500", None, jpy), Ok(1500));
    }

    #[test]
    fn ratings_and_quantities_follow_the_same_rules() {
        assert_eq!(parse_number("4.5", None), Ok(4.5));
        assert_eq!(parse_number("4,5", Some(DecimalMark::Comma)), Ok(4.5));
        assert!(parse_number("4,5", None).is_err());
        assert!(parse_number("NaN", None).is_err());
        assert!(parse_number("inf", None).is_err());
        assert_eq!(parse_whole("2", None), Ok(2));
        assert_eq!(parse_whole("2.0", None), Ok(2));
        assert!(parse_whole("2.5", None).is_err());
        assert_eq!(parse_whole("1.000", Some(DecimalMark::Comma)), Ok(1000));
        assert!(parse_whole("1,000", None).is_err());
    }

    #[test]
    fn json_numbers_are_exact() {
        assert_eq!(parse_json_amount("12.5", USD).map(|m| m.minor), Ok(1250));
        assert_eq!(parse_json_amount("1e3", USD).map(|m| m.minor), Ok(100000));
        assert!(parse_json_amount("0.125", USD).is_err());
    }
}
