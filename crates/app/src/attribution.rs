//! Attribution through the app: turns a request written as text (as the CLI and, later, the web
//! forms receive it) into engine options, loads the business's events, spend and touchpoints, and
//! runs [`trailmap_analytics::attribution`]. Errors name the argument at fault.
//!
//! Dates are whole days in UTC: `--from` is the first day counted and `--to` the last, both
//! inclusive. Spend rows are matched to the attributed key: by channel with the spend's channel,
//! by source with its source, by campaign with its campaign; touchpoints have no spend.

use crate::{App, AppError, Result};
use serde::Serialize;
use trailmap_analytics::attribution::SpendRow;
use trailmap_analytics::{Attribution, AttributionOptions, Journeys, Model, Period, TouchKey};
use std::collections::HashMap;
use trailmap_ingest::enrich::ChannelRules;
use trailmap_model::{Business, Customer, CustomerId, EventColumns, EventRule, EventTable, StringId, Timestamp};
use trailmap_store::IncrementalReads;
use trailmap_store::Store;

const MS_PER_DAY: i64 = 86_400_000;

/// What [`App::attribution_customers`] takes for the customers whose conversions have no
/// recorded touch (they are no channel).
pub const NO_TOUCH_CUSTOMERS: &str = "no-touch";

/// What to attribute, as text; [`App::attribution_request`] gives the defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttributionRequest {
    /// A model name (first, last, last-non-direct, linear, time-decay, position, markov, shapley)
    /// or "all".
    pub model: String,
    /// The event name that counts as a conversion.
    pub conversion: String,
    /// How far before a conversion touches count: `30d`, `12h`, `2w`.
    pub lookback: String,
    /// Half-life of the time-decay model, written like the lookback.
    pub half_life: String,
    pub markov_order: usize,
    /// channel, source, campaign or touchpoint.
    pub by: String,
    /// First day counted, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day counted, `YYYY-MM-DD`, inclusive.
    pub to: Option<String>,
    /// Count only each customer's first conversion.
    pub new_customers: bool,
}

impl Default for AttributionRequest {
    fn default() -> Self {
        AttributionRequest {
            model: "all".into(),
            conversion: "purchase".into(),
            lookback: "30d".into(),
            half_life: "7d".into(),
            markov_order: 1,
            by: "channel".into(),
            from: None,
            to: None,
            new_customers: false,
        }
    }
}

/// The engine's answer with what it was asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttributionReport {
    pub business: String,
    /// The currency of every amount (all in minor units).
    pub currency: String,
    pub minor_per_major: i64,
    pub request: AttributionRequest,
    pub attribution: Attribution,
}

fn invalid(field: &str, reason: String) -> AppError {
    crate::query::field_error(field, reason)
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date, by the one day reader of `query`.
pub(crate) fn parse_day(field: &str, text: &str) -> Result<i64> {
    Ok(Timestamp::from_date(crate::query::day(field, text)?).millis().div_euclid(Timestamp::MS_PER_DAY))
}

/// Gives events stored without a channel the GA4 channel their source, medium and campaign imply,
/// by the rules an import applies. Writers that skip the enrichment step (the demo generator
/// today) would otherwise leave every touch without a channel. Events with none of the three keep
/// no channel, as in an import.
fn fill_missing_channels(table: &mut EventTable) {
    let mut rules = ChannelRules::new();
    let mut known: HashMap<(StringId, StringId, StringId), StringId> = HashMap::new();
    let mut ids: HashMap<Box<str>, StringId> = HashMap::new();
    for row in 0..table.len() {
        let key = (table.source[row], table.medium[row], table.campaign[row]);
        if table.channel[row] != 0 || key == (0, 0, 0) {
            continue;
        }
        let id = match known.get(&key) {
            Some(&id) => id,
            None => {
                let channel = rules.classify(table.string(key.0), table.string(key.1), table.string(key.2));
                let name = channel.as_str();
                let id = match table.find_string(name).or_else(|| ids.get(name).copied()) {
                    Some(id) => id,
                    None => {
                        table.strings.push(name.into());
                        let id = (table.strings.len() - 1) as StringId;
                        ids.insert(name.into(), id);
                        id
                    }
                };
                known.insert(key, id);
                id
            }
        };
        table.channel[row] = id;
    }
}

impl App {
    /// A request with every default: all models, `purchase` conversions, 30-day lookback, 7-day
    /// half-life, Markov order 1, by channel, all time.
    pub fn attribution_request() -> AttributionRequest {
        AttributionRequest::default()
    }

    /// Runs attribution for `business`.
    pub fn attribution(&self, business: &Business, request: &AttributionRequest) -> Result<AttributionReport> {
        let models = match request.model.trim() {
            "all" => Model::ALL.to_vec(),
            name => vec![Model::parse(name).ok_or_else(|| {
                invalid(
                    "model",
                    format!("unknown model {name:?}; use all, {}", Model::ALL.map(Model::as_str).join(", ")),
                )
            })?],
        };
        let by = match request.by.trim() {
            "channel" => TouchKey::Channel,
            "source" => TouchKey::Source,
            "campaign" => TouchKey::Campaign,
            "touchpoint" => {
                let rules: Vec<(String, EventRule)> = self
                    .store()
                    .touchpoints(business.id)?
                    .into_iter()
                    .map(|t| (t.name, t.rule))
                    .collect();
                if rules.is_empty() {
                    return Err(invalid("by", format!("{} has no touchpoints defined", business.name)));
                }
                TouchKey::Touchpoint(rules)
            }
            other => return Err(invalid("by", format!("{other:?} is not one of channel, source, campaign, touchpoint"))),
        };
        if !(1..=3).contains(&request.markov_order) {
            return Err(invalid("markov_order", format!("must be 1, 2 or 3, not {}", request.markov_order)));
        }
        if request.conversion.trim().is_empty() {
            return Err(invalid("conversion", "the event name is empty".into()));
        }
        let from = request.from.as_deref().map(|d| parse_day("from", d)).transpose()?;
        let to = request.to.as_deref().map(|d| parse_day("to", d)).transpose()?;
        let period = match (from, to) {
            (None, None) => None,
            (from, to) => {
                let start = from.unwrap_or(-1_000_000);
                let end = to.unwrap_or(1_000_000) + 1;
                if end <= start {
                    return Err(invalid("to", "must not be before from".into()));
                }
                Some(Period { start_ms: start * MS_PER_DAY, end_ms: end * MS_PER_DAY })
            }
        };
        let options = AttributionOptions {
            conversion: EventRule::named(request.conversion.trim()),
            lookback_ms: crate::query::duration("lookback", &request.lookback)?,
            half_life_ms: crate::query::duration("half_life", &request.half_life)?,
            markov_order: request.markov_order,
            by: by.clone(),
            period,
            models,
            new_customers_only: request.new_customers,
        };
        let needs_properties = matches!(&by, TouchKey::Touchpoint(rules)
            if rules.iter().any(|(_, r)| r.conditions.iter().any(|c| matches!(c.field, trailmap_model::EventField::Property(_)))));
        // A server's kept journeys serve unless the properties are needed; the channels are
        // filled in on a copy.
        let mut table = if needs_properties || !self.keeps_journeys() {
            self.store().load_events(business.id, EventColumns { properties: needs_properties })?
        } else {
            self.business_data(business.id)?.journeys().table().clone()
        };
        fill_missing_channels(&mut table);
        let spend: Vec<SpendRow> = self
            .store()
            .spend(business.id)?
            .into_iter()
            .filter_map(|s| {
                let key = match by {
                    TouchKey::Channel => Some(s.channel.clone()),
                    TouchKey::Source => s.source.clone(),
                    TouchKey::Campaign => s.campaign.clone(),
                    TouchKey::Touchpoint(_) => None,
                }?;
                Some(SpendRow {
                    channel: key,
                    start_day: s.start.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp().div_euclid(86_400)),
                    end_day: s.end.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp().div_euclid(86_400)),
                    amount_minor: s.amount.minor,
                })
            })
            .collect();
        let attribution = trailmap_analytics::attribution::attribute(&Journeys::new(table), &options, &spend)
            .map_err(|e| match e {
                trailmap_analytics::attribution::AttributionError::InvalidOption { option, reason } => invalid(&option.replace('-', "_"), reason),
            })?;
        Ok(AttributionReport {
            business: business.name.clone(),
            currency: business.currency.to_string(),
            minor_per_major: business.currency.minor_per_major(),
            request: request.clone(),
            attribution,
        })
    }

    /// The converting customers whose credited touches include `channel`, or, for
    /// [`NO_TOUCH_CUSTOMERS`], those with a conversion that has no recorded touch; as stored.
    pub fn attribution_customers(&self, report: &AttributionReport, channel: &str) -> Result<Vec<Customer>> {
        let ids: &[CustomerId] = if channel.trim().eq_ignore_ascii_case(NO_TOUCH_CUSTOMERS) {
            &report.attribution.without_touch.customers
        } else {
            &report
                .attribution
                .channels
                .iter()
                .find(|c| c.channel.eq_ignore_ascii_case(channel.trim()))
                .ok_or_else(|| {
                    let known: Vec<&str> = report.attribution.channels.iter().map(|c| c.channel.as_str()).collect();
                    invalid("customers", format!("no channel {channel:?}; the channels are: {} (or {NO_TOUCH_CUSTOMERS})", known.join(", ")))
                })?
                .converting_customers
        };
        // A business's customers, in one statement; the report's are all the business's.
        let business = self.store().business_by_name(&report.business)?.ok_or_else(|| AppError::NotFound(format!("business {:?}", report.business)))?;
        Ok(self.store().customers_by_ids(business.id, ids)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_or_name_the_field() {
        assert_eq!(parse_day("from", "1970-01-01").ok(), Some(0));
        assert_eq!(parse_day("from", "2025-01-01").ok(), Some(20_089));
        assert_eq!(parse_day("from", "2024-03-01").ok(), Some(19_783));
        assert!(parse_day("to", "2025-02-29").is_err());
        assert!(parse_day("to", "yesterday").expect_err("refused").to_string().starts_with("to: "));
    }

    #[test]
    fn attribution_runs_through_the_store_and_fills_missing_channels() {
        // Bought through an order (the store records its purchase event), after an Instagram ad
        // visit with no channel written: the GA4 rules make it Paid Social.
        let fixture = trailmap_testkit::journeys(
            r#"
customer ann email=ann@example.com
  2025-03-01 10:00:00 page_view source=instagram medium=paid_social
  +1d order total=12.50
customer ben email=ben@example.com
  2025-03-01 10:00:00 store_visit source=friend medium=referral
  +1h order total=7.50
"#,
        )
        .expect("fixture");
        let mut app = App::in_memory().expect("app");
        let business = app.business(None).expect("business");
        app.write_fixture(&fixture, &business).expect("written");
        let report = app.attribution(&business, &App::attribution_request()).expect("attribution");
        let a = &report.attribution;
        assert_eq!((a.conversions, a.revenue_minor), (2, 2_000));
        // Markov: both removal effects are 1/2, so one conversion each, and by the stated rule the
        // $20 total is split like the conversion credit ($10 each), not by each order's value.
        let credit = a.credit(Model::Markov, "Paid Social").expect("Paid Social");
        assert!((credit.conversions - 1.0).abs() < 1e-9 && (credit.revenue_minor - 1_000.0).abs() < 1e-6);
        assert_eq!(a.credit(Model::Last, "Paid Social").map(|c| c.revenue_minor), Some(1_250.0));
        assert_eq!(a.credit(Model::First, "Referral").map(|c| c.revenue_minor), Some(750.0));
        let customers = app.attribution_customers(&report, "referral").expect("customers");
        assert_eq!(customers.iter().map(|c| c.email.as_deref()).collect::<Vec<_>>(), vec![Some("ben@example.com")]);
        let error = app.attribution_customers(&report, "Email").expect_err("unknown").to_string();
        assert!(error.starts_with("customers: "), "{error}");
        let bad = AttributionRequest { model: "magic".into(), ..App::attribution_request() };
        assert!(app.attribution(&business, &bad).expect_err("refused").to_string().starts_with("model: "));
    }
}
