//! Transactions summarised per customer the way the BG/NBD, Pareto/NBD and Gamma-Gamma models read
//! them: one purchase per customer per UTC day (a day's purchases are added together), frequency =
//! purchase days - 1 (the repeat purchases), recency = time from the first to the last purchase
//! day, age T = time from the first purchase day to the end of the observation period, and
//! monetary value = the mean value of the repeat purchase days (0 without repeats). Times are
//! counted in whole days and then expressed in the chosen unit.

use crate::{ClvError, Result};
use serde::{Deserialize, Serialize};
use trailmap_model::CustomerId;

const MS_PER_DAY: i64 = 86_400_000;

/// One purchase: who, when (milliseconds since the epoch, UTC) and its value in major units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transaction {
    pub customer: CustomerId,
    pub time_ms: i64,
    pub value: f64,
}

/// The unit in which frequency-model times are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TimeUnit {
    Day,
    Week,
}

impl TimeUnit {
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
        }
    }
}

impl std::str::FromStr for TimeUnit {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "day" | "days" | "d" => Ok(TimeUnit::Day),
            "week" | "weeks" | "w" => Ok(TimeUnit::Week),
            other => Err(format!("unknown time unit {other:?} (expected day or week)")),
        }
    }
}

/// One customer's summary for the repeat-purchase models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSummary {
    pub customer: CustomerId,
    /// Repeat purchase days: purchase days - 1.
    pub frequency: f64,
    /// From the first to the last purchase day, in the unit.
    pub recency: f64,
    /// From the first purchase day to the end of the observation period, in the unit.
    #[serde(rename = "T")]
    pub age: f64,
    /// Mean value of the repeat purchase days; 0 without repeats.
    pub monetary: f64,
}

/// The UTC day number of a time in milliseconds.
pub fn day_of(time_ms: i64) -> i64 {
    time_ms.div_euclid(MS_PER_DAY)
}

/// Summarises the transactions on or before `last_day` (a UTC day number, see [`day_of`]) per
/// customer, in customer order. Transactions after `last_day` are left out, so the same list
/// serves a calibration period and its holdout.
pub fn summarise(transactions: &[Transaction], last_day: i64, unit: TimeUnit) -> Result<Vec<CustomerSummary>> {
    if let Some(t) = transactions.iter().find(|t| !t.value.is_finite()) {
        return Err(ClvError::InvalidArgument {
            argument: "transactions",
            reason: format!("customer {} has a purchase value that is not a number", t.customer),
        });
    }
    // By customer and day, a day's purchases in the order given (their values are added in that
    // order): the place in the list is the last key, so an unstable sort, quicker than a stable
    // one over millions of rows, gives the stable order.
    // Sized for every transaction up front: millions of rows are not copied as the list grows.
    let mut keyed: Vec<(CustomerId, i64, usize)> = Vec::with_capacity(transactions.len());
    keyed.extend(
        transactions.iter().enumerate().filter(|(_, t)| day_of(t.time_ms) <= last_day).map(|(i, t)| (t.customer, day_of(t.time_ms), i)),
    );
    keyed.sort_unstable();
    let days: Vec<(CustomerId, i64, f64)> = keyed.into_iter().map(|(c, day, i)| (c, day, transactions[i].value)).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let customer = days[i].0;
        let first_day = days[i].1;
        let (mut last, mut purchase_days, mut repeat_value) = (first_day, 0u64, 0.0);
        while i < days.len() && days[i].0 == customer {
            let day = days[i].1;
            let mut value = 0.0;
            while i < days.len() && days[i].0 == customer && days[i].1 == day {
                value += days[i].2;
                i += 1;
            }
            if purchase_days > 0 {
                repeat_value += value;
            }
            purchase_days += 1;
            last = day;
        }
        let frequency = (purchase_days - 1) as f64;
        out.push(CustomerSummary {
            customer,
            frequency,
            recency: (last - first_day) as f64 / unit.days(),
            age: (last_day - first_day) as f64 / unit.days(),
            monetary: if frequency > 0.0 { repeat_value / frequency } else { 0.0 },
        });
    }
    Ok(out)
}
