//! RFM: recency, frequency and monetary scores from 1 to 5 by quintile, and named segments.
//!
//! A score is 1 + ⌊5 × (customers strictly worse) / n⌋, so tied customers share a score (every
//! one-order customer gets frequency 1). Recency is better when fewer days have passed since the
//! last purchase; frequency is the number of orders; monetary is revenue. Segments use R and F,
//! first rule that matches:
//! champions R≥4 F≥4; loyal R≥3 F≥3; promising R≥4 (F≤2); needs attention R=3 (F≤2);
//! at risk R≤2 F≥3; hibernating R=2 (F≤2); lost R=1 (F≤2).

use serde::{Deserialize, Serialize};
use trailmap_model::CustomerId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    Champions,
    Loyal,
    Promising,
    NeedsAttention,
    AtRisk,
    Hibernating,
    Lost,
}

impl Segment {
    pub const ALL: [Segment; 7] = [
        Segment::Champions,
        Segment::Loyal,
        Segment::Promising,
        Segment::NeedsAttention,
        Segment::AtRisk,
        Segment::Hibernating,
        Segment::Lost,
    ];

    pub fn from_scores(r: u8, f: u8) -> Segment {
        match (r, f) {
            (4.., 4..) => Segment::Champions,
            (3.., 3..) => Segment::Loyal,
            (4.., _) => Segment::Promising,
            (3, _) => Segment::NeedsAttention,
            (_, 3..) => Segment::AtRisk,
            (2, _) => Segment::Hibernating,
            _ => Segment::Lost,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Segment::Champions => "champions",
            Segment::Loyal => "loyal",
            Segment::Promising => "promising",
            Segment::NeedsAttention => "needs attention",
            Segment::AtRisk => "at risk",
            Segment::Hibernating => "hibernating",
            Segment::Lost => "lost",
        }
    }

    /// The rule in words, for output.
    pub fn rule(self) -> &'static str {
        match self {
            Segment::Champions => "R>=4 and F>=4",
            Segment::Loyal => "R>=3 and F>=3, not champions",
            Segment::Promising => "R>=4 and F<=2",
            Segment::NeedsAttention => "R=3 and F<=2",
            Segment::AtRisk => "R<=2 and F>=3",
            Segment::Hibernating => "R=2 and F<=2",
            Segment::Lost => "R=1 and F<=2",
        }
    }
}

/// What RFM reads per customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmInput {
    pub customer: CustomerId,
    pub days_since_last_purchase: f64,
    pub orders: f64,
    pub revenue: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmScore {
    pub customer: CustomerId,
    pub recency: u8,
    pub frequency: u8,
    pub monetary: u8,
    pub segment: Segment,
}

/// Quintile scores where a larger `value` is better.
fn quintile_scores(values: &[f64]) -> Vec<u8> {
    let n = values.len();
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    values
        .iter()
        .map(|v| {
            let below = sorted.partition_point(|s| s < v);
            1 + ((5 * below) / n).min(4) as u8
        })
        .collect()
}

/// Scores and segments every customer, in input order.
pub fn rfm_scores(customers: &[RfmInput]) -> Vec<RfmScore> {
    let recency: Vec<f64> = customers.iter().map(|c| -c.days_since_last_purchase).collect();
    let frequency: Vec<f64> = customers.iter().map(|c| c.orders).collect();
    let monetary: Vec<f64> = customers.iter().map(|c| c.revenue).collect();
    let (r, f, m) = (quintile_scores(&recency), quintile_scores(&frequency), quintile_scores(&monetary));
    customers
        .iter()
        .enumerate()
        .map(|(i, c)| RfmScore {
            customer: c.customer,
            recency: r[i],
            frequency: f[i],
            monetary: m[i],
            segment: Segment::from_scores(r[i], f[i]),
        })
        .collect()
}
