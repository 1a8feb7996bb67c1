//! The report of a business for a period, to hand to an owner or a client: the key numbers against
//! the previous period, the journey map with its live numbers, the changes made up to the period's
//! end with their measured impact, and the insights. [`App::report`] gathers the data (what
//! `trailmap report --format json` prints); [`Report::document`] writes it as a
//! [`ReportDocument`] that the renderer lays out as an HTML page or as PDF pages.
//!
//! Decisions a reader of the report should know, also written into the report itself:
//! - The key numbers are the dashboard's ([`App::dashboard`]), over the period against the
//!   previous period of the same length, days cut in the business's time zone.
//! - The map shown is chosen by [`MAP_RULE`]; its live numbers count the customers with a stage's
//!   event in the period (days cut in UTC, as `trailmap map show --from --to`).
//! - Changes dated on or before the period's end are listed, newest first, each with its impact;
//!   where impact cannot be measured (no metric, too recent, not built) the reason is shown
//!   instead, so one change never stops the report.
//! - Insights are the top [`MAX_INSIGHTS`] findings by value at stake; if they cannot be made, the
//!   reason is shown instead.

use crate::changes::ChangeView;
use crate::impact::{Impact, ImpactRequest, ImpactUnit, WindowValue};
use crate::insights::{Insight, InsightsRequest};
use crate::{App, AppError, DayRange, MapNumbers, MapNumbersRequest, MapSummary, Result};
use chrono::NaiveDate;
use serde::Serialize;
use trailmap_analytics::kpi::{ChannelCount, Metric, Unit};
use trailmap_model::{Business, BusinessId, Currency, CustomerId, MapVersionKind, Timestamp};
use trailmap_render::report::{Block, Figure, ReportDocument, Table};
use trailmap_render::{Bar, BarChart, JourneyMapChart, ValueFormat};

/// How many insights a report shows.
pub const MAX_INSIGHTS: usize = 10;

/// Which map a report shows, in the words the report prints.
pub const MAP_RULE: &str = "The map shown is the most recently edited as-is map (the journey as it is today); \
     a business without one gets its most recently edited map of any kind.";

/// What to report on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportRequest {
    pub period: DayRange,
    /// The day the report is made: maps past their review date and the insights are judged on it.
    pub today: NaiveDate,
}

/// One key number: the dashboard's metric with its values written as people read them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyNumber {
    #[serde(flatten)]
    pub metric: Metric,
    pub current_text: String,
    pub previous_text: String,
    /// The change against the previous period: points for shares, percent for counts and money.
    pub change_text: Option<String>,
    /// What n counts: customers, orders or answers.
    pub n_means: &'static str,
}

/// The map of the report, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportMap {
    /// The rule the map was chosen by ([`MAP_RULE`]).
    pub rule: &'static str,
    pub chosen: Option<MapSummary>,
    /// The live numbers of the chosen map over the period.
    pub numbers: Option<MapNumbers>,
    /// The customers reached by at least one stage of the map in the period, sorted.
    pub customers: Vec<CustomerId>,
    /// Why no map (or no numbers) is shown.
    pub note: Option<String>,
    /// The map as drawn, with its numbers; not part of the data.
    #[serde(skip)]
    pub chart: Option<JourneyMapChart>,
}

/// A change with its impact, or the reason it has none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportChange {
    pub change: ChangeView,
    pub impact: Option<Impact>,
    /// "impact not available: <reason>" when there is no impact.
    pub impact_note: Option<String>,
}

/// Everything a report shows, as data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub business: String,
    pub business_id: BusinessId,
    pub currency: String,
    pub period: DayRange,
    pub previous: DayRange,
    pub today: NaiveDate,
    pub key_numbers: Vec<KeyNumber>,
    /// New customers by first channel, now and in the previous period.
    pub new_by_channel: Vec<ChannelCount>,
    /// Orders left out of the money figures because they are in another currency.
    pub orders_other_currency: u64,
    pub map: ReportMap,
    /// Changes dated on or before the period's end, newest first.
    pub changes: Vec<ReportChange>,
    /// The top findings, the largest value at stake first.
    pub insights: Vec<Insight>,
    /// "insights not available: <reason>" when they could not be made.
    pub insights_note: Option<String>,
    /// The agency whose name the report carries (white label), when one is set.
    pub prepared_by: Option<String>,
}

impl App {
    /// The report of `business` for `request.period` against the previous period.
    pub fn report(&self, business: &Business, request: &ReportRequest) -> Result<Report> {
        let period = request.period;
        let dashboard = self.dashboard(business, period)?;
        let key_numbers = dashboard.report.metrics.iter().map(|m| key_number(m, business.currency)).collect();
        let map = self.report_map(business, request)?;
        let changes = self
            .changes(business)?
            .into_iter()
            .filter(|c| c.date <= period.to)
            .map(|change| match self.change_impact(business, change.id, &ImpactRequest::default()) {
                Ok(impact) => ReportChange { change, impact: Some(impact), impact_note: None },
                Err(e) => ReportChange { change, impact: None, impact_note: Some(format!("impact not available: {e}")) },
            })
            .collect();
        let (insights, insights_note) = match self.insights(business, &InsightsRequest { period: Some(period), today: request.today }) {
            Ok(found) => (found.findings.into_iter().take(MAX_INSIGHTS).collect(), None),
            Err(e) => (Vec::new(), Some(format!("insights not available: {e}"))),
        };
        Ok(Report {
            business: business.name.clone(),
            business_id: business.id,
            currency: business.currency.to_string(),
            period,
            previous: dashboard.previous,
            today: request.today,
            key_numbers,
            new_by_channel: dashboard.report.new_by_channel,
            orders_other_currency: dashboard.orders_other_currency,
            map,
            changes,
            insights,
            insights_note,
            prepared_by: self.branding()?.name,
        })
    }

    /// The map chosen by [`MAP_RULE`], its numbers over the period and its drawing.
    fn report_map(&self, business: &Business, request: &ReportRequest) -> Result<ReportMap> {
        let mut maps = self.journey_maps(business, request.today)?;
        // Newest edit first; the as-is maps before the others.
        maps.sort_by_key(|m| (m.kind != MapVersionKind::AsIs, std::cmp::Reverse(m.updated_at), m.id));
        let Some(chosen) = maps.into_iter().next() else {
            return Ok(ReportMap {
                rule: MAP_RULE,
                chosen: None,
                numbers: None,
                customers: Vec::new(),
                note: Some(format!("{} has no journey map yet, so none is shown.", business.name)),
                chart: None,
            });
        };
        let period = request.period;
        let numbers_request = MapNumbersRequest {
            period: Some((Timestamp::from_date(period.from), Timestamp::from_date(period.to + chrono::Duration::days(1)))),
            ..MapNumbersRequest::default()
        };
        let (numbers, note) = match self.map_numbers(business, chosen.id, &numbers_request) {
            Ok(numbers) => (Some(numbers), None),
            Err(e) => (None, Some(format!("the map's numbers are not available: {e}"))),
        };
        let mut customers: Vec<CustomerId> = numbers.iter().flat_map(|n| &n.stages).flat_map(|s| s.reach.customers.iter().copied()).collect();
        customers.sort();
        customers.dedup();
        let chart = self.map_chart(business, chosen.id, numbers.as_ref())?;
        Ok(ReportMap { rule: MAP_RULE, chosen: Some(chosen), numbers, customers, note, chart: Some(chart) })
    }
}

/// A metric with its values written out.
pub fn key_number(metric: &Metric, currency: Currency) -> KeyNumber {
    KeyNumber {
        metric: metric.clone(),
        current_text: shown(metric.unit, metric.current.value, currency),
        previous_text: shown(metric.unit, metric.previous.value, currency),
        change_text: metric.change_in_words(),
        n_means: metric.n_means(),
    }
}

/// A metric's value as read: counts whole, shares as percentages, money in major units with the
/// currency's symbol, scores signed.
fn shown(unit: Unit, value: Option<f64>, currency: Currency) -> String {
    let Some(value) = value else { return "–".to_string() };
    match unit {
        Unit::Count => ValueFormat::Count.format(value),
        Unit::Rate => ValueFormat::Percent.format(value),
        Unit::Money => ValueFormat::Money(currency).format(value / currency.minor_per_major() as f64),
        Unit::Score => format!("{value:+.0}"),
    }
}

fn count(n: impl Into<u64>) -> String {
    ValueFormat::Count.format(n.into() as f64)
}

/// An impact window's value as read, with its n.
fn window_text(window: &WindowValue, unit: ImpactUnit, currency: Currency) -> String {
    let value = match window.value {
        None => "–".to_string(),
        Some(v) => match unit {
            ImpactUnit::Proportion => ValueFormat::Percent.format(v),
            ImpactUnit::Money => ValueFormat::Money(currency).format(v),
            ImpactUnit::PerDay => format!("{} a day", ValueFormat::Number.format(v)),
            ImpactUnit::Score => ValueFormat::Number.format(v),
        },
    };
    format!("{value} (n = {}, {} to {})", count(window.n), window.window.from, window.window.to)
}

impl Report {
    /// The report as one self-contained HTML page.
    pub fn html(&self) -> String {
        trailmap_render::report::to_html(&self.document())
    }

    /// The report's A4 pages, one SVG each (what the PDF holds, for looking at them).
    pub fn pages(&self) -> Vec<trailmap_render::Svg> {
        trailmap_render::report::to_pages(&self.document())
    }

    /// The report as a PDF of A4 pages.
    pub fn pdf(&self) -> Result<Vec<u8>> {
        trailmap_render::to_pdf_pages(&self.pages()).map_err(|e| AppError::Invalid(format!("the report cannot be drawn: {e}")))
    }

    /// The report as a document for [`trailmap_render::report::to_html`] and
    /// [`trailmap_render::report::to_pages`].
    pub fn document(&self) -> ReportDocument {
        let currency = Currency::parse(&self.currency).unwrap_or(Currency::USD);
        let mut blocks = Vec::new();

        blocks.push(Block::Heading("Key numbers".into()));
        blocks.push(Block::Paragraph(format!(
            "{} to {} ({} days) against the {} days before ({} to {}). n is the number of customers, orders or answers behind each figure.",
            self.period.from,
            self.period.to,
            self.period.days(),
            self.previous.days(),
            self.previous.from,
            self.previous.to
        )));
        blocks.push(Block::Table(Table {
            columns: ["Metric", "This period", "Previous period", "Change", "n (this / previous)"].map(String::from).to_vec(),
            rows: self
                .key_numbers
                .iter()
                .map(|k| {
                    vec![
                        k.metric.label.to_string(),
                        k.current_text.clone(),
                        k.previous_text.clone(),
                        k.change_text.clone().unwrap_or_else(|| "–".into()),
                        format!("{} / {} {}", count(k.metric.current.n), count(k.metric.previous.n), k.n_means),
                    ]
                })
                .collect(),
            right_aligned: vec![false, true, true, true, true],
        }));
        if self.orders_other_currency > 0 {
            blocks.push(Block::Note(format!(
                "{} orders in another currency than {} are left out of the money figures.",
                count(self.orders_other_currency),
                self.currency
            )));
        }
        if !self.new_by_channel.is_empty() {
            let total: u64 = self.new_by_channel.iter().map(|c| c.current).sum();
            let chart = BarChart {
                title: "New customers by first channel".into(),
                format: ValueFormat::Count,
                bars: self
                    .new_by_channel
                    .iter()
                    .map(|c| Bar { label: c.channel.clone(), value: c.current as f64, comparison: Some(c.previous as f64), ..Bar::default() })
                    .collect(),
                value_name: "This period".into(),
                comparison_name: "Previous period".into(),
                width: None,
            };
            blocks.push(Block::Figure(Figure {
                svg: chart.render(),
                caption: "New customers by the channel of their first visit, this period and the previous one".into(),
                n: format!("{} new customers this period", count(total)),
            }));
        }

        blocks.push(Block::Heading("The journey map".into()));
        blocks.push(Block::Note(self.map.rule.to_string()));
        if let Some(note) = &self.map.note {
            blocks.push(Block::Note(note.clone()));
        }
        if let (Some(chosen), Some(chart)) = (&self.map.chosen, &self.map.chart) {
            let stale = if chosen.stale { " It is past its review date." } else { "" };
            blocks.push(Block::Paragraph(format!(
                "\"{}\": {} stages, {} cards ({} without evidence), version {} by {}.{stale} Under each stage: the customers with the stage's events from {} to {} and how many went on to the next stage within 30 days.",
                chosen.name, chosen.stages, chosen.cards, chosen.assumptions, chosen.version, chosen.updated_by, self.period.from, self.period.to
            )));
            blocks.push(Block::Figure(Figure {
                svg: chart.render(),
                caption: format!("Journey map \"{}\" with its numbers for the period", chosen.name),
                n: format!("{} customers reached at least one stage", count(self.map.customers.len() as u64)),
            }));
        }

        blocks.push(Block::Heading("Changes and their impact".into()));
        if self.changes.is_empty() {
            blocks.push(Block::Note(format!("No change is recorded on or before {}.", self.period.to)));
        } else {
            blocks.push(Block::Paragraph(format!(
                "The changes recorded on or before {}, newest first, with the KPI each is judged by, its value before and after, and the verdict of the test.",
                self.period.to
            )));
            blocks.push(Block::Table(Table {
                columns: ["Date", "Change", "KPI", "Before", "After", "Verdict"].map(String::from).to_vec(),
                rows: self
                    .changes
                    .iter()
                    .map(|c| {
                        let kpi = c.change.kpi.clone().or_else(|| c.change.metric_text.clone()).unwrap_or_else(|| "–".into());
                        let (before, after, verdict) = match (&c.impact, &c.impact_note) {
                            (Some(i), _) => (window_text(&i.before, i.unit, currency), window_text(&i.after, i.unit, currency), i.verdict.clone()),
                            (None, note) => ("–".into(), "–".into(), note.clone().unwrap_or_default()),
                        };
                        vec![c.change.date.to_string(), c.change.title.clone(), kpi, before, after, verdict]
                    })
                    .collect(),
                right_aligned: Vec::new(),
            }));
        }

        blocks.push(Block::Heading("Insights".into()));
        match (&self.insights_note, self.insights.is_empty()) {
            (Some(note), _) => blocks.push(Block::Note(note.clone())),
            (None, true) => blocks.push(Block::Note("No findings for this period.".into())),
            (None, false) => blocks.push(Block::Table(Table {
                columns: ["#", "Finding", "Value at stake", "n"].map(String::from).to_vec(),
                rows: self
                    .insights
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let stake = f
                            .value_at_stake_minor
                            .map_or_else(|| "–".to_string(), |v| ValueFormat::Money(currency).format(v as f64 / currency.minor_per_major() as f64));
                        vec![(i + 1).to_string(), format!("{}\n{}\n{}", f.title, f.detail, f.value_basis), stake, count(f.n)]
                    })
                    .collect(),
                right_aligned: vec![true, false, true, true],
            })),
        }

        blocks.push(Block::Heading("How the numbers were made".into()));
        blocks.push(Block::Paragraph(
            "Days are cut at midnight in the business's time zone for the key numbers, and in UTC for the map's numbers. \
             Shares are written as percentages of their n; money is in the business's currency. \
             Every figure opens to the customers behind it in Trailmap (the JSON form of this report lists them)."
                .into(),
        ));

        ReportDocument {
            title: format!("{}: report for {} to {}", self.business, self.period.from, self.period.to),
            subtitle: Some(format!(
                "{}Compared with {} to {} · amounts in {} · made {}",
                self.prepared_by.as_ref().map(|a| format!("Prepared by {a} · ")).unwrap_or_default(),
                self.previous.from, self.previous.to, self.currency, self.today
            )),
            footer: format!("{} · {} · {} to {}", self.prepared_by.as_deref().unwrap_or("Trailmap"), self.business, self.period.from, self.period.to),
            blocks,
        }
    }
}
