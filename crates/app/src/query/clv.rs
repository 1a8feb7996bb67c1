//! Customer value's request from parameters (`by`, `model`, `unit`, `horizon`) and its answer,
//! which is the report or, for a business without events or orders, why there is none: nothing
//! to value is an empty answer, not a bad request.

use super::{FromParams, Params, choice, count, field_error};
use crate::{App, ClvReport, ClvRequest, GroupBy, GroupClv, ModelFit, PurchaseModel, Result};
use serde::Serialize;
use trailmap_clv::TimeUnit;
use trailmap_clv::holdout::HoldoutReport;
use trailmap_model::Business;

impl FromParams for ClvRequest {
    fn from_params(params: &Params) -> Result<ClvRequest> {
        let mut request = ClvRequest::default();
        let by = choice("by", params.get("by"), "channel", &["channel", "touchpoint", "cohort", "persona"])?;
        request.by = by.parse().map_err(|e: String| field_error("by", e))?;
        let model = choice("model", params.get("model"), "bgnbd", &["bgnbd", "pareto-nbd", "gamma-gamma"])?;
        request.model = model.parse().map_err(|e: String| field_error("model", e))?;
        let unit = choice("unit", params.get("unit"), "week", &["week", "day"])?;
        request.unit = unit.parse().map_err(|e: String| field_error("unit", e))?;
        request.horizon = count("horizon", params.get("horizon"), request.horizon as usize, 1, 520)? as u32;
        Ok(request)
    }
}

/// The value report, or why there is none.
#[derive(Debug)]
pub enum ClvAnswer {
    Report(Box<ClvReport>),
    NoData(String),
}

impl App {
    /// Customer value for `request`, or why a business without events or orders has none.
    pub fn clv_answer(&self, business: &Business, request: &ClvRequest) -> Result<ClvAnswer> {
        let summary = self.summary(business)?;
        if summary.events == 0 && summary.orders == 0 {
            return Ok(ClvAnswer::NoData(format!("{} has no events or orders to value yet", business.name)));
        }
        // A business whose purchases so far arrive only as tracked events (a web shop's
        // "purchase" with its revenue) has nothing this page can value yet: a plain answer, not
        // a bad request.
        if summary.orders == 0 {
            return Ok(ClvAnswer::NoData(format!(
                "{} has no orders yet: customer value is computed from orders (imported from a shop, a till or a payment provider); purchases sent to the tracking API count in funnels and attribution but are not orders",
                business.name
            )));
        }
        self.clv(business, request).map(|r| ClvAnswer::Report(Box::new(r)))
    }
}

/// The value report as the JSON API gives it: every figure of [`ClvReport`] but the row per
/// customer, which is bulky; `customers` counts them, and the groups keep their customer ids.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClvOverview {
    pub business: String,
    pub currency: String,
    /// The end of the calibration data: every value is as of then.
    pub now: String,
    pub now_rule: String,
    /// The last day of the calibration period (included).
    pub calibration_last_day: String,
    pub unit: TimeUnit,
    pub horizon: u32,
    pub discount_per_period: f64,
    pub summarising_rule: String,
    pub value_rule: String,
    pub interval_rule: String,
    pub model: PurchaseModel,
    /// The fitted parameters of `model`, named as in the papers; null when the fit failed.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub parameters: Option<serde_json::Value>,
    /// The purchase model's parameters (BG/NBD's for `gamma-gamma`, else the same as `parameters`).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub purchase_parameters: Option<serde_json::Value>,
    pub log_likelihood: Option<f64>,
    pub fitted_customers: Option<usize>,
    /// Why there are no predictions, in plain words.
    pub prediction_error: Option<String>,
    pub purchase_model: ModelFit,
    pub spend_model: ModelFit,
    pub grouped_by: GroupBy,
    pub groups: Vec<GroupClv>,
    /// How many customers were valued.
    pub customers: usize,
    pub holdout: Option<HoldoutReport>,
}

/// The JSON API's customer value: the overview, or, for a business with nothing to value, no
/// customers, no groups and why.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClvSummary {
    Report(Box<ClvOverview>),
    NoData(ClvNoData),
}

/// Customer value of a business with nothing to value. Its fields are all it has (the schema
/// says so), so an overview never also reads as this shape.
#[derive(Debug, Clone, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClvNoData {
    /// Zero.
    pub customers: usize,
    /// Empty.
    pub groups: Vec<GroupClv>,
    /// Why there is nothing to value.
    pub prediction_error: String,
}

impl ClvAnswer {
    /// The answer as the JSON API gives it.
    pub fn summary(&self) -> ClvSummary {
        match self {
            ClvAnswer::NoData(why) => ClvSummary::NoData(ClvNoData { customers: 0, groups: Vec::new(), prediction_error: why.clone() }),
            ClvAnswer::Report(r) => ClvSummary::Report(Box::new(ClvOverview {
                business: r.business.clone(),
                currency: r.currency.clone(),
                now: r.now.clone(),
                now_rule: r.now_rule.clone(),
                calibration_last_day: r.calibration_last_day.clone(),
                unit: r.unit,
                horizon: r.horizon,
                discount_per_period: r.discount_per_period,
                summarising_rule: r.summarising_rule.to_string(),
                value_rule: r.value_rule.clone(),
                interval_rule: r.interval_rule.to_string(),
                model: r.model,
                parameters: r.parameters.clone(),
                purchase_parameters: r.purchase_parameters.clone(),
                log_likelihood: r.log_likelihood,
                fitted_customers: r.fitted_customers,
                prediction_error: r.prediction_error.clone(),
                purchase_model: r.purchase_model.clone(),
                spend_model: r.spend_model.clone(),
                grouped_by: r.grouped_by,
                groups: r.groups.clone(),
                customers: r.customers.len(),
                holdout: r.holdout.clone(),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_value_reads_its_parameters_and_names_the_bad_one() {
        let request = ClvRequest::from_params(&Params::parse(Some("by=cohort&unit=day&horizon=30"))).expect("read");
        assert_eq!((request.by, request.unit, request.horizon), (crate::GroupBy::Cohort, trailmap_clv::TimeUnit::Day, 30));
        assert_eq!(ClvRequest::from_params(&Params::default()).ok().map(|r| r.horizon), Some(52));
        for (query, field) in [("by=star_sign", "by: "), ("horizon=-1", "horizon: "), ("model=magic", "model: "), ("unit=year", "unit: ")] {
            let error = ClvRequest::from_params(&Params::parse(Some(query))).expect_err(query).to_string();
            assert!(error.starts_with(field), "{query}: {error}");
        }
    }
}
