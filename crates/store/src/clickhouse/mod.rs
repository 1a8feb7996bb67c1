//! Events in ClickHouse, for businesses past one machine: [`ClickHouseEvents`] keeps a business's
//! events in a sharded ClickHouse cluster (or one server), loads them back as the engine's
//! [`trailmap_model::EventTable`] so every embedded analysis runs on them, and pushes the ordered
//! funnel down to ClickHouse's `windowFunnel` (funnel.rs), retention's per-buyer summaries
//! (retention.rs) and the sessions of paths (paths.rs) with the engine's exact answers. Accounts,
//! maps and identities stay in the SQLite or PostgreSQL store: events arrive here with their
//! customer already resolved.
//!
//! **Client: a small blocking HTTP client over `ureq`, not the `clickhouse` crate.** Debian ships
//! ClickHouse 18.16 only, and the `clickhouse` crate reaches it only with `with_validation(false)`
//! and plain RowBinary, through an async (tokio + hyper) stack the store, which is blocking
//! throughout, would have to run a runtime for. ClickHouse's HTTP interface is stable from 18.16 to
//! today: a statement POSTed, settings in the query string, RowBinary both ways (rowbinary.rs) and
//! TabSeparated for small answers. `ureq` is already a workspace dependency (webhooks), so this
//! costs no new crate, and each error keeps ClickHouse's own message.
//!
//! SQL runs on 18.16 and on current servers: no DateTime64 (seconds plus a milliseconds column), no
//! window functions, no server-side query parameters (values go through [`http::quote`]), no
//! async inserts, no `ON CLUSTER` DDL (schema.rs creates the tables on each shard). Writes are
//! synchronous distributed inserts (`insert_distributed_sync=1`): when [`ClickHouseEvents::append`]
//! returns, every row is in its shard's table, not in a node's queue. Duplicates (the same event
//! key written twice, a retried batch) are removed at read with `FINAL`; merges of customers are
//! rows in a small table applied at read time, never a rewrite of events.

mod activity;
mod events;
mod funnel;
mod http;
mod location;
mod paths;
mod retention;
mod rowbinary;
mod schema;
mod upkeep;

pub use activity::{CustomerActivityRow, EventTimes};
pub use funnel::{FunnelPath, FunnelSpec, MAX_PUSHDOWN_WINDOW_MS, PushdownRefusal};
pub use http::{MAX_EXECUTION_SECONDS, QueryLimits, quote};
pub use location::ClickHouseLocation;
pub use paths::SessionItems;
pub use retention::{BuyerRow, CohortPeriod, RetentionRows};
pub use schema::SCHEMA_VERSION as CLICKHOUSE_SCHEMA_VERSION;

use crate::StoreError;
use http::Http;

/// What went wrong talking to ClickHouse. Every message names the location without its password.
#[derive(Debug, thiserror::Error)]
pub enum ClickHouseError {
    /// The URL or a value cannot be used (a bad URL, an event time ClickHouse cannot hold).
    #[error("{0}")]
    Invalid(String),
    /// No answer: the server is down, the port wrong, the connection broke.
    #[error("cannot reach ClickHouse at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The server refused the user or password.
    #[error("ClickHouse at {url} refused the user: {message}")]
    Refused { url: String, message: String },
    /// The database or a table does not exist.
    #[error("ClickHouse at {url} has no such table or database: {message}")]
    MissingTable { url: String, message: String },
    /// A query went past a memory or time limit and the server stopped it.
    #[error("ClickHouse at {url} stopped the query at a limit: {message}")]
    Limit { url: String, message: String },
    /// Any other error the server reported.
    #[error("ClickHouse at {url}: {message}")]
    Server { url: String, message: String },
    /// The answer was not what the query asks for.
    #[error("unreadable answer from ClickHouse: {0}")]
    Decode(String),
}

impl From<ClickHouseError> for StoreError {
    fn from(error: ClickHouseError) -> StoreError {
        match error {
            ClickHouseError::Invalid(message) => StoreError::Invalid(message),
            error @ ClickHouseError::Unreachable { .. } => StoreError::Unavailable(error.to_string()),
            ClickHouseError::Refused { url, message } => StoreError::Open { path: url, reason: format!("the user was refused: {message}") },
            other => StoreError::Database(other.to_string()),
        }
    }
}

/// A business's events in ClickHouse.
pub struct ClickHouseEvents {
    http: Http,
    location: ClickHouseLocation,
}

impl std::fmt::Debug for ClickHouseEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseEvents").field("location", &self.location).finish_non_exhaustive()
    }
}

impl ClickHouseEvents {
    /// Connects to every shard, checks the cluster, and creates or migrates the schema on each.
    /// An unreachable server, a refused user or a cluster that does not match the URL is an
    /// error within seconds, naming the URL without its password.
    pub fn open(location: &ClickHouseLocation) -> Result<ClickHouseEvents, ClickHouseError> {
        let http = Http::new(location);
        schema::migrate(&http, location)?;
        Ok(ClickHouseEvents { http, location: location.clone() })
    }

    /// Connects without creating anything: every shard must already hold the current schema (a
    /// missing table is an error naming it).
    pub fn connect(location: &ClickHouseLocation) -> Result<ClickHouseEvents, ClickHouseError> {
        let http = Http::new(location);
        let events = ClickHouseEvents { http, location: location.clone() };
        for shard in 0..events.http.shards() {
            events.http.text(shard, &format!("SELECT count() FROM {}.events_local WHERE 0", location.database), &[])?;
        }
        events.http.text(0, &format!("SELECT count() FROM {} WHERE 0", schema::events_table(location)), &[])?;
        Ok(events)
    }

    /// Every later query runs under these limits (see [`QueryLimits`]).
    pub fn set_limits(&mut self, limits: QueryLimits) {
        self.http.limits = limits;
    }

    pub fn location(&self) -> &ClickHouseLocation {
        &self.location
    }

    /// The server's version (`SELECT version()` on the first shard).
    pub fn server_version(&self) -> Result<String, ClickHouseError> {
        Ok(self.http.text(0, "SELECT version()", &[])?.trim().to_string())
    }
}
