//! Historical value: what each customer has spent so far, and the mean per group (channel, cohort)
//! with a 95% confidence interval by the normal approximation (mean ± 1.96 × sample standard
//! deviation / √n), keeping the customers behind each group.

use crate::Transaction;
use crate::summary::day_of;
use serde::{Deserialize, Serialize};
use trailmap_model::CustomerId;

/// One customer's purchases so far. Orders are counted one per transaction (not per day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerValue {
    pub customer: CustomerId,
    pub revenue: f64,
    pub orders: u64,
    pub average_order_value: f64,
    pub first_purchase_ms: i64,
    pub last_purchase_ms: i64,
    /// Whole days from the first purchase day to the day of `now`.
    pub tenure_days: i64,
    /// Whole days from the last purchase day to the day of `now`.
    pub days_since_last_purchase: i64,
    /// Mean days between orders ((last - first) / (orders - 1)); None with one order.
    pub days_between_orders: Option<f64>,
}

/// Each customer's value from the transactions before `now_ms`, in customer order.
pub fn customer_values(transactions: &[Transaction], now_ms: i64) -> Vec<CustomerValue> {
    // By customer and time, ties in the order given (revenue is added in that order): the place
    // in the list is the last key, so an unstable sort of the keys alone, quicker than a stable
    // sort of the rows over millions of them, gives the stable order.
    // Sized for every transaction up front: millions of rows are not copied as the list grows.
    let mut keyed: Vec<(CustomerId, i64, usize)> = Vec::with_capacity(transactions.len());
    keyed.extend(transactions.iter().enumerate().filter(|(_, t)| t.time_ms < now_ms).map(|(i, t)| (t.customer, t.time_ms, i)));
    keyed.sort_unstable();
    let now_day = day_of(now_ms);
    let mut out: Vec<CustomerValue> = Vec::new();
    for t in keyed.into_iter().map(|(_, _, i)| &transactions[i]) {
        match out.last_mut() {
            Some(v) if v.customer == t.customer => {
                v.revenue += t.value;
                v.orders += 1;
                v.last_purchase_ms = t.time_ms;
            }
            _ => out.push(CustomerValue {
                customer: t.customer,
                revenue: t.value,
                orders: 1,
                average_order_value: 0.0,
                first_purchase_ms: t.time_ms,
                last_purchase_ms: t.time_ms,
                tenure_days: 0,
                days_since_last_purchase: 0,
                days_between_orders: None,
            }),
        }
    }
    for v in &mut out {
        v.average_order_value = v.revenue / v.orders as f64;
        v.tenure_days = now_day - day_of(v.first_purchase_ms);
        v.days_since_last_purchase = now_day - day_of(v.last_purchase_ms);
        v.days_between_orders = (v.orders > 1)
            .then(|| (v.last_purchase_ms - v.first_purchase_ms) as f64 / 86_400_000.0 / (v.orders - 1) as f64);
    }
    out
}

/// The mean of a value per group with its normal-approximation 95% interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupValue {
    pub group: String,
    pub customers: usize,
    pub total: f64,
    pub mean: f64,
    /// None with fewer than two customers.
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    pub customer_ids: Vec<CustomerId>,
}

/// Groups `(group, customer, value)` rows; groups come out by mean, highest first (ties by name).
/// A group is any text (a `String`, or a label many rows share, such as an `Arc<str>`).
pub fn group_values<S: AsRef<str>>(rows: &[(S, CustomerId, f64)]) -> Vec<GroupValue> {
    // Each group's rows by customer, ties in the order given (the order a stable sort of every
    // row by group and customer gives): put in their groups in one pass, a handful of groups among
    // many rows, then each sorted stably (a pass when, as usual, they come in customer order).
    // The groups' own order is the final sort's below (names are unique), not the map's.
    let mut groups: std::collections::HashMap<&str, Vec<&(S, CustomerId, f64)>> = std::collections::HashMap::new();
    for row in rows {
        groups.entry(row.0.as_ref()).or_default().push(row);
    }
    let mut out = Vec::with_capacity(groups.len());
    for (group, mut members) in groups {
        members.sort_by_key(|r| r.1);
        let n = members.len();
        let total: f64 = members.iter().map(|r| r.2).sum();
        let mean = total / n as f64;
        let (low, high) = if n >= 2 {
            let variance = members.iter().map(|r| (r.2 - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let half = 1.96 * (variance / n as f64).sqrt();
            (Some(mean - half), Some(mean + half))
        } else {
            (None, None)
        };
        out.push(GroupValue {
            group: group.to_string(),
            customers: n,
            total,
            mean,
            ci95_low: low,
            ci95_high: high,
            customer_ids: members.iter().map(|r| r.1).collect(),
        });
    }
    out.sort_by(|a, b| b.mean.total_cmp(&a.mean).then(a.group.cmp(&b.group)));
    out
}
