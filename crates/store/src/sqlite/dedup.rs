//! Deduplication of events by their 128-bit keys without holding the stored keys in memory, and
//! without making bulk writes pay for it.
//!
//! Every event needs its key checked: tracking retries carry the same `messageId`, and an import is
//! idempotent per event, not per file (a key is the row's `message_id`, or a hash of its content),
//! so a file imported twice, or two exports that overlap by a week, add each event once. So every
//! key is indexed. The index has two parts, chosen by the size of the write:
//!
//! - **The B-tree** (`event_key_index`, a `WITHOUT ROWID` table keyed by business and key,
//!   big-endian so byte order is numeric order) takes the keys of small writes: a tracking group
//!   commit inserts its few hundred keys, one B-tree descent each.
//! - **Sorted runs** (`event_key_runs`, `event_key_chunks`) take the keys of big writes (an import,
//!   the demo): a write with at least [`RUN_MIN_KEYS`] new keys for a business writes them, sorted,
//!   as one run of chunks of [`CHUNK_KEYS`] keys (a chunk is one row, keyed by its first key, small
//!   enough to stay on its B-tree page). Writing a run appends; inserting a million keys spread over
//!   a B-tree of ten million rewrote most of its pages and ran at 26,600 events a second
//!   (`bench/results/segments.md`). A run costs 16 bytes a key and little more, against about 25
//!   in the B-tree.
//!
//! A key is stored when the B-tree or any run holds it: one descent in the B-tree and one per run
//! (the chunk whose first key is the greatest not above it, then a binary search in its 56 keys).
//! So the runs are kept few, as a log-structured merge tree keeps its levels: after a write adds a
//! run, the newest runs are merged into one while the run before them is at most twice their size
//! ([`settle_runs`]), and never more than [`MAX_RUNS`] stay; each key is rewritten a logarithmic
//! number of times over its life, sequentially, in bounded memory (one chunk per run merged).
//!
//! A big write does not look every key up either: after [`FILTER_AFTER`] lookups a write builds a
//! blocked Bloom filter ([`KeyFilter`], 16 bits a key, one cache line per key) of the business's
//! stored keys and its own, and looks a key up in the store only when the filter says it may be
//! there (about one key in a thousand, and every real duplicate). The filter lives for that write
//! only; the writer after a restart holds nothing and looks its keys up.
//!
//! Exactly-once is the transaction's: the new keys land in the B-tree or a run with their events,
//! or not at all. The per-segment key blobs (`event_keys`) stay: they are the row-aligned record
//! that compaction, merging, erasure and retention carry with each row; erasure and retention take
//! the removed rows' keys out of the index ([`forget_keys`]), compaction and merging keep every
//! key and leave the index alone. Keys are thus stored twice (blob and index), 16 bytes a key
//! each: the price of forgetting a removed row's key without a scan.
//!
//! A store from before the index (schema v11) holds its keys only in the blobs. Each business's
//! index is built by the first write that needs it, in that write's transaction, as sorted runs of
//! at most [`BUILD_CHUNK_KEYS`] keys then merged, so the one-off build is bounded in memory too.

use crate::segment::decode_keys;
use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use trailmap_model::BusinessId;

/// Keys sorted and written as one run at a time while an index is built (64 MiB of keys).
pub(crate) const BUILD_CHUNK_KEYS: usize = 4 << 20;

/// A write with at least this many new keys for a business writes them as a run; fewer go into
/// the B-tree (a tracking group commit holds a few hundred). Far below it a run would be one of
/// many small ones each lookup visits until they are merged.
pub(crate) const RUN_MIN_KEYS: usize = 10_000;

/// Keys in a chunk row of a run: 896 bytes of keys, so a chunk stays within the B-tree page it is
/// found on (an index page keeps payloads up to about 1,000 bytes local on 4 KiB pages) and a
/// lookup reads no overflow page.
pub(crate) const CHUNK_KEYS: usize = 56;

/// The most runs a business keeps: beyond, they are all merged into one.
pub(crate) const MAX_RUNS: usize = 8;

/// Lookups in the store a write makes for a business before it builds a [`KeyFilter`]: a
/// tracking batch never gets there, an import after its first few hundredths of a second.
pub(crate) const FILTER_AFTER: u64 = 10_000;

/// The index's form of a key: big-endian, so byte order is numeric order.
fn key_bytes(key: u128) -> [u8; 16] {
    key.to_be_bytes()
}

/// The keys of a chunk (big-endian, in order) as numbers.
fn chunk_keys(bytes: &[u8]) -> Result<Vec<u128>> {
    if !bytes.len().is_multiple_of(16) {
        return Err(StoreError::Corrupt(format!("a key chunk of {} bytes, not a multiple of 16", bytes.len())));
    }
    Ok(bytes.chunks_exact(16).map(|k| u128::from_be_bytes(k.try_into().unwrap_or_default())).collect())
}

/// Whether the big-endian keys of a chunk, in order, hold `key`.
fn chunk_holds(bytes: &[u8], key: u128) -> bool {
    let wanted = key_bytes(key);
    let n = bytes.len() / 16;
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        match bytes[mid * 16..mid * 16 + 16].cmp(&wanted[..]) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
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
            indexed += write_run(conn, business, &mut chunk)?;
        }
    }
    indexed += write_run(conn, business, &mut chunk)?;
    // The build's runs are of about one size: merged into one, as a later write would.
    settle_runs(conn, business)?;
    conn.prepare_cached("UPDATE businesses SET keys_indexed = 1 WHERE id = ?1")?.execute([business.0])?;
    Ok(indexed)
}

/// The business's runs as (run, keys), oldest first.
pub(crate) fn runs(conn: &Connection, business: BusinessId) -> Result<Vec<(i64, u64)>> {
    let runs = conn
        .prepare_cached("SELECT run, keys FROM event_key_runs WHERE business = ?1 ORDER BY run")?
        .query_map([business.0], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(runs)
}

/// Whether `key` is stored for the business (its index must be built): in the B-tree or in one of
/// `runs` (the business's run ids, as [`runs`] lists them).
pub(crate) fn is_stored(conn: &Connection, business: BusinessId, runs: &[i64], key: u128) -> Result<bool> {
    let bytes = key_bytes(key);
    let found = conn
        .prepare_cached("SELECT 1 FROM event_key_index WHERE business = ?1 AND key = ?2")?
        .exists(params![business.0, &bytes[..]])?;
    if found {
        return Ok(true);
    }
    for &run in runs {
        if let Some((_, chunk)) = chunk_at(conn, business, run, key)?
            && chunk_holds(&chunk, key)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The chunk of `run` that would hold `key`: the one whose first key is the greatest not above it,
/// as (first key, keys).
fn chunk_at(conn: &Connection, business: BusinessId, run: i64, key: u128) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
    Ok(conn
        .prepare_cached(
            "SELECT first_key, keys FROM event_key_chunks
             WHERE business = ?1 AND run = ?2 AND first_key <= ?3 ORDER BY first_key DESC LIMIT 1",
        )?
        .query_row(params![business.0, run, &key_bytes(key)[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Adds `keys` to the business's B-tree, sorted first so the B-tree is written in order, and
/// empties the vector; answers how many were added. New keys of a write are checked new before,
/// so a key present already is an error.
pub(crate) fn insert_keys(conn: &Connection, business: BusinessId, keys: &mut Vec<u128>) -> Result<u64> {
    keys.sort_unstable();
    let mut stmt = conn.prepare_cached("INSERT INTO event_key_index (business, key) VALUES (?1, ?2)")?;
    let mut added = 0u64;
    for &key in keys.iter() {
        added += stmt.execute(params![business.0, &key_bytes(key)[..]])? as u64;
    }
    keys.clear();
    Ok(added)
}

/// Writes the chunks of one run, keys given in increasing order.
struct RunWriter {
    business: BusinessId,
    run: i64,
    chunk: Vec<u8>,
    written: u64,
}

impl RunWriter {
    /// A new run of the business, numbered after its last.
    fn new(conn: &Connection, business: BusinessId) -> Result<RunWriter> {
        let last: Option<i64> = conn
            .prepare_cached("SELECT max(run) FROM event_key_runs WHERE business = ?1")?
            .query_row([business.0], |r| r.get(0))?;
        let run = last.unwrap_or(0) + 1;
        conn.prepare_cached("INSERT INTO event_key_runs (business, run, keys) VALUES (?1, ?2, 0)")?.execute(params![business.0, run])?;
        Ok(RunWriter { business, run, chunk: Vec::with_capacity(CHUNK_KEYS * 16), written: 0 })
    }

    fn push(&mut self, conn: &Connection, key: u128) -> Result<()> {
        self.chunk.extend_from_slice(&key_bytes(key));
        if self.chunk.len() == CHUNK_KEYS * 16 {
            self.write_chunk(conn)?;
        }
        Ok(())
    }

    fn write_chunk(&mut self, conn: &Connection) -> Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        conn.prepare_cached("INSERT INTO event_key_chunks (business, run, first_key, keys) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![self.business.0, self.run, &self.chunk[..16], &self.chunk[..]])?;
        self.written += (self.chunk.len() / 16) as u64;
        self.chunk.clear();
        Ok(())
    }

    /// Writes the last chunk and the run's size; answers the keys written. An empty run is removed.
    fn finish(mut self, conn: &Connection) -> Result<u64> {
        self.write_chunk(conn)?;
        if self.written == 0 {
            conn.prepare_cached("DELETE FROM event_key_runs WHERE business = ?1 AND run = ?2")?.execute(params![self.business.0, self.run])?;
        } else {
            conn.prepare_cached("UPDATE event_key_runs SET keys = ?3 WHERE business = ?1 AND run = ?2")?
                .execute(params![self.business.0, self.run, self.written as i64])?;
        }
        Ok(self.written)
    }
}

/// Writes `keys` (in any order, each once or more) as a new run of the business, and empties the
/// vector; answers how many distinct keys the run holds. Does not merge: see [`settle_runs`].
pub(crate) fn write_run(conn: &Connection, business: BusinessId, keys: &mut Vec<u128>) -> Result<u64> {
    if keys.is_empty() {
        return Ok(0);
    }
    keys.sort_unstable();
    keys.dedup();
    let mut run = RunWriter::new(conn, business)?;
    for &key in keys.iter() {
        run.push(conn, key)?;
    }
    keys.clear();
    run.finish(conn)
}

/// Reads one run's keys in order, a page of chunks at a time, deleting the chunks it has read
/// once they are used (a merge's output reuses their pages, so the file does not grow by a run).
struct RunReader {
    run: i64,
    keys: Vec<u128>,
    at: usize,
    /// The first key of the last chunk read: the next page starts after it.
    last_first: Option<Vec<u8>>,
    done: bool,
}

/// Chunks read at a time by a [`RunReader`] (about 57 KB of keys).
const READ_CHUNKS: i64 = 64;

impl RunReader {
    fn new(run: i64) -> RunReader {
        RunReader { run, keys: Vec::new(), at: 0, last_first: None, done: false }
    }

    /// The run's next key, without taking it.
    fn peek(&mut self, conn: &Connection, business: BusinessId) -> Result<Option<u128>> {
        if self.at == self.keys.len() && !self.done {
            self.refill(conn, business)?;
        }
        Ok(self.keys.get(self.at).copied())
    }

    fn refill(&mut self, conn: &Connection, business: BusinessId) -> Result<()> {
        self.keys.clear();
        self.at = 0;
        let after = self.last_first.clone().unwrap_or_default();
        if self.last_first.is_some() {
            // Every key read so far is used: its chunks can go.
            conn.prepare_cached("DELETE FROM event_key_chunks WHERE business = ?1 AND run = ?2 AND first_key <= ?3")?
                .execute(params![business.0, self.run, &after[..]])?;
        }
        let mut stmt = conn.prepare_cached(
            "SELECT first_key, keys FROM event_key_chunks
             WHERE business = ?1 AND run = ?2 AND first_key > ?3 ORDER BY first_key LIMIT ?4",
        )?;
        let mut rows = stmt.query(params![business.0, self.run, &after[..], READ_CHUNKS])?;
        while let Some(row) = rows.next()? {
            self.last_first = Some(row.get(0)?);
            self.keys.extend(chunk_keys(row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?)?);
        }
        self.done = self.keys.is_empty();
        Ok(())
    }
}

/// Merges `runs` of the business into one new run (keys present in several once), deleting them;
/// answers the keys of the merged run. Memory: a page of chunks per run.
fn merge_runs(conn: &Connection, business: BusinessId, runs: &[i64]) -> Result<u64> {
    let mut readers: Vec<RunReader> = runs.iter().map(|&run| RunReader::new(run)).collect();
    let mut out = RunWriter::new(conn, business)?;
    let mut last: Option<u128> = None;
    loop {
        let mut smallest: Option<(usize, u128)> = None;
        for (i, reader) in readers.iter_mut().enumerate() {
            if let Some(key) = reader.peek(conn, business)?
                && smallest.is_none_or(|(_, s)| key < s)
            {
                smallest = Some((i, key));
            }
        }
        let Some((i, key)) = smallest else { break };
        readers[i].at += 1;
        if last != Some(key) {
            out.push(conn, key)?;
            last = Some(key);
        }
    }
    for &run in runs {
        conn.prepare_cached("DELETE FROM event_key_chunks WHERE business = ?1 AND run = ?2")?.execute(params![business.0, run])?;
        conn.prepare_cached("DELETE FROM event_key_runs WHERE business = ?1 AND run = ?2")?.execute(params![business.0, run])?;
    }
    out.finish(conn)
}

/// Keeps the business's runs few after a write added some: the newest runs are merged into one
/// while the run before them holds at most twice their keys together, so the runs' sizes at least
/// double from newest to oldest (a logarithmic number of them, each key rewritten a logarithmic
/// number of times); more than [`MAX_RUNS`] are all merged. Answers the run ids left, oldest first.
pub(crate) fn settle_runs(conn: &Connection, business: BusinessId) -> Result<Vec<i64>> {
    let all = runs(conn, business)?;
    let mut take = 0usize;
    if let Some(&(_, newest)) = all.last() {
        take = 1;
        let mut held = newest;
        while take < all.len() && all[all.len() - 1 - take].1 <= 2 * held {
            held += all[all.len() - 1 - take].1;
            take += 1;
        }
    }
    if all.len() - take + 1 > MAX_RUNS {
        take = all.len();
    }
    if take >= 2 {
        let merged: Vec<i64> = all[all.len() - take..].iter().map(|&(run, _)| run).collect();
        merge_runs(conn, business, &merged)?;
    }
    Ok(runs(conn, business)?.into_iter().map(|(run, _)| run).collect())
}

/// Removes these keys of rows that were deleted (an erasure, retention) from the business's index:
/// from the B-tree, and from the run chunks that hold them (each chunk rewritten once). A business
/// whose index is not built has none of its keys there, so this is then a no-op. Answers how many
/// keys were removed.
pub(crate) fn forget_keys(conn: &Connection, business: BusinessId, keys: impl IntoIterator<Item = u128>) -> Result<u64> {
    let mut keys: Vec<u128> = keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    let mut stmt = conn.prepare_cached("DELETE FROM event_key_index WHERE business = ?1 AND key = ?2")?;
    let mut removed = 0u64;
    for &key in &keys {
        removed += stmt.execute(params![business.0, &key_bytes(key)[..]])? as u64;
    }
    for (run, _) in runs(conn, business)? {
        let mut from_run = 0u64;
        let mut i = 0usize;
        while i < keys.len() {
            let Some((first, chunk)) = chunk_at(conn, business, run, keys[i])? else {
                i += 1;
                continue;
            };
            let mut held = chunk_keys(&chunk)?;
            let last = held.last().copied().unwrap_or(0);
            let before = held.len();
            // Every key of the sorted list up to the chunk's last key can only be in this chunk.
            let mut gone = Vec::new();
            while i < keys.len() && keys[i] <= last {
                gone.push(keys[i]);
                i += 1;
            }
            if gone.is_empty() {
                i += 1;
                continue;
            }
            held.retain(|k| gone.binary_search(k).is_err());
            if held.len() == before {
                continue;
            }
            from_run += (before - held.len()) as u64;
            conn.prepare_cached("DELETE FROM event_key_chunks WHERE business = ?1 AND run = ?2 AND first_key = ?3")?
                .execute(params![business.0, run, first])?;
            if let Some(&new_first) = held.first() {
                let bytes: Vec<u8> = held.iter().flat_map(|k| key_bytes(*k)).collect();
                conn.prepare_cached("INSERT INTO event_key_chunks (business, run, first_key, keys) VALUES (?1, ?2, ?3, ?4)")?
                    .execute(params![business.0, run, &key_bytes(new_first)[..], bytes])?;
            }
        }
        if from_run > 0 {
            conn.prepare_cached("UPDATE event_key_runs SET keys = keys - ?3 WHERE business = ?1 AND run = ?2")?
                .execute(params![business.0, run, from_run as i64])?;
            removed += from_run;
        }
    }
    Ok(removed)
}

/// How many keys the business's index holds, B-tree and runs (tests and the benchmark compare it
/// with the rows).
pub(crate) fn indexed_keys(conn: &Connection, business: BusinessId) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM event_key_index WHERE business = ?1")?
        .query_row([business.0], |r| r.get(0))?;
    let in_runs: u64 = runs(conn, business)?.iter().map(|&(_, keys)| keys).sum();
    Ok(u64::try_from(n).unwrap_or(0) + in_runs)
}

/// A blocked Bloom filter of keys, held by one big write (see the module's comment): 16 bits a
/// key, the 7 bits of a key in one 64-byte block so a check costs one cache miss; about one key
/// in a thousand not in it answers "may be" at its capacity. Keys are hashes already, so their own
/// bits place them.
#[derive(Debug)]
pub(crate) struct KeyFilter {
    blocks: Vec<[u64; 8]>,
    held: u64,
    capacity: u64,
}

impl KeyFilter {
    /// A filter for up to `capacity` keys (more can go in: it then answers "may be" more often).
    pub(crate) fn with_capacity(capacity: u64) -> KeyFilter {
        let blocks = (capacity.max(1024) * 16).div_ceil(512) as usize;
        KeyFilter { blocks: vec![[0u64; 8]; blocks], held: 0, capacity }
    }

    fn block(&self, key: u128) -> usize {
        ((u128::from(key as u64) * self.blocks.len() as u128) >> 64) as usize
    }

    /// The bit positions of a key in its block: 7 positions of 9 bits from the key's upper half.
    fn bits(key: u128) -> impl Iterator<Item = (usize, u64)> {
        let high = (key >> 64) as u64;
        (0..7).map(move |i| {
            let bit = (high >> (i * 9)) & 511;
            ((bit >> 6) as usize, 1u64 << (bit & 63))
        })
    }

    pub(crate) fn insert(&mut self, key: u128) {
        let b = self.block(key);
        let block = &mut self.blocks[b];
        for (word, mask) in Self::bits(key) {
            block[word] |= mask;
        }
        self.held += 1;
    }

    /// False when the key is surely not in the filter.
    pub(crate) fn may_contain(&self, key: u128) -> bool {
        let block = &self.blocks[self.block(key)];
        Self::bits(key).all(|(word, mask)| block[word] & mask != 0)
    }

    /// Whether the filter holds more keys than it was made for (then it is rebuilt larger).
    pub(crate) fn is_full(&self) -> bool {
        self.held > self.capacity
    }

    /// A filter of every key the business's index holds (B-tree and runs) and of `also` (a write's
    /// keys not in the index yet), with room for as many again and at least 4M more.
    pub(crate) fn of_index(conn: &Connection, business: BusinessId, also: impl ExactSizeIterator<Item = u128> + Clone) -> Result<KeyFilter> {
        let stored = indexed_keys(conn, business)?;
        let mut filter = KeyFilter::with_capacity(2 * (stored + also.len() as u64) + (4 << 20));
        let mut stmt = conn.prepare_cached("SELECT key FROM event_key_index WHERE business = ?1")?;
        let mut rows = stmt.query([business.0])?;
        while let Some(row) = rows.next()? {
            let bytes = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
            let key: [u8; 16] = bytes.try_into().map_err(|_| StoreError::Corrupt(format!("an indexed key of {} bytes", bytes.len())))?;
            filter.insert(u128::from_be_bytes(key));
        }
        let mut stmt = conn.prepare_cached("SELECT keys FROM event_key_chunks WHERE business = ?1")?;
        let mut rows = stmt.query([business.0])?;
        while let Some(row) = rows.next()? {
            for key in chunk_keys(row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?)? {
                filter.insert(key);
            }
        }
        for key in also {
            filter.insert(key);
        }
        Ok(filter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_finds_exactly_its_keys() {
        let keys: Vec<u128> = (0..CHUNK_KEYS as u128).map(|i| i * 1_000 + 7).collect();
        let bytes: Vec<u8> = keys.iter().flat_map(|k| key_bytes(*k)).collect();
        for &k in &keys {
            assert!(chunk_holds(&bytes, k));
            assert!(!chunk_holds(&bytes, k + 1));
        }
        assert!(!chunk_holds(&bytes, 0));
        assert_eq!(chunk_keys(&bytes).unwrap(), keys);
        assert!(chunk_keys(&bytes[..15]).is_err());
    }

    #[test]
    fn the_filter_never_misses_and_rarely_lies() {
        let key = |i: u64| (u128::from(xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes())) << 64) | u128::from(xxhash_rust::xxh3::xxh3_64(&((i + 1) << 40).to_le_bytes()));
        let mut filter = KeyFilter::with_capacity(100_000);
        for i in 0..100_000 {
            filter.insert(key(i));
        }
        assert!((0..100_000).all(|i| filter.may_contain(key(i))));
        let false_positives = (100_000..200_000).filter(|&i| filter.may_contain(key(i))).count();
        // 16 bits a key and 7 bits a key in a 512-bit block: about 0.1 %.
        assert!(false_positives < 300, "{false_positives} false positives in 100,000");
        assert!(!filter.is_full());
    }
}
