//! The ClickHouse schema, as numbered migrations applied by Trailmap on every shard (no `ON
//! CLUSTER`, which needs Keeper), each shard recording the versions it applied in its own
//! `trailmap_migrations` table.
//!
//! Per shard, `events_local` holds the events of the customers the sharding key sends there:
//! a ReplacingMergeTree ordered by (business, customer, time, ms, key), so a customer's journey is
//! one range of the sort order and two copies of one event (a retried batch, the same messageId
//! sent twice) share their whole sorting key and collapse into one, at a background merge or at
//! a read with `FINAL`. Time is whole seconds in a `DateTime` plus a `UInt16` of milliseconds,
//! since 18.16 has no DateTime64. `merges_local` maps a merged customer to the customer they are
//! now (a ReplacingMergeTree keeping the highest version), applied at read time, so a merge never
//! rewrites events. On every node, `events` and `merges` are Distributed tables over the local
//! ones, sharded by a hash of the customer, so any node can take a query or an insert.

use super::http::{Http, quote};
use super::{ClickHouseError, ClickHouseLocation};

/// A migration: the statements that bring one shard from the version before to this one. `{db}`
/// is replaced by the database, `{cluster}` by the cluster; the Distributed statements are left
/// out where there is no cluster. Columns added are (table, column, type), added to the local
/// table and to its Distributed one where there is a cluster, each only when missing (18.16 has
/// no `ADD COLUMN IF NOT EXISTS`), so a migration cut off halfway is applied again as it is.
struct Migration {
    version: u32,
    local: &'static [&'static str],
    distributed: &'static [&'static str],
    added_columns: &'static [(&'static str, &'static str, &'static str)],
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    local: &[
        "CREATE TABLE IF NOT EXISTS {db}.events_local (
            business Int64, customer Int64, time DateTime, ms UInt16, key FixedString(16),
            name String, channel String, source String, medium String, campaign String,
            referrer String, page String, revenue_minor Int64, currency String, properties String
        ) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(time)
        ORDER BY (business, customer, time, ms, key)",
        "CREATE TABLE IF NOT EXISTS {db}.merges_local (
            business Int64, customer Int64, merged_into Int64, version UInt64
        ) ENGINE = ReplacingMergeTree(version) ORDER BY (business, customer)",
    ],
    distributed: &[
        "CREATE TABLE IF NOT EXISTS {db}.events AS {db}.events_local
            ENGINE = Distributed({cluster}, {db}, events_local, cityHash64(customer))",
        "CREATE TABLE IF NOT EXISTS {db}.merges AS {db}.merges_local
            ENGINE = Distributed({cluster}, {db}, merges_local, cityHash64(customer))",
    ],
    added_columns: &[],
}, Migration {
    // Each row names the write that sent it (a random id; 0 for rows from before), so the rows
    // of a write that never committed (its process killed) can be found and deleted (split.rs).
    version: 2,
    local: &[],
    distributed: &[],
    added_columns: &[("events", "write_id", "UInt64")],
}];

/// The newest schema version this Trailmap knows.
pub const SCHEMA_VERSION: u32 = 2;

/// The tables queries read: the Distributed ones on a cluster, the local ones on one server.
pub(crate) fn events_table(location: &ClickHouseLocation) -> String {
    table(location, "events")
}

pub(crate) fn merges_table(location: &ClickHouseLocation) -> String {
    table(location, "merges")
}

fn table(location: &ClickHouseLocation, name: &str) -> String {
    match location.cluster {
        Some(_) => format!("{}.{name}", location.database),
        None => format!("{}.{name}_local", location.database),
    }
}

/// Brings every shard's schema to [`SCHEMA_VERSION`], checking first that the cluster named
/// exists on the first node with as many shards as the location lists; refuses a shard whose
/// schema is newer than this Trailmap knows.
pub(crate) fn migrate(http: &Http, location: &ClickHouseLocation) -> Result<(), ClickHouseError> {
    if let Some(cluster) = &location.cluster {
        let shards = http.text(0, &format!("SELECT uniqExact(shard_num) FROM system.clusters WHERE cluster = {}", quote(cluster)), &[])?;
        let shards: usize = shards.trim().parse().map_err(|_| ClickHouseError::Decode(format!("{}: shard count {shards:?}", http.shown(0))))?;
        if shards != location.shards.len() {
            return Err(ClickHouseError::Invalid(format!(
                "{location}: the cluster {cluster:?} has {shards} shard(s) in the server's remote_servers, the URL lists {}",
                location.shards.len()
            )));
        }
    }
    let db = &location.database;
    for shard in 0..http.shards() {
        http.text(shard, &format!("CREATE TABLE IF NOT EXISTS {db}.trailmap_migrations (version UInt32) ENGINE = TinyLog"), &[])?;
        let applied = http.text(shard, &format!("SELECT max(version) FROM {db}.trailmap_migrations"), &[])?;
        let applied: u32 = applied.trim().parse().map_err(|_| ClickHouseError::Decode(format!("{}: schema version {applied:?}", http.shown(shard))))?;
        if applied > SCHEMA_VERSION {
            return Err(ClickHouseError::Invalid(format!(
                "{}: the schema has version {applied}, newer than this trailmap knows ({SCHEMA_VERSION}); upgrade trailmap",
                http.shown(shard)
            )));
        }
        for migration in MIGRATIONS.iter().filter(|m| m.version > applied) {
            let distributed = location.cluster.as_ref().map_or(&[][..], |_| migration.distributed);
            for statement in migration.local.iter().chain(distributed) {
                let sql = statement.replace("{db}", db).replace("{cluster}", location.cluster.as_deref().unwrap_or(""));
                http.text(shard, &sql, &[])?;
            }
            for (table, column, kind) in migration.added_columns {
                let local = format!("{table}_local");
                let tables = if location.cluster.is_some() { vec![local, table.to_string()] } else { vec![local] };
                for table in tables {
                    let present = http.text(
                        shard,
                        &format!("SELECT count() FROM system.columns WHERE database = {} AND table = {} AND name = {}", quote(db), quote(&table), quote(column)),
                        &[],
                    )?;
                    if present.trim() == "0" {
                        http.text(shard, &format!("ALTER TABLE {db}.{table} ADD COLUMN {column} {kind}"), &[])?;
                    }
                }
            }
            // Every statement is idempotent (IF NOT EXISTS, a column added only when missing), so
            // a migration cut off before this row is simply applied again.
            http.text(shard, &format!("INSERT INTO {db}.trailmap_migrations VALUES ({})", migration.version), &[])?;
        }
    }
    Ok(())
}
