//! A store whose events live in ClickHouse ([`SplitStore`]): accounts, businesses, maps, surveys,
//! orders, customers and their identities stay in the primary store (SQLite or PostgreSQL), which
//! keeps deciding who each event belongs to and whether it was seen before; the events themselves
//! go to ClickHouse and are read back from there.
//!
//! **Writing.** A write runs in the primary store's transaction as always, but each new event
//! (its customer resolved and its key claimed there, so a retried message is a duplicate as
//! before) is held in an outbox instead of a segment. Before the transaction commits, the outbox
//! goes to ClickHouse as synchronous distributed inserts (a big write, an import, sends a chunk
//! every 100,000 events as it goes, so it holds no more than that), each row carrying the write's
//! id; if ClickHouse refuses or cannot be reached, the whole write rolls back and the caller gets
//! the error (the tracking API answers 503 and the sender retries), and the rows it sent are
//! deleted again by that id. So a committed write, the one a 200 acknowledges, has its events on
//! their shards.
//!
//! A process killed after sending rows and before committing leaves rows nobody acknowledged, on
//! customers the primary store never committed (an import cut off halfway, a tracked visitor
//! whose customer was rolled back). Each write is therefore listed as pending in the primary
//! store before its transaction starts and unlisted by that transaction ([`PendingWrites`]), so a
//! write still listed is one that never committed: opening the store deletes its rows from
//! ClickHouse ([`recover`]), before anything is read or written. The write lands whole or not at
//! all, in ClickHouse as in the store, on SQLite and PostgreSQL alike (the sender's retry then
//! writes it once, whatever ids its customers get).
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

/// Events a write holds before they go to ClickHouse: this many, and a chunk is sent before the
/// write goes on, so an import of millions of events holds a chunk in memory, not the file.
const SHIP_ROWS: usize = if cfg!(test) { 1_000 } else { 100_000 };

/// Where a write's events go instead of the primary store's segments.
pub(crate) trait EventSink {
    /// Stores these events for good, each row naming the write that sends them.
    fn append(&mut self, events: Outbox, write: i64) -> Result<()>;
    /// Removes the events this write sent: it rolled back.
    fn take_back(&mut self, write: i64) -> Result<()>;
}

/// A new write's id: a hash of the time, the process and a counter, positive (SQLite's INTEGER
/// and PostgreSQL's BIGINT hold it as it is, ClickHouse's UInt64 too). Two writes with one id
/// would take each other's rows with them only if both never committed.
pub(crate) fn new_write_id() -> i64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let next = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut seed = [0u8; 24];
    seed[..8].copy_from_slice(&nanos.to_le_bytes());
    seed[8..16].copy_from_slice(&u64::from(std::process::id()).to_le_bytes());
    seed[16..].copy_from_slice(&next.to_le_bytes());
    ((xxhash_rust::xxh3::xxh3_64(&seed) >> 1) as i64).max(1)
}

/// A write's outbox (the writers' `outbox`): new events held, sent in chunks of [`SHIP_ROWS`]
/// while the write goes on and the rest before it commits, each row with the write's id, and
/// taken back when it rolls back after a chunk was sent.
pub(crate) struct EventOutbox<'s> {
    held: Outbox,
    sink: Box<dyn EventSink + 's>,
    /// The write's id, listed as pending in the primary store until the write commits.
    write: i64,
    /// Whether a chunk was sent.
    sent: bool,
}

impl<'s> EventOutbox<'s> {
    pub(crate) fn new(sink: Box<dyn EventSink + 's>, write: i64) -> EventOutbox<'s> {
        EventOutbox { held: Vec::new(), sink, write, sent: false }
    }

    pub(crate) fn push(&mut self, business: BusinessId, customer: CustomerId, event: Event) -> Result<()> {
        self.held.push((business, customer, event));
        if self.held.len() >= SHIP_ROWS {
            self.send()?;
        }
        Ok(())
    }

    /// Sends what is held.
    pub(crate) fn send(&mut self) -> Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        // Marked before sending: a send that fails may have stored part of the chunk.
        self.sent = true;
        self.sink.append(held, self.write)
    }

    /// After a rollback: removes what was sent, so nothing of the write stays, and says whether
    /// nothing does. A failure here is reported on stderr (the write's own error is the one the
    /// caller gets): the rows stay until the store is next opened, which deletes the rows of
    /// every write still listed as pending.
    pub(crate) fn take_back(mut self) -> bool {
        if !self.sent {
            return true;
        }
        match self.sink.take_back(self.write) {
            Ok(()) => true,
            Err(error) => {
                eprintln!("trailmap: a rolled-back write's events stay in ClickHouse until the store is next opened: {error}");
                false
            }
        }
    }
}

/// The end of a backend's write, with or without an outbox: sends the events still held, then
/// commits; when the write, the sending or the commit fails, what was sent is taken back and the
/// caller gets that failure, with the write's id when nothing of it stays in ClickHouse (its
/// pending row can go, see [`PendingWrites`]). Both backends end their writes here, so a
/// committed write always has its events in ClickHouse and a rolled-back one none.
pub(crate) fn finish_write<T, E: From<StoreError>>(
    done: std::result::Result<T, E>,
    mut outbox: Option<EventOutbox<'_>>,
    commit: impl FnOnce() -> Result<()>,
) -> (std::result::Result<T, E>, Option<i64>) {
    let sent = done.and_then(|done| outbox.as_mut().map_or(Ok(()), EventOutbox::send).map(|()| done).map_err(E::from));
    match sent.and_then(|done| commit().map(|()| done).map_err(E::from)) {
        Ok(done) => (Ok(done), None),
        Err(error) => {
            let settled = outbox.and_then(|outbox| {
                let write = outbox.write;
                outbox.take_back().then_some(write)
            });
            (Err(error), settled)
        }
    }
}

/// The primary store's list of writes whose events go to ClickHouse and have not committed
/// (`clickhouse_pending_writes`): how a write killed after sending events is found. A write is
/// listed in a commit of its own before its transaction starts, and its transaction's first
/// statement deletes the row, so the row goes exactly when the write commits. Writes are
/// serialised (SQLite's immediate transactions, PostgreSQL's write lock), so [`recover`] run as a
/// write sees only writes not in flight: killed ones, rolled-back ones whose events could not be
/// taken back, and ones listed that have not started (their events are not sent yet, and they
/// wait for the recovery to end).
pub(crate) trait PendingWrites {
    /// Lists a write as pending, committed on its own.
    fn list_pending_write(&mut self, write: i64) -> Result<()>;
    /// Removes a write that rolled back and left nothing in ClickHouse from the list.
    fn forget_pending_write(&mut self, write: i64) -> Result<()>;
    /// In one write transaction: the writes listed, `delete` given their ids to delete their
    /// rows, then the list emptied of them; returns how many there were.
    fn recover_pending_writes(&mut self, delete: &mut dyn FnMut(&[i64]) -> Result<()>) -> Result<usize>;
}

/// What a writer sees of the outbox: somewhere to put each new event.
pub(crate) trait HeldEvents {
    fn push(&mut self, business: BusinessId, customer: CustomerId, event: Event) -> Result<()>;
}

impl HeldEvents for EventOutbox<'_> {
    fn push(&mut self, business: BusinessId, customer: CustomerId, event: Event) -> Result<()> {
        EventOutbox::push(self, business, customer, event)
    }
}

impl std::fmt::Debug for EventOutbox<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventOutbox").field("held", &self.held.len()).field("write", &self.write).field("sent", &self.sent).finish()
    }
}

/// The sink of a store whose events are in ClickHouse.
struct ClickHouseSink<'e>(&'e ClickHouseEvents);

impl EventSink for ClickHouseSink<'_> {
    fn append(&mut self, events: Outbox, write: i64) -> Result<()> {
        for (business, rows) in by_business(events.into_iter().map(|(business, customer, event)| (business, (customer, event)))) {
            self.0.append_written(business, &rows, write as u64)?;
        }
        Ok(())
    }

    fn take_back(&mut self, write: i64) -> Result<()> {
        Ok(self.0.delete_writes(&[write as u64])?)
    }
}

/// The primary store with its events in ClickHouse; see the module.
#[derive(Debug)]
pub struct SplitStore {
    pub(crate) main: AnyStore,
    pub(crate) events: ClickHouseEvents,
    /// Per business, the primary store's data version whose merges ClickHouse was last given:
    /// merges come only with writes, which raise the version, so a load at the same version has
    /// nothing to copy and skips the round trip to ClickHouse.
    synced_at: std::sync::Mutex<HashMap<BusinessId, i64>>,
}

impl SplitStore {
    /// Opens the primary store at `main` and ClickHouse at `events`, creating or migrating the
    /// schema on every shard.
    pub fn open(main: &StoreLocation, events: &ClickHouseLocation) -> Result<SplitStore> {
        if matches!(main, StoreLocation::WithEvents { .. }) {
            return Err(StoreError::Invalid("a store with its events elsewhere cannot hold another's events".into()));
        }
        let mut main = AnyStore::open(main)?;
        let events = ClickHouseEvents::open(events)?;
        recover(&mut main, &events)?;
        Ok(SplitStore { main, events, synced_at: Default::default() })
    }

    /// Where the events are.
    pub fn events(&self) -> &ClickHouseEvents {
        &self.events
    }

    pub(crate) fn write<E: From<StoreError>>(&mut self, f: &mut WriteFn<'_, E>) -> std::result::Result<WriteSummary, E> {
        let sink = || Box::new(ClickHouseSink(&self.events));
        match &mut self.main {
            AnyStore::Sqlite(store) => store.write_events_to(f, Some(sink())),
            AnyStore::Postgres(store) => store.write_events_to(f, Some(sink())),
            AnyStore::Split(_) => Err(StoreError::Invalid("nested split stores".into()).into()),
        }
    }

    /// Copies the primary store's merges of the business to ClickHouse, so a load puts each row
    /// on the customer it is now; once per data version of the business (another process's
    /// write raises it too, as the version is read from the primary store).
    pub(crate) fn synced(&self, business: BusinessId) -> Result<()> {
        // The version is read before the merges: a write landing in between raises it, and the
        // next load copies again rather than trusting merges it may not have seen.
        let version = self.main.data_version(business)?;
        if self.synced_at.lock().unwrap_or_else(|e| e.into_inner()).get(&business) == Some(&version) {
            return Ok(());
        }
        let merges = self.main.merges(business)?;
        let current: HashMap<CustomerId, CustomerId> = merges.0.keys().map(|&c| (c, merges.current(c))).collect();
        self.events.sync_merges(business, &current)?;
        self.synced_at.lock().unwrap_or_else(|e| e.into_inner()).insert(business, version);
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

/// Deletes from ClickHouse the rows of every write the primary store still lists as pending
/// (see [`PendingWrites`]), then forgets them: what a process killed mid-write left there. Returns
/// how many writes there were.
pub(crate) fn recover(main: &mut AnyStore, events: &ClickHouseEvents) -> Result<usize> {
    let mut delete = |writes: &[i64]| -> Result<()> {
        eprintln!("trailmap: deleting from ClickHouse the events of {} write(s) that never committed", writes.len());
        Ok(events.delete_writes(&writes.iter().map(|&w| w as u64).collect::<Vec<_>>())?)
    };
    match main {
        AnyStore::Sqlite(store) => store.recover_pending_writes(&mut delete),
        AnyStore::Postgres(store) => store.recover_pending_writes(&mut delete),
        AnyStore::Split(_) => Err(StoreError::Invalid("nested split stores".into())),
    }
}

/// Items grouped by their business, the businesses in the order they first come and each one's
/// items in their order (a write touches one business or a few, so a list beats a map).
fn by_business<T>(items: impl IntoIterator<Item = (BusinessId, T)>) -> Vec<(BusinessId, Vec<T>)> {
    let mut groups: Vec<(BusinessId, Vec<T>)> = Vec::new();
    for (business, item) in items {
        match groups.iter_mut().find(|(b, _)| *b == business) {
            Some((_, items)) => items.push(item),
            None => groups.push((business, vec![item])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailmap_testkit::clickhouse::ClickHouseDatabase;

    fn event(i: i64, visitor: &str) -> IncomingEvent {
        let mut event = Event::new("page_view", Timestamp(1_700_000_000_000 + i * 60_000), Identity::anonymous(visitor).unwrap());
        event.key = event.content_key();
        IncomingEvent { event, also_known_as: Vec::new() }
    }

    /// A split store in `dir` with its events in `database`, one business made in it, and where
    /// it is.
    fn split_store(database: &ClickHouseDatabase, dir: &std::path::Path) -> (AnyStore, BusinessId, StoreLocation) {
        let location = StoreLocation::Sqlite(dir.join("split.sqlite")).with_events(Some(database.url())).unwrap();
        let mut store = AnyStore::open(&location).unwrap();
        let mut business = None;
        store.write::<StoreError>(&mut |w| {
            business = Some(w.create_business("Split", Currency::EUR, "UTC")?.0.id);
            Ok(())
        })
        .unwrap();
        (store, business.unwrap(), location)
    }

    /// A big write sends its events in chunks as it goes (here of 1,000, 100,000 outside tests),
    /// so it never holds them all; when it rolls back after chunks were sent, they are deleted
    /// again: the write lands whole or not at all, in ClickHouse as in the store.
    #[test]
    fn a_big_write_sends_its_events_in_chunks_and_a_rollback_takes_them_back() {
        let Some(database) = ClickHouseDatabase::fresh("a_big_write_sends_its_events_in_chunks_and_a_rollback_takes_them_back") else { return };
        let dir = tempfile::tempdir().unwrap();
        let (mut store, b, _) = split_store(&database, dir.path());
        let n = 2_500;
        let rows_on_shards = || -> u64 {
            (0..2).map(|shard| database.run_on(shard, &format!("SELECT count() FROM {}.events_local", database.name())).trim().parse::<u64>().unwrap()).sum()
        };
        let failed = store.write::<StoreError>(&mut |w| {
            for i in 0..n {
                w.add_event(b, &event(i, &format!("v{}", i % 50)))?;
            }
            Err(StoreError::Invalid("the caller gives up after writing them all".into()))
        });
        assert!(failed.is_err());
        assert_eq!(rows_on_shards(), 0, "the two chunks sent before the rollback are deleted again");
        assert_eq!(store.summary(b).unwrap().events, 0);

        let written = store
            .write::<StoreError>(&mut |w| {
                for i in 0..n {
                    w.add_event(b, &event(i, &format!("v{}", i % 50)))?;
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(written.events_added, n as u64);
        assert_eq!(rows_on_shards(), n as u64);
        let summary = store.summary(b).unwrap();
        assert_eq!((summary.events, summary.customers), (n as u64, 50));
    }

    /// A process killed after sending a write's rows and before committing leaves them in
    /// ClickHouse with the write still listed as pending: opening the store deletes them (here
    /// the kill's leftovers are made by hand; the CLI's tests kill a real import). Writes that
    /// committed, or rolled back and took their rows back, leave nothing listed.
    #[test]
    fn a_write_that_never_committed_is_deleted_when_the_store_is_next_opened() {
        let Some(database) = ClickHouseDatabase::fresh("a_write_that_never_committed_is_deleted_when_the_store_is_next_opened") else { return };
        let dir = tempfile::tempdir().unwrap();
        let (mut store, b, location) = split_store(&database, dir.path());
        store.write::<StoreError>(&mut |w| w.add_event(b, &event(1, "kept")).map(|_| ())).unwrap();
        let refused = store.write::<StoreError>(&mut |w| {
            w.add_event(b, &event(2, "refused"))?;
            Err(StoreError::Invalid("given up".into()))
        });
        assert!(refused.is_err());
        let AnyStore::Split(split) = &mut store else { panic!("a split store") };
        assert_eq!(recover(&mut split.main, &split.events).unwrap(), 0, "nothing pending after a commit and a rollback");

        // What a killed write leaves: listed as pending, its rows sent, no commit.
        let write = new_write_id();
        let AnyStore::Sqlite(main) = &mut split.main else { panic!("SQLite") };
        main.list_pending_write(write).unwrap();
        let rows: Vec<(CustomerId, Event)> = (10..1_010).map(|i| (CustomerId(999), event(i, "lost").event)).collect();
        split.events.append_written(b, &rows, write as u64).unwrap();
        assert_eq!(split.events.count_events(b).unwrap(), 1_001);
        drop(store);

        let store = AnyStore::open(&location).unwrap();
        let AnyStore::Split(split) = &store else { panic!("a split store") };
        assert_eq!(split.events.count_events(b).unwrap(), 1, "only the committed event stays");
        assert_eq!(store.summary(b).unwrap().events, 1);
    }
}

