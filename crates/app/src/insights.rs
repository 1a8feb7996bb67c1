//! Insights: plain-language findings about a business, ranked by the value at stake. The stage
//! or step with the largest drop-off and what it costs, channels whose spend brings few or
//! low-value customers, touchpoints with the worst satisfaction or the most negative themes,
//! customers at risk of churning, and maps past their review date. Each finding says how its
//! value was estimated, carries its sample size, links to its evidence and lists the customers
//! behind it.
//!
//! The types here are the contract the CLI, the API, the web pages and the report read.

use crate::{App, AppError, DayRange, Result};
use chrono::NaiveDate;
use serde::Serialize;
use trailmap_model::{Business, CustomerId};

/// What to look at.
#[derive(Debug, Clone, PartialEq)]
pub struct InsightsRequest {
    /// The period the findings are about; None takes the business's default period (as the
    /// dashboard's).
    pub period: Option<DayRange>,
    /// Today, for maps past their review date and the default period.
    pub today: NaiveDate,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InsightKind {
    DropOff,
    Channel,
    Satisfaction,
    ChurnRisk,
    StaleMap,
}

/// Where the evidence is: a page of the web app and the command that shows the same numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// What the evidence is ("funnel checkout_started → purchase").
    pub label: String,
    /// The web page, relative to the business (`analysis/funnel?steps=...`), to be put under
    /// `/b/{business_id}/`.
    pub page: String,
    /// The CLI command that shows it (`trailmap funnel --steps ...`).
    pub command: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insight {
    pub kind: InsightKind,
    /// The finding in one sentence.
    pub title: String,
    /// The numbers behind it, in a sentence, with their n.
    pub detail: String,
    /// The estimated value at stake in the business's currency, minor units; None when the
    /// finding has no money figure (a map past its review date).
    pub value_at_stake_minor: Option<i64>,
    /// How the value was estimated, in a sentence.
    pub value_basis: String,
    /// The sample size behind the finding.
    pub n: u64,
    pub evidence: Evidence,
    /// The customers behind the finding, sorted.
    pub customers: Vec<CustomerId>,
}

/// A business's findings, the largest value at stake first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insights {
    pub business: String,
    pub currency: String,
    pub period: DayRange,
    pub findings: Vec<Insight>,
}

impl App {
    /// The findings for `business`, ranked by value at stake.
    pub fn insights(&self, business: &Business, request: &InsightsRequest) -> Result<Insights> {
        let _ = (business, request);
        Err(AppError::Invalid("insights are not built yet".into()))
    }
}
