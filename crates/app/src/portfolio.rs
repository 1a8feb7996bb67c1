//! An agency's portfolio: every business a user can see, each with its key numbers against the
//! period before (with n), their trend, the maps past their review date and the alerts fired
//! lately, sortable by any of them. Each business's period is its dashboard's default one.
//!
//! Also the one pass the delivery task makes ([`App::run_deliveries`]): plan what is due at a
//! given instant, queue it, and send what is due, for the CLI and the tests (the server runs the
//! same steps split between its readers and its writer).

use crate::delivery::DeliverySettings;
use crate::{App, AppError, DayRange, Result};
use serde::Serialize;
use trailmap_analytics::kpi::Metric;
use trailmap_model::{Business, BusinessId, Timestamp};
use trailmap_store::{NewDelivery, NewFiring, StoredDelivery, StoredFiring};

/// Alerts fired within this many days count as open on the portfolio.
pub const OPEN_ALERT_DAYS: i64 = 31;

/// The dashboard metrics the portfolio shows, by key.
pub const PORTFOLIO_METRICS: [&str; 4] = ["new_customers", "conversion_rate", "revenue", "nps"];

/// One business on the portfolio.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortfolioRow {
    pub business: BusinessId,
    pub name: String,
    pub currency: String,
    pub period: DayRange,
    pub previous: DayRange,
    /// The metrics of [`PORTFOLIO_METRICS`], each with its n, previous value and trend.
    pub metrics: Vec<Metric>,
    pub stale_maps: Vec<String>,
    pub maps: usize,
    /// Alerts fired in the last [`OPEN_ALERT_DAYS`] days.
    pub open_alerts: Vec<String>,
    /// Why the numbers are missing, when they are.
    pub note: Option<String>,
}

/// What the portfolio is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PortfolioSort {
    #[default]
    Name,
    NewCustomers,
    ConversionRate,
    Revenue,
    Nps,
    /// The revenue's change against the previous period, largest fall first.
    RevenueChange,
    StaleMaps,
    OpenAlerts,
}

impl PortfolioSort {
    pub const ALL: [(&'static str, PortfolioSort); 8] = [
        ("name", PortfolioSort::Name),
        ("new_customers", PortfolioSort::NewCustomers),
        ("conversion_rate", PortfolioSort::ConversionRate),
        ("revenue", PortfolioSort::Revenue),
        ("nps", PortfolioSort::Nps),
        ("revenue_change", PortfolioSort::RevenueChange),
        ("stale_maps", PortfolioSort::StaleMaps),
        ("open_alerts", PortfolioSort::OpenAlerts),
    ];

    pub fn parse(text: &str) -> Result<PortfolioSort> {
        PortfolioSort::ALL.iter().find(|(name, _)| *name == text.trim()).map(|(_, s)| *s).ok_or_else(|| AppError::InvalidField {
            field: "sort".into(),
            value: Some(text.to_string()),
            reason: format!("is one of {}", PortfolioSort::ALL.map(|(n, _)| n).join(", ")),
        })
    }

    pub fn as_str(self) -> &'static str {
        PortfolioSort::ALL.iter().find(|(_, s)| *s == self).map_or("name", |(n, _)| n)
    }
}

impl PortfolioRow {
    pub fn metric(&self, key: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.key == key)
    }

    fn value(&self, key: &str) -> f64 {
        self.metric(key).and_then(|m| m.current.value).unwrap_or(f64::NEG_INFINITY)
    }
}

/// What one pass of the delivery task did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeliveryRun {
    pub queued: Vec<i64>,
    pub fired: Vec<i64>,
    pub attempted: Vec<i64>,
}

/// What is due at an instant, planned on a read: digests to queue and alert firings to record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryPlan {
    pub digests: Vec<NewDelivery>,
    pub firings: Vec<(NewFiring, Vec<NewDelivery>)>,
}

impl App {
    /// The portfolio of `businesses` (those the user can see), sorted by `sort` (largest first,
    /// but names A to Z).
    pub fn portfolio(&self, businesses: &[Business], sort: PortfolioSort, now: Timestamp) -> Result<Vec<PortfolioRow>> {
        let since = Timestamp(now.0 - OPEN_ALERT_DAYS * Timestamp::MS_PER_DAY);
        let mut rows = Vec::new();
        for business in businesses {
            let today = crate::dashboard::today_in(business, now);
            let period = self.default_period(business, today)?;
            let (metrics, previous, note) = match self.dashboard(business, period) {
                Ok(d) => (d.report.metrics.into_iter().filter(|m| PORTFOLIO_METRICS.contains(&m.key)).collect(), d.previous, None),
                Err(e) => (Vec::new(), period, Some(e.to_string())),
            };
            let maps = self.journey_maps(business, today)?;
            let stale_maps = maps.iter().filter(|m| m.stale).map(|m| m.name.clone()).collect();
            let open_alerts =
                self.alert_firings(business, 100)?.into_iter().filter(|f| f.fired_at >= since).map(|f| f.message).collect();
            rows.push(PortfolioRow {
                business: business.id,
                name: business.name.clone(),
                currency: business.currency.to_string(),
                period,
                previous,
                metrics,
                stale_maps,
                maps: maps.len(),
                open_alerts,
                note,
            });
        }
        let revenue_change = |r: &PortfolioRow| {
            r.metric("revenue").and_then(|m| Some(m.current.value? - m.previous.value?)).unwrap_or(f64::INFINITY)
        };
        match sort {
            PortfolioSort::Name => rows.sort_by_key(|r| r.name.to_lowercase()),
            PortfolioSort::StaleMaps => rows.sort_by_key(|r| std::cmp::Reverse(r.stale_maps.len())),
            PortfolioSort::OpenAlerts => rows.sort_by_key(|r| std::cmp::Reverse(r.open_alerts.len())),
            PortfolioSort::RevenueChange => rows.sort_by(|a, b| revenue_change(a).total_cmp(&revenue_change(b))),
            other => {
                let key = other.as_str();
                rows.sort_by(|a, b| b.value(key).total_cmp(&a.value(key)));
            }
        }
        Ok(rows)
    }

    /// What is due at `now`: digests not yet queued for their period, alert rules whose
    /// condition holds for a period they have not fired for. A read.
    pub fn plan_deliveries(&self, now: Timestamp) -> Result<DeliveryPlan> {
        Ok(DeliveryPlan { digests: self.plan_digests(now)?, firings: self.plan_alerts(now)? })
    }

    /// Queues a plan: each digest once per period (by its key), each firing once per rule and
    /// period. Returns the deliveries queued and the firings recorded.
    pub fn queue_plan(&mut self, plan: &DeliveryPlan, now: Timestamp) -> Result<(Vec<StoredDelivery>, Vec<StoredFiring>)> {
        let mut queued = Vec::new();
        for digest in &plan.digests {
            queued.extend(self.queue_delivery(digest, now)?);
        }
        let fired = self.record_firings(&plan.firings, now)?;
        Ok((queued, fired))
    }

    /// One pass of the delivery task at `now`: plan, queue, then one attempt at everything due.
    pub fn run_deliveries(&mut self, now: Timestamp, settings: &DeliverySettings) -> Result<DeliveryRun> {
        let plan = self.plan_deliveries(now)?;
        let (queued, fired) = self.queue_plan(&plan, now)?;
        let attempted = self.send_due(now, settings)?;
        Ok(DeliveryRun {
            queued: queued.iter().map(|d| d.id).collect(),
            fired: fired.iter().map(|f| f.id).collect(),
            attempted: attempted.iter().map(|d| d.id).collect(),
        })
    }
}

/// A report's period as text: `FROM..TO` (days YYYY-MM-DD or months YYYY-MM, both included), or
/// one day or month (`2026-10`); the error names the field `period`.
pub fn parse_period(text: &str) -> Result<DayRange> {
    let wrong = || AppError::InvalidField { field: "period".into(), value: Some(text.to_string()), reason: "is a month YYYY-MM, a day YYYY-MM-DD or FROM..TO".into() };
    let side = |part: &str| trailmap_ingest::parse_period(part.trim()).map_err(|_| wrong());
    let (from, to) = match text.split_once("..") {
        Some((from, to)) => (side(from)?.0, side(to)?.1),
        None => side(text)?,
    };
    if from > to {
        return Err(wrong());
    }
    Ok(DayRange { from, to })
}
