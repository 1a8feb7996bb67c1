//! The calibration/holdout check: fit on purchases up to a day, predict each customer's purchases
//! in the following period, and compare with what they did, in total and by calibration
//! frequency. Purchases are counted as in the summary: one per customer per UTC day.

use crate::summary::day_of;
use crate::{CustomerSummary, Result, Transaction};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use trailmap_model::CustomerId;

/// Predicted against actual purchases of the customers with a given calibration frequency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HoldoutBucket {
    /// Repeat purchases in calibration: "0", "1", ... "6+".
    pub frequency: String,
    pub customers: usize,
    pub predicted_mean: f64,
    pub actual_mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HoldoutReport {
    pub customers: usize,
    /// Holdout length in the model's unit.
    pub holdout_length: f64,
    pub predicted_total: f64,
    pub actual_total: f64,
    pub buckets: Vec<HoldoutBucket>,
}

/// Purchase days per customer strictly after `calibration_last_day` and up to `holdout_last_day`.
pub fn holdout_purchases(transactions: &[Transaction], calibration_last_day: i64, holdout_last_day: i64) -> HashMap<CustomerId, f64> {
    let mut days: Vec<(CustomerId, i64)> = transactions
        .iter()
        .map(|t| (t.customer, day_of(t.time_ms)))
        .filter(|(_, d)| *d > calibration_last_day && *d <= holdout_last_day)
        .collect();
    days.sort_unstable();
    days.dedup();
    let mut out = HashMap::new();
    for (customer, _) in days {
        *out.entry(customer).or_insert(0.0) += 1.0;
    }
    out
}

/// Compares `predict(holdout_length, x, t_x, T)` with the actual holdout purchases.
pub fn holdout_check(
    calibration: &[CustomerSummary],
    actual: &HashMap<CustomerId, f64>,
    holdout_length: f64,
    predict: &dyn Fn(f64, f64, f64, f64) -> Result<f64>,
) -> Result<HoldoutReport> {
    const TOP: usize = 6;
    let mut sums = [(0usize, 0.0, 0.0); TOP + 1];
    let (mut predicted_total, mut actual_total) = (0.0, 0.0);
    for c in calibration {
        let predicted = predict(holdout_length, c.frequency, c.recency, c.age)?;
        let did = actual.get(&c.customer).copied().unwrap_or(0.0);
        let bucket = (c.frequency as usize).min(TOP);
        sums[bucket].0 += 1;
        sums[bucket].1 += predicted;
        sums[bucket].2 += did;
        predicted_total += predicted;
        actual_total += did;
    }
    let buckets = sums
        .iter()
        .enumerate()
        .filter(|(_, s)| s.0 > 0)
        .map(|(i, s)| HoldoutBucket {
            frequency: if i == TOP { format!("{TOP}+") } else { i.to_string() },
            customers: s.0,
            predicted_mean: s.1 / s.0 as f64,
            actual_mean: s.2 / s.0 as f64,
        })
        .collect();
    Ok(HoldoutReport { customers: calibration.len(), holdout_length, predicted_total, actual_total, buckets })
}
