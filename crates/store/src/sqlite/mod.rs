//! The embedded store: one SQLite file in WAL mode. Reads are plain queries; documents (personas,
//! maps, surveys) are JSON of the model's types; events are columnar segments (see segment.rs).

mod accounts;
mod batch;
mod comments;
mod compact;
mod dedup;
mod delivery;
mod erase;
mod maps;
mod merge;
mod retention;
mod schema;
mod settings;
mod surveys;
mod writer;

pub use batch::{StatementCounter, StatementLog};
pub use compact::COMPACT_CHUNK_ROWS;
pub use schema::MIGRATIONS;
// Shared with the PostgreSQL store, which copies segment rows the same way.


use crate::*;
use crate::segment;
use crate::rows::{BusinessRow, CustomerRow, currency, date, parse_json, to_business, to_customer};
use self::writer::{IndexedBusinesses, SqliteWriter};
use crate::{BusinessSummary, EventsAfter, MapVersion, Result, Store, StoreError, WriteFn, WriteSummary};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use std::path::{Path, PathBuf};
use trailmap_model::*;

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Database(error.to_string())
    }
}

#[derive(Debug)]
pub struct SqliteStore {
    pub(crate) conn: Connection,
    path: PathBuf,
    /// Businesses whose event key index is built (see dedup.rs); no key itself is held.
    pub(crate) indexed: IndexedBusinesses,
    /// Small segments (under `SEGMENT_ROWS` rows) this connection's writes made per business since
    /// merging last found nothing to merge there (see merge.rs).
    pub(crate) unmerged: rustc_hash::FxHashMap<BusinessId, u64>,
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file (and its folder) when missing and bringing its
    /// schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let open_error = |reason: String| StoreError::Open { path: path.display().to_string(), reason };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| open_error(e.to_string()))?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_error(e.to_string()))?;
        let mut store = SqliteStore { conn, path: path.to_path_buf(), indexed: IndexedBusinesses::default(), unmerged: Default::default() };
        store.configure().map_err(|e| open_error(e.to_string()))?;
        store.migrate()?;
        Ok(store)
    }

    /// A store in memory, for tests.
    pub fn in_memory() -> Result<SqliteStore> {
        let conn = Connection::open_in_memory()?;
        let mut store = SqliteStore { conn, path: PathBuf::from(":memory:"), indexed: IndexedBusinesses::default(), unmerged: Default::default() };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn configure(&self) -> rusqlite::Result<()> {
        // The busy timeout comes first: switching to WAL and every later statement may meet a
        // lock held by the writer (another connection), and must wait for it, not fail.
        self.conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // A new file gives freed pages back as they are freed (retention, erasures, compaction);
        // the mode can only be chosen before the first table (see retention.rs for older files).
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        if pages == 0 {
            self.conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")?;
        }
        // WAL lets readers run beside the one writer; FULL makes every commit durable before it
        // returns, which is what "acknowledged" means for us.
        let mode: String = self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if mode != "wal" && mode != "memory" {
            return Err(rusqlite::Error::InvalidParameterName(format!("journal mode {mode}, expected wal")));
        }
        self.conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;
             PRAGMA cache_size = -262144;
             PRAGMA temp_store = MEMORY;",
        )
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew { path: self.path.display().to_string(), found: version, known });
        }
        if version == known {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        for migration in &MIGRATIONS[version as usize..] {
            tx.execute_batch(migration)?;
        }
        tx.pragma_update(None, "user_version", known)?;
        tx.commit()?;
        Ok(())
    }

    /// Sets the page cache for the writes that follow, in MiB. A transaction larger than the cache
    /// spills pages into the WAL again and again; a big write (the demo at a million customers,
    /// a multi-gigabyte import) runs several times faster when its pages fit. SQLite takes the
    /// memory only as pages are used.
    /// The default is 256 MiB.
    pub fn set_cache_mib(&self, mib: u64) -> Result<()> {
        let kib = i64::try_from(mib.max(16) * 1024).unwrap_or(i64::MAX);
        self.conn.execute_batch(&format!("PRAGMA cache_size = -{kib};"))?;
        Ok(())
    }

    /// The schema version this store is at.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn docs<T: serde::de::DeserializeOwned>(&self, sql: &str, business: i64, what: &'static str) -> Result<Vec<(i64, T)>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([business], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|row| {
            let (id, doc) = row?;
            let value = serde_json::from_str(&doc)
                .map_err(|e| StoreError::Corrupt(format!("{what} {id}: {e}")))?;
            Ok((id, value))
        })
        .collect()
    }
}

/// The columns of a business, in the order [`business_row`] reads them.
pub(crate) const BUSINESS_COLUMNS: &str = "id, name, currency, timezone, decimal_mark";

fn business_row(r: &Row<'_>) -> rusqlite::Result<BusinessRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

pub(crate) fn customer_row(r: &Row<'_>) -> rusqlite::Result<(i64, i64, Option<String>, Option<String>, Option<String>, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
}

fn write_key_row(r: &Row<'_>) -> rusqlite::Result<crate::WriteKey> {
    Ok(crate::WriteKey {
        id: r.get(0)?,
        business: BusinessId(r.get(1)?),
        name: r.get(2)?,
        key_hash: r.get(3)?,
        created_at: Timestamp(r.get(4)?),
        last_used: r.get::<_, Option<i64>>(5)?.map(Timestamp),
        revoked_at: r.get::<_, Option<i64>>(6)?.map(Timestamp),
    })
}

const WRITE_KEY_COLUMNS: &str = "id, business, name, key_hash, created_at, last_used, revoked_at";

pub(crate) const CUSTOMER_COLUMNS: &str = "id, business, external_id, email, name, first_seen, properties";

impl SqliteStore {
    /// [`Store::write`], the new events going to `sink` (when given) instead of segments: in
    /// chunks as the write goes on and the rest before the commit; an error from the sink rolls
    /// the whole write back, and a rollback takes back what was sent (see split.rs).
    pub(crate) fn write_events_to<E: From<StoreError>>(
        &mut self,
        f: &mut WriteFn<'_, E>,
        sink: Option<Box<dyn crate::split::EventSink + '_>>,
    ) -> std::result::Result<WriteSummary, E> {
        let write = sink.as_ref().map(|_| crate::split::new_write_id());
        if let Some(write) = write {
            crate::split::PendingWrites::list_pending_write(self, write)?;
        }
        let SqliteStore { conn, indexed, .. } = self;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(StoreError::from)?;
        if let Some(write) = write {
            // Gone when this write commits, so a row that stays names a write that did not.
            tx.execute("DELETE FROM clickhouse_pending_writes WHERE write_id = ?1", [write]).map_err(StoreError::from)?;
        }
        let mut outbox = sink.zip(write).map(|(sink, write)| crate::split::EventOutbox::new(sink, write));
        let done = {
            let mut writer = SqliteWriter::new(&tx, indexed);
            writer.outbox = outbox.as_mut().map(|o| o as &mut dyn crate::split::HeldEvents);
            f(&mut writer).and_then(|()| {
                writer.flush()?;
                Ok((writer.summary_now(), writer.take_indexed_now(), writer.take_small_segments()))
            })
        };
        let (finished, settled) = crate::split::finish_write(done, outbox, || Ok(tx.commit()?));
        if let Some(write) = settled {
            // Nothing of the rolled-back write stays in ClickHouse: it need not be recovered.
            crate::split::PendingWrites::forget_pending_write(self, write)?;
        }
        let (summary, indexed_now, small) = finished?;
        let SqliteStore { indexed, unmerged, .. } = self;
        // Only now are the indexes this write built known to be there (a rollback undoes them).
        indexed.extend(indexed_now);
        for (business, n) in small {
            *unmerged.entry(business).or_default() += n;
        }
        Ok(summary)
    }
}

impl crate::split::PendingWrites for SqliteStore {
    fn list_pending_write(&mut self, write: i64) -> Result<()> {
        let now = chrono::Utc::now().timestamp_millis();
        self.conn.execute("INSERT INTO clickhouse_pending_writes (write_id, started_at) VALUES (?1, ?2)", [write, now])?;
        Ok(())
    }

    fn forget_pending_write(&mut self, write: i64) -> Result<()> {
        self.conn.execute("DELETE FROM clickhouse_pending_writes WHERE write_id = ?1", [write])?;
        Ok(())
    }

    fn recover_pending_writes(&mut self, delete: &mut dyn FnMut(&[i64]) -> Result<()>) -> Result<usize> {
        let listed: i64 = self.conn.query_row("SELECT count(*) FROM clickhouse_pending_writes", [], |row| row.get(0))?;
        if listed == 0 {
            return Ok(0);
        }
        // Immediate: no other write is in flight while this one runs, nor starts before it ends.
        // Tried without waiting: a write in flight (an import) may hold the lock for minutes,
        // and opening a store must not wait for it; the next opening recovers instead.
        self.conn.busy_timeout(std::time::Duration::ZERO)?;
        let began = self.conn.execute_batch("BEGIN IMMEDIATE");
        self.conn.busy_timeout(std::time::Duration::from_secs(5))?;
        match began {
            Ok(()) => {}
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => return Ok(0),
            Err(e) => return Err(e.into()),
        }
        let recovered = (|| -> Result<usize> {
            let writes: Vec<i64> = self.conn.prepare("SELECT write_id FROM clickhouse_pending_writes ORDER BY write_id")?.query_map([], |row| row.get(0))?.collect::<rusqlite::Result<_>>()?;
            delete(&writes)?;
            self.conn.execute("DELETE FROM clickhouse_pending_writes", [])?;
            Ok(writes.len())
        })();
        match recovered {
            Ok(n) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(n)
            }
            Err(error) => {
                // The error is the caller's; a failed rollback leaves nothing the next BEGIN needs.
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(error)
            }
        }
    }
}

impl Store for SqliteStore {
    fn write<E: From<StoreError>>(&mut self, f: &mut WriteFn<'_, E>) -> std::result::Result<WriteSummary, E> {
        self.write_events_to(f, None)
    }

    fn begin_snapshot(&self) -> Result<crate::Snapshot<'_>> {
        if !self.conn.is_autocommit() {
            return Ok(crate::Snapshot::none());
        }
        // Deferred: the snapshot is taken by the first read. Dropping it ends the read.
        Ok(crate::Snapshot::holding(self.conn.unchecked_transaction()?))
    }

    fn businesses(&self) -> Result<Vec<Business>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {BUSINESS_COLUMNS} FROM businesses ORDER BY id"))?;
        let rows: Vec<_> = stmt.query_map([], business_row)?.collect::<rusqlite::Result<_>>()?;
        rows.into_iter().map(to_business).collect()
    }

    fn business_by_name(&self, name: &str) -> Result<Option<Business>> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {BUSINESS_COLUMNS} FROM businesses WHERE name = ?1 COLLATE NOCASE"),
                [name],
                business_row,
            )
            .optional()?;
        row.map(to_business).transpose()
    }

    fn data_version(&self, business: BusinessId) -> Result<i64> {
        self.conn
            .prepare_cached("SELECT data_version FROM businesses WHERE id = ?1")?
            .query_row([business.0], |r| r.get(0))
            .optional()?
            .ok_or(StoreError::NotFound { what: "business", id: business.0 })
    }

    fn business(&self, id: BusinessId) -> Result<Business> {
        let row = self
            .conn
            .query_row(&format!("SELECT {BUSINESS_COLUMNS} FROM businesses WHERE id = ?1"), [id.0], business_row)
            .optional()?
            .ok_or(StoreError::NotFound { what: "business", id: id.0 })?;
        to_business(row)
    }

    fn summary(&self, business: BusinessId) -> Result<BusinessSummary> {
        let b = self.business(business)?;
        let count = |sql: &str| -> Result<u64> {
            Ok(self.conn.query_row(sql, [business.0], |r| r.get::<_, i64>(0))? as u64)
        };
        let (first, last): (Option<i64>, Option<i64>) = self.conn.query_row(
            "SELECT min(min_time), max(max_time) FROM event_segments WHERE business = ?1",
            [business.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let revenue_minor: i64 = self.conn.query_row(
            "SELECT coalesce(sum(total), 0) FROM orders WHERE business = ?1 AND currency = ?2",
            params![business.0, b.currency.as_str()],
            |r| r.get(0),
        )?;
        let spend_minor: i64 = self.conn.query_row(
            "SELECT coalesce(sum(amount), 0) FROM spend WHERE business = ?1 AND currency = ?2",
            params![business.0, b.currency.as_str()],
            |r| r.get(0),
        )?;
        let scale = b.currency.minor_per_major() as f64;
        Ok(BusinessSummary {
            business: b.name.clone(),
            customers: count("SELECT count(*) FROM customers WHERE business = ?1 AND merged_into IS NULL")?,
            identities: count("SELECT count(*) FROM identities WHERE business = ?1")?,
            events: count("SELECT coalesce(sum(rows), 0) FROM event_segments WHERE business = ?1")?,
            first_event: first.map(|t| Timestamp(t).to_rfc3339()),
            last_event: last.map(|t| Timestamp(t).to_rfc3339()),
            orders: count("SELECT count(*) FROM orders WHERE business = ?1")?,
            revenue: revenue_minor as f64 / scale,
            currency: b.currency.to_string(),
            stages: count("SELECT count(*) FROM stages WHERE business = ?1")?,
            touchpoints: count("SELECT count(*) FROM touchpoints WHERE business = ?1")?,
            personas: count("SELECT count(*) FROM personas WHERE business = ?1")?,
            maps: count("SELECT count(*) FROM journey_maps WHERE business = ?1")?,
            surveys: count("SELECT count(*) FROM surveys WHERE business = ?1")?,
            responses: count("SELECT count(*) FROM survey_responses WHERE business = ?1")?,
            feedback: count("SELECT count(*) FROM feedback WHERE business = ?1")?,
            changes: count("SELECT count(*) FROM changes WHERE business = ?1")?,
            spend_rows: count("SELECT count(*) FROM spend WHERE business = ?1")?,
            spend: spend_minor as f64 / scale,
        })
    }

    fn stages(&self, business: BusinessId) -> Result<Vec<Stage>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, position, description FROM stages WHERE business = ?1 ORDER BY position, id",
        )?;
        let rows = stmt.query_map([business.0], |r| {
            Ok(Stage {
                id: StageId(r.get(0)?),
                business,
                name: r.get(1)?,
                position: r.get(2)?,
                description: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn touchpoints(&self, business: BusinessId) -> Result<Vec<Touchpoint>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, channel, stage, online, rule, description FROM touchpoints WHERE business = ?1 ORDER BY position, id",
        )?;
        let rows: Vec<(i64, String, String, Option<i64>, bool, String, String)> = stmt
            .query_map([business.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, name, channel, stage, online, rule, description)| {
                Ok(Touchpoint {
                    id: TouchpointId(id),
                    business,
                    name,
                    channel: parse_json(&format!("\"{channel}\""), "touchpoint channel")?,
                    stage: stage.map(StageId),
                    online,
                    rule: parse_json(&rule, "touchpoint rule")?,
                    description,
                })
            })
            .collect()
    }

    fn dismissed_touchpoint_suggestions(&self, business: BusinessId) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT key FROM dismissed_touchpoint_suggestions WHERE business = ?1 ORDER BY key")?;
        let keys = stmt.query_map([business.0], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(keys)
    }

    fn personas(&self, business: BusinessId) -> Result<Vec<Persona>> {
        let docs: Vec<(i64, Persona)> =
            self.docs("SELECT id, doc FROM personas WHERE business = ?1 ORDER BY id", business.0, "persona")?;
        Ok(docs.into_iter().map(|(id, p)| Persona { id: PersonaId(id), business, ..p }).collect())
    }

    fn maps(&self, business: BusinessId) -> Result<Vec<JourneyMap>> {
        let docs: Vec<(i64, JourneyMap)> = self.docs(
            "SELECT m.id, v.doc FROM journey_maps m JOIN map_versions v ON v.map = m.id
             WHERE m.business = ?1 AND v.version = (SELECT max(version) FROM map_versions WHERE map = m.id)
             ORDER BY m.id",
            business.0,
            "journey map",
        )?;
        Ok(docs.into_iter().map(|(id, m)| JourneyMap { id: MapId(id), business, ..m }).collect())
    }

    fn map_versions(&self, map: MapId) -> Result<Vec<MapVersion>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.version, v.author, v.created_at, v.doc, m.business FROM map_versions v
             JOIN journey_maps m ON m.id = v.map WHERE v.map = ?1 ORDER BY v.version",
        )?;
        let rows: Vec<(u32, String, i64, String, i64)> = stmt
            .query_map([map.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(version, author, at, doc, business)| {
                let m: JourneyMap = parse_json(&doc, "journey map")?;
                Ok(MapVersion {
                    version,
                    author,
                    created_at: Timestamp(at),
                    map: JourneyMap { id: map, business: BusinessId(business), ..m },
                })
            })
            .collect()
    }

    fn surveys(&self, business: BusinessId) -> Result<Vec<Survey>> {
        let docs: Vec<(i64, Survey)> =
            self.docs("SELECT id, doc FROM surveys WHERE business = ?1 ORDER BY id", business.0, "survey")?;
        Ok(docs.into_iter().map(|(id, s)| Survey { id: SurveyId(id), business, ..s }).collect())
    }

    fn responses(&self, survey: SurveyId) -> Result<Vec<SurveyResponse>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, customer, submitted_at, hidden, answers FROM survey_responses WHERE survey = ?1 ORDER BY id",
        )?;
        let rows: Vec<(i64, Option<i64>, i64, String, String)> = stmt
            .query_map([survey.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, customer, at, hidden, answers)| {
                Ok(SurveyResponse {
                    id: ResponseId(id),
                    survey,
                    customer: customer.map(CustomerId),
                    submitted_at: Timestamp(at),
                    hidden: parse_json(&hidden, "response hidden fields")?,
                    answers: parse_json(&answers, "response answers")?,
                })
            })
            .collect()
    }

    fn feedback(&self, business: BusinessId) -> Result<Vec<Feedback>> {
        self.feedback_after(business, 0)
    }

    fn changes(&self, business: BusinessId) -> Result<Vec<Change>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, title, description, date, touchpoints, stages, kpi, owner, metric, answers FROM changes WHERE business = ?1 ORDER BY date, id",
        )?;
        type ChangeRow =
            (i64, String, String, String, String, String, Option<String>, Option<String>, Option<String>, Option<String>);
        let rows: Vec<ChangeRow> = stmt
            .query_map([business.0], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, title, description, day, touchpoints, stages, kpi, owner, metric, answers)| {
                Ok(Change {
                    id: ChangeId(id),
                    business,
                    title,
                    description,
                    date: date(&day)?,
                    touchpoints: parse_json(&touchpoints, "change touchpoints")?,
                    stages: parse_json(&stages, "change stages")?,
                    kpi,
                    owner,
                    metric: metric.map(|m| parse_json(&m, "change metric")).transpose()?,
                    answers: answers.map(|a| parse_json(&a, "change answers")).transpose()?,
                })
            })
            .collect()
    }

    fn spend(&self, business: BusinessId) -> Result<Vec<Spend>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, channel, source, campaign, start, end, currency, amount FROM spend WHERE business = ?1 ORDER BY start, channel, id",
        )?;
        type SpendRow = (i64, String, Option<String>, Option<String>, String, String, String, i64);
        let rows: Vec<SpendRow> = stmt
            .query_map([business.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, channel, source, campaign, start, end, cur, amount)| {
                Ok(Spend {
                    id: SpendId(id),
                    business,
                    channel,
                    source,
                    campaign,
                    start: date(&start)?,
                    end: date(&end)?,
                    amount: Money::new(amount, currency(&cur)?),
                })
            })
            .collect()
    }

    fn customers(&self, business: BusinessId, limit: usize, offset: usize) -> Result<Vec<Customer>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE business = ?1 AND merged_into IS NULL ORDER BY id LIMIT ?2 OFFSET ?3"
        ))?;
        let rows: Vec<CustomerRow> = stmt
            .query_map(params![business.0, i64::try_from(limit).unwrap_or(i64::MAX), i64::try_from(offset).unwrap_or(i64::MAX)], customer_row)?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter().map(to_customer).collect()
    }

    fn customer(&self, id: CustomerId) -> Result<Customer> {
        // A merged customer's id still finds the person it became.
        let mut current = id.0;
        for _ in 0..64 {
            let next: Option<Option<i64>> = self
                .conn
                .query_row("SELECT merged_into FROM customers WHERE id = ?1", [current], |r| r.get(0))
                .optional()?;
            match next {
                None => return Err(StoreError::NotFound { what: "customer", id: id.0 }),
                Some(Some(target)) => current = target,
                Some(None) => break,
            }
        }
        let row = self.conn.query_row(
            &format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?1"),
            [current],
            customer_row,
        )?;
        to_customer(row)
    }

    fn orders(&self, business: BusinessId) -> Result<Vec<Order>> {
        self.orders_after(business, 0)
    }

    fn write_key_by_hash(&self, key_hash: &str) -> Result<Option<crate::WriteKey>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {WRITE_KEY_COLUMNS} FROM write_keys WHERE key_hash = ?1"))?
            .query_row([key_hash], write_key_row)
            .optional()?)
    }

    fn write_keys(&self, business: BusinessId) -> Result<Vec<crate::WriteKey>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {WRITE_KEY_COLUMNS} FROM write_keys WHERE business = ?1 ORDER BY id"))?;
        let rows = stmt.query_map([business.0], write_key_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn tracking_drops(&self, business: BusinessId) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT reason, count FROM tracking_drops WHERE business = ?1 ORDER BY count DESC, reason")?;
        let rows = stmt.query_map([business.0], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn load_events(&self, business: BusinessId, columns: EventColumns) -> Result<EventTable> {
        self.load_selected_events(business, columns.into())
    }
}

impl SqliteStore {

    /// The load behind both: in one read transaction, with a small page cache.
    fn load(&self, business: BusinessId, selection: EventSelection, keep: Option<&dyn Fn(&str) -> bool>) -> Result<EventTable> {
        self.load_in(business, selection, keep, None)
    }

    fn load_in(&self, business: BusinessId, selection: EventSelection, keep: Option<&dyn Fn(&str) -> bool>, after: Option<&EventsAfter<'_>>) -> Result<EventTable> {
        // The page cache (256 MiB for writes) would otherwise keep every page read here, the
        // identities and the segments' unselected columns included: about as many bytes again as
        // the loaded columns. The load reads each page once, so it runs with a small cache and
        // the setting is restored after, also on an error.
        let cache_size: i64 = self.conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        self.conn.execute_batch("PRAGMA cache_size = -4096")?;
        // One read transaction, so the strings, identities and segments all come from the same
        // snapshot: without it, a write committed between reading the identities and reading the
        // segments (a tracking batch naming a new visitor) shows a segment whose identity was not
        // loaded. Dropping it ends the read; nothing was written. Inside a snapshot the caller
        // opened, that one serves.
        let loaded = self.snapshot(|store| store.load_with_small_cache(business, selection, keep, after));
        self.conn.execute_batch(&format!("PRAGMA cache_size = {cache_size}"))?;
        loaded
    }

    fn load_with_small_cache(
        &self,
        business: BusinessId,
        selection: EventSelection,
        keep: Option<&dyn Fn(&str) -> bool>,
        after: Option<&EventsAfter<'_>>,
    ) -> Result<EventTable> {
        let after_segment = after.map_or(0, |a| a.segment);
        let strings_known = after.map_or(0, |a| a.strings);
        // Without a mark, the whole dictionary from "" (id 0); after one, the entries from the
        // first the reader lacks.
        let mut table = EventTable::default();
        let first = if after.is_some() { strings_known } else { 0 };
        if first == 0 {
            table.strings.push("".into());
        }
        {
            let mut stmt = self.conn.prepare_cached("SELECT id, value FROM strings WHERE id >= ?1 ORDER BY id")?;
            let mut rows = stmt.query([i64::try_from(first.max(1)).unwrap_or(i64::MAX)])?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                let value: String = row.get(1)?;
                // Ids are dense from 1 in practice; fill any hole so indexing stays direct.
                while ((first + table.strings.len()) as i64) < id {
                    table.strings.push("".into());
                }
                table.strings.push(value.into_boxed_str());
            }
        }
        let customer_of = match after {
            Some(after) => after.customer_of.to_vec(),
            None => customers_of_identities(&self.conn, business)?,
        };
        let total: i64 = self.conn.query_row(
            "SELECT coalesce(sum(rows), 0) FROM event_segments WHERE business = ?1 AND id > ?2",
            [business.0, after_segment],
            |r| r.get(0),
        )?;
        let total = usize::try_from(total).map_err(|_| StoreError::Corrupt(format!("{total} events")))?;
        let customers = CustomerIndex::new(customer_of)?;
        // Every selected column at its final size before any row is read (zeroed memory that the
        // system only provides as rows are written), so the decoders write each segment's rows
        // straight into their place, at once. Columns not selected stay empty.
        let mut customer_rows = vec![0u32; total];
        table.time = vec![0; total];
        for (column, wanted) in table.columns_mut().texts.into_iter().zip(selection.texts()) {
            if wanted {
                *column = vec![0; total];
            }
        }
        if selection.revenue {
            table.revenue_minor = vec![0; total];
        }
        if selection.properties {
            table.properties = Some(vec![None; total]);
        }
        // Which names are kept, by string id.
        let kept_names: Option<Vec<bool>> = keep.map(|keep| table.strings.iter().enumerate().map(|(id, s)| id != 0 && keep(s)).collect());
        let written = self.scan_segments((business, after_segment), selection, kept_names.as_deref(), &customers, &mut table, &mut customer_rows)?;
        if kept_names.is_none() && written != total {
            return Err(StoreError::Corrupt(format!("the event segments hold {written} rows, not the {total} their counts add up to")));
        }
        // With a name filter fewer rows than reserved were kept: the columns end there. Their
        // capacity beyond was never written, so it holds no memory.
        customer_rows.truncate(written);
        let columns = table.columns_mut();
        for column in columns.numbers {
            column.truncate(written);
        }
        for column in columns.texts {
            column.truncate(written);
        }
        if let Some(properties) = columns.properties {
            properties.truncate(written);
        }
        if let Some(after) = after {
            self.skip_rows_merged_across(business, after, keep.is_some(), &mut table, &mut customer_rows)?;
        }
        table.customer = customers.column(customer_rows)?;
        let strings = (strings_known + table.strings.len()) as u32;
        for column in table.columns_mut().texts {
            if column.iter().any(|&s| s >= strings) {
                return Err(StoreError::Corrupt("an event refers to a missing string".into()));
            }
        }
        Ok(table)
    }

    /// Leaves out the first rows of a load after `after.segment` that the reader holds already: a
    /// merge of small segments across its mark moved them into the first segment after it (see
    /// merge.rs), still in their place in the business's order.
    fn skip_rows_merged_across(
        &self,
        business: BusinessId,
        after: &EventsAfter<'_>,
        filtered: bool,
        table: &mut EventTable,
        customer_rows: &mut Vec<u32>,
    ) -> Result<()> {
        let up_to: i64 = self
            .conn
            .prepare_cached("SELECT coalesce(sum(rows), 0) FROM event_segments WHERE business = ?1 AND id <= ?2")?
            .query_row([business.0, after.segment], |r| r.get(0))?;
        let skip = usize::try_from(after.rows - up_to).unwrap_or(0);
        if skip == 0 {
            return Ok(());
        }
        if filtered || skip > table.len() {
            return Err(StoreError::Corrupt(format!(
                "a load after segment {} would skip {skip} rows of {} merged across it",
                after.segment,
                table.len()
            )));
        }
        customer_rows.drain(..skip);
        let columns = table.columns_mut();
        for column in columns.numbers {
            column.drain(..skip.min(column.len()));
        }
        for column in columns.texts {
            column.drain(..skip.min(column.len()));
        }
        if let Some(properties) = columns.properties {
            properties.drain(..skip);
        }
        Ok(())
    }

    /// Writes the selected columns of every event segment of `business` (those after segment
    /// `after_segment`) into `table`'s columns
    /// (sized for every row, as `customer_rows` is) in segment order, and returns how many rows
    /// were kept. This thread reads each segment's blob from SQLite (the connection stays on its
    /// thread) while [`DECODERS`] threads decompress segments, keep the rows of the kept names,
    /// resolve each row's customer, and write the rows into their place in the columns. Each
    /// decoder claims its segment's place in segment order, once it knows how many rows it keeps,
    /// and then writes at the same time as the others: the writing is most of a load's time, as
    /// the system provides each page of the columns when it is first written. At most
    /// [`BLOBS_IN_FLIGHT`] blobs wait to be decoded, and their buffers go back to the reader.
    fn scan_segments(
        &self,
        (business, after_segment): (BusinessId, i64),
        selection: EventSelection,
        kept_names: Option<&[bool]>,
        customers: &CustomerIndex,
        table: &mut EventTable,
        customer_rows: &mut [u32],
    ) -> Result<usize> {
        let columns = segment::ColumnSelection {
            text: selection.texts(),
            revenue: selection.revenue,
            properties: selection.properties,
        };
        let (full, waiting) = std::sync::mpsc::sync_channel::<(usize, i64, Vec<u8>)>(BLOBS_IN_FLIGHT);
        let waiting = std::sync::Mutex::new(waiting);
        let (give_back, empty) = std::sync::mpsc::channel::<Vec<u8>>();
        let places = Places::new(RowPlaces::of(table, customer_rows));
        std::thread::scope(|scope| {
            let decoders: Vec<_> = (0..DECODERS)
                .map(|_| {
                    let (waiting, places, give_back) = (&waiting, &places, give_back.clone());
                    scope.spawn(move || -> Result<()> {
                        let mut decoder = SegmentDecoder::default();
                        let mut outcome = Ok(());
                        // The lock is held only to take the next blob; the reader's end closing
                        // ends the loop. After a failure the blobs still sent are taken and
                        // dropped, so the reader never waits on a channel nobody empties.
                        while let Ok((turn, id, blob)) = waiting.lock().map_err(|_| ()).and_then(|w| w.recv().map_err(|_| ())) {
                            if outcome.is_ok() {
                                outcome = decoder.decode(id, &blob, &columns, kept_names).and_then(|kept| match places.claim(turn, kept)? {
                                    Some(mut place) => decoder.write(id, customers, &mut place),
                                    // Another decoder failed; its error is the load's.
                                    None => Ok(()),
                                });
                                if outcome.is_err() {
                                    places.fail();
                                }
                            }
                            // The reader may have finished already; the buffer is then dropped.
                            let _ = give_back.send(blob);
                        }
                        outcome
                    })
                })
                .collect();
            drop(give_back);
            let read = (|| -> Result<()> {
                let mut stmt = self.conn.prepare_cached("SELECT id, columns FROM event_segments WHERE business = ?1 AND id > ?2 ORDER BY id")?;
                let mut rows = stmt.query([business.0, after_segment])?;
                let mut turn = 0;
                while let Some(row) = rows.next()? {
                    let id: i64 = row.get(0)?;
                    let blob = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
                    let mut buffer = empty.try_recv().unwrap_or_default();
                    buffer.clear();
                    buffer.extend_from_slice(blob);
                    if full.send((turn, id, buffer)).is_err() || places.failed() {
                        // A decoder stopped on an error, which its result carries.
                        break;
                    }
                    turn += 1;
                }
                Ok(())
            })();
            drop(full);
            // A decoder's own error comes first: it explains why the reader stopped.
            let mut decoded = Ok(());
            for decoder in decoders {
                let result = decoder.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
                if let Err(e) = result {
                    places.fail();
                    if decoded.is_ok() {
                        decoded = Err(e);
                    }
                }
            }
            decoded.and(read)
        })?;
        Ok(places.written())
    }
}

/// Identity id -> customer id (0: not an identity of this business), as a dense vector: identity
/// ids are row ids. A scan of the whole table in rowid order, not the (business, kind, value)
/// index: the index would cost a random lookup of the table per identity (0.78 s against 0.04 s
/// for 500,000 identities), and a store holds few businesses.
pub(crate) fn customers_of_identities(conn: &Connection, business: BusinessId) -> Result<Vec<i64>> {
    let mut customer_of: Vec<i64> = Vec::new();
    let mut stmt = conn.prepare("SELECT id, customer FROM identities NOT INDEXED WHERE business = ?1")?;
    let mut rows = stmt.query([business.0])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let customer: i64 = row.get(1)?;
        let index = usize::try_from(id).map_err(|_| StoreError::Corrupt(format!("identity id {id}")))?;
        if customer_of.len() <= index {
            customer_of.resize(index + 1, 0);
        }
        customer_of[index] = customer;
    }
    Ok(customer_of)
}

// A segment's text columns are the table's, in the order `EventTable::columns_mut` gives them;
// the loads zip the two, so a different count would drop columns silently.
const _: () = assert!(segment::TEXT_COLUMNS == 8);

/// How many segment blobs (up to a megabyte each) may wait between the reader and the decoders.
const BLOBS_IN_FLIGHT: usize = 4;

/// Threads decoding segments and writing their rows during a load, besides the reader.
const DECODERS: usize = 2;

/// Each loaded row's customer as an index into the business's customers in ascending id order,
/// resolved once per identity, so a row costs one lookup and any thread can resolve any row
/// without knowing which rows came before.
#[derive(Debug)]
struct CustomerIndex {
    /// Identity id -> 1 + its customer's index in `ids` (0: not this business's identity);
    /// identity ids are row ids, so a vector is smaller than a hash map of them.
    index_of_identity: Vec<u32>,
    /// The business's customers that have an identity, in ascending id order.
    ids: Vec<CustomerId>,
}

impl CustomerIndex {
    /// From each identity's customer id by identity id (0 where the identity is not the
    /// business's).
    fn new(customer_of: Vec<i64>) -> Result<CustomerIndex> {
        let mut ids: Vec<i64> = customer_of.iter().copied().filter(|&c| c != 0).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() >= u32::MAX as usize {
            return Err(StoreError::Corrupt("more customers than a table can index".into()));
        }
        // Customer ids are row ids, so their ranks fit a vector as long as the largest id.
        let most = ids.last().copied().unwrap_or(0);
        let mut rank = vec![0u32; usize::try_from(most).map_err(|_| StoreError::Corrupt(format!("customer id {most}")))? + 1];
        for (k, &id) in ids.iter().enumerate() {
            let slot = usize::try_from(id).map_err(|_| StoreError::Corrupt(format!("customer id {id}")))?;
            rank[slot] = k as u32 + 1;
        }
        let index_of_identity = customer_of.iter().map(|&c| usize::try_from(c).ok().and_then(|c| rank.get(c)).copied().unwrap_or(0)).collect();
        Ok(CustomerIndex { index_of_identity, ids: ids.into_iter().map(CustomerId).collect() })
    }

    fn index(&self, segment: i64, identity: i64) -> Result<u32> {
        usize::try_from(identity)
            .ok()
            .and_then(|slot| self.index_of_identity.get(slot))
            .and_then(|&index| index.checked_sub(1))
            .ok_or_else(|| StoreError::Corrupt(format!("event segment {segment}: unknown identity {identity}")))
    }

    /// The customer column of the loaded rows: the customers they name, each once in ascending
    /// id order, as the table's customers are those with a loaded row.
    fn column(self, mut rows: Vec<u32>) -> Result<CustomerColumn> {
        let mut used = vec![false; self.ids.len()];
        for &index in &rows {
            used[index as usize] = true;
        }
        let ids = if used.iter().all(|&u| u) {
            self.ids
        } else {
            // Renumber: customers without a row (all their events filtered out) are dropped.
            let mut renumbered = vec![0u32; self.ids.len()];
            let mut ids = Vec::new();
            for (k, id) in self.ids.into_iter().enumerate() {
                if used[k] {
                    renumbered[k] = ids.len() as u32;
                    ids.push(id);
                }
            }
            rows.iter_mut().for_each(|index| *index = renumbered[*index as usize]);
            ids
        };
        CustomerColumn::from_parts(ids, rows).ok_or_else(|| StoreError::Corrupt("more customers than a table can index".into()))
    }
}

/// The places of some rows in every column of a load (columns not selected are empty).
struct RowPlaces<'a> {
    time: &'a mut [i64],
    texts: [&'a mut [u32]; segment::TEXT_COLUMNS],
    revenue: &'a mut [i64],
    properties: &'a mut [Option<Box<str>>],
    customers: &'a mut [u32],
}

impl<'a> RowPlaces<'a> {
    fn of(table: &'a mut EventTable, customers: &'a mut [u32]) -> RowPlaces<'a> {
        let columns = table.columns_mut();
        let [time, revenue] = columns.numbers;
        RowPlaces {
            time: time.as_mut_slice(),
            texts: columns.texts.map(|c| c.as_mut_slice()),
            revenue: revenue.as_mut_slice(),
            properties: columns.properties.map_or(&mut [], |p| p.as_mut_slice()),
            customers,
        }
    }

    /// The first `rows` places, which these places no longer include.
    fn split_off_front(&mut self, rows: usize) -> RowPlaces<'a> {
        fn front<'a, T>(column: &mut &'a mut [T], rows: usize) -> &'a mut [T] {
            // A column not selected is empty and gives empty places.
            let rows = if column.is_empty() { 0 } else { rows };
            let (front, rest) = std::mem::take(column).split_at_mut(rows);
            *column = rest;
            front
        }
        RowPlaces {
            time: front(&mut self.time, rows),
            texts: self.texts.each_mut().map(|c| front(c, rows)),
            revenue: front(&mut self.revenue, rows),
            properties: front(&mut self.properties, rows),
            customers: front(&mut self.customers, rows),
        }
    }
}

/// The columns' places not yet claimed, handed out in segment order.
struct Places<'a> {
    state: std::sync::Mutex<PlacesState<'a>>,
    turn_taken: std::sync::Condvar,
}

struct PlacesState<'a> {
    /// The segment whose turn it is to claim (segments are numbered in reading order).
    turn: usize,
    rest: RowPlaces<'a>,
    written: usize,
    failed: bool,
}

impl<'a> Places<'a> {
    fn new(rest: RowPlaces<'a>) -> Places<'a> {
        Places { state: std::sync::Mutex::new(PlacesState { turn: 0, rest, written: 0, failed: false }), turn_taken: std::sync::Condvar::new() }
    }

    /// Waits for segment `turn`'s turn and gives it the next `rows` places; None when the load
    /// has failed elsewhere. More rows than the segments' counts add up to is a corrupt store.
    fn claim(&self, turn: usize, rows: usize) -> Result<Option<RowPlaces<'a>>> {
        let poisoned = || StoreError::Corrupt("a decoder stopped".into());
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        while state.turn != turn && !state.failed {
            state = self.turn_taken.wait(state).map_err(|_| poisoned())?;
        }
        if state.failed {
            return Ok(None);
        }
        if rows > state.rest.time.len() {
            return Err(StoreError::Corrupt(format!("event segment number {turn} holds more rows than the segments' counts add up to")));
        }
        let place = state.rest.split_off_front(rows);
        state.turn += 1;
        state.written += rows;
        self.turn_taken.notify_all();
        Ok(Some(place))
    }

    fn fail(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.failed = true;
        }
        self.turn_taken.notify_all();
    }

    fn failed(&self) -> bool {
        self.state.lock().map_or(true, |s| s.failed)
    }

    fn written(&self) -> usize {
        self.state.lock().map_or(0, |s| s.written)
    }
}

/// One decoder thread's buffers, reused from segment to segment.
#[derive(Debug, Default)]
struct SegmentDecoder {
    decoded: segment::DecodedSegment,
    scratch: Vec<u8>,
    /// Per row of the decoded segment, whether it is kept; empty when every row is.
    kept: Vec<bool>,
}

impl SegmentDecoder {
    /// Decodes one segment's selected columns and returns how many of its rows are kept.
    fn decode(&mut self, id: i64, blob: &[u8], columns: &segment::ColumnSelection, kept_names: Option<&[bool]>) -> Result<usize> {
        let decoded = &mut self.decoded;
        decoded.identity.clear();
        decoded.time.clear();
        decoded.text.iter_mut().for_each(Vec::clear);
        decoded.revenue.clear();
        decoded.properties = columns.properties.then(Vec::new);
        let rows = segment::decode_into(id, blob, columns, decoded, &mut self.scratch)?;
        self.kept.clear();
        let Some(kept_names) = kept_names else {
            return Ok(rows);
        };
        // The name is the first text column, always decoded when names are filtered.
        self.kept.extend(decoded.text[0].iter().map(|&name| kept_names.get(name as usize).copied().unwrap_or(false)));
        Ok(self.kept.iter().filter(|&&k| k).count())
    }

    /// Writes the kept rows of the decoded segment into `place`, each row's identity resolved
    /// to its customer.
    fn write(&mut self, id: i64, customers: &CustomerIndex, place: &mut RowPlaces<'_>) -> Result<()> {
        let kept = &self.kept;
        fn fill<T: Copy>(place: &mut [T], values: &[T], kept: &[bool]) {
            if place.is_empty() {
                return;
            }
            if kept.is_empty() {
                place.copy_from_slice(values);
            } else {
                let rows = values.iter().zip(kept).filter(|(_, k)| **k).map(|(v, _)| *v);
                place.iter_mut().zip(rows).for_each(|(p, v)| *p = v);
            }
        }
        let decoded = &mut self.decoded;
        let mut customers_written = 0;
        for (k, &identity) in decoded.identity.iter().enumerate() {
            if kept.is_empty() || kept[k] {
                place.customers[customers_written] = customers.index(id, identity)?;
                customers_written += 1;
            }
        }
        fill(place.time, &decoded.time, kept);
        for (column, values) in place.texts.iter_mut().zip(&decoded.text) {
            fill(column, values, kept);
        }
        fill(place.revenue, &decoded.revenue, kept);
        if !place.properties.is_empty()
            && let Some(properties) = decoded.properties.take()
        {
            let rows = properties.into_iter().enumerate().filter(|(k, _)| kept.is_empty() || kept[*k]).map(|(_, p)| p);
            place.properties.iter_mut().zip(rows).for_each(|(p, v)| *p = v);
        }
        Ok(())
    }
}

impl EventLoads for SqliteStore {
    fn load_selected_events(&self, business: BusinessId, selection: EventSelection) -> Result<EventTable> {
        self.load(business, selection, None)
    }

    fn load_named_events(&self, business: BusinessId, selection: EventSelection, keep: &dyn Fn(&str) -> bool) -> Result<EventTable> {
        self.load(business, EventSelection { name: true, ..selection }, Some(keep))
    }

    fn load_events_after(&self, business: BusinessId, selection: EventSelection, after: &EventsAfter<'_>) -> Result<EventTable> {
        self.load_in(business, selection, None, Some(after))
    }
}
