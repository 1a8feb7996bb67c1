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
//! Customers with the same (frequency, recency, age) and spend per purchase have the same
//! predictions (most one-time buyers share their spend, the population's mean), so each such row
//! is worked out once; the customers are split into ranges that rayon's pool predicts at once,
//! each range in its own order, and the answers are put back in customer order, so they do not
//! depend on the number of threads. The two fits (purchases and spend) and the history run side
//! by side the same way: each is the computation it was, only at the same time.

use crate::journeys_cache::JourneysCache;
use crate::value::{ClvRequest, ModelFit, PurchaseModel, plain_error};
use crate::{AppError, Result};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::sync::Arc;
use trailmap_clv::historical::{CustomerValue, customer_values};
use trailmap_clv::holdout::holdout_purchases;
use trailmap_clv::*;
use trailmap_model::BusinessId;

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
    /// Each customer's history, in customer order.
    pub history: Vec<CustomerValue>,
    pub spend: trailmap_clv::Result<GammaGamma>,
    pub purchase_model: ModelFit,
    pub holdout: Option<HoldoutReport>,
    /// Per customer of `summary`, in its order: the place of their history in `history` and
    /// their predictions, or None for a customer without history (left out of the answer).
    pub predictions: Vec<Option<(usize, Prediction)>>,
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
        let (summary, history) = rayon::join(
            || summarise(&inputs.transactions, calibration_last_day, unit),
            || customer_values(&inputs.transactions, calibration_end_ms),
        );
        let summary = summary.map_err(invalid)?;
        let purchase_name = match inputs.model {
            PurchaseModel::ParetoNbd => "Pareto/NBD",
            PurchaseModel::Bgnbd | PurchaseModel::GammaGamma => "BG/NBD",
        };
        let (spend, fitted) = rayon::join(|| GammaGamma::fit(&summary, unit), || Self::fit_purchases(&summary, unit, inputs.model, purchase_name));
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
        // Each customer of the summary with the place of their history (both in customer order).
        let mut place = 0;
        let placed: Vec<Option<usize>> = summary
            .iter()
            .map(|c| {
                while place < history.len() && history[place].customer < c.customer {
                    place += 1;
                }
                (place < history.len() && history[place].customer == c.customer).then_some(place)
            })
            .collect();
        let fitted = fitted.as_ref().filter(|_| purchase_model.parameters.is_some());
        let while_alive = match fitted {
            Some(Fitted::Bg(m)) => PredictionContext::series(m, &summary, inputs.horizon),
            _ => WhileAlive::default(),
        };
        let context = PredictionContext {
            fitted,
            spend: spend.as_ref().ok(),
            horizon: inputs.horizon,
            discount: f64::from_bits(inputs.discount_bits),
            while_alive,
        };
        // Ranges of customers predicted at once, joined in order; the first failure in customer
        // order is the answer's, as when they were predicted one after the other.
        let range = summary.len().div_ceil(rayon::current_num_threads().max(1) * 4).max(1024);
        let predicted: Vec<Result<Vec<Option<(usize, Prediction)>>>> = summary
            .par_chunks(range)
            .zip(placed.par_chunks(range))
            .map(|(customers, places)| context.predict(customers, places, &history))
            .collect();
        let mut predictions = Vec::with_capacity(summary.len());
        for range in predicted {
            predictions.extend(range?);
        }
        Ok(ClvModel { inputs, summary, history, spend, purchase_model, holdout, predictions })
    }

    /// The purchase model fitted, with its figures as the report states them.
    fn fit_purchases(summary: &[CustomerSummary], unit: TimeUnit, model: PurchaseModel, purchase_name: &'static str) -> trailmap_clv::Result<(ModelFit, Fitted)> {
        match model {
            PurchaseModel::Bgnbd | PurchaseModel::GammaGamma => BgNbd::fit(summary, unit).map(|m| {
                let p = serde_json::json!({ "r": m.r, "alpha": m.alpha, "a": m.a, "b": m.b });
                let fit = ModelFit { model: purchase_name, parameters: Some(p), log_likelihood: Some(m.fit.log_likelihood), fitted_customers: Some(m.fit.customers), cannot_fit: None, error: None };
                (fit, Fitted::Bg(m))
            }),
            PurchaseModel::ParetoNbd => ParetoNbd::fit(summary, unit).map(|m| {
                let p = serde_json::json!({ "r": m.r, "alpha": m.alpha, "s": m.s, "beta": m.beta });
                let fit = ModelFit { model: purchase_name, parameters: Some(p), log_likelihood: Some(m.fit.log_likelihood), fitted_customers: Some(m.fit.customers), cannot_fit: None, error: None };
                (fit, Fitted::Pareto(m))
            }),
        }
    }
}

/// BG/NBD's expected purchases while alive over periods 1..=horizon, per (frequency, age) as
/// bits, or why they could not be worked out (the message of the error).
type WhileAlive = FxHashMap<(u64, u64), std::result::Result<Vec<f64>, String>>;

/// What every customer's predictions read: the fitted models, the horizon and the discount, and
/// for BG/NBD the series of each (frequency, age) of the customers, worked out once for all.
struct PredictionContext<'a> {
    /// None when the purchase model could not be fitted (then there are no predictions).
    fitted: Option<&'a Fitted>,
    spend: Option<&'a GammaGamma>,
    horizon: u32,
    discount: f64,
    while_alive: WhileAlive,
}

impl PredictionContext<'_> {
    /// The series of every (frequency, age) among `summary`, computed on rayon's pool (each is
    /// the same computation wherever it runs).
    fn series(m: &BgNbd, summary: &[CustomerSummary], horizon: u32) -> WhileAlive {
        let mut keys: Vec<(u64, u64)> = summary.iter().map(|c| (c.frequency.to_bits(), c.age.to_bits())).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_par_iter()
            .map(|key| {
                let (x, t) = (f64::from_bits(key.0), f64::from_bits(key.1));
                let series = (1..=horizon)
                    .map(|k| m.expected_purchases_while_alive(f64::from(k), x, t))
                    .collect::<trailmap_clv::Result<Vec<f64>>>()
                    .map_err(|e| e.to_string());
                (key, series)
            })
            .collect()
    }

    /// The predictions of `customers` (a range of the summary) and the places of their histories,
    /// in their order. Customers with the same (frequency, recency, age) and spend per purchase
    /// share one computation.
    fn predict(&self, customers: &[CustomerSummary], places: &[Option<usize>], history: &[CustomerValue]) -> Result<Vec<Option<(usize, Prediction)>>> {
        let mut kept: FxHashMap<[u64; 4], Prediction> = FxHashMap::default();
        let mut out = Vec::with_capacity(customers.len());
        for (c, place) in customers.iter().zip(places) {
            let Some(place) = *place else {
                out.push(None);
                continue;
            };
            let Some(fitted) = self.fitted else {
                out.push(Some((place, Prediction { probability_alive: None, expected_purchases: None, expected_spend_per_purchase: None, predicted_value: None })));
                continue;
            };
            let spend_per_purchase = match self.spend {
                Some(g) => g.expected_spend(c.frequency, c.monetary),
                None => history[place].average_order_value,
            };
            let key = [c.frequency.to_bits(), c.recency.to_bits(), c.age.to_bits(), spend_per_purchase.to_bits()];
            let prediction = match kept.get(&key) {
                Some(&prediction) => prediction,
                None => {
                    let prediction = self.customer(fitted, c, spend_per_purchase)?;
                    kept.insert(key, prediction);
                    prediction
                }
            };
            out.push(Some((place, prediction)));
        }
        Ok(out)
    }

    /// One customer's predictions.
    fn customer(&self, fitted: &Fitted, c: &CustomerSummary, spend_per_purchase: f64) -> Result<Prediction> {
        let (horizon, discount) = (self.horizon, self.discount);
        let (expected, value, alive) = match fitted {
            Fitted::Bg(m) => {
                let series = match self.while_alive.get(&(c.frequency.to_bits(), c.age.to_bits())) {
                    Some(Ok(series)) => series,
                    Some(Err(e)) => return Err(AppError::Invalid(e.clone())),
                    None => return Err(AppError::Invalid(format!("no expected purchases for frequency {} and age {}", c.frequency, c.age))),
                };
                let odds = m.alive_odds_denominator(c.frequency, c.recency, c.age);
                let expected = series[horizon as usize - 1] / odds;
                let value = discounted_value(|t| series[t as usize - 1] / odds, spend_per_purchase, horizon, discount);
                (expected, value, m.probability_alive(c.frequency, c.recency, c.age))
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
                (expected, value, m.probability_alive(c.frequency, c.recency, c.age).map_err(invalid)?)
            }
        };
        Ok(Prediction {
            probability_alive: Some(alive),
            expected_purchases: Some(expected),
            expected_spend_per_purchase: Some(spend_per_purchase),
            predicted_value: Some(value),
        })
    }
}

impl ModelInputs {
    /// The inputs of `request`'s model over `transactions`.
    pub(crate) fn of(business: BusinessId, transactions: Vec<Transaction>, calibration_last_day: i64, last_day: i64, request: &ClvRequest) -> ModelInputs {
        ModelInputs {
            business,
            transactions,
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
