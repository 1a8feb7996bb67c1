//! The writer of one PostgreSQL transaction: the same rules as the SQLite writer (writer.rs), in
//! PostgreSQL's dialect. Every record names its customer by identities; the writer finds, creates
//! or merges customers so that one person has one history. Events go into columnar segments
//! (segment.rs) of the business, their keys into `event_keys` so a key seen again is a duplicate.
//!
//! The store takes a transaction-level advisory lock before a writer starts, so writes from every
//! process on the database run one after the other: what the writer looked up (an identity, a
//! key, an order number) cannot be changed by another writer before it commits.
//!
//! Round trips are what a write costs here, so the writer caches what it looked up (strings,
//! identities), prepares each statement once, and writes keys and first-seen times in batches at
//! the end. A bulk write (an import) loads the business's identities, keys and the dictionary
//! once instead of looking each up.

use crate::segment::{SEGMENT_ROWS, SegmentBuilder, SegmentRow};
use crate::{Result, StoreError, WriteSummary};
use postgres::types::ToSql;
use postgres::{Statement, Transaction};
use rustc_hash::{FxHashMap, FxHashSet};
use trailmap_model::*;
use xxhash_rust::xxh3::xxh3_128;

/// The `Writer` trait's methods, one per kind of write, in a file of their own.
mod kinds;

/// Up to this many identities of a business are loaded whole by a bulk write.
const PRELOAD_IDENTITIES: i64 = 5_000_000;

/// Up to this many event keys of a business are loaded whole by a bulk write (16 bytes each in
/// memory); beyond, each key is looked up.
const PRELOAD_KEYS: i64 = 20_000_000;

/// Keys, customers and other rows written per statement when written in batches.
const BATCH_ROWS: usize = 50_000;

pub(crate) struct PgWriter<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    statements: FxHashMap<&'static str, Statement>,
    bulk: bool,
    now: i64,
    strings: FxHashMap<Box<str>, u32>,
    /// Whether the whole dictionary is in `strings`.
    strings_loaded: bool,
    /// (business, kind) -> identity value -> (identity id, customer id when cached).
    identities: FxHashMap<(BusinessId, IdentityKind), FxHashMap<Box<str>, (i64, i64)>>,
    /// Customers merged during this write, pointing at the customer they became.
    merged: FxHashMap<i64, i64>,
    /// The keys this write adds, per business; they go into `event_keys` at flush.
    new_keys: FxHashMap<BusinessId, FxHashSet<u128>>,
    /// Every stored key of a business, when a bulk write loaded them.
    stored_keys: FxHashMap<BusinessId, FxHashSet<u128>>,
    /// Businesses with too many keys to load.
    too_many_keys: FxHashSet<BusinessId>,
    segments: FxHashMap<BusinessId, SegmentBuilder>,
    /// The earliest time seen per customer in this write, applied to first_seen at flush.
    first_seen: FxHashMap<i64, i64>,
    preloaded: FxHashSet<BusinessId>,
    too_many_to_preload: FxHashSet<BusinessId>,
    has_erasures: FxHashMap<BusinessId, bool>,
    summary: WriteSummary,
    /// With events kept in another store (ClickHouse, see split.rs): each new event with the
    /// customer it was resolved to, handed over before the commit instead of written to a segment.
    pub(crate) outbox: Option<&'t mut dyn crate::split::HeldEvents>,
    /// Businesses whose data this write changes; their `data_version` goes up at flush.
    touched: FxHashSet<BusinessId>,
    /// The currency of each business this write has checked.
    businesses: FxHashMap<BusinessId, Currency>,
    /// Segments of fewer than [`SEGMENT_ROWS`] rows this write made, per business.
    small_segments: FxHashMap<BusinessId, u64>,
}

impl std::fmt::Debug for PgWriter<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgWriter").field("summary", &self.summary).finish_non_exhaustive()
    }
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(format!("cannot serialise: {e}")))
}

fn hash_key(parts: &[&str]) -> String {
    let joined = parts.join("\u{1f}");
    format!("{:032x}", xxh3_128(joined.as_bytes()))
}

/// A 128-bit event key as the two halves `event_keys` keeps.
pub(crate) fn key_halves(key: u128) -> (i64, i64) {
    ((key >> 64) as u64 as i64, key as u64 as i64)
}

fn key_of(high: i64, low: i64) -> u128 {
    ((high as u64 as u128) << 64) | low as u64 as u128
}

impl<'t, 'c> PgWriter<'t, 'c> {
    pub(crate) fn new(tx: &'t mut Transaction<'c>) -> Self {
        PgWriter {
            tx,
            statements: FxHashMap::default(),
            bulk: false,
            now: chrono::Utc::now().timestamp_millis(),
            strings: FxHashMap::default(),
            strings_loaded: false,
            identities: FxHashMap::default(),
            merged: FxHashMap::default(),
            new_keys: FxHashMap::default(),
            stored_keys: FxHashMap::default(),
            too_many_keys: FxHashSet::default(),
            segments: FxHashMap::default(),
            first_seen: FxHashMap::default(),
            preloaded: FxHashSet::default(),
            too_many_to_preload: FxHashSet::default(),
            has_erasures: FxHashMap::default(),
            summary: WriteSummary::default(),
            outbox: None,
            touched: FxHashSet::default(),
            businesses: FxHashMap::default(),
            small_segments: FxHashMap::default(),
        }
    }

    /// The statement for `sql`, prepared once per write.
    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let statement = self.statement(sql)?;
        Ok(self.tx.execute(&statement, params)?)
    }

    fn query_opt(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<postgres::Row>> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query_opt(&statement, params)?)
    }

    fn query_one(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<postgres::Row> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query_one(&statement, params)?)
    }

    fn query(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<postgres::Row>> {
        let statement = self.statement(sql)?;
        Ok(self.tx.query(&statement, params)?)
    }

    /// An id the database made, as `i64` (every id column is BIGINT).
    fn insert_returning_id(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<i64> {
        Ok(self.query_one(sql, params)?.get(0))
    }

    fn intern(&mut self, text: Option<&str>) -> Result<u32> {
        let Some(text) = text.filter(|t| !t.is_empty()) else {
            return Ok(0);
        };
        if let Some(&id) = self.strings.get(text) {
            return Ok(id);
        }
        if self.bulk && !self.strings_loaded {
            self.strings_loaded = true;
            for row in self.query("SELECT id, value FROM strings", &[])? {
                let id: i64 = row.get(0);
                let value: String = row.get(1);
                self.strings.insert(value.into_boxed_str(), string_id(id)?);
            }
            if let Some(&id) = self.strings.get(text) {
                return Ok(id);
            }
        }
        let found = if self.strings_loaded { None } else { self.query_opt("SELECT id FROM strings WHERE value = $1", &[&text])? };
        let id: i64 = match found {
            Some(row) => row.get(0),
            None => self.insert_returning_id("INSERT INTO strings (value) VALUES ($1) RETURNING id", &[&text])?,
        };
        let id = string_id(id)?;
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

    /// Loads every identity of a business into the cache on its first lookup in a bulk write,
    /// when there are few enough to hold; afterwards a miss means a new identity.
    fn preload_identities(&mut self, business: BusinessId) -> Result<()> {
        if !self.preloaded.insert(business) {
            return Ok(());
        }
        let count: i64 = self.query_one("SELECT count(*) FROM identities WHERE business = $1", &[&business.0])?.get(0);
        if count > PRELOAD_IDENTITIES {
            self.preloaded.remove(&business);
            self.too_many_to_preload.insert(business);
            return Ok(());
        }
        for row in self.query("SELECT kind, value, id, customer FROM identities WHERE business = $1", &[&business.0])? {
            let kind: &str = row.get(0);
            let kind = IdentityKind::parse(kind).ok_or_else(|| StoreError::Corrupt(format!("identity kind {kind:?}")))?;
            let value: String = row.get(1);
            self.identities.entry((business, kind)).or_default().insert(value.into_boxed_str(), (row.get(2), row.get(3)));
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
        let found = self
            .query_opt(
                "SELECT id, customer FROM identities WHERE business = $1 AND kind = $2 AND value = $3",
                &[&business.0, &identity.kind.as_str(), &identity.value.as_str()],
            )?
            .map(|row| (row.get::<_, i64>(0), row.get::<_, i64>(1)));
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
        // A record of a business that does not exist is refused before it reaches a foreign key,
        // whose failure would abort the whole transaction (looked up once per write).
        self.check_business(business)?;
        if identities.is_empty() {
            return Err(StoreError::Invalid("a record names no customer (no id, email or anonymous id)".into()));
        }
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
        // Before anything is written: a new identity that was erased is refused.
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
                    let id = self.insert_returning_id(
                        "INSERT INTO identities (business, kind, value, customer) VALUES ($1, $2, $3, $4) RETURNING id",
                        &[&business.0, &identity.kind.as_str(), &identity.value.as_str(), &target],
                    )?;
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

    /// When `identity` of `business` was erased, if it was.
    fn erased_identity(&mut self, business: BusinessId, identity: &Identity) -> Result<Option<Timestamp>> {
        let has = match self.has_erasures.get(&business) {
            Some(&has) => has,
            None => {
                let has: bool = self.query_one("SELECT EXISTS (SELECT 1 FROM erasures WHERE business = $1)", &[&business.0])?.get(0);
                self.has_erasures.insert(business, has);
                has
            }
        };
        if !has {
            return Ok(None);
        }
        let hash = crate::identity_hash(identity.kind, &identity.value);
        Ok(self
            .query_opt(
                "SELECT e.erased_at FROM erased_identities t JOIN erasures e ON e.id = t.erasure WHERE t.business = $1 AND t.hash = $2",
                &[&business.0, &hash],
            )?
            .map(|row| Timestamp(row.get(0))))
    }

    fn create_customer(&mut self, business: BusinessId, identities: &[&Identity], time: i64) -> Result<i64> {
        let pick = |kind| identities.iter().find(|i| i.kind == kind).map(|i| i.value.as_str());
        let (external, email) = (pick(IdentityKind::External), pick(IdentityKind::Email));
        let id = self.insert_returning_id(
            "INSERT INTO customers (business, external_id, email, first_seen) VALUES ($1, $2, $3, $4) RETURNING id",
            &[&business.0, &external, &email, &time],
        )?;
        self.summary.customers_added += 1;
        Ok(id)
    }

    /// Gives a customer an external id or email it lacked, when a new identity brings one.
    fn fill_customer_ids(&mut self, customer: i64, identity: &Identity) -> Result<()> {
        let sql = match identity.kind {
            IdentityKind::External => "UPDATE customers SET external_id = $2 WHERE id = $1 AND external_id IS NULL",
            IdentityKind::Email => "UPDATE customers SET email = $2 WHERE id = $1 AND email IS NULL",
            IdentityKind::Anonymous => return Ok(()),
        };
        self.execute(sql, &[&customer, &identity.value.as_str()])?;
        Ok(())
    }

    /// Folds customer `other` into `target`: its identities, orders, answers and feedback move,
    /// and its row stays behind pointing at `target`.
    fn merge(&mut self, target: i64, other: i64) -> Result<()> {
        for sql in [
            "UPDATE identities SET customer = $1 WHERE customer = $2",
            "UPDATE orders SET customer = $1 WHERE customer = $2",
            "UPDATE survey_responses SET customer = $1 WHERE customer = $2",
            "UPDATE feedback SET customer = $1 WHERE customer = $2",
            "UPDATE customers SET merged_into = $1 WHERE merged_into = $2",
            "UPDATE customers t SET
                external_id = coalesce(t.external_id, o.external_id),
                email = coalesce(t.email, o.email),
                name = coalesce(t.name, o.name),
                first_seen = least(t.first_seen, o.first_seen)
             FROM customers o WHERE t.id = $1 AND o.id = $2",
            "UPDATE customers SET merged_into = $1 WHERE id = $2",
        ] {
            self.execute(sql, &[&target, &other])?;
        }
        // Cached identities of `other` resolve through `merged`; the pairs themselves stay.
        self.merged.insert(other, target);
        if let Some(t) = self.first_seen.remove(&other) {
            self.note_time(target, t);
        }
        self.summary.customers_merged += 1;
        Ok(())
    }

    /// Whether `key` is new to the business, counting this write's own events; records it if so.
    fn claim_key(&mut self, business: BusinessId, key: u128) -> Result<bool> {
        if self.new_keys.get(&business).is_some_and(|keys| keys.contains(&key)) {
            return Ok(false);
        }
        if self.bulk && !self.stored_keys.contains_key(&business) && !self.too_many_keys.contains(&business) {
            self.load_keys(business)?;
        }
        let stored = match self.stored_keys.get(&business) {
            Some(keys) => keys.contains(&key),
            None => {
                let (high, low) = key_halves(key);
                self.query_opt("SELECT 1 FROM event_keys WHERE business = $1 AND key_high = $2 AND key_low = $3", &[&business.0, &high, &low])?
                    .is_some()
            }
        };
        if stored {
            return Ok(false);
        }
        self.new_keys.entry(business).or_default().insert(key);
        Ok(true)
    }

    /// Loads every stored key of the business, when there are few enough to hold.
    fn load_keys(&mut self, business: BusinessId) -> Result<()> {
        let count: i64 = self.query_one("SELECT count(*) FROM event_keys WHERE business = $1", &[&business.0])?.get(0);
        if count > PRELOAD_KEYS {
            self.too_many_keys.insert(business);
            return Ok(());
        }
        let mut keys = FxHashSet::default();
        keys.reserve(usize::try_from(count).unwrap_or(0));
        let statement = self.statement("SELECT key_high, key_low FROM event_keys WHERE business = $1")?;
        let mut rows = self.tx.query_raw(&statement, [&business.0])?;
        while let Some(row) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)? {
            keys.insert(key_of(row.get(0), row.get(1)));
        }
        self.stored_keys.insert(business, keys);
        Ok(())
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
            properties: if event.properties.is_empty() { String::new() } else { json(&event.properties)? },
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
        let rows = builder.len() as i64;
        if builder.len() < SEGMENT_ROWS {
            *self.small_segments.entry(business).or_default() += 1;
        }
        let (min, max) = builder.min_max_time();
        let (columns, keys) = builder.finish();
        self.execute(
            "INSERT INTO event_segments (business, rows, min_time, max_time, columns, keys) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&business.0, &rows, &min, &max, &columns, &keys],
        )?;
        Ok(())
    }

    /// Writes what the caches still hold: partial segments, the new keys, first-seen times, and
    /// the data versions of the businesses this write changed.
    pub(crate) fn flush(&mut self) -> Result<()> {
        let mut businesses: Vec<BusinessId> = self.segments.keys().copied().collect();
        businesses.sort();
        for business in businesses {
            self.flush_segment(business)?;
        }
        let mut new_keys: Vec<(BusinessId, FxHashSet<u128>)> = self.new_keys.drain().collect();
        new_keys.sort_by_key(|(b, _)| *b);
        for (business, keys) in new_keys {
            let mut keys: Vec<u128> = keys.into_iter().collect();
            keys.sort_unstable();
            for chunk in keys.chunks(BATCH_ROWS) {
                let (high, low): (Vec<i64>, Vec<i64>) = chunk.iter().map(|&k| key_halves(k)).unzip();
                self.execute(
                    "INSERT INTO event_keys (business, key_high, key_low) SELECT $1, h, l FROM unnest($2::bigint[], $3::bigint[]) AS k(h, l)",
                    &[&business.0, &high, &low],
                )?;
            }
        }
        let mut first_seen: Vec<(i64, i64)> = self.first_seen.drain().collect();
        first_seen.sort_unstable();
        for chunk in first_seen.chunks(BATCH_ROWS) {
            let (ids, times): (Vec<i64>, Vec<i64>) = chunk.iter().copied().unzip();
            self.execute(
                "UPDATE customers c SET first_seen = least(c.first_seen, u.t) FROM unnest($1::bigint[], $2::bigint[]) AS u(id, t)
                 WHERE c.id = u.id AND u.t < c.first_seen",
                &[&ids, &times],
            )?;
        }
        let mut touched: Vec<i64> = self.touched.drain().map(|b| b.0).collect();
        touched.sort_unstable();
        if !touched.is_empty() {
            self.execute("UPDATE businesses SET data_version = data_version + 1 WHERE id = ANY($1)", &[&touched])?;
        }
        Ok(())
    }

    pub(crate) fn summary_now(&self) -> WriteSummary {
        self.summary
    }

    /// The small segments this write made, per business: what merging has to come back for.
    pub(crate) fn take_small_segments(&mut self) -> FxHashMap<BusinessId, u64> {
        std::mem::take(&mut self.small_segments)
    }

    /// The stored order of this number and origin.
    fn stored_order(&mut self, business: BusinessId, origin: &str, number: &str) -> Result<Option<StoredOrder>> {
        Ok(self
            .query_opt(
                "SELECT customer, time, total, currency FROM orders WHERE business = $1 AND origin = $2 AND external_id = $3",
                &[&business.0, &origin, &number],
            )?
            .map(|r| StoredOrder { customer: r.get(0), time: r.get(1), total: r.get(2), currency: r.get(3) }))
    }

    /// What differs between a stored order and an incoming one of the same number (see the SQLite
    /// writer): the customer, the total, the time. Looks identities up without creating any.
    fn order_differences(&mut self, business: BusinessId, stored: &StoredOrder, o: &IncomingOrder, identities: &[&Identity]) -> Result<Vec<String>> {
        let mut differences = Vec::new();
        let mut same_customer = false;
        for identity in identities {
            if self.lookup_identity(business, identity)?.is_some_and(|(_, customer)| customer == stored.customer) {
                same_customer = true;
                break;
            }
        }
        if !same_customer {
            let row = self.query_one("SELECT email, external_id FROM customers WHERE id = $1", &[&stored.customer])?;
            let (email, external): (Option<String>, Option<String>) = (row.get(0), row.get(1));
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

    /// Refuses a persona name another persona of the business has (ignoring case).
    fn check_persona_name(&mut self, business: BusinessId, id: Option<PersonaId>, name: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a persona needs a name".into()));
        }
        let taken = self.query_opt(
            "SELECT id FROM personas WHERE business = $1 AND id != $2 AND lower(trim(doc::jsonb->>'name')) = lower($3) LIMIT 1",
            &[&business.0, &id.map_or(0, |p| p.0), &name],
        )?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("a persona named {name:?} already exists")));
        }
        Ok(())
    }

    /// Refuses a touchpoint name another touchpoint of the business has, before the insert: a
    /// refused insert would still use up an id, where SQLite's does not.
    fn check_touchpoint_name(&mut self, t: &Touchpoint) -> Result<()> {
        if self.query_opt("SELECT 1 FROM touchpoints WHERE business = $1 AND name = $2 AND id != $3", &[&t.business.0, &t.name, &t.id.0])?.is_some() {
            return Err(StoreError::Conflict(format!("a touchpoint named {:?} already exists", t.name)));
        }
        Ok(())
    }

    /// The business's currency; `NotFound` when there is no such business. Looked up once per
    /// write: a business is never deleted, and every record of an import would otherwise pay a
    /// round trip for it.
    fn check_business(&mut self, business: BusinessId) -> Result<Currency> {
        if let Some(&currency) = self.businesses.get(&business) {
            self.touched.insert(business);
            return Ok(currency);
        }
        let currency: Option<String> = self.query_opt("SELECT currency FROM businesses WHERE id = $1", &[&business.0])?.map(|r| r.get(0));
        let currency = crate::rows::currency(&currency.ok_or(StoreError::NotFound { what: "business", id: business.0 })?)?;
        self.businesses.insert(business, currency);
        self.touched.insert(business);
        Ok(currency)
    }
}

fn string_id(id: i64) -> Result<u32> {
    u32::try_from(id).map_err(|_| StoreError::Invalid("more than 4 billion distinct strings".into()))
}

/// An order as stored, for the comparison with an incoming order of the same number.
#[derive(Debug)]
struct StoredOrder {
    customer: i64,
    time: i64,
    total: i64,
    currency: String,
}
