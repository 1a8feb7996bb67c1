//! The customers behind one figure of a funnel, a page at a time: those reaching a step, or
//! dropping at it, overall or in one breakdown group. A funnel answer carries its counts only; at
//! ten million events its customer lists are megabytes of ids, so a front end asks for the list it
//! shows (the CLI's `--customers-at`, the API's and the pages' `customers_at` with `limit` and
//! `offset`) and gets that page, in ascending customer id order, with the list's whole size.

use crate::Result;
use crate::query::field_error;
use serde::Serialize;
use trailmap_analytics::FunnelReport;
use trailmap_model::CustomerId;

/// Customers listed when a request names no limit.
pub const DEFAULT_CUSTOMERS_LIMIT: usize = 100;
/// The largest page one request may ask for.
pub const MAX_CUSTOMERS_LIMIT: usize = 10_000;

/// Which customers of a funnel to list: a step's (1-based), those reaching it or dropping at it,
/// overall or in one breakdown group, `limit` of them from `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelCustomersRequest {
    /// The step, 1 for the first.
    pub step: usize,
    /// Those who reached the step before but not this one, instead of those reaching it.
    pub dropped: bool,
    /// One breakdown group's value (the funnel must have that breakdown); `None`: all customers.
    pub group: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

impl FunnelCustomersRequest {
    /// The first page of the customers reaching `step`, overall.
    pub fn reaching(step: usize) -> FunnelCustomersRequest {
        FunnelCustomersRequest { step, dropped: false, group: None, offset: 0, limit: DEFAULT_CUSTOMERS_LIMIT }
    }
}

/// One page of the customers behind a funnel figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelCustomers {
    /// The step, 1 for the first, and its label.
    pub step: usize,
    pub label: String,
    /// Whether these are the customers dropping at the step rather than reaching it.
    pub dropped: bool,
    /// The breakdown group, when one was asked.
    pub group: Option<String>,
    /// Customers in the whole list: the figure's n.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    /// This page's customer ids, ascending.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
    pub customers: Vec<CustomerId>,
}

/// The page `asked` of `report`'s lists; a step, or a group, the funnel does not have is refused
/// naming the parameter (`customers_at`, `customers_who`, `customers_group`).
pub fn page(report: &FunnelReport, asked: &FunnelCustomersRequest) -> Result<FunnelCustomers> {
    let result = match &asked.group {
        None => &report.overall,
        Some(value) => match report.breakdown.iter().find(|g| &g.value == value) {
            Some(group) => &group.result,
            None if report.breakdown.is_empty() => {
                return Err(field_error("customers_group", format!("{value:?}: the funnel has no breakdown; ask for one with breakdown")));
            }
            None => {
                let values: Vec<&str> = report.breakdown.iter().map(|g| g.value.as_str()).collect();
                return Err(field_error("customers_group", format!("{value:?} is not a group of this breakdown; its groups are: {}", values.join(", "))));
            }
        },
    };
    let steps = result.steps.len().max(report.overall.steps.len());
    let Some(step) = asked.step.checked_sub(1).and_then(|k| result.steps.get(k)) else {
        return Err(field_error("customers_at", format!("{} is not a step of this funnel: its steps are 1 to {steps}", asked.step)));
    };
    if asked.dropped && asked.step == 1 {
        return Err(field_error("customers_who", "nobody drops at step 1: step 1 is where customers enter; ask for those reaching it"));
    }
    let list = if asked.dropped { &step.dropped_customers } else { &step.customers };
    let from = asked.offset.min(list.len());
    let to = from.saturating_add(asked.limit).min(list.len());
    Ok(FunnelCustomers {
        step: asked.step,
        label: step.label.clone(),
        dropped: asked.dropped,
        group: asked.group.clone(),
        total: list.len(),
        offset: asked.offset,
        limit: asked.limit,
        customers: list[from..to].to_vec(),
    })
}

/// Empties the customer lists of `report` (every step, every group): what an answer keeps once
/// the page asked for is taken, so cached answers hold counts, not ids.
pub fn drop_lists(report: &mut FunnelReport) {
    let results = std::iter::once(&mut report.overall).chain(report.breakdown.iter_mut().map(|g| &mut g.result));
    for result in results {
        for step in &mut result.steps {
            step.customers = Vec::new();
            step.dropped_customers = Vec::new();
        }
    }
}
