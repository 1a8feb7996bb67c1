//! The writer of one transaction. It keeps caches (strings, identities, this write's event keys)
//! so that bulk imports run at hundreds of thousands of events a second, and it resolves
//! identities: every record names its customer by identities, and the writer finds, creates or
//! merges customers so that one person has one history. Stored event keys are looked up in the
//! store's key index (`dedup.rs`), never held: the writer's memory does not grow with the store.
//! A big write (an import) puts its new keys in sorted runs and checks keys against a Bloom filter
//! of the stored ones first, so it pays for deduplication about as much as a fresh store does.

use crate::segment::{SEGMENT_ROWS, SegmentBuilder, SegmentRow, TEXT_COLUMNS, copy_rows};
use crate::{Result, StoreError, WriteSummary, Writer};
use rusqlite::{Connection, OptionalExtension, params};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::HashMap;
use trailmap_model::*;
use xxhash_rust::xxh3::xxh3_128;

/// Up to this many identities of a business are cached whole (about 100 bytes each).
const PRELOAD_IDENTITIES: i64 = 5_000_000;

/// This write's new keys held at most, over all businesses; beyond it they go into the key index
/// (in this transaction) and memory is freed, so even a huge import holds a bounded set.
const HELD_KEYS: usize = 1 << 20;

/// Businesses whose key index is known to be built (the flag only goes from 0 to 1, and only in a
/// committed write, so the knowledge stays true).
pub(crate) type IndexedBusinesses = FxHashSet<BusinessId>;

pub(crate) struct SqliteWriter<'c> {
    conn: &'c Connection,
    /// Businesses whose key index was built before this write.
    indexed: &'c IndexedBusinesses,
    /// Businesses whose index this write built (known built only once it commits).
    indexed_now: FxHashSet<BusinessId>,
    /// Whether identities are loaded whole on first use (see [`Writer::bulk`]).
    bulk: bool,
    now: i64,
    // The caches use FxHash: every event goes through several lookups, and SipHash's resistance
    // to flooding buys nothing for keys we produce ourselves.
    strings: FxHashMap<Box<str>, u32>,
    /// (business, kind) -> identity value -> (identity id, customer id when cached). Keyed by value
    /// so a lookup borrows the event's string instead of cloning it.
    identities: FxHashMap<(BusinessId, IdentityKind), FxHashMap<Box<str>, (i64, i64)>>,
    /// Customers merged during this write, pointing at the customer they became.
    merged: FxHashMap<i64, i64>,
    /// The keys this write adds that are not in the key index yet, per business; they go there at
    /// flush (or as a run when [`HELD_KEYS`] are held), in this write's transaction.
    held_keys: FxHashMap<BusinessId, FxHashSet<u128>>,
    /// How many keys `held_keys` holds over all businesses.
    held_count: usize,
    /// Each business's key runs (see dedup.rs), read on its first key of this write and kept up to
    /// date by the runs this write adds.
    runs: FxHashMap<BusinessId, Vec<i64>>,
    /// Businesses this write added a run to: their remaining keys go into a run too at flush, and
    /// their runs are settled (merged) then.
    wrote_runs: FxHashSet<BusinessId>,
    /// Lookups in the store this write made per business, and the Bloom filter built once they
    /// pass [`super::dedup::FILTER_AFTER`].
    lookups: FxHashMap<BusinessId, u64>,
    filters: FxHashMap<BusinessId, super::dedup::KeyFilter>,
    segments: FxHashMap<BusinessId, SegmentBuilder>,
    /// Segments of fewer than [`SEGMENT_ROWS`] rows written, per business.
    small_segments: FxHashMap<BusinessId, u64>,
    /// The earliest time seen per customer in this write, applied to first_seen at flush.
    first_seen: FxHashMap<i64, i64>,
    /// Businesses whose identities are all in the cache.
    preloaded: FxHashSet<BusinessId>,
    too_many_to_preload: FxHashSet<BusinessId>,
    /// Whether each business has had an erasure, looked up once a write: only then are new
    /// identities checked against the tombstones.
    has_erasures: FxHashMap<BusinessId, bool>,
    summary: WriteSummary,
    /// With events kept in another store (ClickHouse, see split.rs): each new event with the
    /// customer it was resolved to, handed over before the commit instead of written to a segment.
    pub(crate) outbox: Option<&'c mut dyn crate::split::HeldEvents>,
    /// Businesses whose data this write changes; their `data_version` goes up at flush. A cell,
    /// because the check every write method starts with (`check_business`) only reads.
    touched: std::cell::RefCell<FxHashSet<BusinessId>>,
}

impl std::fmt::Debug for SqliteWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteWriter").field("summary", &self.summary).finish_non_exhaustive()
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(format!("cannot serialise: {e}")))
}

fn hash_key(parts: &[&str]) -> String {
    let joined = parts.join("\u{1f}");
    format!("{:032x}", xxh3_128(joined.as_bytes()))
}

impl<'c> SqliteWriter<'c> {
    pub(crate) fn new(conn: &'c Connection, indexed: &'c IndexedBusinesses) -> Self {
        SqliteWriter {
            conn,
            indexed,
            indexed_now: FxHashSet::default(),
            held_keys: FxHashMap::default(),
            held_count: 0,
            runs: FxHashMap::default(),
            wrote_runs: FxHashSet::default(),
            lookups: FxHashMap::default(),
            filters: FxHashMap::default(),
            bulk: false,
            now: chrono::Utc::now().timestamp_millis(),
            strings: FxHashMap::default(),
            identities: FxHashMap::default(),
            merged: FxHashMap::default(),
            segments: FxHashMap::default(),
            first_seen: FxHashMap::default(),
            small_segments: FxHashMap::default(),
            preloaded: FxHashSet::default(),
            too_many_to_preload: FxHashSet::default(),
            has_erasures: FxHashMap::default(),
            summary: WriteSummary::default(),
            outbox: None,
            touched: std::cell::RefCell::new(FxHashSet::default()),
        }
    }

    pub(crate) fn summary_now(&self) -> WriteSummary {
        self.summary
    }

    fn intern(&mut self, text: Option<&str>) -> Result<u32> {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            return Ok(0);
        };
        if let Some(&id) = self.strings.get(text) {
            return Ok(id);
        }
        let found: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM strings WHERE value = ?1")?
            .query_row([text], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                self.conn.prepare_cached("INSERT INTO strings (value) VALUES (?1)")?.execute([text])?;
                self.conn.last_insert_rowid()
            }
        };
        let id = u32::try_from(id).map_err(|_| StoreError::Invalid("more than 4 billion distinct strings".into()))?;
        self.strings.insert(text.into(), id);
        Ok(id)
    }

    fn current(&self, mut customer: i64) -> i64 {
        while let Some(&next) = self.merged.get(&customer) {
            customer = next;
        }
        customer
    }

    fn cached_identity(&self, business: BusinessId, identity: &Identity) -> Option<(i64, i64)> {
        let &(id, customer) = self.identities.get(&(business, identity.kind))?.get(identity.value.as_str())?;
        Some((id, self.current(customer)))
    }

    fn cache_identity(&mut self, business: BusinessId, identity: &Identity, pair: (i64, i64)) {
        self.identities.entry((business, identity.kind)).or_default().insert(identity.value.as_str().into(), pair);
    }

    /// Loads every identity of a business into the cache on its first lookup in this write, when
    /// there are few enough to hold; afterwards a miss means a new identity and costs no query.
    fn preload_identities(&mut self, business: BusinessId) -> Result<()> {
        if !self.preloaded.insert(business) {
            return Ok(());
        }
        let count: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM identities WHERE business = ?1")?
            .query_row([business.0], |r| r.get(0))?;
        if count > PRELOAD_IDENTITIES {
            self.preloaded.remove(&business);
            self.too_many_to_preload.insert(business);
            return Ok(());
        }
        let mut stmt = self.conn.prepare_cached("SELECT kind, value, id, customer FROM identities WHERE business = ?1")?;
        let mut rows = stmt.query([business.0])?;
        while let Some(row) = rows.next()? {
            let kind: String = row.get(0)?;
            let kind = IdentityKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("identity kind {kind:?}")))?;
            let value: String = row.get(1)?;
            let pair: (i64, i64) = (row.get(2)?, row.get(3)?);
            self.identities.entry((business, kind)).or_default().insert(value.into_boxed_str(), pair);
        }
        Ok(())
    }

    fn lookup_identity(&mut self, business: BusinessId, identity: &Identity) -> Result<Option<(i64, i64)>> {
        if let Some(found) = self.cached_identity(business, identity) {
            return Ok(Some(found));
        }
        if self.bulk && !self.too_many_to_preload.contains(&business) {
            self.preload_identities(business)?;
            if self.preloaded.contains(&business) {
                return Ok(self.cached_identity(business, identity));
            }
        }
        let found: Option<(i64, i64)> = self
            .conn
            .prepare_cached("SELECT id, customer FROM identities WHERE business = ?1 AND kind = ?2 AND value = ?3")?
            .query_row(params![business.0, identity.kind.as_str(), identity.value], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some(pair) = found {
            self.cache_identity(business, identity, pair);
        }
        Ok(found.map(|(id, customer)| (id, self.current(customer))))
    }

    fn note_time(&mut self, customer: i64, time: i64) {
        let earliest = self.first_seen.entry(customer).or_insert(time);
        *earliest = (*earliest).min(time);
    }

    /// Finds the one customer these identities belong to, creating or merging customers as
    /// needed; returns the customer, whether it was created, and the id of the first identity.
    fn resolve(&mut self, business: BusinessId, identities: &[&Identity], time: i64) -> Result<(i64, bool, i64)> {
        self.touched.get_mut().insert(business);
        if identities.is_empty() {
            return Err(StoreError::Invalid("a record names no customer (no id, email or anonymous id)".into()));
        }
        // The common case of a bulk import: one identity, already known.
        if let [only] = identities
            && let Some((id, customer)) = self.cached_identity(business, only)
        {
            self.note_time(customer, time);
            return Ok((customer, false, id));
        }
        let mut found = Vec::with_capacity(identities.len());
        for identity in identities {
            found.push(self.lookup_identity(business, identity)?);
        }
        // Before anything is written: a new identity that was erased is refused, so the person
        // does not come back without anyone noticing.
        for (identity, found) in identities.iter().zip(&found) {
            if found.is_none()
                && let Some(at) = self.erased_identity(business, identity)?
            {
                return Err(StoreError::Invalid(format!(
                    "this record names a customer whose data was erased on {} at their request ({} identity); it is not stored",
                    at.date(),
                    identity.kind.as_str()
                )));
            }
        }
        let mut customers: Vec<i64> = found.iter().flatten().map(|&(_, c)| c).collect();
        customers.sort_unstable();
        customers.dedup();
        let (target, created) = match customers.first() {
            Some(&oldest) => (oldest, false),
            None => (self.create_customer(business, identities, time)?, true),
        };
        for &other in customers.iter().skip(1) {
            self.merge(target, other)?;
        }
        let mut first_id = None;
        for (identity, found) in identities.iter().zip(found) {
            let id = match found {
                Some((id, _)) => id,
                None => {
                    self.conn
                        .prepare_cached("INSERT INTO identities (business, kind, value, customer) VALUES (?1, ?2, ?3, ?4)")?
                        .execute(params![business.0, identity.kind.as_str(), identity.value, target])?;
                    let id = self.conn.last_insert_rowid();
                    self.cache_identity(business, identity, (id, target));
                    if !created {
                        self.fill_customer_ids(target, identity)?;
                    }
                    id
                }
            };
            first_id.get_or_insert(id);
        }
        self.note_time(target, time);
        Ok((target, created, first_id.unwrap_or_default()))
    }

    /// When `identity` of `business` was erased, if it was (see `erase.rs`).
    fn erased_identity(&mut self, business: BusinessId, identity: &Identity) -> Result<Option<Timestamp>> {
        let has = match self.has_erasures.get(&business) {
            Some(&has) => has,
            None => {
                let has: bool = self
                    .conn
                    .prepare_cached("SELECT EXISTS (SELECT 1 FROM erasures WHERE business = ?1)")?
                    .query_row([business.0], |r| r.get(0))?;
                self.has_erasures.insert(business, has);
                has
            }
        };
        if !has {
            return Ok(None);
        }
        super::erase::erased_at(self.conn, business, &crate::identity_hash(identity.kind, &identity.value))
    }

    fn create_customer(&mut self, business: BusinessId, identities: &[&Identity], time: i64) -> Result<i64> {
        let pick = |kind| identities.iter().find(|i| i.kind == kind).map(|i| i.value.as_str());
        self.conn
            .prepare_cached("INSERT INTO customers (business, external_id, email, first_seen) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![business.0, pick(IdentityKind::External), pick(IdentityKind::Email), time])?;
        self.summary.customers_added += 1;
        Ok(self.conn.last_insert_rowid())
    }

    /// Gives a customer an external id or email it lacked, when a new identity brings one.
    fn fill_customer_ids(&mut self, customer: i64, identity: &Identity) -> Result<()> {
        let column = match identity.kind {
            IdentityKind::External => "external_id",
            IdentityKind::Email => "email",
            IdentityKind::Anonymous => return Ok(()),
        };
        self.conn
            .prepare_cached(&format!("UPDATE customers SET {column} = ?2 WHERE id = ?1 AND {column} IS NULL"))?
            .execute(params![customer, identity.value])?;
        Ok(())
    }

    /// Folds customer `other` into `target`: its identities, orders, answers and feedback move,
    /// and its row stays behind pointing at `target`.
    fn merge(&mut self, target: i64, other: i64) -> Result<()> {
        for sql in [
            "UPDATE identities SET customer = ?1 WHERE customer = ?2",
            "UPDATE orders SET customer = ?1 WHERE customer = ?2",
            "UPDATE survey_responses SET customer = ?1 WHERE customer = ?2",
            "UPDATE feedback SET customer = ?1 WHERE customer = ?2",
            "UPDATE customers SET merged_into = ?1 WHERE merged_into = ?2",
            "UPDATE customers SET
                external_id = coalesce(external_id, (SELECT external_id FROM customers WHERE id = ?2)),
                email = coalesce(email, (SELECT email FROM customers WHERE id = ?2)),
                name = coalesce(name, (SELECT name FROM customers WHERE id = ?2)),
                first_seen = min(first_seen, (SELECT first_seen FROM customers WHERE id = ?2))
             WHERE id = ?1",
            "UPDATE customers SET merged_into = ?1 WHERE id = ?2",
        ] {
            self.conn.prepare_cached(sql)?.execute(params![target, other])?;
        }
        self.merged.insert(other, target);
        if let Some(t) = self.first_seen.remove(&other) {
            self.note_time(target, t);
        }
        self.summary.customers_merged += 1;
        Ok(())
    }

    /// Whether `key` is new to the business, counting this write's own events; records it if so.
    /// A key is looked up in the store's key index (built first for a store from before it),
    /// unless this write's Bloom filter of the stored keys says it is surely not there.
    fn claim_key(&mut self, business: BusinessId, key: u128) -> Result<bool> {
        if self.held_keys.get(&business).is_some_and(|held| held.contains(&key)) {
            return Ok(false);
        }
        if !self.runs.contains_key(&business) {
            if !self.indexed.contains(&business) && !self.indexed_now.contains(&business) {
                super::dedup::ensure_indexed(self.conn, business)?;
                self.indexed_now.insert(business);
            }
            let runs = super::dedup::runs(self.conn, business)?.into_iter().map(|(run, _)| run).collect();
            self.runs.insert(business, runs);
        }
        let filter = self.filters.get(&business);
        if filter.is_none_or(|f| f.may_contain(key)) {
            let runs = self.runs.get(&business).map_or(&[][..], Vec::as_slice);
            if super::dedup::is_stored(self.conn, business, runs, key)? {
                return Ok(false);
            }
            *self.lookups.entry(business).or_default() += 1;
        }
        self.held_keys.entry(business).or_default().insert(key);
        self.held_count += 1;
        match self.filters.get_mut(&business) {
            Some(filter) if !filter.is_full() => filter.insert(key),
            // A filter built, or outgrown, now holds the index's keys and this write's.
            _ if self.lookups.get(&business).copied().unwrap_or(0) >= super::dedup::FILTER_AFTER => {
                let held = self.held_keys.get(&business).map(|h| h.iter().copied().collect::<Vec<_>>()).unwrap_or_default();
                let filter = super::dedup::KeyFilter::of_index(self.conn, business, held.into_iter())?;
                self.filters.insert(business, filter);
            }
            _ => {}
        }
        if self.held_count >= HELD_KEYS {
            let businesses: Vec<BusinessId> = self.held_keys.keys().copied().collect();
            for business in businesses {
                self.write_held_run(business)?;
            }
        }
        Ok(true)
    }

    /// Writes the keys this write holds for `business` as a new run of its index, and lets go of
    /// them (lookups then find them in the run; the filter keeps them).
    fn write_held_run(&mut self, business: BusinessId) -> Result<()> {
        let Some(held) = self.held_keys.remove(&business) else {
            return Ok(());
        };
        self.held_count -= held.len();
        let mut keys: Vec<u128> = held.into_iter().collect();
        super::dedup::write_run(self.conn, business, &mut keys)?;
        let runs = super::dedup::runs(self.conn, business)?.into_iter().map(|(run, _)| run).collect();
        self.runs.insert(business, runs);
        self.wrote_runs.insert(business);
        Ok(())
    }

    /// Puts the keys this write holds into the key index: a business's few new keys into its
    /// B-tree, many (or the rest of a write that wrote a run) as a run, then its runs settled
    /// (merged while they are many or small; see dedup.rs).
    fn index_new_keys(&mut self) -> Result<()> {
        let mut businesses: Vec<BusinessId> = self.held_keys.keys().chain(self.wrote_runs.iter()).copied().collect();
        businesses.sort();
        businesses.dedup();
        for business in businesses {
            let held = self.held_keys.get(&business).map_or(0, FxHashSet::len);
            if held >= super::dedup::RUN_MIN_KEYS || self.wrote_runs.contains(&business) {
                self.write_held_run(business)?;
                let runs = super::dedup::settle_runs(self.conn, business)?;
                self.runs.insert(business, runs);
            } else if let Some(held) = self.held_keys.remove(&business) {
                self.held_count -= held.len();
                let mut keys: Vec<u128> = held.into_iter().collect();
                super::dedup::insert_keys(self.conn, business, &mut keys)?;
            }
        }
        self.wrote_runs.clear();
        self.filters.clear();
        self.lookups.clear();
        Ok(())
    }

    /// The businesses whose key index this write built; the store knows them built once it commits.
    pub(crate) fn take_indexed_now(&mut self) -> FxHashSet<BusinessId> {
        std::mem::take(&mut self.indexed_now)
    }

    fn push_event(&mut self, business: BusinessId, key: EventKey, (customer, identity): (i64, i64), event: &Event) -> Result<bool> {
        if !self.claim_key(business, key.0)? {
            self.summary.events_duplicate += 1;
            return Ok(false);
        }
        if let Some(outbox) = self.outbox.as_mut() {
            // The key is claimed here all the same, so a retried event is a duplicate here too.
            outbox.push(business, CustomerId(customer), event.clone())?;
            self.summary.events_added += 1;
            return Ok(true);
        }
        let text = [
            self.intern(Some(&event.name))?,
            self.intern(event.channel.as_deref())?,
            self.intern(event.source.as_deref())?,
            self.intern(event.medium.as_deref())?,
            self.intern(event.campaign.as_deref())?,
            self.intern(event.referrer.as_deref())?,
            self.intern(event.page.as_deref())?,
            self.intern(event.revenue.map(|m| m.currency).as_ref().map(Currency::as_str))?,
        ];
        let row = SegmentRow {
            time: event.time.0,
            identity,
            text,
            revenue_minor: event.revenue.map_or(0, |m| m.minor),
            properties: if event.properties.is_empty() {
                String::new()
            } else {
                json(&event.properties)?
            },
        };
        let builder = self.segments.entry(business).or_default();
        builder.push(key.0, &row);
        if builder.len() >= SEGMENT_ROWS {
            self.flush_segment(business)?;
        }
        self.summary.events_added += 1;
        Ok(true)
    }

    fn flush_segment(&mut self, business: BusinessId) -> Result<()> {
        let Some(builder) = self.segments.get_mut(&business).filter(|b| !b.is_empty()) else {
            return Ok(());
        };
        if builder.len() < SEGMENT_ROWS {
            *self.small_segments.entry(business).or_default() += 1;
        }
        insert_segment(self.conn, business, builder)?;
        Ok(())
    }

    /// The segments of fewer than [`SEGMENT_ROWS`] rows this write made, per business: what the
    /// store's background merging has to come back for (see merge.rs).
    pub(crate) fn take_small_segments(&mut self) -> FxHashMap<BusinessId, u64> {
        std::mem::take(&mut self.small_segments)
    }

    /// Writes what the caches still hold: partial segments and first-seen times.
    pub(crate) fn flush(&mut self) -> Result<()> {
        let mut businesses: Vec<BusinessId> = self.segments.keys().copied().collect();
        businesses.sort();
        for business in businesses {
            self.flush_segment(business)?;
        }
        self.index_new_keys()?;
        let mut first_seen: Vec<(i64, i64)> = self.first_seen.drain().collect();
        first_seen.sort_unstable();
        let mut stmt = self.conn.prepare_cached("UPDATE customers SET first_seen = min(first_seen, ?2) WHERE id = ?1")?;
        for (customer, time) in first_seen {
            stmt.execute(params![customer, time])?;
        }
        let mut touched: Vec<BusinessId> = self.touched.get_mut().drain().collect();
        touched.sort();
        let mut bump = self.conn.prepare_cached("UPDATE businesses SET data_version = data_version + 1 WHERE id = ?1")?;
        for business in touched {
            bump.execute([business.0])?;
        }
        Ok(())
    }

    /// The stored order of this number and origin: (customer, time, total, currency).
    fn stored_order(&self, business: BusinessId, origin: &str, number: &str) -> Result<Option<StoredOrder>> {
        Ok(self
            .conn
            .prepare_cached("SELECT customer, time, total, currency FROM orders WHERE business = ?1 AND origin = ?2 AND external_id = ?3")?
            .query_row(params![business.0, origin, number], |r| {
                Ok(StoredOrder { customer: r.get(0)?, time: r.get(1)?, total: r.get(2)?, currency: r.get(3)? })
            })
            .optional()?)
    }

    /// What differs between a stored order and an incoming one of the same number: the customer
    /// (none of the incoming identities belongs to the stored order's customer), the total, the
    /// time. Looks identities up without creating any.
    fn order_differences(
        &mut self,
        business: BusinessId,
        stored: &StoredOrder,
        o: &IncomingOrder,
        identities: &[&Identity],
    ) -> Result<Vec<String>> {
        let mut differences = Vec::new();
        let mut same_customer = false;
        for identity in identities {
            if self.lookup_identity(business, identity)?.is_some_and(|(_, customer)| customer == stored.customer) {
                same_customer = true;
                break;
            }
        }
        if !same_customer {
            let (email, external): (Option<String>, Option<String>) = self
                .conn
                .prepare_cached("SELECT email, external_id FROM customers WHERE id = ?1")?
                .query_row([stored.customer], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let stored_name = email.or(external).unwrap_or_else(|| format!("customer {}", stored.customer));
            let given: Vec<String> = identities.iter().map(|i| i.value.to_string()).collect();
            differences.push(format!("customer {stored_name} before, {} now", given.join(" / ")));
        }
        if stored.total != o.total.minor || stored.currency != o.total.currency.as_str() {
            let before = crate::rows::currency(&stored.currency).map(|c| Money::new(stored.total, c).to_string())?;
            differences.push(format!("total {before} before, {} now", o.total));
        }
        if stored.time != o.time.0 {
            differences.push(format!("time {} before, {} now", Timestamp(stored.time), o.time));
        }
        Ok(differences)
    }

    /// Refuses a persona name another persona of the business has (ignoring ASCII case); `id` is
    /// the persona being renamed, which may keep its own name.
    fn check_persona_name(&self, business: BusinessId, id: Option<PersonaId>, name: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a persona needs a name".into()));
        }
        let taken: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT id FROM personas WHERE business = ?1 AND id != ?2 AND trim(json_extract(doc, '$.name')) = ?3 COLLATE NOCASE LIMIT 1",
            )?
            .query_row(params![business.0, id.map_or(0, |p| p.0), name], |r| r.get(0))
            .optional()?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("a persona named {name:?} already exists")));
        }
        Ok(())
    }

    fn check_business(&self, business: BusinessId) -> Result<Currency> {
        let currency: Option<String> = self
            .conn
            .prepare_cached("SELECT currency FROM businesses WHERE id = ?1")?
            .query_row([business.0], |r| r.get(0))
            .optional()?;
        let currency = currency.ok_or(StoreError::NotFound { what: "business", id: business.0 })?;
        self.touched.borrow_mut().insert(business);
        crate::rows::currency(&currency)
    }
}

/// Encodes what `builder` holds as one segment of `business` with its keys, empties the builder,
/// and returns the new segment's id. The writer's flush and compaction both write segments here.
pub(crate) fn insert_segment(conn: &Connection, business: BusinessId, builder: &mut SegmentBuilder) -> Result<i64> {
    insert_segment_as(conn, business, None, builder)
}

/// [`insert_segment`] under a chosen id (one free in the table), or the next one when `None`:
/// merging puts the merged rows under the id of the last segment they come from, so the
/// business's rows keep their order and place.
pub(crate) fn insert_segment_as(conn: &Connection, business: BusinessId, id: Option<i64>, builder: &mut SegmentBuilder) -> Result<i64> {
    let rows = builder.len() as i64;
    let (min, max) = builder.min_max_time();
    let (columns, keys) = builder.finish();
    conn.prepare_cached("INSERT INTO event_segments (id, business, rows, min_time, max_time, columns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
        .execute(params![id, business.0, rows, min, max, columns])?;
    let segment = conn.last_insert_rowid();
    conn.prepare_cached("INSERT INTO event_keys (segment, business, keys) VALUES (?1, ?2, ?3)")?
        .execute(params![segment, business.0, keys])?;
    Ok(segment)
}

/// Counts a rewrite that reorders or removes rows of the business's events (see
/// `DataMark::rewrites`), in the caller's transaction.
pub(crate) fn note_event_rewrite(conn: &Connection, business: BusinessId) -> Result<()> {
    conn.prepare_cached("UPDATE businesses SET event_rewrites = event_rewrites + 1 WHERE id = ?1")?.execute([business.0])?;
    Ok(())
}

/// Segment `id`'s columns and its keys, as stored.
pub(crate) fn segment_blobs(conn: &Connection, id: i64) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
    Ok(conn.query_row(
        "SELECT s.columns, k.keys FROM event_segments s LEFT JOIN event_keys k ON k.segment = s.id WHERE s.id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Deletes segment `id` and its key row (keys first: they reference their segment).
pub(crate) fn delete_segment(conn: &Connection, id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM event_keys WHERE segment = ?1")?.execute([id])?;
    conn.prepare_cached("DELETE FROM event_segments WHERE id = ?1")?.execute([id])?;
    Ok(())
}

/// Rewrites segment `id` of `business` (its `columns` and `keys` as [`segment_blobs`] read them)
/// keeping only the rows `keep` accepts, given each row's time, identity and text ids; every
/// column of a kept row and its key are copied as stored. The old segment and its keys are
/// deleted, and the removed rows' keys leave the key index; a new segment is written when a row
/// is left. Answers how many rows were left out.
pub(crate) fn rewrite_segment(
    conn: &Connection,
    business: BusinessId,
    id: i64,
    blobs: (&[u8], Option<&[u8]>),
    keep: &mut dyn FnMut(i64, i64, &[u32; TEXT_COLUMNS]) -> bool,
) -> Result<u64> {
    let mut builder = SegmentBuilder::default();
    let removed = copy_rows(id, blobs, &mut builder, keep)?;
    super::dedup::forget_keys(conn, business, removed.iter().copied())?;
    note_event_rewrite(conn, business)?;
    delete_segment(conn, id)?;
    if !builder.is_empty() {
        insert_segment(conn, business, &mut builder)?;
    }
    Ok(removed.len() as u64)
}

/// An order as stored, for the comparison with an incoming order of the same number.
#[derive(Debug)]
struct StoredOrder {
    customer: i64,
    time: i64,
    total: i64,
    currency: String,
}

/// The message of an order number seen again with other content.
fn conflict_message(o: &IncomingOrder, differences: &[String]) -> String {
    let origin = if o.origin.is_empty() { String::new() } else { format!(" ({})", o.origin) };
    format!(
        "order {:?}{origin} is stored already with other content ({}); an order number must name one order",
        o.external_id,
        differences.join("; ")
    )
}

/// The key of an order's `purchase` event. Orders of the business's own numbering keep the key
/// they had before origins were kept; other origins are namespaced, so two origins' `#1001` are
/// two events.
fn order_event_key(origin: &str, number: &str) -> EventKey {
    if origin.is_empty() {
        EventKey::from_id("order", number)
    } else {
        EventKey::from_id(&format!("order:{origin}"), number)
    }
}

/// A unique-name failure of a touchpoint write as the conflict it is.
fn taken_touchpoint_name(error: rusqlite::Error, name: &str) -> StoreError {
    match error {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Conflict(format!("a touchpoint named {name:?} already exists"))
        }
        other => other.into(),
    }
}

fn identity_refs<'a>(primary: Option<&'a Identity>, others: &'a [Identity]) -> Vec<&'a Identity> {
    let mut all: Vec<&Identity> = primary.into_iter().collect();
    for identity in others {
        if !all.contains(&identity) {
            all.push(identity);
        }
    }
    all
}

impl Writer for SqliteWriter<'_> {
    fn create_business(&mut self, name: &str, currency: Currency, timezone: &str) -> Result<(Business, Vec<Stage>)> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a business needs a name".into()));
        }
        let exists: Option<i64> = self
            .conn
            .query_row("SELECT id FROM businesses WHERE name = ?1 COLLATE NOCASE", [name], |r| r.get(0))
            .optional()?;
        if exists.is_some() {
            return Err(StoreError::Invalid(format!("a business named {name:?} already exists")));
        }
        self.conn.execute(
            "INSERT INTO businesses (name, currency, timezone, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![name, currency.as_str(), timezone, self.now],
        )?;
        let business = BusinessId(self.conn.last_insert_rowid());
        let mut stages = Vec::new();
        for (position, (stage, description)) in DEFAULT_STAGES.iter().enumerate() {
            self.conn.execute(
                "INSERT INTO stages (business, name, position, description) VALUES (?1, ?2, ?3, ?4)",
                params![business.0, stage, position as i64, description],
            )?;
            stages.push(Stage {
                id: StageId(self.conn.last_insert_rowid()),
                business,
                name: stage.to_string(),
                position: position as u32,
                description: description.to_string(),
            });
        }
        Ok((Business { id: business, name: name.to_string(), currency, timezone: timezone.to_string(), decimal_mark: None }, stages))
    }

    fn set_decimal_mark(&mut self, business: BusinessId, mark: Option<DecimalMark>) -> Result<()> {
        self.check_business(business)?;
        self.conn
            .prepare_cached("UPDATE businesses SET decimal_mark = ?2 WHERE id = ?1")?
            .execute(params![business.0, mark.map(DecimalMark::as_str)])?;
        Ok(())
    }

    fn create_touchpoint(&mut self, t: &Touchpoint) -> Result<TouchpointId> {
        self.check_business(t.business)?;
        self.conn
            .prepare_cached(
                "INSERT INTO touchpoints (business, name, channel, stage, online, rule, description, position)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT coalesce(max(position) + 1, 0) FROM touchpoints WHERE business = ?1))",
            )?
            .execute(params![t.business.0, t.name, t.channel.as_str(), t.stage.map(|s| s.0), t.online, json(&t.rule)?, t.description])
            .map_err(|e| taken_touchpoint_name(e, &t.name))?;
        Ok(TouchpointId(self.conn.last_insert_rowid()))
    }

    fn update_touchpoint(&mut self, t: &Touchpoint) -> Result<()> {
        self.check_business(t.business)?;
        let updated = self
            .conn
            .prepare_cached(
                "UPDATE touchpoints SET name = ?3, channel = ?4, stage = ?5, online = ?6, rule = ?7, description = ?8
                 WHERE id = ?1 AND business = ?2",
            )?
            .execute(params![t.id.0, t.business.0, t.name, t.channel.as_str(), t.stage.map(|s| s.0), t.online, json(&t.rule)?, t.description])
            .map_err(|e| taken_touchpoint_name(e, &t.name))?;
        if updated == 0 {
            return Err(StoreError::NotFound { what: "touchpoint", id: t.id.0 });
        }
        Ok(())
    }

    fn delete_touchpoint(&mut self, business: BusinessId, touchpoint: TouchpointId) -> Result<()> {
        self.check_business(business)?;
        let deleted = self
            .conn
            .prepare_cached("DELETE FROM touchpoints WHERE id = ?1 AND business = ?2")?
            .execute(params![touchpoint.0, business.0])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Conflict(format!("touchpoint {} is still named by feedback", touchpoint.0))
                }
                other => other.into(),
            })?;
        if deleted == 0 {
            return Err(StoreError::NotFound { what: "touchpoint", id: touchpoint.0 });
        }
        Ok(())
    }

    fn reorder_touchpoints(&mut self, business: BusinessId, order: &[TouchpointId]) -> Result<()> {
        self.check_business(business)?;
        let mut ids: Vec<i64> = self
            .conn
            .prepare_cached("SELECT id FROM touchpoints WHERE business = ?1")?
            .query_map([business.0], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.sort_unstable();
        let mut given: Vec<i64> = order.iter().map(|t| t.0).collect();
        given.sort_unstable();
        if given != ids {
            return Err(StoreError::Invalid(format!(
                "a new order names each of the business's {} touchpoints once; {} were given",
                ids.len(),
                order.len()
            )));
        }
        let mut stmt = self.conn.prepare_cached("UPDATE touchpoints SET position = ?2 WHERE id = ?1")?;
        for (position, touchpoint) in order.iter().enumerate() {
            stmt.execute(params![touchpoint.0, position as i64])?;
        }
        Ok(())
    }

    fn dismiss_touchpoint_suggestion(&mut self, business: BusinessId, key: &str) -> Result<()> {
        self.check_business(business)?;
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO dismissed_touchpoint_suggestions (business, key, dismissed_at) VALUES (?1, ?2, ?3)")?
            .execute(params![business.0, key, self.now])?;
        Ok(())
    }

    fn set_change_metric(&mut self, business: BusinessId, change: ChangeId, metric: Option<&ChangeMetric>) -> Result<()> {
        self.check_business(business)?;
        let updated = self
            .conn
            .prepare_cached("UPDATE changes SET metric = ?3 WHERE id = ?1 AND business = ?2")?
            .execute(params![change.0, business.0, metric.map(json).transpose()?])?;
        if updated == 0 {
            return Err(StoreError::NotFound { what: "change", id: change.0 });
        }
        Ok(())
    }

    fn set_feedback_tags(&mut self, business: BusinessId, feedback: FeedbackId, tags: &[String]) -> Result<()> {
        self.check_business(business)?;
        let updated = self
            .conn
            .prepare_cached("UPDATE feedback SET tags = ?3 WHERE id = ?1 AND business = ?2")?
            .execute(params![feedback.0, business.0, json(&tags)?])?;
        if updated == 0 {
            return Err(StoreError::NotFound { what: "feedback", id: feedback.0 });
        }
        self.conn.prepare_cached("UPDATE businesses SET feedback_edits = feedback_edits + 1 WHERE id = ?1")?.execute([business.0])?;
        Ok(())
    }

    fn set_survey_touchpoint(&mut self, business: BusinessId, survey: SurveyId, touchpoint: Option<TouchpointId>) -> Result<()> {
        self.check_business(business)?;
        let doc: Option<String> = self
            .conn
            .prepare_cached("SELECT doc FROM surveys WHERE id = ?1 AND business = ?2")?
            .query_row(params![survey.0, business.0], |r| r.get(0))
            .optional()?;
        let doc = doc.ok_or(StoreError::NotFound { what: "survey", id: survey.0 })?;
        if let Some(t) = touchpoint {
            let owner: Option<i64> =
                self.conn.prepare_cached("SELECT business FROM touchpoints WHERE id = ?1")?.query_row([t.0], |r| r.get(0)).optional()?;
            if owner != Some(business.0) {
                return Err(StoreError::NotFound { what: "touchpoint", id: t.0 });
            }
        }
        let mut stored: Survey = crate::rows::parse_json(&doc, "survey")?;
        stored.touchpoint = touchpoint;
        self.conn.prepare_cached("UPDATE surveys SET doc = ?2 WHERE id = ?1")?.execute(params![survey.0, json(&stored)?])?;
        Ok(())
    }

    fn create_persona(&mut self, p: &Persona) -> Result<PersonaId> {
        self.check_business(p.business)?;
        self.check_persona_name(p.business, None, &p.name)?;
        self.conn
            .prepare_cached("INSERT INTO personas (business, doc) VALUES (?1, ?2)")?
            .execute(params![p.business.0, json(p)?])?;
        Ok(PersonaId(self.conn.last_insert_rowid()))
    }

    fn update_persona(&mut self, p: &Persona) -> Result<()> {
        self.check_business(p.business)?;
        let exists: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM personas WHERE id = ?1 AND business = ?2")?
            .query_row(params![p.id.0, p.business.0], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            return Err(StoreError::NotFound { what: "persona", id: p.id.0 });
        }
        self.check_persona_name(p.business, Some(p.id), &p.name)?;
        self.conn.prepare_cached("UPDATE personas SET doc = ?2 WHERE id = ?1")?.execute(params![p.id.0, json(p)?])?;
        Ok(())
    }

    fn delete_persona(&mut self, business: BusinessId, persona: PersonaId) -> Result<()> {
        self.check_business(business)?;
        let name: Option<String> = self
            .conn
            .prepare_cached("SELECT json_extract(doc, '$.name') FROM personas WHERE id = ?1 AND business = ?2")?
            .query_row(params![persona.0, business.0], |r| r.get(0))
            .optional()?;
        let Some(name) = name else {
            return Err(StoreError::NotFound { what: "persona", id: persona.0 });
        };
        // Old versions of a map keep naming the persona's id; only the maps as they are now hold
        // it back, and each of them would lose a persona it shows.
        let maps: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT json_extract(v.doc, '$.name') FROM journey_maps m JOIN map_versions v ON v.map = m.id
                 WHERE m.business = ?1 AND v.version = (SELECT max(version) FROM map_versions WHERE map = m.id)
                   AND EXISTS (SELECT 1 FROM json_each(v.doc, '$.personas') WHERE value = ?2)
                 ORDER BY m.id",
            )?
            .query_map(params![business.0, persona.0], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if !maps.is_empty() {
            let names: Vec<String> = maps.iter().map(|m| format!("{m:?}")).collect();
            return Err(StoreError::Conflict(format!(
                "persona {name:?} is on the map{} {}: take it off {} first",
                if maps.len() == 1 { "" } else { "s" },
                names.join(", "),
                if maps.len() == 1 { "it" } else { "them" }
            )));
        }
        self.conn.prepare_cached("DELETE FROM personas WHERE id = ?1")?.execute([persona.0])?;
        Ok(())
    }

    fn save_map(&mut self, map: &JourneyMap, author: &str) -> Result<MapId> {
        self.check_business(map.business)?;
        let id = if map.id.0 == 0 {
            self.conn
                .prepare_cached("INSERT INTO journey_maps (business, created_at) VALUES (?1, ?2)")?
                .execute(params![map.business.0, self.now])?;
            self.conn.last_insert_rowid()
        } else {
            let owner: Option<i64> = self
                .conn
                .query_row("SELECT business FROM journey_maps WHERE id = ?1", [map.id.0], |r| r.get(0))
                .optional()?;
            if owner != Some(map.business.0) {
                return Err(StoreError::NotFound { what: "journey map", id: map.id.0 });
            }
            map.id.0
        };
        let stored = JourneyMap { id: MapId(id), ..map.clone() };
        self.conn
            .prepare_cached(
                "INSERT INTO map_versions (map, version, author, created_at, doc)
                 VALUES (?1, (SELECT coalesce(max(version), 0) + 1 FROM map_versions WHERE map = ?1), ?2, ?3, ?4)",
            )?
            .execute(params![id, author, self.now, json(&stored)?])?;
        Ok(MapId(id))
    }

    fn create_survey(&mut self, survey: &Survey) -> Result<Survey> {
        self.check_business(survey.business)?;
        self.conn
            .prepare_cached("INSERT INTO surveys (business, doc) VALUES (?1, '{}')")?
            .execute([survey.business.0])?;
        let id = SurveyId(self.conn.last_insert_rowid());
        let mut stored = Survey { id, ..survey.clone() };
        // Skip rules name earlier questions by their position's placeholder id; map old to new.
        let mut renumber = HashMap::new();
        for question in stored.questions.iter_mut() {
            self.conn.prepare_cached("INSERT INTO questions (survey) VALUES (?1)")?.execute([id.0])?;
            let new = QuestionId(self.conn.last_insert_rowid());
            renumber.insert(question.id, new);
            question.id = new;
        }
        for question in stored.questions.iter_mut() {
            if let Some(skip) = question.skip.as_mut() {
                skip.question = *renumber.get(&skip.question).ok_or_else(|| {
                    StoreError::Invalid(format!("question {:?} skips on a question not in the survey", question.text))
                })?;
            }
        }
        self.conn.prepare_cached("UPDATE surveys SET doc = ?2 WHERE id = ?1")?.execute(params![id.0, json(&stored)?])?;
        Ok(stored)
    }

    fn add_change(&mut self, c: &Change) -> Result<ChangeId> {
        self.check_business(c.business)?;
        self.conn
            .prepare_cached(
                "INSERT INTO changes (business, title, description, date, touchpoints, stages, kpi, owner, metric, answers) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                c.business.0,
                c.title,
                c.description,
                c.date.format("%Y-%m-%d").to_string(),
                json(&c.touchpoints)?,
                json(&c.stages)?,
                c.kpi,
                c.owner,
                c.metric.as_ref().map(json).transpose()?,
                c.answers.as_ref().map(json).transpose()?
            ])?;
        Ok(ChangeId(self.conn.last_insert_rowid()))
    }

    fn add_customer(&mut self, business: BusinessId, c: &IncomingCustomer) -> Result<(CustomerId, bool)> {
        let identities = identity_refs(None, &c.identities);
        let time = c.first_seen.map_or(self.now, |t| t.0);
        let (customer, created, _) = self.resolve(business, &identities, time)?;
        if !c.properties.is_empty() || c.name.is_some() {
            let properties: String = self
                .conn
                .prepare_cached("SELECT properties FROM customers WHERE id = ?1")?
                .query_row([customer], |r| r.get(0))?;
            let mut merged: Properties = crate::rows::parse_json(&properties, "customer properties")?;
            for (k, v) in &c.properties {
                merged.insert(k.clone(), v.clone());
            }
            self.conn
                .prepare_cached("UPDATE customers SET properties = ?2, name = coalesce(?3, name) WHERE id = ?1")?
                .execute(params![customer, json(&merged)?, c.name])?;
        }
        if !created {
            self.summary.customers_updated += 1;
        }
        Ok((CustomerId(customer), created))
    }

    fn add_event(&mut self, business: BusinessId, e: &IncomingEvent) -> Result<bool> {
        let identities = identity_refs(Some(&e.event.identity), &e.also_known_as);
        let (customer, _, identity) = self.resolve(business, &identities, e.event.time.0)?;
        self.push_event(business, e.event.key, (customer, identity), &e.event)
    }

    fn add_order(&mut self, business: BusinessId, o: &IncomingOrder) -> Result<bool> {
        if o.external_id.trim().is_empty() {
            return Err(StoreError::Invalid("an order needs an order number".into()));
        }
        self.check_business(business)?;
        let identities = identity_refs(None, &o.customer);
        if identities.is_empty() {
            return Err(StoreError::Invalid("a record names no customer (no id, email or anonymous id)".into()));
        }
        // The order number is looked at before any customer is resolved, so an order that is not
        // added creates no customer and no identity.
        if let Some(stored) = self.stored_order(business, &o.origin, &o.external_id)? {
            let differences = self.order_differences(business, &stored, o, &identities)?;
            if differences.is_empty() {
                self.summary.orders_duplicate += 1;
                return Ok(false);
            }
            return Err(StoreError::Conflict(conflict_message(o, &differences)));
        }
        // An order imported before origins were kept (v8) has the origin ''; the same order
        // imported again from its export is recognised by its content.
        if !o.origin.is_empty()
            && let Some(stored) = self.stored_order(business, "", &o.external_id)?
            && self.order_differences(business, &stored, o, &identities)?.is_empty()
        {
            self.summary.orders_duplicate += 1;
            return Ok(false);
        }
        let (customer, _, identity) = self.resolve(business, &identities, o.time.0)?;
        self.conn
            .prepare_cached(
                "INSERT INTO orders (business, origin, external_id, customer, time, currency, total, subtotal, shipping, tax, discount, status, channel, source, properties)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                business.0,
                o.origin,
                o.external_id,
                customer,
                o.time.0,
                o.total.currency.as_str(),
                o.total.minor,
                o.subtotal.map(|m| m.minor),
                o.shipping.map(|m| m.minor),
                o.tax.map(|m| m.minor),
                o.discount.map(|m| m.minor),
                o.status,
                o.channel,
                o.source,
                json(&o.properties)?
            ])?;
        let order = self.conn.last_insert_rowid();
        for (position, line) in o.lines.iter().enumerate() {
            self.conn
                .prepare_cached(
                    "INSERT INTO order_lines (order_id, position, sku, name, quantity, unit_price) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![order, position as i64, line.sku, line.name, line.quantity, line.unit_price.minor])?;
        }
        self.summary.orders_added += 1;
        // The purchase event puts the order in the one stream the engine reads.
        let (channel, medium) = match o.channel.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("in-store" | "in_store" | "instore" | "pos" | "store" | "offline") => {
                (Some(Channel::InStore.as_str().to_string()), Some("offline".to_string()))
            }
            Some("phone") => (Some(Channel::Phone.as_str().to_string()), Some("phone".to_string())),
            _ => (None, None),
        };
        let mut properties = Properties::new();
        properties.insert("order_id".into(), o.external_id.clone().into());
        if let Some(channel) = &o.channel {
            properties.insert("order_channel".into(), channel.clone().into());
        }
        let event = Event {
            key: order_event_key(&o.origin, &o.external_id),
            channel,
            source: o.source.clone(),
            medium,
            revenue: Some(o.total),
            properties,
            ..Event::new("purchase", o.time, identities[0].clone())
        };
        let key = event.key;
        self.push_event(business, key, (customer, identity), &event)?;
        Ok(true)
    }

    fn add_spend(&mut self, business: BusinessId, s: &IncomingSpend) -> Result<bool> {
        self.check_business(business)?;
        if s.end < s.start {
            return Err(StoreError::Invalid(format!("spend period ends ({}) before it starts ({})", s.end, s.start)));
        }
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO spend (business, channel, source, campaign, start, end, currency, amount) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                business.0,
                s.channel,
                s.source,
                s.campaign,
                s.start.format("%Y-%m-%d").to_string(),
                s.end.format("%Y-%m-%d").to_string(),
                s.amount.currency.as_str(),
                s.amount.minor
            ])?;
        if inserted == 0 {
            self.summary.spend_duplicate += 1;
        } else {
            self.summary.spend_added += 1;
        }
        Ok(inserted > 0)
    }

    fn add_feedback(&mut self, business: BusinessId, f: &IncomingFeedback) -> Result<bool> {
        self.check_business(business)?;
        // The touchpoint is checked first so a rejected row creates no customer.
        let touchpoint: Option<i64> = match &f.touchpoint {
            Some(name) => Some(
                self.conn
                    .prepare_cached("SELECT id FROM touchpoints WHERE business = ?1 AND name = ?2 COLLATE NOCASE")?
                    .query_row(params![business.0, name], |r| r.get(0))
                    .optional()?
                    .ok_or_else(|| StoreError::Invalid(format!("no touchpoint named {name:?}")))?,
            ),
            None => None,
        };
        let customer = if f.customer.is_empty() {
            None
        } else {
            Some(self.resolve(business, &identity_refs(None, &f.customer), f.time.0)?.0)
        };
        let dedup_key = match &f.external_id {
            Some(id) => hash_key(&[f.kind.as_str(), &f.source, id]),
            None => hash_key(&[f.kind.as_str(), &f.source, &f.time.0.to_string(), f.author.as_deref().unwrap_or(""), &f.text]),
        };
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO feedback (business, kind, source, external_id, customer, author, time, rating, text, link, touchpoint, tags, dedup_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                business.0,
                f.kind.as_str(),
                f.source,
                f.external_id,
                customer,
                f.author,
                f.time.0,
                f.rating.map(f64::from),
                f.text,
                f.link,
                touchpoint,
                json(&f.tags)?,
                dedup_key
            ])?;
        if inserted == 0 {
            self.summary.feedback_duplicate += 1;
        } else {
            self.summary.feedback_added += 1;
        }
        Ok(inserted > 0)
    }

    fn erased(&mut self, business: BusinessId, identity: &Identity) -> Result<Option<Timestamp>> {
        self.erased_identity(business, identity)
    }

    fn add_response(&mut self, business: BusinessId, r: &IncomingResponse) -> Result<bool> {
        let owner: Option<i64> = self
            .conn
            .prepare_cached("SELECT business FROM surveys WHERE id = ?1")?
            .query_row([r.survey.0], |row| row.get(0))
            .optional()?;
        if owner != Some(business.0) {
            return Err(StoreError::NotFound { what: "survey", id: r.survey.0 });
        }
        let customer = if r.customer.is_empty() {
            None
        } else {
            Some(self.resolve(business, &identity_refs(None, &r.customer), r.submitted_at.0)?.0)
        };
        let hidden = json(&r.hidden)?;
        let answers = json(&r.answers)?;
        let who: Vec<String> = r.customer.iter().map(|i| i.to_string()).collect();
        let dedup_key = hash_key(&[&r.survey.0.to_string(), &who.join(","), &r.submitted_at.0.to_string(), &hidden, &answers]);
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO survey_responses (business, survey, customer, submitted_at, hidden, answers, dedup_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![business.0, r.survey.0, customer, r.submitted_at.0, hidden, answers, dedup_key])?;
        if inserted == 0 {
            self.summary.responses_duplicate += 1;
        } else {
            self.summary.responses_added += 1;
        }
        Ok(inserted > 0)
    }

    fn create_write_key(&mut self, business: BusinessId, name: &str, key_hash: &str) -> Result<i64> {
        self.check_business(business)?;
        self.conn
            .prepare_cached("INSERT INTO write_keys (business, name, key_hash, created_at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![business.0, name, key_hash, self.now])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Invalid("that write key exists already".into())
                }
                other => other.into(),
            })?;
        Ok(self.conn.last_insert_rowid())
    }

    fn touch_write_key(&mut self, key: i64, at: Timestamp) -> Result<bool> {
        // max(): a group commit that started earlier never moves the time back.
        let touched = self
            .conn
            .prepare_cached("UPDATE write_keys SET last_used = max(coalesce(last_used, 0), ?2) WHERE id = ?1 AND revoked_at IS NULL")?
            .execute(params![key, at.0])?;
        Ok(touched > 0)
    }

    fn revoke_write_key(&mut self, business: BusinessId, key: i64, at: Timestamp) -> Result<()> {
        let found: Option<Option<i64>> = self
            .conn
            .prepare_cached("SELECT revoked_at FROM write_keys WHERE id = ?1 AND business = ?2")?
            .query_row(params![key, business.0], |r| r.get(0))
            .optional()?;
        match found {
            None => Err(StoreError::NotFound { what: "write key", id: key }),
            Some(Some(_)) => Err(StoreError::Conflict(format!("write key {key} is revoked already"))),
            Some(None) => {
                self.conn.prepare_cached("UPDATE write_keys SET revoked_at = ?2 WHERE id = ?1")?.execute(params![key, at.0])?;
                Ok(())
            }
        }
    }

    fn delete_card_comments(&mut self, map: MapId, cards: &[u32]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached("DELETE FROM map_comments WHERE map = ?1 AND card = ?2")?;
        let mut deleted = 0;
        for card in cards {
            deleted += stmt.execute(params![map.0, card])? as u64;
        }
        Ok(deleted)
    }

    fn count_tracking_drops(&mut self, business: BusinessId, reason: &str, count: u64) -> Result<()> {
        if count == 0 {
            return Ok(());
        }
        self.conn
            .prepare_cached(
                "INSERT INTO tracking_drops (business, reason, count) VALUES (?1, ?2, ?3)
                 ON CONFLICT (business, reason) DO UPDATE SET count = count + excluded.count",
            )?
            .execute(params![business.0, reason, count as i64])?;
        Ok(())
    }

    fn record_import(&mut self, business: BusinessId, kind: &str, file: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO imports (business, kind, file, added, duplicates, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![business.0, kind, file, self.summary.added() as i64, self.summary.duplicates() as i64, self.now],
        )?;
        Ok(())
    }

    fn summary(&self) -> WriteSummary {
        self.summary
    }

    fn bulk(&mut self) {
        self.bulk = true;
    }
}
