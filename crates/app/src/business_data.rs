//! One business's data as the analyses read it, kept up to date by what was written since rather
//! than read again: its events grouped into journeys (every column but the properties), its
//! orders (columnar, [`OrderTable`]), its survey answers and its feedback, each row on the
//! customer it belongs to now, with the [`DataMark`] they were read at.
//!
//! [`BusinessData::refreshed`] brings a copy up to date in one read snapshot of the store:
//! - same data version: nothing to do;
//! - events appended: the new segments' rows are loaded (with the identities and dictionary
//!   entries added since) and merged into the journeys ([`Journeys::appended`]), each row moving
//!   once;
//! - orders, answers and feedback added: the rows after the mark's ids, merged in their order;
//! - feedback tags edited in place (the mark's `feedback_edits` moved): the kept texts' tags read
//!   again;
//! - customers merged (the count of merged customers rose): the orders, answers and feedback kept
//!   are put on the customers they became, and the events are loaded again whole, because a
//!   merged customer's journey interleaves two customers' rows in recorded order, which the
//!   grouped journeys no longer hold (merges are rare next to events: a visitor who signs in);
//! - segments rewritten by a compaction: the events are loaded again whole, as they are when
//!   nothing was kept.
//!
//! The events referral touchpoints may credit to a referrer (`referrals`) are kept with them
//! once a map's numbers ask for them: appended events add theirs (read with their properties for
//! it); a whole reload of the events drops them until they are asked for again.
//!
//! A refreshed copy equals a fresh [`BusinessData::load`] at the same mark (a property test
//! holds it to that). Customers' own columns (properties, name, email) change in place without a
//! trace of which rows changed, so they are not kept here: what needs them reads them whole, in
//! one statement.

use crate::Result;
use crate::referrals::ReferralEvents;
use std::sync::{Arc, Mutex};
use trailmap_analytics::Journeys;
use trailmap_analytics::voice::SentimentScorer;
use trailmap_model::{BusinessId, CustomerId, EventRule, EventSelection, Feedback, OrderTable, StringId, SurveyResponse};
use trailmap_store::{AnyStore, DataMark, EventLoads, EventsAfter, IncrementalReads, Merges, Store};

/// The referral events kept with one copy of the data (see `referrals`): filled the first time
/// they are asked for, so shared by the answers reading this copy.
type KeptReferrals = Arc<Mutex<Option<Arc<ReferralEvents>>>>;

/// See the module.
#[derive(Debug, Clone)]
pub struct BusinessData {
    business: BusinessId,
    mark: DataMark,
    journeys: Arc<Journeys>,
    /// Identity id -> customer id (0: not the business's), to resolve appended events.
    customer_of: Vec<i64>,
    merges: Merges,
    orders: OrderTable,
    /// By id.
    responses: Vec<SurveyResponse>,
    /// By time, then id.
    feedback: Vec<Feedback>,
    /// The VADER compound score of each feedback text, in `feedback`'s order: scored once when
    /// the text is read, not on every answer.
    sentiment: Vec<f64>,
    /// The events referral touchpoints may credit, once asked for (see `referrals`).
    referrals: KeptReferrals,
}

/// What a refresh did, for the cache's counts and the tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refresh {
    /// The events were loaded again whole (a merge or a compaction).
    pub events_reloaded: bool,
    pub events_added: usize,
    pub orders_added: usize,
    pub responses_added: usize,
    pub feedback_added: usize,
}

impl BusinessData {
    /// Everything read afresh, in one snapshot.
    pub fn load(store: &AnyStore, business: BusinessId) -> Result<BusinessData> {
        Ok(store.snapshot(|store| {
            let mark = store.data_mark(business)?;
            let merges = store.merges(business)?;
            let mut customer_of = Vec::new();
            extend_identities(&mut customer_of, store.identities_after(business, 0)?);
            let table = store.load_events_after(business, EventSelection::ALL_BUT_PROPERTIES, &EventsAfter { segment: 0, rows: 0, strings: 0, customer_of: &customer_of })?;
            let current = |c: CustomerId| merges.current(c);
            let feedback = feedback_on_current_customers(store.feedback_after(business, 0)?, &current);
            Ok(BusinessData {
                business,
                mark,
                journeys: Arc::new(Journeys::new(table)),
                customer_of,
                orders: store.order_table(business, 0, &merges)?,
                responses: on_current_customers(store.responses_after(business, 0)?, &current),
                sentiment: scores(&feedback),
                feedback,
                merges,
                referrals: KeptReferrals::default(),
            })
        })?)
    }

    /// The business's orders and survey answers on the customers they belong to now, read in one
    /// snapshot without its events: what an analysis whose events are counted elsewhere (in
    /// ClickHouse) reads of the store.
    pub fn orders_and_answers(store: &AnyStore, business: BusinessId) -> Result<(OrderTable, Vec<SurveyResponse>)> {
        Ok(store.snapshot(|store| {
            let merges = store.merges(business)?;
            let responses = on_current_customers(store.responses_after(business, 0)?, &|c| merges.current(c));
            Ok((store.order_table(business, 0, &merges)?, responses))
        })?)
    }

    /// The business's orders on the customers they belong to now, read in one snapshot without
    /// anything else: what choosing a period beside events counted in ClickHouse needs.
    pub fn read_orders(store: &AnyStore, business: BusinessId) -> Result<OrderTable> {
        Ok(store.snapshot(|store| store.order_table(business, 0, &store.merges(business)?))?)
    }

    /// This copy brought up to date with what was written since its mark (see the module).
    pub fn refreshed(self, store: &AnyStore) -> Result<(BusinessData, Refresh)> {
        let business = self.business;
        let refreshed = store.snapshot(move |store| {
            let mark = store.data_mark(business)?;
            let mut refresh = Refresh::default();
            if mark.version == self.mark.version {
                return Ok(Some((self, refresh)));
            }
            if mark.erasures != self.mark.erasures {
                // Someone's data was erased: rows are gone, not appended; read it all again.
                return Ok(None);
            }
            let BusinessData { mark: old, journeys, mut customer_of, mut merges, mut orders, mut responses, mut feedback, mut sentiment, referrals, .. } = self;
            // The kept referral events, copied if another copy of the data still reads them.
            let mut referrals: Option<ReferralEvents> =
                referrals.lock().ok().and_then(|kept| kept.as_ref().map(|r| ReferralEvents::clone(r)));
            let merged = mark.merged != old.merged;
            if merged {
                merges = store.merges(business)?;
                let current = |c: CustomerId| merges.current(c);
                orders.remap_customers(&current);
                responses = on_current_customers(responses, &current);
                feedback = feedback_on_current_customers(feedback, &current);
            }
            let journeys = if merged || !store.segments_unchanged(business, &old)? {
                refresh.events_reloaded = true;
                // Asked for again when needed, over the events as they are now.
                referrals = None;
                customer_of.clear();
                extend_identities(&mut customer_of, store.identities_after(business, 0)?);
                let table = store.load_events_after(business, EventSelection::ALL_BUT_PROPERTIES, &EventsAfter { segment: 0, rows: 0, strings: 0, customer_of: &customer_of })?;
                refresh.events_added = table.len();
                Arc::new(Journeys::new(table))
            } else {
                extend_identities(&mut customer_of, store.identities_after(business, old.identity)?);
                let strings = journeys.table().strings.len();
                // With their properties when referral events are kept, for those to take theirs;
                // the journeys keep none.
                let selection = EventSelection { properties: referrals.is_some(), ..EventSelection::ALL_BUT_PROPERTIES };
                let mut more = store.load_events_after(business, selection, &EventsAfter { segment: old.segment, rows: old.rows, strings, customer_of: &customer_of })?;
                refresh.events_added = more.len();
                if let Some(kept) = referrals.as_mut() {
                    let known = &journeys.table().strings;
                    let string = |id: StringId| match (id as usize).checked_sub(strings) {
                        None => known.get(id as usize).map_or_else(String::new, |s| s.to_string()),
                        Some(new) => more.strings.get(new).map_or_else(String::new, |s| s.to_string()),
                    };
                    kept.extend(&more, &string);
                    more.properties = None;
                }
                if more.is_empty() && more.strings.is_empty() {
                    journeys
                } else {
                    // Moved out when no answer still reads these journeys; copied otherwise.
                    let kept = Arc::try_unwrap(journeys).unwrap_or_else(|shared| (*shared).clone());
                    Arc::new(kept.appended(more))
                }
            };
            let current = |c: CustomerId| merges.current(c);
            let new_orders = store.order_table(business, old.order, &merges)?;
            refresh.orders_added = new_orders.len();
            let orders = orders.merged_with(new_orders);
            let new_responses = on_current_customers(store.responses_after(business, old.response)?, &current);
            refresh.responses_added = new_responses.len();
            responses.extend(new_responses);
            if mark.feedback_edits != old.feedback_edits {
                // Tags were edited in place: the kept texts take their tags as stored now (texts
                // never change, so each keeps its score).
                let mut tags: std::collections::HashMap<trailmap_model::FeedbackId, Vec<String>> =
                    store.feedback_after(business, 0)?.into_iter().filter(|f| f.id.0 <= old.feedback).map(|f| (f.id, f.tags)).collect();
                for kept in &mut feedback {
                    if let Some(now) = tags.remove(&kept.id) {
                        kept.tags = now;
                    }
                }
            }
            let new_feedback = feedback_on_current_customers(store.feedback_after(business, old.feedback)?, &current);
            refresh.feedback_added = new_feedback.len();
            if !new_feedback.is_empty() {
                sentiment.extend(scores(&new_feedback));
                feedback.extend(new_feedback);
                // Both runs are in (time, id) order; a stable sort merges them, each score moving
                // with its text.
                let mut both: Vec<(Feedback, f64)> = feedback.into_iter().zip(sentiment).collect();
                both.sort_by_key(|(f, _)| (f.time, f.id));
                (feedback, sentiment) = both.into_iter().unzip();
            }
            let referrals = Arc::new(Mutex::new(referrals.map(Arc::new)));
            Ok(Some((BusinessData { business, mark, journeys, customer_of, merges, orders, responses, feedback, sentiment, referrals }, refresh)))
        })?;
        match refreshed {
            Some(done) => Ok(done),
            None => {
                let data = BusinessData::load(store, business)?;
                let refresh = Refresh { events_reloaded: true, events_added: data.journeys.table().len(), ..Refresh::default() };
                Ok((data, refresh))
            }
        }
    }

    pub fn business(&self) -> BusinessId {
        self.business
    }

    /// The store's state these were read at.
    pub fn mark(&self) -> &DataMark {
        &self.mark
    }

    /// The business's events grouped by customer, every column but the properties.
    pub fn journeys(&self) -> &Arc<Journeys> {
        &self.journeys
    }

    /// The business's orders in (time, id) order, each on its customer as they are now.
    pub fn orders(&self) -> &OrderTable {
        &self.orders
    }

    /// The business's survey answers, by id, each on its customer as they are now.
    pub fn responses(&self) -> &[SurveyResponse] {
        &self.responses
    }

    /// The business's feedback, by time then id, each on its customer as they are now.
    pub fn feedback(&self) -> &[Feedback] {
        &self.feedback
    }

    /// The VADER compound score of each feedback text, in [`BusinessData::feedback`]'s order.
    pub fn sentiment(&self) -> &[f64] {
        &self.sentiment
    }

    /// The events the referral touchpoints' `rules` may credit to a referrer (see `referrals`),
    /// as of this copy's mark: the kept ones when they were read for the same rules, else read
    /// now (and kept when the store is still at this copy's version).
    pub fn referral_events(&self, store: &AnyStore, rules: &[EventRule]) -> Result<Arc<ReferralEvents>> {
        if let Ok(kept) = self.referrals.lock()
            && let Some(events) = kept.as_ref().filter(|r| r.rules() == rules)
        {
            return Ok(events.clone());
        }
        let (events, current) = store.snapshot(|store| {
            let current = store.data_mark(self.business)?.version == self.mark.version;
            let mut events = ReferralEvents::new(rules);
            let selection = EventSelection { properties: true, ..EventSelection::ALL_BUT_PROPERTIES };
            let table = store.load_named_events(self.business, selection, &|name| events.wants_name(name))?;
            events.extend(&table, &|id| table.string(id).to_string());
            Ok((Arc::new(events), current))
        })?;
        // Read at a later version, they may hold events this copy does not: used for this answer
        // only (the events they credit are looked up by this copy's journeys), not kept.
        if current && let Ok(mut kept) = self.referrals.lock() {
            *kept = Some(events.clone());
        }
        Ok(events)
    }

    /// The customer `id` is now (the one it was merged into, if it was).
    pub fn current_customer(&self, id: CustomerId) -> CustomerId {
        self.merges.current(id)
    }

    /// Whether this holds exactly what `other` holds (the journeys row by row) at the same data
    /// version. The rest of the marks may differ with the same data: a compaction moves the
    /// segments without changing the version, and other businesses' writes move the last ids.
    pub fn same_as(&self, other: &BusinessData) -> bool {
        self.business == other.business
            && self.mark.version == other.mark.version
            && self.journeys.table() == other.journeys.table()
            && self.journeys.ends() == other.journeys.ends()
            && self.customer_of == other.customer_of
            && self.merges == other.merges
            && self.orders == other.orders
            && self.responses == other.responses
            && self.feedback == other.feedback
            && self.sentiment.iter().map(|s| s.to_bits()).eq(other.sentiment.iter().map(|s| s.to_bits()))
    }

    /// Rows kept, for the cache's memory bound.
    pub(crate) fn rows(&self) -> usize {
        self.journeys.table().len() + self.orders.len() + self.responses.len() + self.feedback.len()
    }
}

/// Records each (identity, customer) in the dense identity -> customer vector.
fn extend_identities(customer_of: &mut Vec<i64>, identities: Vec<(i64, i64)>) {
    for (identity, customer) in identities {
        let Ok(slot) = usize::try_from(identity) else { continue };
        if customer_of.len() <= slot {
            customer_of.resize(slot + 1, 0);
        }
        customer_of[slot] = customer;
    }
}

fn on_current_customers(mut responses: Vec<SurveyResponse>, current: &dyn Fn(CustomerId) -> CustomerId) -> Vec<SurveyResponse> {
    for response in &mut responses {
        response.customer = response.customer.map(current);
    }
    responses
}

/// The compound sentiment of each text.
fn scores(feedback: &[Feedback]) -> Vec<f64> {
    if feedback.is_empty() {
        return Vec::new();
    }
    let scorer = SentimentScorer::new();
    feedback.iter().map(|f| scorer.score(&f.text).compound).collect()
}

fn feedback_on_current_customers(mut feedback: Vec<Feedback>, current: &dyn Fn(CustomerId) -> CustomerId) -> Vec<Feedback> {
    for f in &mut feedback {
        f.customer = f.customer.map(current);
    }
    feedback
}
