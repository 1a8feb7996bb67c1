//! Moving a SQLite store to PostgreSQL (`trailmap migrate-store --to postgres://...`): every row
//! of every table copied as it is, ids included, so maps, versions, evidence, memberships and
//! event segments (which point at identity and string ids) keep pointing at the same rows.
//!
//! The two schemas name the same tables and columns (schema.rs keeps them so) with a handful of
//! exceptions, listed once below: columns PostgreSQL reserves (`user`, `start`, `end`) carry a
//! suffix there, SQLite's on-disk dedup index (`event_key_*`, `keys_indexed`) has no counterpart,
//! and PostgreSQL keeps each segment's keys beside its columns and every key as a row of
//! `event_keys`. Any other table or column found on one side only stops the copy with its name,
//! so a table added later is never left behind without anyone noticing.
//!
//! The copy is one PostgreSQL transaction under the write lock, into a database that holds no
//! business and no user: it lands whole or not at all, and a server started on the database
//! meanwhile waits for it. The source is read in one SQLite read transaction (one snapshot), so a
//! server still writing to it cannot tear the copy. Rows go in with `COPY ... FROM STDIN BINARY`;
//! the identity sequences are moved past the copied ids at the end, and every table's row count
//! is compared on both sides before the commit.

use super::pool::database;
use super::writer::key_halves;
use super::{PgStore, WRITE_LOCK};
use crate::segment::decode_keys;
use crate::{Result, SqliteStore, StoreError};
use postgres::Transaction;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use rusqlite::types::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// SQLite's own tables, which PostgreSQL does without (its dedup keys are rows of `event_keys`).
const SQLITE_ONLY_TABLES: &[&str] = &["event_key_index", "event_key_runs", "event_key_chunks"];

/// PostgreSQL's own tables, which the copy leaves as opening the database made them.
const POSTGRES_ONLY_TABLES: &[&str] = &["schema_migrations"];

/// SQLite's own columns: `businesses.keys_indexed` counts the keys in SQLite's dedup index.
const SQLITE_ONLY_COLUMNS: &[(&str, &str)] = &[("businesses", "keys_indexed")];

/// A PostgreSQL column and the SQLite column it is copied from, where their names differ.
const RENAMED: &[(&str, &str)] = &[("user_id", "user"), ("start_date", "start"), ("end_date", "end")];

/// What a copy moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopySummary {
    /// Rows per table, in the order they were copied.
    pub tables: Vec<(String, u64)>,
    /// Events in the copied segments.
    pub events: u64,
}

/// One PostgreSQL column: its name, type and the SQLite column it is read from.
struct Column {
    name: String,
    ty: Type,
    source: String,
}

impl PgStore {
    /// Copies the whole SQLite store at `source` into this database, which must hold no business
    /// and no user yet (see the module documentation).
    pub fn copy_from_sqlite(&self, source: &Path) -> Result<CopySummary> {
        if !source.is_file() {
            return Err(StoreError::Open { path: source.display().to_string(), reason: "no store there".into() });
        }
        // Opening brings an older file's schema up to date, so both sides have the same tables.
        drop(SqliteStore::open(source)?);
        let mut lite = rusqlite::Connection::open_with_flags(source, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let snapshot = lite.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
        // A read pins the snapshot for the rest of the transaction.
        snapshot.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;

        let mut client = self.pool.take()?;
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        let held: i64 = tx.query_one("SELECT (SELECT count(*) FROM businesses) + (SELECT count(*) FROM users)", &[])?.get(0);
        if held > 0 {
            return Err(StoreError::Conflict(format!(
                "{} already holds businesses or users; a store is moved into an empty database (create one with `createdb`)",
                self.url()
            )));
        }
        let summary = copy_tables(&snapshot, &mut tx)?;
        tx.commit()?;
        self.pool.give_back(client);
        Ok(summary)
    }
}

fn copy_tables(lite: &rusqlite::Connection, tx: &mut Transaction<'_>) -> Result<CopySummary> {
    let lite_tables = sqlite_columns(lite)?;
    let pg_tables = postgres_columns(tx)?;
    check_same_tables(&lite_tables, &pg_tables)?;
    let mut summary = CopySummary::default();
    for table in copy_order(tx, &pg_tables)? {
        let columns = &pg_tables[&table];
        let rows = match table.as_str() {
            "event_segments" => {
                let (rows, events) = copy_segments(lite, tx, columns)?;
                summary.events = events;
                rows
            }
            "event_keys" => copy_event_keys(lite, tx)?,
            _ => copy_table(lite, tx, &table, columns, &lite_tables[&table])?,
        };
        summary.tables.push((table, rows));
    }
    for (table, column) in identity_columns(tx)? {
        // The next id a write takes comes after the copied ones.
        tx.query_one(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), coalesce(max({column}), 1), max({column}) IS NOT NULL) FROM {table}"
            ),
            &[],
        )?;
    }
    for (table, rows) in &summary.tables {
        let copied: i64 = tx.query_one(&format!("SELECT count(*) FROM {table}"), &[])?.get(0);
        if copied as u64 != *rows {
            return Err(StoreError::Corrupt(format!("{table}: {rows} rows read from SQLite, {copied} in PostgreSQL")));
        }
    }
    Ok(summary)
}

/// Every SQLite table with its columns.
fn sqlite_columns(lite: &rusqlite::Connection) -> Result<BTreeMap<String, Vec<String>>> {
    let mut tables = BTreeMap::new();
    let names: Vec<String> = lite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for name in names {
        let columns: Vec<String> =
            lite.prepare(&format!("SELECT name FROM pragma_table_info('{name}')"))?.query_map([], |row| row.get(0))?.collect::<rusqlite::Result<_>>()?;
        tables.insert(name, columns);
    }
    Ok(tables)
}

/// Every PostgreSQL table of the schema with its columns and the SQLite column each is read from.
fn postgres_columns(tx: &mut Transaction<'_>) -> Result<BTreeMap<String, Vec<Column>>> {
    let mut tables: BTreeMap<String, Vec<Column>> = BTreeMap::new();
    let rows = tx.query(
        "SELECT c.relname::text, a.attname::text, a.atttypid FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
        &[],
    )?;
    for row in rows {
        let (table, name, oid): (String, String, u32) = (row.get(0), row.get(1), row.get(2));
        let ty = Type::from_oid(oid).ok_or_else(|| StoreError::Invalid(format!("{table}.{name}: a column type the copy does not know")))?;
        let source = RENAMED.iter().find(|(pg, _)| *pg == name).map_or(name.as_str(), |(_, lite)| lite).to_string();
        tables.entry(table).or_default().push(Column { name, ty, source });
    }
    Ok(tables)
}

/// Refuses a table or column on one side only, unless it is one of the known differences.
fn check_same_tables(lite: &BTreeMap<String, Vec<String>>, pg: &BTreeMap<String, Vec<Column>>) -> Result<()> {
    let mismatch = |what: String| Err(StoreError::Invalid(format!("the two schemas differ: {what}; this trailmap cannot move this store")));
    for table in lite.keys() {
        if !pg.contains_key(table) && !SQLITE_ONLY_TABLES.contains(&table.as_str()) {
            return mismatch(format!("table {table} is only in SQLite"));
        }
    }
    for (table, columns) in pg {
        if POSTGRES_ONLY_TABLES.contains(&table.as_str()) {
            continue;
        }
        let Some(lite_columns) = lite.get(table) else { return mismatch(format!("table {table} is only in PostgreSQL")) };
        for column in columns {
            let special = (table == "event_segments" && column.name == "keys") || table == "event_keys";
            if !special && !lite_columns.contains(&column.source) {
                return mismatch(format!("column {table}.{} has no SQLite counterpart", column.name));
            }
        }
        if table != "event_keys" {
            for name in lite_columns {
                let known = columns.iter().any(|c| &c.source == name) || SQLITE_ONLY_COLUMNS.contains(&(table.as_str(), name.as_str()));
                if !known {
                    return mismatch(format!("column {table}.{name} is only in SQLite"));
                }
            }
        }
    }
    Ok(())
}

/// The tables to copy, each after the tables its foreign keys name (a reference to its own
/// table, as a merged customer's, is filled by an update after its rows: see `copy_table`).
fn copy_order(tx: &mut Transaction<'_>, tables: &BTreeMap<String, Vec<Column>>) -> Result<Vec<String>> {
    let mut needs: BTreeMap<String, BTreeSet<String>> =
        tables.keys().filter(|t| !POSTGRES_ONLY_TABLES.contains(&t.as_str())).map(|t| (t.clone(), BTreeSet::new())).collect();
    for row in tx.query(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE c.contype = 'f' AND n.nspname = current_schema()",
        &[],
    )? {
        let (table, named): (String, String) = (row.get(0), row.get(1));
        if table != named
            && let Some(set) = needs.get_mut(&table)
        {
            set.insert(named);
        }
    }
    let mut order = Vec::new();
    while !needs.is_empty() {
        let ready: Vec<String> = needs.iter().filter(|(_, n)| n.iter().all(|t| !needs.contains_key(t))).map(|(t, _)| t.clone()).collect();
        if ready.is_empty() {
            return Err(StoreError::Invalid(format!("the foreign keys of {:?} form a cycle", needs.keys().collect::<Vec<_>>())));
        }
        for table in ready {
            needs.remove(&table);
            order.push(table);
        }
    }
    Ok(order)
}

/// Columns that reference their own table (a merged customer's `merged_into`).
fn self_references(tx: &mut Transaction<'_>, table: &str) -> Result<Vec<String>> {
    let rows = tx.query(
        "SELECT a.attname::text FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) \
         WHERE c.contype = 'f' AND c.conrelid = c.confrelid AND c.conrelid = $1::text::regclass",
        &[&table],
    )?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Identity columns, whose sequences must move past the copied ids.
fn identity_columns(tx: &mut Transaction<'_>) -> Result<Vec<(String, String)>> {
    let rows = tx.query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'",
        &[],
    )?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Copies one table whose columns have the same meaning on both sides.
fn copy_table(lite: &rusqlite::Connection, tx: &mut Transaction<'_>, table: &str, columns: &[Column], lite_columns: &[String]) -> Result<u64> {
    let deferred = self_references(tx, table)?;
    let selected: Vec<String> = columns.iter().map(|c| format!("\"{}\"", c.source)).collect();
    let order = if lite_columns.iter().any(|c| c == "id") { " ORDER BY id" } else { "" };
    let mut statement = lite.prepare(&format!("SELECT {} FROM \"{table}\"{order}", selected.join(", ")))?;
    let names: Vec<String> = columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
    let types: Vec<Type> = columns.iter().map(|c| c.ty.clone()).collect();
    let id_at = columns.iter().position(|c| c.name == "id");
    let mut later: Vec<(i64, String, i64)> = Vec::new();
    let sink = tx.copy_in(&format!("COPY \"{table}\" ({}) FROM STDIN BINARY", names.join(", ")))?;
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    let mut rows = statement.query([])?;
    let mut count = 0u64;
    while let Some(row) = rows.next()? {
        let mut values: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(columns.len());
        for (index, column) in columns.iter().enumerate() {
            let value: Value = row.get(index)?;
            if deferred.contains(&column.name)
                && let (Value::Integer(target), Some(id_at)) = (&value, id_at)
            {
                let Value::Integer(id) = row.get::<_, Value>(id_at)? else {
                    return Err(StoreError::Corrupt(format!("{table}: a row without an integer id")));
                };
                later.push((id, column.name.clone(), *target));
                values.push(Box::new(None::<i64>));
                continue;
            }
            values.push(typed(value, &column.ty).map_err(|reason| StoreError::Corrupt(format!("{table}.{}: {reason}", column.name)))?);
        }
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
        writer.write(&refs).map_err(database)?;
        count += 1;
    }
    writer.finish().map_err(database)?;
    for column in deferred {
        let (ids, targets): (Vec<i64>, Vec<i64>) = later.iter().filter(|(_, c, _)| *c == column).map(|(id, _, t)| (*id, *t)).unzip();
        if !ids.is_empty() {
            tx.execute(
                &format!("UPDATE \"{table}\" SET \"{column}\" = v.target FROM unnest($1::bigint[], $2::bigint[]) AS v(id, target) WHERE \"{table}\".id = v.id"),
                &[&ids, &targets],
            )?;
        }
    }
    Ok(count)
}

/// A SQLite value as the PostgreSQL column's type wants it.
fn typed(value: Value, ty: &Type) -> std::result::Result<Box<dyn ToSql + Sync>, String> {
    let wrong = |value: &Value| format!("{value:?} cannot go into a {ty} column");
    Ok(match *ty {
        Type::INT8 => match value {
            Value::Null => Box::new(None::<i64>),
            Value::Integer(n) => Box::new(Some(n)),
            other => return Err(wrong(&other)),
        },
        Type::BOOL => match value {
            Value::Null => Box::new(None::<bool>),
            Value::Integer(n) => Box::new(Some(n != 0)),
            other => return Err(wrong(&other)),
        },
        Type::FLOAT8 => match value {
            Value::Null => Box::new(None::<f64>),
            Value::Integer(n) => Box::new(Some(n as f64)),
            Value::Real(x) => Box::new(Some(x)),
            other => return Err(wrong(&other)),
        },
        Type::TEXT => match value {
            Value::Null => Box::new(None::<String>),
            Value::Text(s) => Box::new(Some(s)),
            Value::Integer(n) => Box::new(Some(n.to_string())),
            other => return Err(wrong(&other)),
        },
        Type::BYTEA => match value {
            Value::Null => Box::new(None::<Vec<u8>>),
            Value::Blob(b) => Box::new(Some(b)),
            other => return Err(wrong(&other)),
        },
        _ => return Err(wrong(&value)),
    })
}

/// Copies the event segments, each with its keys (kept apart in SQLite); returns the segments and
/// the events in them.
fn copy_segments(lite: &rusqlite::Connection, tx: &mut Transaction<'_>, columns: &[Column]) -> Result<(u64, u64)> {
    let expected = ["id", "business", "rows", "min_time", "max_time", "columns", "keys"];
    if columns.iter().map(|c| c.name.as_str()).ne(expected) {
        return Err(StoreError::Invalid("event_segments: the copy knows other columns than PostgreSQL's; this trailmap cannot move this store".into()));
    }
    let mut statement = lite.prepare(
        "SELECT s.id, s.business, s.rows, s.min_time, s.max_time, s.columns, k.keys FROM event_segments s \
         LEFT JOIN event_keys k ON k.segment = s.id ORDER BY s.id",
    )?;
    let types: Vec<Type> = columns.iter().map(|c| c.ty.clone()).collect();
    let sink = tx.copy_in(&format!("COPY event_segments ({}) FROM STDIN BINARY", expected.join(", ")))?;
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    let mut rows = statement.query([])?;
    let (mut segments, mut events) = (0u64, 0u64);
    while let Some(row) = rows.next()? {
        let (id, business, count, min, max): (i64, i64, i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?);
        let data: Vec<u8> = row.get(5)?;
        let keys: Option<Vec<u8>> = row.get(6)?;
        let keys = keys.ok_or_else(|| StoreError::Corrupt(format!("event segment {id} has no keys")))?;
        writer.write(&[&id, &business, &count, &min, &max, &data, &keys]).map_err(database)?;
        segments += 1;
        events += count as u64;
    }
    writer.finish().map_err(database)?;
    Ok((segments, events))
}

/// Every stored event's key as a row of `event_keys`, from the key blocks of SQLite's segments.
fn copy_event_keys(lite: &rusqlite::Connection, tx: &mut Transaction<'_>) -> Result<u64> {
    let mut statement = lite.prepare("SELECT segment, business, keys FROM event_keys ORDER BY segment")?;
    let sink = tx.copy_in("COPY event_keys (business, key_high, key_low) FROM STDIN BINARY")?;
    let mut writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::INT8, Type::INT8]);
    let mut rows = statement.query([])?;
    let mut count = 0u64;
    while let Some(row) = rows.next()? {
        let (segment, business, keys): (i64, i64, Vec<u8>) = (row.get(0)?, row.get(1)?, row.get(2)?);
        for key in decode_keys(segment, &keys)? {
            let (high, low) = key_halves(key);
            writer.write(&[&business, &high, &low]).map_err(database)?;
            count += 1;
        }
    }
    writer.finish().map_err(database)?;
    Ok(count)
}
