//! A store whose events live in ClickHouse ([`SplitStore`]): accounts, businesses, maps, surveys,
//! orders, customers and their identities stay in the primary store (SQLite or PostgreSQL), which
//! keeps deciding who each event belongs to and whether it was seen before; the events themselves
//! go to ClickHouse and are read back from there.
//!
//! **Writing.** A write runs in the primary store's transaction as always, but each new event
//! (its customer resolved and its key claimed there, so a retried message is a duplicate as
//! before) is held in an outbox instead of a segment. Before the transaction commits, the outbox
//! goes to ClickHouse as synchronous distributed inserts; if ClickHouse refuses or cannot be
//! reached, the whole write rolls back and the caller gets the error (the tracking API answers
//! 503 and the sender retries). So a committed write, the one a 200 acknowledges, has its events
//! on their shards. A process killed between the insert and the commit leaves rows in ClickHouse
//! that nobody acknowledged; the sender retries them with the same keys, and a retried event on
//! the same customer collapses into the first (ClickHouse's `FINAL`).
//!
//! **Reading.** Every load of events is ClickHouse's, each row on the customer it is now: the
//! primary store's merges are copied to ClickHouse before each load (only the ones it lacks). A
//! reader's kept copy of a business's events is loaded again whole whenever the business's data
//! changed ([`crate::IncrementalReads::segments_unchanged`] is false), since ClickHouse rows carry
//! no segment marks to load "what came since" from.
//!
//! **Deleting.** An erasure and the retention delete in ClickHouse (mutations on every shard,
//! waited for) before the primary store deletes the rest.

use crate::clickhouse::{ClickHouseEvents, ClickHouseLocation};
use crate::*;
use std::collections::HashMap;
use trailmap_model::*;

/// Events written in one transaction, each with the business and the customer it was resolved
/// to, in the order they were added.
pub(crate) type Outbox = Vec<(BusinessId, CustomerId, Event)>;

/// The primary store with its events in ClickHouse; see the module.
#[derive(Debug)]
pub struct SplitStore {
    pub(crate) main: AnyStore,
    pub(crate) events: ClickHouseEvents,
}

impl SplitStore {
    /// Opens the primary store at `main` and ClickHouse at `events`, creating or migrating the
    /// schema on every shard.
    pub fn open(main: &StoreLocation, events: &ClickHouseLocation) -> Result<SplitStore> {
        if matches!(main, StoreLocation::WithEvents { .. }) {
            return Err(StoreError::Invalid("a store with its events elsewhere cannot hold another's events".into()));
        }
        let main = AnyStore::open(main)?;
        let events = ClickHouseEvents::open(events)?;
        Ok(SplitStore { main, events })
    }

    /// Where the events are.
    pub fn events(&self) -> &ClickHouseEvents {
        &self.events
    }

    pub(crate) fn write<E: From<StoreError>>(&mut self, f: &mut WriteFn<'_, E>) -> std::result::Result<WriteSummary, E> {
        let events = &self.events;
        let mut ship = |outbox: Outbox| ship(events, outbox);
        match &mut self.main {
            AnyStore::Sqlite(store) => store.write_events_to(f, Some(&mut ship)),
            AnyStore::Postgres(store) => store.write_events_to(f, Some(&mut ship)),
            AnyStore::Split(_) => Err(StoreError::Invalid("nested split stores".into()).into()),
        }
    }

    /// Copies the primary store's merges of the business to ClickHouse, so a load puts each row
    /// on the customer it is now.
    pub(crate) fn synced(&self, business: BusinessId) -> Result<()> {
        let merges = self.main.merges(business)?;
        let current: HashMap<CustomerId, CustomerId> = merges.0.keys().map(|&c| (c, merges.current(c))).collect();
        self.events.sync_merges(business, &current)?;
        Ok(())
    }

    pub(crate) fn load_selected_events(&self, business: BusinessId, selection: EventSelection) -> Result<EventTable> {
        self.synced(business)?;
        Ok(self.events.load_selected_events(business, selection)?)
    }

    pub(crate) fn load_named_events(&self, business: BusinessId, selection: EventSelection, keep: &dyn Fn(&str) -> bool) -> Result<EventTable> {
        self.synced(business)?;
        Ok(self.events.load_named_events(business, selection, keep)?)
    }

    /// Only a load from the start: a reader's copy is loaded again whole after every change (see
    /// the module), so a load after a mark is a mistake of the caller.
    pub(crate) fn load_events_after(&self, business: BusinessId, selection: EventSelection, after: &EventsAfter<'_>) -> Result<EventTable> {
        if after.segment != 0 || after.rows != 0 || after.strings != 0 {
            return Err(StoreError::Invalid("events kept in ClickHouse are loaded whole, not after a mark".into()));
        }
        self.load_selected_events(business, selection)
    }

    pub(crate) fn load_events(&self, business: BusinessId, columns: EventColumns) -> Result<EventTable> {
        let selection = EventSelection { properties: columns.properties, ..EventSelection::ALL_BUT_PROPERTIES };
        self.load_selected_events(business, selection)
    }

    pub(crate) fn summary(&self, business: BusinessId) -> Result<BusinessSummary> {
        let mut summary = self.main.summary(business)?;
        let (count, first, last) = self.events.span(business)?;
        summary.events = count;
        summary.first_event = first.map(|t| t.to_rfc3339());
        summary.last_event = last.map(|t| t.to_rfc3339());
        Ok(summary)
    }

    /// Nothing to rewrite: ClickHouse keeps each customer's events together itself (its sort
    /// order) and merges parts in the background. The summary counts the events all the same.
    pub(crate) fn compact_events(&mut self, business: BusinessId) -> Result<CompactSummary> {
        let mut summary = self.main.compact_events(business)?;
        summary.events = self.events.span(business)?.0;
        Ok(summary)
    }

    pub(crate) fn erase_customer(&mut self, business: BusinessId, customer: CustomerId, at: Timestamp) -> Result<ErasureSummary> {
        let person = self.main.person(business, customer)?;
        let mut customers = vec![person.customer];
        customers.extend(&person.merged);
        let events = self.events.count_customer_events(business, &customers)?;
        // ClickHouse first: should it fail, nothing is erased and the request can be made again;
        // the other way round, the person's events would outlive the erasure of who they were.
        self.events.delete_customer_events(business, &customers)?;
        let mut summary = self.main.erase_customer(business, customer, at)?;
        summary.events += events;
        Ok(summary)
    }

    pub(crate) fn expire_events(&mut self, business: BusinessId, before: Timestamp) -> Result<ExpirySummary> {
        let events = self.events.count_events_before(business, before)?;
        self.events.delete_events_before(business, before)?;
        let mut summary = self.main.expire_events(business, before)?;
        summary.events += events;
        Ok(summary)
    }
}

/// Writes the outbox's events to ClickHouse, business by business, in the order they were added.
fn ship(events: &ClickHouseEvents, outbox: Outbox) -> Result<()> {
    let mut by_business: Vec<(BusinessId, Vec<(CustomerId, Event)>)> = Vec::new();
    for (business, customer, event) in outbox {
        match by_business.iter_mut().find(|(b, _)| *b == business) {
            Some((_, rows)) => rows.push((customer, event)),
            None => by_business.push((business, vec![(customer, event)])),
        }
    }
    for (business, rows) in by_business {
        events.append(business, &rows)?;
    }
    Ok(())
}
