//! The model part of a customer value answer ([`ClvModel`]): everything `App::clv` computes from
//! the transactions alone (with the calibration period, the unit, the model, the horizon and the
//! discount): the per-customer summary and history, the fitted purchase and spend models, the
//! holdout check and every customer's predictions. It is most of the answer's cost (the fits and
//! 52 periods of expected purchases per customer), and it does not change when what is written
//! is not an order: a page view, an answer, a trait. So the last few are kept beside the
//! business's data ([`JourneysCache`]), each with the exact inputs it was computed from (the
//! transactions themselves, compared in full), and reused only when those are equal: a kept
//! model is the one a fresh computation would give, bit for bit. What depends on events,
//! touchpoints or personas (first channel, first touchpoint, persona) is not part of it and is
//! worked out on every answer.
//!
//! Within one computation, BG/NBD's expected purchases while alive depend on a customer's
//! frequency and age only (not recency), so customers who share them share the 52-period series
//! ([`trailmap_clv::BgNbd::expected_purchases_while_alive`]); each customer's own factor is one
//! division. The numbers are those of `BgNbd::expected_purchases`, operation for operation.

use crate::journeys_cache::JourneysCache;
use crate::value::{ClvRequest, ModelFit, PurchaseModel, plain_error};
use crate::{AppError, Result};
use std::collections::HashMap;
use std::sync::Arc;
use trailmap_clv::historical::{CustomerValue, customer_values};
use trailmap_clv::holdout::holdout_purchases;
use trailmap_clv::*;
use trailmap_model::{BusinessId, CustomerId};

/// Models kept at most over all businesses.
pub const KEPT_MODELS: usize = 8;

/// Transactions kept at most in the models but the newest (each model holds a copy of its
/// transactions, 24 bytes each, to compare them in full: about 120 MB).
pub const KEPT_MODEL_ROWS: usize = 5_000_000;

/// What a model was computed from; a kept model is reused only for equal inputs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelInputs {
    pub business: BusinessId,
    pub transactions: Vec<Transaction>,
    pub calibration_last_day: i64,
    pub last_day: i64,
    pub unit: TimeUnit,
    pub model: PurchaseModel,
    pub horizon: u32,
    pub discount_bits: u64,
    pub holdout_asked: bool,
}

/// One customer's predictions (None fields when the purchase model could not be fitted).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Prediction {
    pub probability_alive: Option<f64>,
    pub expected_purchases: Option<f64>,
    pub expected_spend_per_purchase: Option<f64>,
    pub predicted_value: Option<f64>,
}

/// See the module.
#[derive(Debug)]
pub(crate) struct ClvModel {
    pub inputs: ModelInputs,
    pub summary: Vec<CustomerSummary>,
    pub history: HashMap<CustomerId, CustomerValue>,
    pub spend: trailmap_clv::Result<GammaGamma>,
    pub purchase_model: ModelFit,
    pub holdout: Option<HoldoutReport>,
    /// Per customer of `summary`, in its order: None for a customer without history (left out
    /// of the answer).
    pub predictions: Vec<Option<Prediction>>,
}

fn invalid(error: ClvError) -> AppError {
    AppError::Invalid(error.to_string())
}

/// A fitted purchase model.
enum Fitted {
    Bg(BgNbd),
    Pareto(ParetoNbd),
}

impl Fitted {
    fn expected_purchases(&self, t: f64, x: f64, tx: f64, age: f64) -> trailmap_clv::Result<f64> {
        match self {
            Fitted::Bg(m) => m.expected_purchases(t, x, tx, age),
            Fitted::Pareto(m) => m.expected_purchases(t, x, tx, age),
        }
    }
}

impl ClvModel {
    /// The model of `inputs`, kept in `cache` when one equal was computed before, else computed
    /// (and kept unless `cache` is off).
    pub(crate) fn get(cache: &JourneysCache, inputs: ModelInputs) -> Result<Arc<ClvModel>> {
        if let Some(kept) = cache.kept_model(&inputs) {
            return Ok(kept);
        }
        let model = Arc::new(ClvModel::compute(inputs)?);
        cache.keep_model(model.clone());
        Ok(model)
    }

    /// Computes the model part of `App::clv` (see the module).
    pub(crate) fn compute(inputs: ModelInputs) -> Result<ClvModel> {
        let unit = inputs.unit;
        let (calibration_last_day, last_day) = (inputs.calibration_last_day, inputs.last_day);
        let calibration_end_ms = (calibration_last_day + 1) * 86_400_000;
        let summary = summarise(&inputs.transactions, calibration_last_day, unit).map_err(invalid)?;
        let spend = GammaGamma::fit(&summary, unit);
        let purchase_name = match inputs.model {
            PurchaseModel::ParetoNbd => "Pareto/NBD",
            PurchaseModel::Bgnbd | PurchaseModel::GammaGamma => "BG/NBD",
        };
        let fitted: trailmap_clv::Result<(ModelFit, Fitted)> = match inputs.model {
            PurchaseModel::Bgnbd | PurchaseModel::GammaGamma => BgNbd::fit(&summary, unit).map(|m| {
                let p = serde_json::json!({ "r": m.r, "alpha": m.alpha, "a": m.a, "b": m.b });
                let fit = ModelFit { model: purchase_name, parameters: Some(p), log_likelihood: Some(m.fit.log_likelihood), fitted_customers: Some(m.fit.customers), cannot_fit: None, error: None };
                (fit, Fitted::Bg(m))
            }),
            PurchaseModel::ParetoNbd => ParetoNbd::fit(&summary, unit).map(|m| {
                let p = serde_json::json!({ "r": m.r, "alpha": m.alpha, "s": m.s, "beta": m.beta });
                let fit = ModelFit { model: purchase_name, parameters: Some(p), log_likelihood: Some(m.fit.log_likelihood), fitted_customers: Some(m.fit.customers), cannot_fit: None, error: None };
                (fit, Fitted::Pareto(m))
            }),
        };
        let (purchase_model, fitted) = match fitted {
            Ok((fit, fitted)) => (fit, Some(fitted)),
            // A holdout check is nothing without the model; otherwise the history still stands.
            Err(e) if inputs.holdout_asked && calibration_last_day < last_day => {
                return Err(AppError::Invalid(format!("until: no holdout check: {}", plain_error(&e))));
            }
            Err(e) => (ModelFit::failed(purchase_name, &e), None),
        };
        let holdout = match (&fitted, calibration_last_day < last_day) {
            (Some(fitted), true) => {
                let actual = holdout_purchases(&inputs.transactions, calibration_last_day, last_day);
                let length = (last_day - calibration_last_day) as f64 / unit.days();
                Some(holdout_check(&summary, &actual, length, &|t, x, tx, age| fitted.expected_purchases(t, x, tx, age)).map_err(invalid)?)
            }
            _ => None,
        };
        let history: HashMap<CustomerId, CustomerValue> =
            customer_values(&inputs.transactions, calibration_end_ms).into_iter().map(|v| (v.customer, v)).collect();
        let (horizon, discount) = (inputs.horizon, f64::from_bits(inputs.discount_bits));
        let parameters = purchase_model.parameters.clone();
        // BG/NBD's expected purchases while alive, periods 1..=horizon, per (frequency, age).
        let mut while_alive: HashMap<(u64, u64), Vec<f64>> = HashMap::new();
        let mut predictions = Vec::with_capacity(summary.len());
        for c in &summary {
            let Some(h) = history.get(&c.customer) else {
                predictions.push(None);
                continue;
            };
            let spend_per_purchase = match &spend {
                Ok(g) => g.expected_spend(c.frequency, c.monetary),
                Err(_) => h.average_order_value,
            };
            let mut prediction = Prediction { probability_alive: None, expected_purchases: None, expected_spend_per_purchase: None, predicted_value: None };
            if let (Some(fitted), Some(parameters)) = (&fitted, &parameters) {
                let (expected, value) = match fitted {
                    Fitted::Bg(m) => {
                        let key = (c.frequency.to_bits(), c.age.to_bits());
                        let series = match while_alive.get(&key) {
                            Some(series) => series,
                            None => {
                                let series = (1..=horizon)
                                    .map(|k| m.expected_purchases_while_alive(f64::from(k), c.frequency, c.age))
                                    .collect::<trailmap_clv::Result<Vec<f64>>>()
                                    .map_err(invalid)?;
                                while_alive.entry(key).or_insert(series)
                            }
                        };
                        let odds = m.alive_odds_denominator(c.frequency, c.recency, c.age);
                        let expected = series[horizon as usize - 1] / odds;
                        let value = discounted_value(|t| series[t as usize - 1] / odds, spend_per_purchase, horizon, discount);
                        (expected, value)
                    }
                    Fitted::Pareto(m) => {
                        let expected = m.expected_purchases(f64::from(horizon), c.frequency, c.recency, c.age).map_err(invalid)?;
                        let mut failure = None;
                        let value = discounted_value(
                            |t| match m.expected_purchases(t, c.frequency, c.recency, c.age) {
                                Ok(v) => v,
                                Err(e) => {
                                    failure = Some(e);
                                    0.0
                                }
                            },
                            spend_per_purchase,
                            horizon,
                            discount,
                        );
                        if let Some(e) = failure {
                            return Err(invalid(e));
                        }
                        (expected, value)
                    }
                };
                prediction = Prediction {
                    probability_alive: Some(probability_alive(parameters, inputs.model, c).map_err(invalid)?),
                    expected_purchases: Some(expected),
                    expected_spend_per_purchase: Some(spend_per_purchase),
                    predicted_value: Some(value),
                };
            }
            predictions.push(Some(prediction));
        }
        Ok(ClvModel { inputs, summary, history, spend, purchase_model, holdout, predictions })
    }
}

fn probability_alive(parameters: &serde_json::Value, model: PurchaseModel, c: &CustomerSummary) -> trailmap_clv::Result<f64> {
    let get = |k: &str| parameters[k].as_f64().unwrap_or(f64::NAN);
    let fit = FitInfo { log_likelihood: 0.0, customers: 0, evaluations: 0, unit: TimeUnit::Day };
    match model {
        PurchaseModel::Bgnbd | PurchaseModel::GammaGamma => Ok(BgNbd { r: get("r"), alpha: get("alpha"), a: get("a"), b: get("b"), fit }
            .probability_alive(c.frequency, c.recency, c.age)),
        PurchaseModel::ParetoNbd => ParetoNbd { r: get("r"), alpha: get("alpha"), s: get("s"), beta: get("beta"), fit }
            .probability_alive(c.frequency, c.recency, c.age),
    }
}

impl ModelInputs {
    /// The inputs of `request`'s model over `transactions`.
    pub(crate) fn of(business: BusinessId, transactions: &[Transaction], calibration_last_day: i64, last_day: i64, request: &ClvRequest) -> ModelInputs {
        ModelInputs {
            business,
            transactions: transactions.to_vec(),
            calibration_last_day,
            last_day,
            unit: request.unit,
            model: request.model,
            horizon: request.horizon,
            discount_bits: request.discount.to_bits(),
            holdout_asked: request.until.is_some(),
        }
    }
}
