//! Every question the front ends ask, as one typed request each, parsed and defaulted here once:
//! the CLI's flags, the pages' GET forms and the JSON API's query strings only translate to these
//! types and back. A new analysis parameter goes in one place, the request type of its analysis
//! in this module (its field, its default, its parsing from [`Params`]); the CLI flag, the form
//! field and the API parameter then name it.
//!
//! [`Params`] are the raw key/value pairs of a query string. The readers here ([`duration`],
//! [`choice`], [`count`], [`day`], [`period`]) refuse a bad value with
//! [`AppError::InvalidField`], whose message starts with the field's name (`window: "soon" is not
//! a duration...`), never a CLI flag: the server answers it as a 400 `invalid_input`, the CLI shows
//! the field as its flag (`--window`).

mod attribution;
pub use attribution::{ATTRIBUTION_KEYS, ATTRIBUTION_MODELS};
mod clv;
mod flows;
mod funnel;
mod impact;
mod periods;
mod retention;
mod voice;

pub use clv::{ClvAnswer, ClvOverview, ClvSummary};
pub use flows::{PathsRequest, SANKEY_STEPS};
pub use funnel::default_funnel_steps;
pub use impact::ImpactQuery;
pub use periods::{CustomersQuery, InsightsQuery, NumbersQuery, link_expiry};
pub use retention::RetentionRequest;
pub use voice::{score_grouping, stop_word_list};
pub use trailmap_model::parse_duration;

/// A typed request read from a query string's parameters: absent parameters take the request's
/// defaults, bad ones are refused naming the field.
pub trait FromParams: Sized {
    fn from_params(params: &Params) -> Result<Self>;
}

use crate::{AppError, DayRange, Result};
use chrono::NaiveDate;

/// A query string's parameters, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// The parameters of a raw (percent-encoded) query string; none without one.
    pub fn parse(raw: Option<&str>) -> Params {
        Params(raw.map(|r| form_urlencoded::parse(r.as_bytes()).into_owned().collect()).unwrap_or_default())
    }

    /// Parameters given as pairs, as a front end that read them itself has them.
    pub fn of<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Params {
        Params(pairs.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string()))).collect())
    }

    /// The parameter's trimmed value; an absent or empty parameter is `None` (the default).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The same parameters with `format` set to `format` (or removed with `None`), encoded: the
    /// export links of a page.
    pub fn with_format(&self, format: Option<&str>) -> String {
        let mut encoder = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.0.iter().filter(|(k, v)| k != "format" && !v.trim().is_empty()) {
            encoder.append_pair(k, v);
        }
        if let Some(f) = format {
            encoder.append_pair("format", f);
        }
        encoder.finish()
    }
}

/// A value given and not blank, trimmed.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|s| !s.is_empty())
}

/// A field's error: its name and why, as [`AppError::InvalidField`].
pub fn field_error(field: &str, reason: impl Into<String>) -> AppError {
    AppError::InvalidField { field: field.to_string(), value: None, reason: reason.into() }
}

/// Reads a duration (`30m`, `24h`, `7d`, `2w`, `1h30m`; a bare number is days) into
/// milliseconds by the model's one reader, naming `field` when it cannot.
pub fn duration(field: &str, text: &str) -> Result<i64> {
    trailmap_model::parse_duration(text).map_err(|reason| field_error(field, reason))
}

/// Reads a choice among `allowed` (`default` when absent), naming `field` when it is not one.
pub fn choice<'a>(field: &str, value: Option<&'a str>, default: &'a str, allowed: &[&str]) -> Result<&'a str> {
    let value = value.unwrap_or(default);
    if allowed.contains(&value) {
        Ok(value)
    } else {
        Err(field_error(field, format!("{value:?} is not one of {}", allowed.join(", "))))
    }
}

/// Reads a whole number in `min..=max` (`default` when absent), naming `field` when it is not.
pub fn count(field: &str, value: Option<&str>, default: usize, min: usize, max: usize) -> Result<usize> {
    let Some(text) = value else { return Ok(default) };
    match text.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(field_error(field, format!("{text:?} is not a whole number from {min} to {max}"))),
    }
}

/// Reads a day written YYYY-MM-DD, naming `field` when it cannot.
pub fn day(field: &str, text: &str) -> Result<NaiveDate> {
    text.trim().parse().map_err(|_| field_error(field, format!("{text:?} is not a date (YYYY-MM-DD)")))
}

/// Reads a period of whole days from `from` and `to` (both included), both or neither: `None`
/// when neither is given, so the caller takes its default period.
pub fn period(from: Option<&str>, to: Option<&str>) -> Result<Option<DayRange>> {
    match (present(from), present(to)) {
        (Some(from), Some(to)) => {
            let (from, to) = (day("from", from)?, day("to", to)?);
            if to < from {
                return Err(field_error("to", format!("the last day {to} is before the first (from) {from}")));
            }
            DayRange::new(from, to).map(Some)
        }
        (None, None) => Ok(None),
        _ => Err(field_error("from and to", "give both dates or neither")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<impl std::fmt::Debug>) -> String {
        result.expect_err("refused").to_string()
    }

    #[test]
    fn readers_name_the_field_and_the_reason() {
        assert_eq!(duration("window", "7d").ok(), Some(7 * 86_400_000));
        assert_eq!(duration("window", "2w").ok(), Some(14 * 86_400_000));
        for bad in ["", "d", "7x", "0d", "-1d", "99999999999w"] {
            assert!(message(duration("window", bad)).starts_with("window: "), "{bad:?}");
        }
        assert_eq!(choice("mode", None, "ordered", &["ordered", "strict"]).ok(), Some("ordered"));
        assert_eq!(message(choice("mode", Some("sideways"), "ordered", &["ordered", "strict"])), "mode: \"sideways\" is not one of ordered, strict");
        assert_eq!(count("top", Some("10"), 50, 1, 500).ok(), Some(10));
        assert_eq!(count("top", None, 50, 1, 500).ok(), Some(50));
        assert!(message(count("top", Some("0"), 50, 1, 500)).starts_with("top: \"0\" is not a whole number from 1 to 500"));
        assert_eq!(day("from", "2026-02-03").ok(), NaiveDate::from_ymd_opt(2026, 2, 3));
        assert!(message(day("to", "2026-02-30")).starts_with("to: "));
        assert_eq!(period(None, Some(" ")).ok(), Some(None));
        assert!(message(period(Some("2026-01-01"), None)).starts_with("from and to: "));
        assert!(message(period(Some("2026-01-05"), Some("2026-01-01"))).starts_with("to: "));
        let p = period(Some("2026-01-01"), Some("2026-01-31")).ok().flatten().map(DayRange::days);
        assert_eq!(p, Some(31));
        let q = Params::parse(Some("steps=a%2Cb&format=png&window="));
        assert_eq!(q.get("steps"), Some("a,b"));
        assert_eq!(q.get("window"), None);
        assert_eq!(q.with_format(Some("csv")), "steps=a%2Cb&format=csv");
        assert_eq!(Params::of([("from", Some("x")), ("to", None)]).0, vec![("from".to_string(), "x".to_string())]);
    }
}
