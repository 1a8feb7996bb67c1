//! Customer value for a business: historical and predicted lifetime value (BG/NBD or Pareto/NBD
//! for purchases, Gamma-Gamma for spend) per customer and by acquisition channel, first
//! touchpoint or cohort; the calibration/holdout check; RFM segments; and personas suggested from
//! behaviour clusters. Orders are the transactions; events give each customer's first channel and
//! first touchpoint. "Now" is the end of the data the models read: by default the end of the day
//! of the business's last order (events do not move it: an offline event dated later, a page
//! view today, say nothing about purchases), or the last day of the calibration period when one
//! is given (`until`, included, as `lifetimes`' `calibration_period_end`).

use crate::value_model::{ClvModel, ModelInputs};
use crate::{App, AppError, Result};
use serde::Serialize;
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::sync::Arc;
use trailmap_analytics::rules::CompiledRule;
use trailmap_clv::historical::{CustomerValue, customer_values};
use trailmap_clv::kmeans::standardise;
use trailmap_clv::rfm::RfmInput;
use trailmap_clv::summary::day_of;
use trailmap_clv::*;
use trailmap_model::*;
use trailmap_store::Store;

const DAY_MS: i64 = 86_400_000;

/// How transactions become model input, stated in every output.
pub const SUMMARY_RULE: &str = "orders as transactions; one purchase per customer per UTC day (same-day orders added together); frequency = purchase days - 1; recency and T from the first purchase day; monetary = mean value of repeat purchase days";

/// The repeat-purchase model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PurchaseModel {
    Bgnbd,
    ParetoNbd,
    /// Gamma-Gamma is a spend model, not a purchase model: purchases are predicted by BG/NBD and
    /// the report names Gamma-Gamma's parameters (`p`, `q`, `gamma`) as the model's.
    GammaGamma,
}

/// What to group customer value by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum GroupBy {
    /// The GA4 channel of the customer's first event.
    Channel,
    /// The first touchpoint whose rule the customer's events match.
    Touchpoint,
    /// The month of the first purchase.
    Cohort,
    /// The first persona (in the order they were created) whose segment rule the customer meets.
    Persona,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClvRequest {
    pub model: PurchaseModel,
    pub unit: TimeUnit,
    /// Periods (of `unit`) to predict over.
    pub horizon: u32,
    /// Discount rate per period.
    pub discount: f64,
    pub by: GroupBy,
    /// End of the data (exclusive); None = the end of the day of the business's last order.
    pub now: Option<Timestamp>,
    /// The last day of the calibration period, included (as `lifetimes`' `calibration_period_end`):
    /// the models read the orders up to the end of that day and every value is as of then; the
    /// orders after it, up to the end of the data, are the holdout the predictions are checked
    /// against. None: the calibration period is all the data.
    pub until: Option<chrono::NaiveDate>,
}

impl Default for ClvRequest {
    /// BG/NBD in weeks, 52 weeks ahead, 1% discount per period, by first channel, all the data.
    fn default() -> Self {
        ClvRequest {
            model: PurchaseModel::Bgnbd,
            unit: TimeUnit::Week,
            horizon: 52,
            discount: 0.01,
            by: GroupBy::Channel,
            now: None,
            until: None,
        }
    }
}

/// One fitted model as the report states it: its parameters named as in its paper and its own
/// log-likelihood, or why it could not be fitted.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelFit {
    /// "BG/NBD", "Pareto/NBD" or "Gamma-Gamma".
    pub model: &'static str,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub parameters: Option<serde_json::Value>,
    /// The log-likelihood of this model at its parameters, over its `fitted_customers`.
    pub log_likelihood: Option<f64>,
    pub fitted_customers: Option<usize>,
    /// When the data cannot support the model (found before fitting): why, as data.
    pub cannot_fit: Option<CannotFit>,
    /// When there is no fit: why, in plain words.
    pub error: Option<String>,
}

impl ModelFit {
    pub(crate) fn failed(model: &'static str, error: &ClvError) -> ModelFit {
        ModelFit {
            model,
            parameters: None,
            log_likelihood: None,
            fitted_customers: None,
            cannot_fit: error.cannot_fit().cloned(),
            error: Some(plain_error(error)),
        }
    }
}

/// A model's failure as a sentence for an owner: the reason found before fitting as it reads, a
/// failed search as what it means.
pub(crate) fn plain_error(error: &ClvError) -> String {
    match error {
        ClvError::CannotFit { model, because } => format!("{model} cannot be fitted: {because}"),
        ClvError::NotConverged { model, .. } | ClvError::Degenerate { model, .. } => {
            format!("{model} found no stable fit in these data ({error})")
        }
        other => other.to_string(),
    }
}

/// One customer's historical and predicted value. The labels are shared (a few channels,
/// touchpoints, months and personas among many customers), so a row costs no text of its own.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerClv {
    pub customer: CustomerId,
    #[serde(serialize_with = "label")]
    pub channel: Arc<str>,
    #[serde(serialize_with = "label")]
    pub touchpoint: Arc<str>,
    #[serde(serialize_with = "label")]
    pub cohort: Arc<str>,
    /// See [`GroupBy::Persona`]; "(no persona)" when no persona's rule fits.
    #[serde(serialize_with = "label")]
    pub persona: Arc<str>,
    #[serde(flatten)]
    pub history: CustomerValue,
    pub frequency: f64,
    pub recency: f64,
    #[serde(rename = "T")]
    pub age: f64,
    /// The prediction fields are None when the model could not be fitted (see the report's
    /// `prediction_error`).
    pub probability_alive: Option<f64>,
    pub expected_purchases: Option<f64>,
    pub expected_spend_per_purchase: Option<f64>,
    pub predicted_value: Option<f64>,
}

/// A shared label written as the string it is.
fn label<S: serde::Serializer>(label: &Arc<str>, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(label)
}

/// Value of one group: historical (revenue so far) and predicted (over the horizon).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupClv {
    pub group: String,
    pub customers: usize,
    pub historical: GroupValue,
    /// None when the model could not be fitted.
    pub predicted: Option<GroupValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClvReport {
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
    pub summarising_rule: &'static str,
    pub value_rule: String,
    pub interval_rule: &'static str,
    pub model: PurchaseModel,
    /// The fitted parameters of `model`, named as in the papers; null when the fit failed.
    pub parameters: Option<serde_json::Value>,
    /// The purchase model's parameters (BG/NBD's for `gamma-gamma`, else the same as `parameters`).
    pub purchase_parameters: Option<serde_json::Value>,
    /// `model`'s own log-likelihood (Gamma-Gamma's for `gamma-gamma`, over its repeat buyers).
    pub log_likelihood: Option<f64>,
    /// The customers `model` was fitted on.
    pub fitted_customers: Option<usize>,
    /// Why there are no predictions, in plain words (the purchase model could not be fitted).
    pub prediction_error: Option<String>,
    /// The purchase model (BG/NBD or Pareto/NBD) with its own log-likelihood, or why it could not
    /// be fitted.
    pub purchase_model: ModelFit,
    /// The spend model (Gamma-Gamma) with its own log-likelihood, or why it could not be fitted;
    /// then spend per purchase is each customer's historical average order value.
    pub spend_model: ModelFit,
    pub grouped_by: GroupBy,
    pub groups: Vec<GroupClv>,
    pub customers: Vec<CustomerClv>,
    pub holdout: Option<HoldoutReport>,
}

/// What every value query reads.
struct ValueData {
    currency: Currency,
    transactions: Vec<Transaction>,
    first_channel: CustomerLabels,
    first_touchpoint: CustomerLabels,
    /// Each customer's share of events per channel: only the persona suggestions read it, so
    /// only they ask for it (a map per customer).
    channel_share: HashMap<CustomerId, HashMap<String, f64>>,
    now: Timestamp,
    now_rule: String,
}

fn invalid(error: ClvError) -> AppError {
    AppError::Invalid(error.to_string())
}

/// A label per customer (a first channel, a first touchpoint), in customer order, each text
/// shared by the customers who have it.
#[derive(Debug, Default)]
struct CustomerLabels(Vec<(CustomerId, Arc<str>)>);

impl CustomerLabels {
    fn get(&self, customer: &CustomerId) -> Option<&Arc<str>> {
        self.0.binary_search_by_key(customer, |(c, _)| *c).ok().map(|at| &self.0[at].1)
    }

    /// The label of `customer`, looked for from `*from` on and leaving `*from` there: for a walk
    /// over customers in order, which then reads each label once.
    fn seek(&self, from: &mut usize, customer: CustomerId) -> Option<&Arc<str>> {
        while *from < self.0.len() && self.0[*from].0 < customer {
            *from += 1;
        }
        self.0.get(*from).filter(|(c, _)| *c == customer).map(|(_, label)| label)
    }
}

impl App {
    /// Each customer's value of the customer property `key`, for breakdowns.
    pub(crate) fn customer_property_labels(&self, business: &Business, key: &str) -> Result<std::collections::BTreeMap<CustomerId, String>> {
        Ok(self
            .store()
            .customers(business.id, usize::MAX, 0)?
            .into_iter()
            .filter_map(|c| {
                let value = match c.properties.get(key)? {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Some((c.id, value))
            })
            .collect())
    }

    fn value_data(&self, business: &Business, now: Option<Timestamp>, with_shares: bool) -> Result<ValueData> {
        // The kept journeys and orders, brought up to date with what was written since.
        let data = self.business_data(business.id)?;
        let orders = data.orders();
        // Orders alone decide the end of the data: a later event of any other kind (an offline
        // visit, today's page view) would age every customer without a purchase to show for it.
        let (now, now_rule) = match now {
            Some(now) => (now, "given".to_string()),
            None => {
                let last = orders.span().map(|(_, last)| last).ok_or_else(|| AppError::Invalid(format!("{} has no orders to value", business.name)))?;
                let day = Timestamp(day_of(last) * DAY_MS).date();
                (Timestamp((day_of(last) + 1) * DAY_MS), format!("the end of {day}, the day of the business's last order"))
            }
        };
        let touchpoints = self.store().touchpoints(business.id)?;
        let journeys = data.journeys();
        let table = journeys.table();
        let compiled: Vec<(String, CompiledRule)> =
            touchpoints.iter().map(|t| (t.name.clone(), CompiledRule::new(&t.rule, table))).collect();
        // Journeys come in customer order; each channel's and touchpoint's text is made once.
        let none: Arc<str> = Arc::from("(none)");
        let touchpoint_names: Vec<Arc<str>> = compiled.iter().map(|(name, _)| Arc::from(name.as_str())).collect();
        let mut channels: FxHashMap<StringId, Arc<str>> = FxHashMap::default();
        let mut first_channel = Vec::with_capacity(journeys.len());
        let mut first_touchpoint = Vec::with_capacity(journeys.len());
        let mut channel_share = HashMap::new();
        for journey in journeys.iter() {
            let first = journey.rows.start;
            let channel = channels
                .entry(table.channel[first])
                .or_insert_with(|| {
                    let channel = table.string(table.channel[first]);
                    if channel.is_empty() { none.clone() } else { Arc::from(channel) }
                })
                .clone();
            first_channel.push((journey.customer, channel));
            let touchpoint = if compiled.is_empty() {
                none.clone()
            } else {
                journey
                    .rows
                    .clone()
                    .find_map(|row| compiled.iter().position(|(_, rule)| rule.matches(table, row)).map(|at| touchpoint_names[at].clone()))
                    .unwrap_or_else(|| none.clone())
            };
            first_touchpoint.push((journey.customer, touchpoint));
            if !with_shares {
                continue;
            }
            let mut shares: HashMap<String, f64> = HashMap::new();
            for row in journey.rows.clone() {
                let c = table.string(table.channel[row]);
                *shares.entry(if c.is_empty() { "(none)".to_string() } else { c.to_string() }).or_default() += 1.0 / journey.len() as f64;
            }
            channel_share.insert(journey.customer, shares);
        }
        let mut transactions = Vec::with_capacity(orders.len());
        transactions.extend(
            (0..orders.len())
                .filter(|&row| orders.time[row] < now.0)
                .map(|row| Transaction { customer: orders.customer[row], time_ms: orders.time[row], value: orders.total(row).major() }),
        );
        let (mut first_channel, mut first_touchpoint) = (CustomerLabels(first_channel), CustomerLabels(first_touchpoint));
        for labels in [&mut first_channel, &mut first_touchpoint] {
            if !labels.0.is_sorted_by_key(|(c, _)| *c) {
                labels.0.sort_by_key(|(c, _)| *c);
            }
        }
        Ok(ValueData { currency: business.currency, transactions, first_channel, first_touchpoint, channel_share, now, now_rule })
    }

    /// Historical and predicted lifetime value per customer and per group.
    pub fn clv(&self, business: &Business, request: &ClvRequest) -> Result<ClvReport> {
        check_horizon(request.horizon, request.discount).map_err(invalid)?;
        let mut data = self.value_data(business, request.now, false)?;
        let unit = request.unit;
        let last_day = day_of(data.now.0) - 1;
        let calibration_last_day = match request.until {
            Some(until) => {
                let day = day_of(Timestamp::from_date(until).0);
                if day > last_day {
                    return Err(AppError::Invalid(format!(
                        "until: {until} is after the end of the data ({})",
                        Timestamp(last_day * DAY_MS).date()
                    )));
                }
                day
            }
            None => last_day,
        };
        // Every value is as of the end of the calibration period: its orders, its customers' ages.
        let calibration_end = Timestamp((calibration_last_day + 1) * DAY_MS);
        let now_rule = match request.until {
            Some(until) => format!("the end of {until}, the last day of the calibration period (until, included)"),
            None => data.now_rule.clone(),
        };
        // The model part, kept when its inputs (the transactions first) are those of a kept one.
        // The transactions move into the inputs: nothing below reads them from `data`.
        let inputs = ModelInputs::of(business.id, std::mem::take(&mut data.transactions), calibration_last_day, last_day, request);
        let model = ClvModel::get(self.journeys.as_deref().unwrap_or(&self.own), inputs)?;
        let purchase_model = model.purchase_model.clone();
        let parameters = purchase_model.parameters.clone();
        let spend_model = match &model.spend {
            Ok(g) => ModelFit {
                model: "Gamma-Gamma",
                parameters: Some(serde_json::json!({ "p": g.p, "q": g.q, "gamma": g.gamma })),
                log_likelihood: Some(g.fit.log_likelihood),
                fitted_customers: Some(g.fit.customers),
                cannot_fit: None,
                error: None,
            },
            Err(e) => ModelFit::failed("Gamma-Gamma", e),
        };
        let value_rule_spend = match &model.spend {
            Ok(_) => "expected spend per purchase from Gamma-Gamma".to_string(),
            Err(e) => format!("expected spend per purchase = the customer's historical average order value ({})", plain_error(e)),
        };
        // Labels only for a business with personas: without any, every customer is
        // "(no persona)" (the default below), and working that out reads every customer.
        let personas = if self.store().personas(business.id)?.is_empty() { Default::default() } else { self.persona_labels(business)? };
        // Every label's text made once and shared by its customers: the cohort of each first
        // purchase day, each persona's name, "(none)".
        let (none, no_persona): (Arc<str>, Arc<str>) = (Arc::from("(none)"), Arc::from("(no persona)"));
        let mut persona_names: HashMap<&str, Arc<str>> = HashMap::new();
        let mut cohorts: FxHashMap<i64, Arc<str>> = FxHashMap::default();
        let (mut channel_at, mut touchpoint_at) = (0, 0);
        let mut customers = Vec::with_capacity(model.predictions.len());
        for (c, prediction) in model.summary.iter().zip(&model.predictions) {
            let Some((place, prediction)) = prediction else { continue };
            let h = &model.history[*place];
            customers.push(CustomerClv {
                customer: c.customer,
                channel: data.first_channel.seek(&mut channel_at, c.customer).unwrap_or(&none).clone(),
                touchpoint: data.first_touchpoint.seek(&mut touchpoint_at, c.customer).unwrap_or(&none).clone(),
                cohort: cohorts
                    .entry(h.first_purchase_ms.div_euclid(DAY_MS))
                    .or_insert_with(|| Arc::from(Timestamp(h.first_purchase_ms).date().format("%Y-%m").to_string()))
                    .clone(),
                persona: match personas.get(&c.customer) {
                    Some(name) => persona_names.entry(name.as_str()).or_insert_with(|| Arc::from(name.as_str())).clone(),
                    None => no_persona.clone(),
                },
                history: h.clone(),
                frequency: c.frequency,
                recency: c.recency,
                age: c.age,
                probability_alive: prediction.probability_alive,
                expected_purchases: prediction.expected_purchases,
                expected_spend_per_purchase: prediction.expected_spend_per_purchase,
                predicted_value: prediction.predicted_value,
            });
        }
        let key = |c: &CustomerClv| -> Arc<str> {
            match request.by {
                GroupBy::Channel => c.channel.clone(),
                GroupBy::Touchpoint => c.touchpoint.clone(),
                GroupBy::Cohort => c.cohort.clone(),
                GroupBy::Persona => c.persona.clone(),
            }
        };
        let historical = group_values(&customers.iter().map(|c| (key(c), c.customer, c.history.revenue)).collect::<Vec<_>>());
        let predicted: HashMap<String, GroupValue> = group_values(
            &customers.iter().filter_map(|c| c.predicted_value.map(|v| (key(c), c.customer, v))).collect::<Vec<_>>(),
        )
        .into_iter()
        .map(|g| (g.group.clone(), g))
        .collect();
        let groups = historical
            .into_iter()
            .map(|h| GroupClv { group: h.group.clone(), customers: h.customers, predicted: predicted.get(&h.group).cloned(), historical: h })
            .collect();
        // The named model's own figures: Gamma-Gamma's for `gamma-gamma`, else the purchase model's.
        let named = match request.model {
            // When Gamma-Gamma cannot be fitted, `spend_model` says why and the predictions use
            // each customer's average order value, as for the other models.
            PurchaseModel::GammaGamma => &spend_model,
            _ => &purchase_model,
        };
        Ok(ClvReport {
            business: business.name.clone(),
            currency: data.currency.to_string(),
            now: calibration_end.to_rfc3339(),
            now_rule,
            calibration_last_day: Timestamp(calibration_last_day * DAY_MS).date().to_string(),
            unit,
            horizon: request.horizon,
            discount_per_period: request.discount,
            summarising_rule: SUMMARY_RULE,
            value_rule: format!(
                "predicted value = sum over {} k = 1..{} of (expected purchases in period k) x spend per purchase / (1 + {})^k; {value_rule_spend}; historical value = revenue of all orders up to now",
                unit.name(),
                request.horizon,
                request.discount
            ),
            interval_rule: "95% interval of the group mean by the normal approximation: mean +/- 1.96 x sd / sqrt(n)",
            model: request.model,
            parameters: named.parameters.clone(),
            log_likelihood: named.log_likelihood,
            fitted_customers: named.fitted_customers,
            purchase_parameters: parameters,
            prediction_error: purchase_model.error.clone(),
            purchase_model,
            spend_model,
            grouped_by: request.by,
            groups,
            customers,
            holdout: model.holdout.clone(),
        })
    }
}

/// One RFM segment with its customers and value.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentRow {
    pub segment: &'static str,
    pub rule: &'static str,
    pub customers: usize,
    pub share: f64,
    pub revenue: f64,
    pub mean_revenue: f64,
    pub mean_orders: f64,
    pub mean_days_since_last_purchase: f64,
    pub customer_ids: Vec<CustomerId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentsReport {
    pub business: String,
    pub currency: String,
    pub now: String,
    pub now_rule: String,
    pub customers: usize,
    pub score_rule: &'static str,
    pub segments: Vec<SegmentRow>,
    pub scores: Vec<RfmScore>,
}

#[derive(Debug, Clone)]
pub struct PersonaRequest {
    /// Clusters to make; None = the best silhouette over 2..=6.
    pub k: Option<usize>,
    pub seed: u64,
    pub now: Option<Timestamp>,
}

/// A behaviour cluster described in words, with the rule a persona made from it would use.
#[derive(Debug, Clone, Serialize)]
pub struct PersonaSuggestion {
    pub cluster: usize,
    pub name: String,
    pub description: String,
    pub customers: usize,
    pub dominant_channel: String,
    pub dominant_channel_share: f64,
    pub mean_orders: f64,
    pub mean_days_between_orders: Option<f64>,
    pub mean_spend_per_order: f64,
    pub mean_revenue: f64,
    pub mean_days_since_last_purchase: f64,
    pub mean_tenure_days: f64,
    pub mean_items_per_order: f64,
    pub rule: CustomerRule,
    /// The rule in its text form (`first_channel=Referral & orders>=2 & ...`).
    pub rule_text: String,
    pub customer_ids: Vec<CustomerId>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonaSuggestions {
    pub business: String,
    pub currency: String,
    pub now: String,
    pub customers: usize,
    pub k: usize,
    pub k_rule: String,
    pub seed: u64,
    pub features: Vec<String>,
    pub silhouettes: Vec<(usize, f64)>,
    pub clusters: Vec<PersonaSuggestion>,
}

/// Silhouettes are O(n²); past this many customers they are computed on an evenly spaced sample.
const SILHOUETTE_SAMPLE: usize = 2_000;

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

fn quantile(mut values: Vec<f64>, q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(((values.len().saturating_sub(1)) as f64 * q).round() as usize).copied().unwrap_or(0.0)
}

impl App {
    /// RFM scores and segments of every customer with an order before now.
    pub fn segments(&self, business: &Business, now: Option<Timestamp>) -> Result<SegmentsReport> {
        let data = self.value_data(business, now, false)?;
        let values = customer_values(&data.transactions, data.now.0);
        let input: Vec<RfmInput> = values
            .iter()
            .map(|v| RfmInput {
                customer: v.customer,
                days_since_last_purchase: v.days_since_last_purchase as f64,
                orders: v.orders as f64,
                revenue: v.revenue,
            })
            .collect();
        let scores = rfm_scores(&input);
        let n = scores.len();
        let segments = Segment::ALL
            .iter()
            .map(|&segment| {
                let members: Vec<(&RfmScore, &CustomerValue)> =
                    scores.iter().zip(&values).filter(|(s, _)| s.segment == segment).collect();
                SegmentRow {
                    segment: segment.name(),
                    rule: segment.rule(),
                    customers: members.len(),
                    share: if n == 0 { 0.0 } else { members.len() as f64 / n as f64 },
                    revenue: members.iter().map(|(_, v)| v.revenue).sum(),
                    mean_revenue: mean(members.iter().map(|(_, v)| v.revenue)),
                    mean_orders: mean(members.iter().map(|(_, v)| v.orders as f64)),
                    mean_days_since_last_purchase: mean(members.iter().map(|(_, v)| v.days_since_last_purchase as f64)),
                    customer_ids: members.iter().map(|(s, _)| s.customer).collect(),
                }
            })
            .collect();
        Ok(SegmentsReport {
            business: business.name.clone(),
            currency: data.currency.to_string(),
            now: data.now.to_rfc3339(),
            now_rule: data.now_rule,
            customers: n,
            score_rule: "scores 1-5 by quintile: 1 + floor(5 x customers strictly worse / n), ties share a score; R from days since the last order (fewer is better), F from orders, M from revenue; segments from R and F, first match: champions R>=4 F>=4, loyal R>=3 F>=3, promising R>=4, needs attention R=3, at risk F>=3, hibernating R=2, lost",
            segments,
            scores,
        })
    }

    /// Clusters purchasing customers on behaviour and describes each cluster as a persona.
    pub fn suggest_personas(&self, business: &Business, request: &PersonaRequest) -> Result<PersonaSuggestions> {
        if let Some(k) = request.k
            && !(1..=20).contains(&k)
        {
            return Err(AppError::Invalid(format!("k (groups): must be between 1 and 20, got {k}")));
        }
        let data = self.value_data(business, request.now, true)?;
        let values = customer_values(&data.transactions, data.now.0);
        if values.len() < 10 {
            return Err(AppError::Invalid(format!(
                "personas need at least 10 customers with an order; {} has {}",
                business.name,
                values.len()
            )));
        }
        let mut items: HashMap<CustomerId, (f64, f64)> = HashMap::new();
        // Items per order need the orders' lines: the whole orders, in one pass.
        for o in self.store().orders(business.id)?.iter().filter(|o| o.time.0 < data.now.0) {
            let entry = items.entry(o.customer).or_default();
            entry.0 += o.lines.iter().map(|l| l.quantity as f64).sum::<f64>();
            entry.1 += 1.0;
        }
        // The channels worth a column: the five most common first channels.
        let mut channel_counts: HashMap<&str, usize> = HashMap::new();
        for v in &values {
            *channel_counts.entry(data.first_channel.get(&v.customer).map_or("(none)", |s| &**s)).or_default() += 1;
        }
        let mut channels: Vec<(&str, usize)> = channel_counts.into_iter().collect();
        channels.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let channels: Vec<String> = channels.into_iter().take(5).map(|(c, _)| c.to_string()).collect();
        let mut features = vec![
            "orders".to_string(),
            "spend per order".into(),
            "days since last purchase".into(),
            "tenure days".into(),
            "items per order".into(),
        ];
        features.extend(channels.iter().map(|c| format!("share of events: {c}")));
        let items_per_order = |c: &CustomerId| items.get(c).map_or(0.0, |(q, n)| if *n > 0.0 { q / n } else { 0.0 });
        let rows: Vec<Vec<f64>> = values
            .iter()
            .map(|v| {
                let mut row = vec![
                    v.orders as f64,
                    v.average_order_value,
                    v.days_since_last_purchase as f64,
                    v.tenure_days as f64,
                    items_per_order(&v.customer),
                ];
                let shares = data.channel_share.get(&v.customer);
                row.extend(channels.iter().map(|c| shares.and_then(|s| s.get(c)).copied().unwrap_or(0.0)));
                row
            })
            .collect();
        let z = standardise(&rows);
        let fit = |k: usize| kmeans(&z, KMeansOptions { k, seed: request.seed, max_iterations: 300 }).map_err(invalid);
        let step = z.len().div_ceil(SILHOUETTE_SAMPLE);
        let (clustering, k, k_rule, silhouettes) = match request.k {
            Some(k) => (fit(k)?, k, "chosen by the user".to_string(), Vec::new()),
            None => {
                let mut best: Option<(Clustering, usize, f64)> = None;
                let mut silhouettes = Vec::new();
                for k in 2..=6usize.min(z.len() - 1) {
                    let c = fit(k)?;
                    let sample: Vec<usize> = (0..z.len()).step_by(step).collect();
                    let rows: Vec<Vec<f64>> = sample.iter().map(|&i| z[i].clone()).collect();
                    let labels: Vec<usize> = sample.iter().map(|&i| c.assignments[i]).collect();
                    let s = silhouette(&rows, &labels, k);
                    silhouettes.push((k, s));
                    if best.as_ref().is_none_or(|b| s > b.2) {
                        best = Some((c, k, s));
                    }
                }
                let (c, k, _) = best.ok_or_else(|| AppError::Invalid("no clustering was possible".into()))?;
                let rule = if step > 1 {
                    format!("best mean silhouette over k = 2..6, computed on every {step}th customer (more than {SILHOUETTE_SAMPLE})")
                } else {
                    "best mean silhouette over k = 2..6".to_string()
                };
                (c, k, rule, silhouettes)
            }
        };
        let money = |x: f64| format!("{x:.2} {}", data.currency);
        let mut clusters = Vec::new();
        for cluster in 0..k {
            let members: Vec<&CustomerValue> =
                values.iter().zip(&clustering.assignments).filter(|(_, a)| **a == cluster).map(|(v, _)| v).collect();
            if members.is_empty() {
                continue;
            }
            let mut first: HashMap<&str, usize> = HashMap::new();
            for v in &members {
                *first.entry(data.first_channel.get(&v.customer).map_or("(none)", |s| &**s)).or_default() += 1;
            }
            let (dominant, count) =
                first.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0))).unwrap_or(("(none)", 0));
            let share = count as f64 / members.len() as f64;
            let gaps: Vec<f64> = members.iter().filter_map(|v| v.days_between_orders).collect();
            let every = (!gaps.is_empty()).then(|| mean(gaps.iter().copied()));
            let mean_orders = mean(members.iter().map(|v| v.orders as f64));
            let spend = mean(members.iter().map(|v| v.average_order_value));
            let recency = mean(members.iter().map(|v| v.days_since_last_purchase as f64));
            let orders: Vec<f64> = members.iter().map(|v| v.orders as f64).collect();
            let revenue: Vec<f64> = members.iter().map(|v| v.revenue).collect();
            let name = format!(
                "{} {}",
                dominant,
                if mean_orders >= 20.0 { "regulars" } else if mean_orders >= 2.0 { "returners" } else { "one-timers" }
            ) + if recency > 90.0 { " (lapsed)" } else { "" };
            let visits = match every {
                Some(d) => format!("those who return visit every {d:.0} days"),
                None => "one order each".to_string(),
            };
            let description = format!(
                "{} customers, mostly {dominant} ({:.0}%), {mean_orders:.1} orders each, {visits}, spend {} per order, last purchase {recency:.0} days ago on average",
                members.len(),
                share * 100.0,
                money(spend)
            );
            let cond = |field: CustomerField, op: Op| CustomerCondition { field, op, negate: false };
            // Whole orders and whole cents, inclusive, so the rule reads as a person would write
            // it: orders between the rounded 10th and 90th percentiles, revenue between the cents
            // around them.
            let rule = CustomerRule {
                conditions: vec![
                    cond(CustomerField::FirstChannel, Op::Equals(dominant.to_string())),
                    cond(CustomerField::Orders, Op::AtLeast(quantile(orders.clone(), 0.1).round())),
                    cond(CustomerField::Orders, Op::AtMost(quantile(orders, 0.9).round())),
                    cond(CustomerField::Revenue, Op::AtLeast((quantile(revenue.clone(), 0.1) * 100.0).floor() / 100.0)),
                    cond(CustomerField::Revenue, Op::AtMost((quantile(revenue, 0.9) * 100.0).ceil() / 100.0)),
                ],
            };
            clusters.push(PersonaSuggestion {
                cluster: clusters.len() + 1,
                name,
                description,
                customers: members.len(),
                dominant_channel: dominant.to_string(),
                dominant_channel_share: share,
                mean_orders,
                mean_days_between_orders: every,
                mean_spend_per_order: spend,
                mean_revenue: mean(members.iter().map(|v| v.revenue)),
                mean_days_since_last_purchase: recency,
                mean_tenure_days: mean(members.iter().map(|v| v.tenure_days as f64)),
                mean_items_per_order: mean(members.iter().map(|v| items_per_order(&v.customer))),
                rule_text: rule.to_text(),
                rule,
                customer_ids: members.iter().map(|v| v.customer).collect(),
            });
        }
        clusters.sort_by_key(|c| std::cmp::Reverse(c.customers));
        for (i, c) in clusters.iter_mut().enumerate() {
            c.cluster = i + 1;
        }
        Ok(PersonaSuggestions {
            business: business.name.clone(),
            currency: data.currency.to_string(),
            now: data.now.to_rfc3339(),
            customers: values.len(),
            k,
            k_rule,
            seed: request.seed,
            features,
            silhouettes,
            clusters,
        })
    }
}

impl std::str::FromStr for PurchaseModel {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "bgnbd" | "bg-nbd" | "bg/nbd" => Ok(PurchaseModel::Bgnbd),
            "pareto" | "pareto-nbd" | "paretonbd" => Ok(PurchaseModel::ParetoNbd),
            "gamma-gamma" | "gammagamma" | "gg" => Ok(PurchaseModel::GammaGamma),
            other => Err(format!("unknown model {other:?} (expected bgnbd, pareto-nbd or gamma-gamma)")),
        }
    }
}

impl std::str::FromStr for GroupBy {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "channel" => Ok(GroupBy::Channel),
            "touchpoint" => Ok(GroupBy::Touchpoint),
            "cohort" => Ok(GroupBy::Cohort),
            "persona" => Ok(GroupBy::Persona),
            other => Err(format!("unknown grouping {other:?} (expected channel, touchpoint, cohort or persona)")),
        }
    }
}

impl App {
    /// The default CLV request (BG/NBD, weeks, 52 periods, 1% discount per period, by channel,
    /// all the data up to the end of the day of the last order); callers change its fields.
    pub fn clv_request(&self) -> ClvRequest {
        ClvRequest::default()
    }

    /// The default persona request: k by silhouette, seed 42.
    pub fn persona_request(&self) -> PersonaRequest {
        PersonaRequest { k: None, seed: 42, now: None }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Six referral customers with 1 + i orders of 10 a few days apart; six paid social customers
    /// with one order of 5.
    fn fixture() -> String {
        let mut text = String::new();
        for i in 0..6 {
            text.push_str(&format!("customer r{i}\n  2025-03-0{} 10:00:00 store_visit channel=Referral\n", i + 1));
            for k in 0..=i {
                // Irregular gaps, as real customers have: a fit to perfectly regular buying
                // does not converge (the rate's spread goes to zero).
                text.push_str(&format!("  +{}d order total=10.00\n", if k == 0 { 0 } else { (k * 5 + i * 3) % 11 + 1 }));
            }
            text.push_str(&format!("customer s{i}\n  2025-03-0{} 11:00:00 page_view channel=\"Paid Social\"\n  +1h order total=5.00\n", i + 1));
        }
        text
    }

    fn app() -> (App, Business) {
        let mut app = App::in_memory().unwrap();
        let business = app.business(None).unwrap();
        let fixture = trailmap_testkit::journeys(&fixture()).unwrap();
        app.write_fixture(&fixture, &business).unwrap();
        (app, business)
    }

    #[test]
    fn referral_customers_are_worth_more_by_hand_checked_history() {
        let (app, business) = app();
        let mut request = app.clv_request();
        request.unit = TimeUnit::Day;
        request.horizon = 30;
        let report = app.clv(&business, &request).unwrap();
        let referral = report.groups.iter().find(|g| g.group == "Referral").unwrap();
        let social = report.groups.iter().find(|g| g.group == "Paid Social").unwrap();
        // Referral revenue: 10 x (1 + 2 + ... + 6) / 6 = 35 per customer.
        assert_eq!((referral.customers, referral.historical.mean), (6, 35.0));
        assert_eq!((social.customers, social.historical.mean), (6, 5.0));
        // The model predicts more from the repeat buyers than from the one-order customers.
        assert!(report.prediction_error.is_none() && report.parameters.is_some());
        assert!(referral.predicted.as_ref().unwrap().mean > social.predicted.as_ref().unwrap().mean);
        assert!(report.customers.iter().all(|c| c.predicted_value.is_some_and(|v| v >= 0.0)));
        assert_eq!(report.now_rule, "the end of 2025-04-09, the day of the business's last order");
        assert_eq!(report.customers.len(), 12);
    }

    #[test]
    fn too_few_customers_is_a_clear_error() {
        let mut app = App::in_memory().unwrap();
        let business = app.business(None).unwrap();
        let fixture = trailmap_testkit::journeys("customer a\n  2025-01-01 10:00:00 order total=3.00\n  +2d order total=4.00\n").unwrap();
        app.write_fixture(&fixture, &business).unwrap();
        let report = app.clv(&business, &app.clv_request()).unwrap();
        let e = report.prediction_error.unwrap();
        assert_eq!(e, "BG/NBD cannot be fitted: only 1 customer(s) have bought so far, and it needs at least 10");
        assert_eq!(report.purchase_model.cannot_fit, Some(CannotFit::TooFewCustomers { needed: 10, found: 1 }));
        assert_eq!(report.groups[0].historical.mean, 7.0);
        let mut holdout = app.clv_request();
        holdout.until = Some("2025-01-01".parse().unwrap());
        let e = app.clv(&business, &holdout).unwrap_err().to_string();
        assert!(e.starts_with("until: no holdout check: BG/NBD cannot be fitted: only 1 customer(s)"), "{e}");
        let mut bad = app.clv_request();
        bad.horizon = 0;
        assert!(app.clv(&business, &bad).unwrap_err().to_string().contains("horizon"));
        assert!(app.suggest_personas(&business, &app.persona_request()).unwrap_err().to_string().contains("at least 10"));
    }

    #[test]
    fn segments_and_personas_on_the_fixture() {
        let (mut app, business) = app();
        let report = app.segments(&business, None).unwrap();
        assert_eq!(report.customers, 12);
        assert_eq!(report.segments.iter().map(|s| s.customers).sum::<usize>(), 12);
        let total: f64 = report.segments.iter().map(|s| s.revenue).sum();
        assert!((total - (210.0 + 30.0)).abs() < 1e-9);
        let mut request = app.persona_request();
        request.k = Some(2);
        let a = app.suggest_personas(&business, &request).unwrap();
        let b = app.suggest_personas(&business, &request).unwrap();
        assert_eq!(a.clusters.iter().map(|c| c.customer_ids.clone()).collect::<Vec<_>>(), b.clusters.iter().map(|c| c.customer_ids.clone()).collect::<Vec<_>>());
        assert_eq!(a.clusters.iter().map(|c| c.customers).sum::<usize>(), 12);
        let id = app.create_persona_from_suggestion(&business, &a.clusters[0]).unwrap();
        let personas = app.store().personas(business.id).unwrap();
        let created = personas.iter().find(|p| p.id == id).unwrap();
        assert_eq!(created.segment.as_ref(), Some(&a.clusters[0].rule));
    }
}
