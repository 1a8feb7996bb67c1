//! The impact of a recorded change on the KPI it names: the metric over matched windows before
//! and after the change's date, the test that fits the metric (two proportions for shares,
//! Welch's t and a bootstrap for means, exact Poisson rates for counts per day), a
//! difference-in-differences against an untouched comparable where one exists, A/B splits by a
//! variant property on events, and a plain-language verdict that always carries its sample size.
//!
//! The types here are the contract the CLI, the API, the web pages and the report read.

use crate::changes::ChangeView;
use crate::{App, AppError, DayRange, Result};
use serde::Serialize;
use trailmap_analytics::stats::{Comparison, DifferenceInDifferences};
use trailmap_model::{Business, ChangeId, ChangeMetric, CustomerId};

/// What to measure around a change.
#[derive(Debug, Clone, PartialEq)]
pub struct ImpactRequest {
    /// Days in each of the two windows; None takes the longest matched length the data allows.
    pub window_days: Option<u32>,
    /// Days right after the change left out of the after window, while it settles in.
    pub ramp_up_days: u32,
    /// An untouched comparable metric for a difference-in-differences; None takes the automatic
    /// choice where one exists.
    pub control: Option<ChangeMetric>,
    /// A/B: the event property whose value puts each customer in a variant.
    pub split: Option<String>,
    /// 0.95 for 95% intervals.
    pub confidence: f64,
}

impl Default for ImpactRequest {
    fn default() -> ImpactRequest {
        ImpactRequest { window_days: None, ramp_up_days: 0, control: None, split: None, confidence: 0.95 }
    }
}

/// How a metric's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpactUnit {
    /// A share 0..1.
    Proportion,
    /// Money in the business's currency, in major units (dollars, not cents).
    Money,
    /// A count per day.
    PerDay,
    /// A score on its own scale (NPS -100..100, CSAT 1-5 shown as a share of 4s and 5s is a
    /// proportion instead).
    Score,
}

/// A metric over one window, with the customers behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowValue {
    pub window: DayRange,
    /// None when the sample is empty.
    pub value: Option<f64>,
    /// People, orders, answers or days, as the metric's `n_means` says.
    pub n: u64,
    /// For shares: how many of the n succeeded (converted, bought again, promoters).
    pub successes: Option<u64>,
    /// The customers the value counts (the sample: for a share, its denominator), sorted.
    pub customers: Vec<CustomerId>,
}

/// The same measurement for an untouched comparable, and the difference-in-differences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlImpact {
    pub metric: ChangeMetric,
    pub label: String,
    /// Why this comparable was chosen (named by the request, or the automatic rule).
    pub reason: String,
    pub before: WindowValue,
    pub after: WindowValue,
    pub did: DifferenceInDifferences,
    pub verdict: String,
}

/// One variant of an A/B split, over the after window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantValue {
    pub variant: String,
    pub value: WindowValue,
}

/// An A/B split analysed like a before/after: the baseline variant against each other one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitImpact {
    pub property: String,
    pub baseline: VariantValue,
    pub variants: Vec<(VariantValue, Option<Comparison>, String)>,
}

/// The impact of one change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impact {
    pub business: String,
    pub currency: String,
    pub change: ChangeView,
    pub metric: ChangeMetric,
    /// The KPI's label ("checkout conversion").
    pub label: String,
    pub unit: ImpactUnit,
    /// What n counts: "customers who reached checkout_started", "orders", "answers", "days".
    pub n_means: String,
    pub before: WindowValue,
    pub after: WindowValue,
    /// None when the windows hold too little for any test (the verdict says so).
    pub comparison: Option<Comparison>,
    /// The plain-language verdict; it always gives n.
    pub verdict: String,
    pub control: Option<ControlImpact>,
    /// Why there is no difference-in-differences, when there is none.
    pub control_note: Option<String>,
    pub split: Option<SplitImpact>,
    /// How the numbers were made: windows, test, definitions, in sentences.
    pub method: Vec<String>,
}

impl App {
    /// The impact of change `id` of `business`.
    pub fn change_impact(&self, business: &Business, id: ChangeId, request: &ImpactRequest) -> Result<Impact> {
        let _ = (business, id, request);
        Err(AppError::Invalid("change impact is not built yet".into()))
    }
}
