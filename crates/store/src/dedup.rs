//! Deduplication of events by their 128-bit keys without holding the stored keys in memory. Each
//! business's keys are kept sorted in one SQLite index (`event_key_index`, a `WITHOUT ROWID` table
//! keyed by business and key, big-endian so the B-tree's order is the keys' numeric order); the
//! writer looks each incoming key up there (one B-tree descent) and adds its new keys at the end of
//! the write, sorted, in the write's transaction. So the writer's memory does not grow with the
//! store, a restart loads nothing, and exactly-once is the transaction's: the keys land with their
//! events or not at all.
//!
//! The per-segment key blobs (`event_keys`) stay: they are the row-aligned record that
//! compaction, merging, erasure and retention carry along with each row. Compaction and merging
//! keep every key, so they leave the index alone; erasure and retention remove rows, and remove
//! those rows' keys from the index in their transaction (`forget_keys`).
//!
//! A store from before the index (schema v11) holds its keys only in the blobs. Each business's
//! index is built by the first write that needs it, in that write's transaction, in sorted chunks
//! of [`BUILD_CHUNK_KEYS`] keys so the one-off build is bounded in memory too.

use crate::segment::decode_keys;
use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use trailmap_model::BusinessId;

/// Keys sorted and inserted at a time while an index is built (64 MiB of keys).
pub(crate) const BUILD_CHUNK_KEYS: usize = 4 << 20;

/// The index's form of a key: big-endian, so byte order is numeric order.
fn key_bytes(key: u128) -> [u8; 16] {
    key.to_be_bytes()
}

/// Whether the business's keys are all in the index (flag set in the transaction that built it).
pub(crate) fn is_indexed(conn: &Connection, business: BusinessId) -> Result<bool> {
    let flag: Option<bool> = conn
        .prepare_cached("SELECT keys_indexed FROM businesses WHERE id = ?1")?
        .query_row([business.0], |r| r.get(0))
        .optional()?;
    flag.ok_or(StoreError::NotFound { what: "business", id: business.0 })
}

/// Builds the business's index from its segments' key blobs unless it is built; answers how many
/// keys were indexed now. Runs in the caller's (write) transaction.
pub(crate) fn ensure_indexed(conn: &Connection, business: BusinessId) -> Result<u64> {
    if is_indexed(conn, business)? {
        return Ok(0);
    }
    let mut chunk: Vec<u128> = Vec::new();
    let mut indexed = 0u64;
    let mut stmt = conn.prepare("SELECT segment, keys FROM event_keys WHERE business = ?1 ORDER BY segment")?;
    let mut rows = stmt.query([business.0])?;
    while let Some(row) = rows.next()? {
        let segment: i64 = row.get(0)?;
        chunk.extend(decode_keys(segment, row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?)?);
        if chunk.len() >= BUILD_CHUNK_KEYS {
            indexed += insert_keys(conn, business, &mut chunk, true)?;
        }
    }
    indexed += insert_keys(conn, business, &mut chunk, true)?;
    conn.prepare_cached("UPDATE businesses SET keys_indexed = 1 WHERE id = ?1")?.execute([business.0])?;
    Ok(indexed)
}

/// Whether `key` is stored for the business (its index must be built).
pub(crate) fn is_stored(conn: &Connection, business: BusinessId, key: u128) -> Result<bool> {
    let found = conn
        .prepare_cached("SELECT 1 FROM event_key_index WHERE business = ?1 AND key = ?2")?
        .exists(params![business.0, &key_bytes(key)[..]])?;
    Ok(found)
}

/// Adds `keys` to the business's index, sorted first so the B-tree is written in order, and
/// empties the vector; answers how many were added. New keys of a write are checked new before, so
/// a key present already is an error unless `tolerate_present` (the build from blobs of an old
/// store, which may hold a key twice).
pub(crate) fn insert_keys(conn: &Connection, business: BusinessId, keys: &mut Vec<u128>, tolerate_present: bool) -> Result<u64> {
    keys.sort_unstable();
    let sql = if tolerate_present {
        "INSERT OR IGNORE INTO event_key_index (business, key) VALUES (?1, ?2)"
    } else {
        "INSERT INTO event_key_index (business, key) VALUES (?1, ?2)"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let mut added = 0u64;
    for &key in keys.iter() {
        added += stmt.execute(params![business.0, &key_bytes(key)[..]])? as u64;
    }
    keys.clear();
    Ok(added)
}

/// Removes these keys of rows that were deleted (an erasure, retention) from the business's index.
/// A business whose index is not built has none of its keys there, so this is then a no-op.
pub(crate) fn forget_keys(conn: &Connection, business: BusinessId, keys: impl IntoIterator<Item = u128>) -> Result<u64> {
    let mut stmt = conn.prepare_cached("DELETE FROM event_key_index WHERE business = ?1 AND key = ?2")?;
    let mut removed = 0u64;
    for key in keys {
        removed += stmt.execute(params![business.0, &key_bytes(key)[..]])? as u64;
    }
    Ok(removed)
}

/// How many keys the business's index holds (tests and the benchmark compare it with the rows).
pub(crate) fn indexed_keys(conn: &Connection, business: BusinessId) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM event_key_index WHERE business = ?1")?
        .query_row([business.0], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}
