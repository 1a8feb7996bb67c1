//! One customer's data, on their request (the GDPR's rights of access and erasure): found by email,
//! customer id or the business's own customer id; exported as one JSON document with everything
//! held about them; or erased everywhere (see `trailmap_store`'s `erase.rs` for what that removes
//! and the tombstones that keep an old file or a retry from bringing them back).
//!
//! Retention of raw events too: a business keeps its events for a number of days, and the events
//! older than that are removed (the server does it every hour; `trailmap business retention`
//! runs it at once).
//!
//! The CLI (`trailmap customer export|erase`), the API and the customer page call these, so the
//! three find the same person and say the same things.

use crate::{App, AppError, Result};
use serde::Serialize;
use std::collections::BTreeSet;
use trailmap_model::{Business, Customer, CustomerId, EventColumns, Feedback, IdentityKind, Order, SurveyResponse, Timestamp};
use trailmap_store::{Erasure, Retention};
use trailmap_store::{ErasureSummary, ExpirySummary, MAX_RETENTION_DAYS, Person, Store};

/// The `format` of a customer export document.
pub const CUSTOMER_EXPORT_FORMAT: &str = "trailmap.customer-export";
pub const CUSTOMER_EXPORT_VERSION: u32 = 1;

/// Everything held about one person, as one document.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerExport {
    pub format: &'static str,
    pub version: u32,
    pub business: String,
    pub exported_at: String,
    /// The customer, with its traits.
    pub customer: Customer,
    /// Customers merged into this one because an identity linked them (their data is included).
    pub merged_customers: Vec<CustomerId>,
    /// Emails, the business's own ids and anonymous visitor ids.
    pub identities: Vec<ExportedIdentity>,
    /// Every event, oldest first, with its properties.
    pub events: Vec<ExportedEvent>,
    pub orders: Vec<Order>,
    pub survey_responses: Vec<SurveyResponse>,
    /// Reviews, mentions, notes and quotes attributed to them.
    pub feedback: Vec<Feedback>,
    /// The personas whose segment rule they match, in the order the personas were made (the
    /// first is the one they count for).
    pub personas: Vec<String>,
    /// What Trailmap knows of their consent: it records none itself; the website's consent mode
    /// sends nothing before consent, so every event here was sent after it (or without the mode).
    pub consent: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedIdentity {
    pub kind: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportedEvent {
    pub time: String,
    pub name: String,
    pub channel: Option<String>,
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub referrer: Option<String>,
    pub page: Option<String>,
    /// Revenue in major units with its currency, when the event carries one.
    pub revenue: Option<f64>,
    pub currency: Option<String>,
    pub properties: Option<serde_json::Value>,
}

const CONSENT: &str = "not recorded by Trailmap; with the snippet's consent mode nothing is sent before consent";

impl App {
    /// The customer of `business` named by `who`: an email, a customer id (`42`, as the pages
    /// show it) or the business's own customer id. `NotFound` names what was looked for.
    pub fn find_customer(&self, business: &Business, who: &str) -> Result<CustomerId> {
        let who = who.trim();
        if who.is_empty() {
            return Err(AppError::InvalidField { field: "customer".into(), value: None, reason: "give an email, a customer id or your own customer id".into() });
        }
        let by = |kind: IdentityKind, value: &str| self.store().customer_with_identity(business.id, kind, value);
        let found = if who.contains('@') {
            by(IdentityKind::Email, &who.to_lowercase())?
        } else {
            match who.parse::<i64>() {
                Ok(id) => match self.store().person(business.id, CustomerId(id)) {
                    Ok(person) => Some(person.customer),
                    Err(trailmap_store::StoreError::NotFound { .. }) => by(IdentityKind::External, who)?,
                    Err(e) => return Err(e.into()),
                },
                Err(_) => by(IdentityKind::External, who)?,
            }
        };
        found.ok_or_else(|| AppError::NotFound(format!("no customer of {} has the email or id {who:?}", business.name)))
    }

    /// Everything held about customer `id` (and the customers merged into them), as one document.
    pub fn export_customer(&self, business: &Business, id: CustomerId, now: Timestamp) -> Result<CustomerExport> {
        let person: Person = self.store().person(business.id, id)?;
        let customer = self.store().customer(person.customer)?;
        let everyone: BTreeSet<CustomerId> = std::iter::once(person.customer).chain(person.merged.iter().copied()).collect();
        let table = self.store().load_events(business.id, EventColumns { properties: true })?;
        let mut events = Vec::new();
        for row in (0..table.len()).filter(|&r| table.customer[r] == person.customer) {
            let text = |column: &[trailmap_model::StringId]| {
                let s = table.string(column[row]);
                (!s.is_empty()).then(|| s.to_string())
            };
            let currency = text(&table.currency);
            let revenue = currency.as_deref().and_then(trailmap_model::Currency::parse).map(|c| table.revenue_minor[row] as f64 / c.minor_per_major() as f64);
            let properties = table.properties.as_ref().and_then(|p| p[row].as_deref()).and_then(|json| serde_json::from_str(json).ok());
            events.push(ExportedEvent {
                time: Timestamp(table.time[row]).to_rfc3339(),
                name: table.string(table.name[row]).to_string(),
                channel: text(&table.channel),
                source: text(&table.source),
                medium: text(&table.medium),
                campaign: text(&table.campaign),
                referrer: text(&table.referrer),
                page: text(&table.page),
                revenue,
                currency,
                properties,
            });
        }
        events.sort_by(|a, b| a.time.cmp(&b.time));
        let orders: Vec<Order> = self.store().orders(business.id)?.into_iter().filter(|o| everyone.contains(&o.customer)).collect();
        let mut survey_responses = Vec::new();
        for survey in self.store().surveys(business.id)? {
            survey_responses.extend(self.store().responses(survey.id)?.into_iter().filter(|r| r.customer.is_some_and(|c| everyone.contains(&c))));
        }
        let feedback: Vec<Feedback> = self.store().feedback(business.id)?.into_iter().filter(|f| f.customer.is_some_and(|c| everyone.contains(&c))).collect();
        let facts = self.customer_facts(business)?;
        let fact = facts.facts.iter().find(|f| f.customer == person.customer);
        let personas = match fact {
            Some(fact) => self.personas(business)?.into_iter().filter(|p| p.segment.as_ref().is_some_and(|rule| fact.matches(rule))).map(|p| p.name).collect(),
            None => Vec::new(),
        };
        Ok(CustomerExport {
            format: CUSTOMER_EXPORT_FORMAT,
            version: CUSTOMER_EXPORT_VERSION,
            business: business.name.clone(),
            exported_at: now.to_rfc3339(),
            customer,
            merged_customers: person.merged.clone(),
            identities: person.identities.iter().map(|i| ExportedIdentity { kind: i.kind.as_str(), value: i.value.clone() }).collect(),
            events,
            orders,
            survey_responses,
            feedback,
            personas,
            consent: CONSENT,
        })
    }

    /// Erases customer `id` and everyone merged into them, everywhere; answers what was removed.
    pub fn erase_customer(&mut self, business: &Business, id: CustomerId, now: Timestamp) -> Result<ErasureSummary> {
        // Kept answers and business data notice the erasure by the data version and the count of
        // erasures, and read everything afresh.
        Ok(self.store_mut().erase_customer(business.id, id, now)?)
    }

    /// The erasures of a business: when, and how much of each kind (never whose).
    pub fn erasures(&self, business: &Business) -> Result<Vec<ErasureSummary>> {
        Ok(self.store().erasures(business.id)?)
    }
}

impl App {
    /// How many days `business` keeps its raw events; none: for ever.
    pub fn event_retention(&self, business: &Business) -> Result<Option<u32>> {
        Ok(self.store().event_retention(business.id)?)
    }

    /// Sets how many days `business` keeps its raw events (1 to ten years; none: for ever). The
    /// events past it are removed at the next expiry.
    pub fn set_event_retention(&mut self, business: &Business, days: Option<u32>) -> Result<()> {
        if let Some(d) = days
            && !(1..=MAX_RETENTION_DAYS).contains(&d)
        {
            return Err(AppError::InvalidField {
                field: "retention".into(),
                value: Some(d.to_string()),
                reason: format!("a retention is 1 to {MAX_RETENTION_DAYS} days (or none, to keep events for ever)"),
            });
        }
        Ok(self.store_mut().set_event_retention(business.id, days)?)
    }

    /// Removes the raw events of `business` older than its retention at `now` (the cut-off is the
    /// start of the day `days` days before); none when it keeps them for ever.
    pub fn expire_events(&mut self, business: &Business, now: Timestamp) -> Result<Option<ExpirySummary>> {
        let Some(days) = self.event_retention(business)? else { return Ok(None) };
        let day = Timestamp::MS_PER_DAY;
        let before = Timestamp((now.0 - i64::from(days) * day).div_euclid(day) * day);
        Ok(Some(self.store_mut().expire_events(business.id, before)?))
    }

    /// [`App::expire_events`] for every business that keeps events for a limited time.
    pub fn expire_all_events(&mut self, now: Timestamp) -> Result<Vec<(Business, ExpirySummary)>> {
        let mut done = Vec::new();
        for business in self.store().businesses()? {
            if let Some(summary) = self.expire_events(&business, now)? {
                done.push((business, summary));
            }
        }
        Ok(done)
    }
}
