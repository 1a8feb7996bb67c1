//! The PostgreSQL backend, for teams: several Trailmap servers on one database. [`PgStore`]
//! implements the same traits as [`crate::SqliteStore`] with the same behaviour (the SQLite store
//! is the reference): the same ids, errors, exactly-once rules and data versions.
//!
//! - Connections come from a small pool (pool.rs); opening connects with a timeout and names the
//!   URL without its password when it fails.
//! - The schema is its own list of migrations (schema.rs), applied under an advisory lock.
//! - Every [`Store::write`] is one transaction that starts by taking a transaction-level advisory
//!   lock, so the writes of every process run one after the other: identity resolution, merging
//!   and deduplication see everything committed before them. Each business's data version is a
//!   column bumped in the write's transaction, so another process's cached answers see it move.
//! - Events are the columnar segments of segment.rs in BYTEA, loaded and decoded in parallel
//!   (events.rs), each row resolved to its current customer at load.

mod accounts;
mod batch;
mod compact;
mod delivery;
mod events;
mod from_sqlite;
mod maps;
mod pool;
mod reads;
mod schema;
mod upkeep;
mod writer;

pub use from_sqlite::CopySummary;
pub use schema::PG_MIGRATIONS;

use crate::{EventLoads, IncrementalReads};
use crate::{Result, Store, StoreError, WriteFn, WriteSummary};
use pool::Pool;
use writer::PgWriter;

/// The key of the advisory lock every write takes (a transaction-level lock: it is released at
/// commit or rollback, also when a process dies). Any constant works as long as every Trailmap
/// uses the same; this one spells "trailmap" in ASCII.
const WRITE_LOCK: i64 = 0x7472_6169_6c6d_6170;

/// The key of the advisory lock under which migrations run.
const MIGRATION_LOCK: i64 = WRITE_LOCK + 1;

/// The store on a PostgreSQL database.
pub struct PgStore {
    pool: Pool,
    /// The URL as given, password included, to open another connection to the same database
    /// (the server's read apps); never shown (see [`PgStore::url`]).
    connect_url: String,
    /// Small segments this store's writes made per business since merging last found nothing to
    /// merge there (see upkeep.rs).
    unmerged: rustc_hash::FxHashMap<trailmap_model::BusinessId, u64>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL without its password: a Debug print can reach a log.
        f.debug_struct("PgStore").field("url", &self.url()).finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) and
    /// brings its schema up to date. An unreachable server or a refused login fails within
    /// seconds with [`StoreError::Open`]; a database at a newer schema version than this Trailmap
    /// knows is [`StoreError::TooNew`], and nothing is written to it.
    pub fn open(url: &str) -> Result<PgStore> {
        let pool = Pool::new(url)?;
        let store = PgStore { pool, connect_url: url.to_string(), unmerged: Default::default() };
        store.migrate()?;
        Ok(store)
    }

    /// The URL of the database, without its password.
    pub fn url(&self) -> &str {
        self.pool.shown()
    }

    /// The URL as it was given, password included: what opens another store on the same
    /// database. Not for messages or logs.
    pub fn connect_url(&self) -> &str {
        &self.connect_url
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<i64> {
        let mut conn = self.pool.get()?;
        let exists: bool = conn.query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?.get(0);
        if !exists {
            return Ok(0);
        }
        Ok(conn.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])?.get(0))
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        // Two servers starting at once: the second waits here and then finds nothing to do.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        let exists: bool = tx.query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?.get(0);
        let version: i64 = if exists { tx.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])?.get(0) } else { 0 };
        let known = PG_MIGRATIONS.len() as i64;
        if version > known {
            // Dropping the transaction rolls it back: nothing was written.
            return Err(StoreError::TooNew { path: self.pool.shown().to_string(), found: version, known });
        }
        if version == known {
            return Ok(());
        }
        if !exists {
            tx.batch_execute("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")?;
        }
        let now = chrono::Utc::now().timestamp_millis();
        for (index, migration) in PG_MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(migration).map_err(|e| StoreError::Open {
                path: self.pool.shown().to_string(),
                reason: format!("migration {} failed: {}", index + 1, pool::database(e)),
            })?;
            tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", &[&(index as i64 + 1), &now])?;
        }
        tx.commit()?;
        Ok(())
    }
}

impl PgStore {
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
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction().map_err(StoreError::from)?;
        // Writes of every process on this database, one after the other (see the module's comment).
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK]).map_err(StoreError::from)?;
        if let Some(write) = write {
            // Gone when this write commits, so a row that stays names a write that did not.
            tx.execute("DELETE FROM clickhouse_pending_writes WHERE write_id = $1", &[&write]).map_err(StoreError::from)?;
        }
        let mut outbox = sink.zip(write).map(|(sink, write)| crate::split::EventOutbox::new(sink, write));
        let done = {
            let mut writer = PgWriter::new(&mut tx);
            writer.outbox = outbox.as_mut().map(|o| o as &mut dyn crate::split::HeldEvents);
            f(&mut writer).and_then(|()| {
                writer.flush()?;
                Ok((writer.summary_now(), writer.take_small_segments()))
            })
        };
        let (finished, settled) = crate::split::finish_write(done, outbox, || Ok(tx.commit()?));
        drop(conn);
        if let Some(write) = settled {
            // Nothing of the rolled-back write stays in ClickHouse: it need not be recovered.
            crate::split::PendingWrites::forget_pending_write(self, write)?;
        }
        let (summary, small) = finished?;
        for (business, n) in small {
            *self.unmerged.entry(business).or_default() += n;
        }
        Ok(summary)
    }
}

impl crate::split::PendingWrites for PgStore {
    fn list_pending_write(&mut self, write: i64) -> Result<()> {
        let now = chrono::Utc::now().timestamp_millis();
        self.pool.get()?.execute("INSERT INTO clickhouse_pending_writes (write_id, started_at) VALUES ($1, $2)", &[&write, &now])?;
        Ok(())
    }

    fn forget_pending_write(&mut self, write: i64) -> Result<()> {
        self.pool.get()?.execute("DELETE FROM clickhouse_pending_writes WHERE write_id = $1", &[&write])?;
        Ok(())
    }

    fn recover_pending_writes(&mut self, delete: &mut dyn FnMut(&[i64]) -> Result<()>) -> Result<usize> {
        let mut conn = self.pool.get()?;
        let listed: i64 = conn.query_one("SELECT count(*) FROM clickhouse_pending_writes", &[])?.get(0);
        if listed == 0 {
            return Ok(0);
        }
        let mut tx = conn.transaction()?;
        // The write lock: no other process's write is in flight while this runs, nor starts.
        // Tried without waiting: a write in flight (an import) may hold it for minutes, and
        // opening a store must not wait for it; the next opening recovers instead.
        if !tx.query_one("SELECT pg_try_advisory_xact_lock($1)", &[&WRITE_LOCK])?.get::<_, bool>(0) {
            return Ok(0);
        }
        let writes: Vec<i64> = tx.query("SELECT write_id FROM clickhouse_pending_writes ORDER BY write_id", &[])?.iter().map(|row| row.get(0)).collect();
        if writes.is_empty() {
            return Ok(0);
        }
        delete(&writes)?;
        tx.execute("DELETE FROM clickhouse_pending_writes WHERE write_id = ANY($1)", &[&writes])?;
        tx.commit()?;
        Ok(writes.len())
    }
}

impl Store for PgStore {
    fn write<E: From<StoreError>>(&mut self, f: &mut WriteFn<'_, E>) -> std::result::Result<WriteSummary, E> {
        self.write_events_to(f, None)
    }

    fn begin_snapshot(&self) -> Result<crate::Snapshot<'_>> {
        self.begin_read_snapshot()
    }

    fn businesses(&self) -> Result<Vec<trailmap_model::Business>> {
        self.read_businesses()
    }

    fn business_by_name(&self, name: &str) -> Result<Option<trailmap_model::Business>> {
        self.read_business_by_name(name)
    }

    fn business(&self, id: trailmap_model::BusinessId) -> Result<trailmap_model::Business> {
        self.read_business(id)
    }

    fn data_version(&self, business: trailmap_model::BusinessId) -> Result<i64> {
        self.read_data_version(business)
    }

    fn summary(&self, business: trailmap_model::BusinessId) -> Result<crate::BusinessSummary> {
        self.read_summary(business)
    }

    fn stages(&self, business: trailmap_model::BusinessId) -> Result<Vec<trailmap_model::Stage>> {
        self.read_stages(business)
    }

    fn touchpoints(&self, business: trailmap_model::BusinessId) -> Result<Vec<trailmap_model::Touchpoint>> {
        self.read_touchpoints(business)
    }

    fn dismissed_touchpoint_suggestions(&self, business: trailmap_model::BusinessId) -> Result<Vec<String>> {
        self.read_dismissed(business)
    }

    fn personas(&self, business: trailmap_model::BusinessId) -> Result<Vec<trailmap_model::Persona>> {
        self.read_personas(business)
    }

    fn maps(&self, business: trailmap_model::BusinessId) -> Result<Vec<trailmap_model::JourneyMap>> {
        self.read_maps(business)
    }

    fn map_versions(&self, map: trailmap_model::MapId) -> Result<Vec<crate::MapVersion>> {
        self.read_map_versions(map)
    }

    fn surveys(&self, business: trailmap_model::BusinessId) -> Result<Vec<trailmap_model::Survey>> {
        self.read_surveys(business)
    }

    fn responses(&self, survey: trailmap_model::SurveyId) -> Result<Vec<trailmap_model::SurveyResponse>> {
        self.read_responses(survey)
    }

    fn feedback(&self, business: trailmap_model::BusinessId) -> Result<Vec<trailmap_model::Feedback>> {
        self.feedback_after(business, 0)
    }

    fn changes(&self, business: trailmap_model::BusinessId) -> Result<Vec<trailmap_model::Change>> {
        self.read_changes(business)
    }

    fn spend(&self, business: trailmap_model::BusinessId) -> Result<Vec<trailmap_model::Spend>> {
        self.read_spend(business)
    }

    fn customers(&self, business: trailmap_model::BusinessId, limit: usize, offset: usize) -> Result<Vec<trailmap_model::Customer>> {
        self.read_customers(business, limit, offset)
    }

    fn customer(&self, id: trailmap_model::CustomerId) -> Result<trailmap_model::Customer> {
        self.read_customer(id)
    }

    fn orders(&self, business: trailmap_model::BusinessId) -> Result<Vec<trailmap_model::Order>> {
        self.orders_after(business, 0)
    }

    fn write_key_by_hash(&self, key_hash: &str) -> Result<Option<crate::WriteKey>> {
        self.read_write_key_by_hash(key_hash)
    }

    fn write_keys(&self, business: trailmap_model::BusinessId) -> Result<Vec<crate::WriteKey>> {
        self.read_write_keys(business)
    }

    fn tracking_drops(&self, business: trailmap_model::BusinessId) -> Result<Vec<(String, u64)>> {
        self.read_tracking_drops(business)
    }

    fn load_events(&self, business: trailmap_model::BusinessId, columns: trailmap_model::EventColumns) -> Result<trailmap_model::EventTable> {
        self.load_selected_events(business, columns.into())
    }
}
