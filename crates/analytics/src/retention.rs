//! Retention: do customers buy again? Customers are grouped into cohorts by the period of their
//! first purchase (ISO weeks starting Monday, or calendar months, in UTC), and for each cohort the
//! engine counts the customers purchasing again 1, 2, ... periods later: the retention triangle.
//! With it come the overall repeat-purchase rate and the time between purchases.
//!
//! The triangle stops at the period of the table's last event (of any kind): later cells would
//! be periods the data does not cover yet, which would read as churn. The engine has no clock.

use crate::Journeys;
use crate::funnel::nearest_rank;
use serde::Serialize;
use std::collections::BTreeMap;
use trailmap_model::CustomerId;

const MS_PER_DAY: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RetentionPeriod {
    #[default]
    Week,
    Month,
}

impl std::str::FromStr for RetentionPeriod {
    type Err = String;

    fn from_str(text: &str) -> Result<RetentionPeriod, String> {
        match text {
            "week" => Ok(RetentionPeriod::Week),
            "month" => Ok(RetentionPeriod::Month),
            other => Err(format!("unknown retention period {other:?}: expected week or month")),
        }
    }
}

impl RetentionPeriod {
    /// A number per period, consecutive periods differing by one: ISO weeks counted from the
    /// week of 1970-01-01 (Monday 1969-12-29 is week 0), months as `year * 12 + month - 1`, in UTC.
    pub fn index(self, time_ms: i64) -> i64 {
        let days = time_ms.div_euclid(MS_PER_DAY);
        match self {
            // 1970-01-01 was a Thursday: shifting by 3 days makes weeks start on Monday.
            RetentionPeriod::Week => (days + 3).div_euclid(7),
            RetentionPeriod::Month => {
                let (year, month, _) = civil_from_days(days);
                year * 12 + (month as i64 - 1)
            }
        }
    }

    /// The first day of period `index`, as `YYYY-MM-DD`.
    fn label(self, index: i64) -> String {
        let (year, month, day) = match self {
            RetentionPeriod::Week => civil_from_days(index * 7 - 3),
            RetentionPeriod::Month => (index.div_euclid(12), (index.rem_euclid(12) + 1) as u32, 1),
        };
        format!("{year:04}-{month:02}-{day:02}")
    }
}

/// The calendar date (year, month, day) of a day count since 1970-01-01, UTC.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    use chrono::Datelike;
    let date = trailmap_model::Timestamp(days * trailmap_model::Timestamp::MS_PER_DAY).date();
    (i64::from(date.year()), date.month(), date.day())
}

/// One cohort's row of the triangle.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cohort {
    /// The cohort's first day, `YYYY-MM-DD`.
    pub period: String,
    /// How many customers the cohort has: the n of every rate in the row.
    pub n: usize,
    /// Customers whose first purchase fell in the period.
    pub customers: Vec<CustomerId>,
    /// Cell `k - 1` is period `k` after the first purchase.
    pub later: Vec<RetentionCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionCell {
    /// Periods after the cohort's period.
    pub offset: usize,
    /// Cohort customers purchasing in that period.
    pub customers: Vec<CustomerId>,
    pub rate: f64,
}

/// Days between one purchase and the customer's next, over `n` gaps from `customers` customers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GapSummary {
    pub n: usize,
    pub customers: usize,
    pub median_days: f64,
    pub p90_days: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionReport {
    pub period: RetentionPeriod,
    pub purchase_event: String,
    pub cohorts: Vec<Cohort>,
    /// Customers with at least one purchase: the n of the repeat rate.
    pub purchasers: usize,
    /// Customers with two purchases or more.
    pub repeat_customers: Vec<CustomerId>,
    pub repeat_rate: f64,
    pub time_between_purchases: Option<GapSummary>,
}

/// One buyer's purchases as retention reads them: everything [`retention`] needs of a customer,
/// so a report assembled from buyers summarised elsewhere (ClickHouse, for a pushed-down
/// retention) is the engine's own, the assembly being the same code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuyerPurchases {
    pub customer: CustomerId,
    /// The period index ([`RetentionPeriod::index`]) of the customer's first purchase.
    pub cohort: i64,
    /// The periods after the cohort's in which the customer purchased, ascending, each once.
    pub offsets: Vec<usize>,
    /// The milliseconds between each purchase and the next, in time order: empty for a customer
    /// with one purchase.
    pub gaps: Vec<i64>,
}

/// Builds the retention triangle from the events named `purchase_event`.
pub fn retention(journeys: &Journeys, period: RetentionPeriod, purchase_event: &str) -> RetentionReport {
    let table = journeys.table();
    let purchase = table.find_string(purchase_event);
    let last_event = table.time.iter().max().copied();
    let buyers = journeys.iter().filter_map(|journey| {
        let times: Vec<i64> =
            journey.rows.clone().filter(|&row| Some(table.name[row]) == purchase).map(|row| table.time[row]).collect();
        let &first = times.first()?;
        let cohort = period.index(first);
        let mut offsets: Vec<usize> =
            times.iter().map(|&t| (period.index(t) - cohort) as usize).filter(|&k| k > 0).collect();
        offsets.dedup();
        let gaps = times.windows(2).map(|w| w[1] - w[0]).collect();
        Some(BuyerPurchases { customer: journey.customer, cohort, offsets, gaps })
    });
    retention_of_buyers(period, purchase_event, last_event, buyers)
}

/// The retention report of these buyers, given in ascending customer order (the journeys'
/// order), with `last_event` the time of the business's last event of any kind (where the
/// triangle stops). [`retention`] is this over the journeys; a pushed-down retention is this over
/// the buyers ClickHouse summarised.
pub fn retention_of_buyers(
    period: RetentionPeriod,
    purchase_event: &str,
    last_event: Option<i64>,
    buyers: impl IntoIterator<Item = BuyerPurchases>,
) -> RetentionReport {
    let last_period = last_event.map(|t| period.index(t));
    // Cohort index → (customers, offset → customers).
    let mut cohorts: BTreeMap<i64, (Vec<CustomerId>, BTreeMap<usize, Vec<CustomerId>>)> = BTreeMap::new();
    let mut purchasers = 0;
    let mut repeat_customers = Vec::new();
    let mut gaps: Vec<i64> = Vec::new();
    let mut gap_customers = 0;
    for buyer in buyers {
        purchasers += 1;
        if !buyer.gaps.is_empty() {
            repeat_customers.push(buyer.customer);
            gap_customers += 1;
            gaps.extend(&buyer.gaps);
        }
        let entry = cohorts.entry(buyer.cohort).or_default();
        entry.0.push(buyer.customer);
        for offset in buyer.offsets {
            entry.1.entry(offset).or_default().push(buyer.customer);
        }
    }
    let cohorts = cohorts
        .into_iter()
        .map(|(index, (customers, mut cells))| {
            let span = last_period.map_or(0, |last| (last - index).max(0) as usize);
            let later = (1..=span)
                .map(|offset| {
                    let members = cells.remove(&offset).unwrap_or_default();
                    RetentionCell { offset, rate: members.len() as f64 / customers.len() as f64, customers: members }
                })
                .collect();
            Cohort { period: period.label(index), n: customers.len(), customers, later }
        })
        .collect();
    gaps.sort_unstable();
    let days = |ms: i64| ms as f64 / MS_PER_DAY as f64;
    let time_between_purchases = (!gaps.is_empty()).then(|| GapSummary {
        n: gaps.len(),
        customers: gap_customers,
        median_days: days(nearest_rank(&gaps, 0.5)),
        p90_days: days(nearest_rank(&gaps, 0.9)),
    });
    RetentionReport {
        period,
        purchase_event: purchase_event.to_string(),
        cohorts,
        purchasers,
        repeat_rate: if purchasers == 0 { 0.0 } else { repeat_customers.len() as f64 / purchasers as f64 },
        repeat_customers,
        time_between_purchases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_periods() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        // 2024-02-29 is day 19782.
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        let week = RetentionPeriod::Week;
        // 1970-01-05 was a Monday: the Sunday before is one week earlier.
        assert_eq!(week.index(4 * MS_PER_DAY), week.index(3 * MS_PER_DAY) + 1);
        assert_eq!(week.label(week.index(10 * MS_PER_DAY)), "1970-01-05");
        let month = RetentionPeriod::Month;
        assert_eq!(month.label(month.index(19_782 * MS_PER_DAY)), "2024-02-01");
        assert_eq!(month.index(31 * MS_PER_DAY), month.index(0) + 1);
    }
}
