//! `trailmap demo`: the seeded example businesses written into the store through the testkit's
//! generator. The whole demo is one transaction, so an interrupted run leaves no half a business.

use crate::{AppError, Result, big_write_cache_mib};
use serde::Serialize;
use trailmap_model::*;
use trailmap_store::{Store, StoreError, Writer};
use trailmap_store::WriteSummary;
use trailmap_testkit::{DemoOptions, DemoSummary, Fixture, Sink, generate_demo};

/// The businesses the demo creates; their presence means the demo is already in the store.
pub const DEMO_BUSINESSES: [&str; 2] = ["Bean There Coffee", "Thread & Needle"];

/// The account `trailmap demo` signs in with.
pub const DEMO_EMAIL: &str = "demo@trailmap.example";

/// How to sign in to the demo: printed by `trailmap demo` with the server's address.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLogin {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    /// False when the demo was already in the store and nothing was generated.
    pub generated: bool,
    pub summary: Option<DemoSummary>,
    pub seconds: f64,
}

/// The testkit's sink over a store writer. With an enricher, events go through the same named
/// steps as an import (UTM, referrer, channel grouping), as the demo's must to look like real
/// data; without one (journey fixtures), they are written exactly as given.
struct StoreSink<'w> {
    writer: &'w mut dyn Writer,
    enricher: Option<trailmap_ingest::enrich::Enricher>,
    /// The maps written so far, so a change that answers an action can be recorded on its card.
    maps: Vec<JourneyMap>,
}

impl Sink for StoreSink<'_> {
    type Error = StoreError;

    fn business(&mut self, name: &str, currency: Currency, timezone: &str) -> Result<(BusinessId, Vec<Stage>), StoreError> {
        let (business, stages) = self.writer.create_business(name, currency, timezone)?;
        Ok((business.id, stages))
    }

    fn touchpoint(&mut self, touchpoint: Touchpoint) -> Result<TouchpointId, StoreError> {
        self.writer.create_touchpoint(&touchpoint)
    }

    fn persona(&mut self, persona: Persona) -> Result<PersonaId, StoreError> {
        self.writer.create_persona(&persona)
    }

    fn journey_map(&mut self, map: JourneyMap, author: &str) -> Result<MapId, StoreError> {
        let id = self.writer.save_map(&map, author)?;
        self.maps.push(JourneyMap { id, ..map });
        Ok(id)
    }

    fn survey(&mut self, survey: Survey) -> Result<Survey, StoreError> {
        self.writer.create_survey(&survey)
    }

    fn change(&mut self, change: Change) -> Result<ChangeId, StoreError> {
        let id = self.writer.add_change(&change)?;
        // As `App::add_change` does: the action the change answers now names it, in a new version.
        if let Some(card) = change.answers
            && let Some(map) = self.maps.iter_mut().find(|m| m.id == card.map)
            && map.record_change(card.card, id)
        {
            let author = change.owner.as_deref().unwrap_or("Trailmap demo");
            self.writer.save_map(map, author)?;
        }
        Ok(id)
    }

    fn customer(&mut self, business: BusinessId, customer: IncomingCustomer) -> Result<CustomerId, StoreError> {
        Ok(self.writer.add_customer(business, &customer)?.0)
    }

    fn event(&mut self, business: BusinessId, mut event: IncomingEvent) -> Result<(), StoreError> {
        if let Some(enricher) = self.enricher.as_mut()
            && enricher.enrich(&mut event.event, None).is_err()
        {
            // The only drop without a user agent would be a bot; the demo makes none.
            return Ok(());
        }
        self.writer.add_event(business, &event).map(|_| ())
    }

    fn order(&mut self, business: BusinessId, order: IncomingOrder) -> Result<(), StoreError> {
        self.writer.add_order(business, &order).map(|_| ())
    }

    fn spend(&mut self, business: BusinessId, spend: IncomingSpend) -> Result<(), StoreError> {
        self.writer.add_spend(business, &spend).map(|_| ())
    }

    fn feedback(&mut self, business: BusinessId, feedback: IncomingFeedback) -> Result<(), StoreError> {
        self.writer.add_feedback(business, &feedback).map(|_| ())
    }

    fn survey_response(&mut self, business: BusinessId, response: IncomingResponse) -> Result<(), StoreError> {
        self.writer.add_response(business, &response).map(|_| ())
    }
}

impl crate::App {
    /// Whether the demo businesses are in the store.
    pub fn has_demo(&self) -> Result<bool> {
        for name in DEMO_BUSINESSES {
            if self.store().business_by_name(name)?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Generates the demo into the store, unless it is there already.
    pub fn demo(&mut self, options: &DemoOptions) -> Result<DemoReport> {
        let started = std::time::Instant::now();
        if self.has_demo()? {
            // A store made by an older demo gets the default it would have had; a choice made
            // since with `business use` stays.
            if self.chosen_business()?.is_none() {
                self.use_business(DEMO_BUSINESSES[0])?;
            }
            return Ok(DemoReport { generated: false, summary: None, seconds: 0.0 });
        }
        for name in DEMO_BUSINESSES {
            if self.store().business_by_name(name)?.is_some() {
                return Err(AppError::Invalid(format!(
                    "the store has a business named {name:?} but not the whole demo; use another --db for the demo"
                )));
            }
        }
        // The demo is one transaction of about 2.5 KiB per customer; let its pages fit in memory.
        self.store().set_cache_mib(big_write_cache_mib(options.customers.saturating_mul(3) / 1024))?;
        let mut summary = None;
        let written = self.store_mut().write::<AppError>(&mut |w| {
            w.bulk();
            let mut sink = StoreSink { writer: w, enricher: Some(trailmap_ingest::enrich::Enricher::new()), maps: Vec::new() };
            summary = Some(generate_demo(&mut sink, options)?);
            Ok(())
        });
        self.store().set_cache_mib(crate::DEFAULT_CACHE_MIB)?;
        written?;
        self.cite_demo_stories()?;
        // Commands after the demo are about the demo, not the empty "My Business" of a fresh store.
        self.use_business(DEMO_BUSINESSES[0])?;
        Ok(DemoReport { generated: true, summary, seconds: started.elapsed().as_secs_f64() })
    }

    /// Makes the demo account an owner of both demo businesses, with a new random password each
    /// time: the password is printed once and never kept in clear, and a store that was served
    /// before keeps no password someone else may have seen.
    pub fn demo_login(&mut self, now: Timestamp) -> Result<DemoLogin> {
        let password = crate::accounts::random_token(16);
        let user = match self.user_by_email(DEMO_EMAIL)? {
            Some(user) => {
                self.set_password(user.id, &password)?;
                user
            }
            None => self.create_user(DEMO_EMAIL, "Demo owner", &password, now)?,
        };
        for name in DEMO_BUSINESSES {
            let Some(business) = self.store().business_by_name(name)? else {
                return Err(AppError::Invalid(format!("the demo business {name:?} is not in the store; run the demo first")));
            };
            if self.role(user.id, business.id)? != Some(trailmap_model::Role::Owner) {
                self.set_member(business.id, user.id, trailmap_model::Role::Owner)?;
            }
        }
        Ok(DemoLogin { email: DEMO_EMAIL.to_string(), password })
    }

    /// The demo's planted stories as evidence on its maps, as an owner would cite them from the
    /// research library: the boutique's checkout pain points cite the shipping quotes and the
    /// checkout conversion, the café's ad-spend pain point its channel numbers and its queue pain
    /// point the queue complaints. A card the generator did not make is left alone.
    fn cite_demo_stories(&mut self) -> Result<()> {
        // (business, card text, metrics, words a quote contains, only survey answers)
        type Story = (&'static str, &'static str, &'static [&'static str], &'static [&'static str], bool);
        const STORIES: [Story; 4] = [
            (
                "Thread & Needle",
                "Most shoppers who start checkout leave at the shipping step",
                &["conversion:checkout_started>purchase:7d"],
                &["shipping"],
                false,
            ),
            ("Thread & Needle", "Shipping cost is the top exit-survey reason", &[], &["shipping"], true),
            (
                "Bean There Coffee",
                "Most ad money goes to Instagram, which brings few lasting customers",
                &["new-customers:Paid Social", "new-customers:Referral"],
                &[],
                false,
            ),
            ("Bean There Coffee", "Morning queues of 10+ minutes", &[], &["queue", "line", "wait"], false),
        ];
        // Each business's maps read once, every story applied as an edit is (checked, then
        // `apply_edit`), and each edited map saved once: one version per map.
        let mut maps: Vec<(Business, JourneyMap, bool)> = Vec::new();
        for (name, card_text, metrics, words, survey_only) in STORIES {
            let Some(business) = self.store().business_by_name(name)? else { continue };
            let data = self.business_data(business.id)?;
            // The three most negative texts telling the story.
            let mut quotes: Vec<(f64, FeedbackId)> = data
                .feedback()
                .iter()
                .zip(data.sentiment())
                .filter(|(f, _)| !survey_only || f.kind == FeedbackKind::SurveyText)
                .filter(|(f, _)| {
                    let text = f.text.to_lowercase();
                    words.iter().any(|w| text.contains(w))
                })
                .map(|(f, s)| (*s, f.id))
                .collect();
            quotes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut evidence: Vec<Evidence> = metrics.iter().map(|m| Evidence::Metric { name: (*m).to_string() }).collect();
            evidence.extend(quotes.iter().take(3).map(|(_, id)| Evidence::Quote { feedback: *id }));
            if !maps.iter().any(|(b, _, _)| b.id == business.id) {
                maps.extend(self.store().maps(business.id)?.into_iter().map(|m| (business.clone(), m, false)));
            }
            for (owner, map, edited) in maps.iter_mut().filter(|(b, _, _)| b.id == business.id) {
                let Some((_, _, card)) = map.cards().find(|(_, _, c)| c.text == card_text) else { continue };
                let edit = crate::MapEdit::EditCard { card: card.id, text: card.text.clone(), evidence: evidence.clone() };
                self.check_new_evidence(owner, &edit, &card.evidence)?;
                crate::maps::apply_edit(map, &edit)?;
                *edited = true;
            }
        }
        for (_, map, _) in maps.iter().filter(|(_, _, edited)| *edited) {
            self.store_mut().write::<StoreError>(&mut |w| w.save_map(map, "Trailmap demo").map(|_| ()))?;
        }
        Ok(())
    }

    /// Writes a journey fixture into a business, in one transaction: how tests put precise
    /// journeys into a real store.
    pub fn write_fixture(&mut self, fixture: &Fixture, business: &Business) -> Result<WriteSummary> {
        let business = business.id;
        self.store_mut().write::<AppError>(&mut |w| {
            let mut sink = StoreSink { writer: w, enricher: None, maps: Vec::new() };
            fixture.write_to(&mut sink, business)?;
            Ok(())
        })
    }
}
