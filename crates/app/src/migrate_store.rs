//! Moving a store from one backend to another (`trailmap migrate-store --to URL`): today a SQLite
//! file into an empty PostgreSQL database, the way a business grows from one machine to a team.
//! The store does the copy (one PostgreSQL transaction, ids kept, every table's rows counted on
//! both sides); this is the one door the CLI goes through, since only `app` opens stores.

use crate::{AppError, Result};
use trailmap_store::{CopySummary, PgStore, StoreLocation};

/// Copies the whole store at `from` into `to`. Only SQLite into PostgreSQL is offered, the
/// direction in which a business grows; the other way is refused with a message.
pub fn migrate_store(from: &StoreLocation, to: &StoreLocation) -> Result<CopySummary> {
    match (from, to) {
        (StoreLocation::Sqlite(path), StoreLocation::Postgres(url)) => {
            let target = PgStore::open(url)?;
            Ok(target.copy_from_sqlite(path)?)
        }
        (StoreLocation::Postgres(_), _) => {
            Err(AppError::Invalid(format!("--db {from}: a store is moved from a SQLite file; this one is already on PostgreSQL")))
        }
        (StoreLocation::WithEvents { .. }, _) | (_, StoreLocation::WithEvents { .. }) => Err(AppError::Invalid(
            "--events: a store is moved without its events elsewhere; they stay where they are in ClickHouse".into(),
        )),
        (_, StoreLocation::Sqlite(_)) => Err(AppError::Invalid(format!("--to {to}: a store is moved to a postgres:// URL"))),
    }
}
