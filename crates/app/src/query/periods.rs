//! The period and filter requests of the dashboard, its customer lists, insights, the touchpoint
//! catalogue and a journey map's live numbers: `from` and `to` as whole days (YYYY-MM-DD, both or
//! neither, `to` included), and what each adds (a metric's customers, explicit ids, a persona, a
//! window). The pages and the API deserialize their query strings into these types and ask them
//! for the app's request.

use super::{day, field_error, period};
use crate::insights::InsightsRequest;
use crate::{App, DayRange, MapNumbersRequest, Result};
use serde::Deserialize;
use trailmap_model::{Business, CustomerId, PersonaId, Timestamp};
use trailmap_store::Store;

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Whole days `from` and `to` (both included, both or neither) as instants in UTC:
/// `[start of from, start of the day after to)`; `None`: all time.
pub fn day_span(from: Option<&str>, to: Option<&str>) -> Result<Option<(Timestamp, Timestamp)>> {
    match (super::present(from), super::present(to)) {
        (Some(from), Some(to)) => {
            let (from, to) = (day("from", from)?, day("to", to)?);
            if to < from {
                return Err(field_error("to", "the last day is before the first (from)"));
            }
            // The last day is included: the period ends at the start of the day after it.
            Ok(Some((Timestamp::from_date(from), Timestamp::from_date(to).add_millis(Timestamp::MS_PER_DAY))))
        }
        (None, None) => Ok(None),
        _ => Err(field_error("from and to", "give both dates or neither")),
    }
}

/// A period and, for a customer list, which customers: those behind a dashboard metric (its
/// numerator, or its whole sample with `of=sample`), the new customers of one first channel, or
/// explicit ids (the links of analysis pages).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CustomersQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    /// Which metric's customers (`new_customers`, `conversion_rate`...); default new customers.
    pub metric: Option<String>,
    /// `sample` for a rate's denominator instead of its numerator.
    pub of: Option<String>,
    /// New customers of one first channel.
    pub channel: Option<String>,
    /// Explicit ids, comma-separated.
    pub ids: Option<String>,
}

impl CustomersQuery {
    /// The period of whole days asked for; `None`: the caller's default period.
    pub fn period(&self) -> Result<Option<DayRange>> {
        period(self.from.as_deref(), self.to.as_deref())
    }

    /// Whether a period was asked for at all (either end).
    pub fn asks_period(&self) -> bool {
        given(&self.from).is_some() || given(&self.to).is_some()
    }

    /// The period as instants, `[start of from, start of the day after to)` in UTC; `None`: all
    /// time.
    pub fn span(&self) -> Result<Option<(Timestamp, Timestamp)>> {
        day_span(self.from.as_deref(), self.to.as_deref())
    }

    /// The explicit ids, when given.
    pub fn ids(&self) -> Result<Option<Vec<CustomerId>>> {
        let Some(ids) = &self.ids else { return Ok(None) };
        ids.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse::<i64>().map(CustomerId))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Some)
            .map_err(|_| field_error("ids", "a comma-separated list of customer ids"))
    }

    /// The metric whose customers are listed.
    pub fn metric(&self) -> &str {
        given(&self.metric).unwrap_or("new_customers")
    }

    /// Whether the list is a rate's whole sample rather than the customers it counts.
    pub fn of_sample(&self) -> bool {
        given(&self.of) == Some("sample")
    }
}

/// The period of insights: `from` and `to`, both or neither (then the business's default period).
#[derive(Debug, Default, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct InsightsQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl InsightsQuery {
    /// The app's request for `today`.
    pub fn request(&self, today: chrono::NaiveDate) -> Result<InsightsRequest> {
        Ok(InsightsRequest { period: period(self.from.as_deref(), self.to.as_deref())?, today })
    }
}

/// The expiry of a share link that works through the day written in `text` (YYYY-MM-DD): the
/// start of the next day (UTC); an empty text is no expiry.
pub fn link_expiry(field: &str, text: &str) -> Result<Option<Timestamp>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(Timestamp::from_date(day(field, text)?).add_millis(Timestamp::MS_PER_DAY)))
}

/// The period and persona of a map's live numbers, as the editor's GET form and the API's query
/// give them: `persona` is a persona's id or name (empty: everyone); `window` the days within
/// which going on to a later stage counts (default 30).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct NumbersQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub persona: Option<String>,
    pub window: Option<String>,
}

impl NumbersQuery {
    /// The request the app computes, with the persona looked up in `business`.
    pub fn request(&self, app: &App, business: &Business) -> Result<MapNumbersRequest> {
        let period = day_span(self.from.as_deref(), self.to.as_deref())?;
        let persona = match given(&self.persona) {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(id) => {
                    let known = app.store().personas(business.id)?.iter().any(|p| p.id.0 == id);
                    if !known {
                        return Err(field_error("persona", format!("{} has no persona {id}", business.name)));
                    }
                    Some(PersonaId(id))
                }
                Err(_) => Some(app.persona_by_name(business, text)?),
            },
        };
        let window_ms = match given(&self.window) {
            None => MapNumbersRequest::default().window_ms,
            Some(text) => match text.parse::<i64>() {
                Ok(days) if (1..=3650).contains(&days) => days * Timestamp::MS_PER_DAY,
                _ => return Err(field_error("window", format!("{text:?} is not a number of days from 1 to 3650"))),
            },
        };
        Ok(MapNumbersRequest { period, persona, window_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_lists_read_their_ids_periods_and_metric() {
        let query = CustomersQuery { ids: Some("3, 5,".into()), ..Default::default() };
        assert_eq!(query.ids().ok().flatten(), Some(vec![CustomerId(3), CustomerId(5)]));
        let bad = CustomersQuery { ids: Some("3,x".into()), ..Default::default() };
        assert!(bad.ids().expect_err("refused").to_string().starts_with("ids: "));
        assert_eq!((query.metric(), query.of_sample(), query.asks_period()), ("new_customers", false, false));
        let lone = CustomersQuery { to: Some("2026-01-01".into()), ..Default::default() };
        assert!(lone.asks_period() && lone.period().is_err());
        let span = CustomersQuery { from: Some("1970-01-01".into()), to: Some("1970-01-02".into()), ..Default::default() }.span().ok().flatten();
        assert_eq!(span.map(|(a, b)| (a.millis(), b.millis())), Some((0, 2 * Timestamp::MS_PER_DAY)));
    }
}
