//! Compaction: rewriting a business's event segments in customer order. The writer appends
//! segments in arrival order, which is time order across all customers, so every load for
//! analysis has to regroup every row by customer (`Journeys::new` in the engine). Stored in
//! (customer, time, recorded position) order instead, a load hands the engine rows that are
//! already where grouping would put them, and grouping is one check pass. ClickHouse's MergeTree
//! does the same with its sorting key (`OPTIMIZE TABLE ... FINAL`).
//!
//! The rewrite is one write transaction: the new segments are inserted and the old ones (and
//! their key rows) deleted before it commits, so a crash leaves either the old segments or the new
//! ones, never both or neither. Every column of every row is copied as stored, and each row keeps
//! its deduplication key, so a re-import after compaction still finds every event.
//!
//! Memory stays bounded at any size: a first pass decodes only the identity and time columns, to
//! count each customer's rows (and to notice a business already in order, which is then left as
//! it is); the customers are then cut, in id order, into chunks of at most
//! [`COMPACT_CHUNK_ROWS`] rows, and each chunk is one more pass over the old segments that keeps
//! only that chunk's rows, sorts them and writes them out. A chunk of 8 million rows holds about
//! 100 bytes a row (the columns, the key, a sort index) plus its properties' text.

use crate::*;
use crate::segment::{self, ColumnSelection, DecodedSegment, RawProperties, SEGMENT_ROWS, SegmentBuilder, TEXT_COLUMNS, decode_keys};
use super::writer::insert_segment;
use crate::sqlite::customers_of_identities;
use crate::{Result, SqliteStore, StoreError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use trailmap_model::BusinessId;

/// The most rows one pass of a compaction holds in memory (unless one customer alone has more).
pub const COMPACT_CHUNK_ROWS: usize = 8 << 20;

impl SqliteStore {

    /// [`Self::compact_events`] holding at most `chunk_rows` rows a pass, calling `before_commit`
    /// once the new segments are written and the old ones deleted, just before the transaction
    /// commits (an error from it rolls everything back). Tests use both: small chunks to run many
    /// passes over small data, and the hook to kill a process in the middle of a compaction.
    pub fn compact_events_with(
        &mut self,
        business: BusinessId,
        chunk_rows: usize,
        before_commit: &mut dyn FnMut(&CompactSummary) -> Result<()>,
    ) -> Result<CompactSummary> {
        let file_bytes_before = self.file_bytes()?;
        let mut summary = self.compact_in_transaction(business, chunk_rows, file_bytes_before, before_commit)?;
        // The transaction wrote a copy of the events into the write-ahead log and, at the
        // checkpoint, into new pages of the file, while the old segments' pages went free: give
        // them back now. A reader in the way of the checkpoint or of the one-off conversion of an
        // old store (see retention.rs) leaves the space for the next compaction, which is no error.
        let _ = self.give_back_space();
        summary.file_bytes_after = self.file_bytes()?;
        Ok(summary)
    }

    fn compact_in_transaction(
        &mut self,
        business: BusinessId,
        chunk_rows: usize,
        file_bytes_before: u64,
        before_commit: &mut dyn FnMut(&CompactSummary) -> Result<()>,
    ) -> Result<CompactSummary> {
        // Immediate: the check pass must see the segments the rewrite replaces, with no write of
        // another connection in between.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: Option<i64> =
            tx.query_row("SELECT id FROM businesses WHERE id = ?1", [business.0], |r| r.get(0)).optional()?;
        if known.is_none() {
            return Err(StoreError::NotFound { what: "business", id: business.0 });
        }
        let customer_of = customers_of_identities(&tx, business)?;
        let survey = survey(&tx, business, &customer_of)?;
        let mut summary = CompactSummary {
            business,
            events: survey.rows,
            segments_before: survey.segments.len() as u64,
            segments_after: survey.segments.len() as u64,
            rewritten: false,
            passes: 0,
            file_bytes_before,
            file_bytes_after: file_bytes_before,
        };
        if survey.ordered {
            // Nothing was written; dropping the transaction ends it.
            return Ok(summary);
        }
        let last_old = survey.segments.last().map_or(0, |s| s.id);
        let mut builder = SegmentBuilder::default();
        let mut written = 0u64;
        let mut segments_after = 0u64;
        for (low, high, rows) in chunks(&survey.rows_per_customer, chunk_rows.max(1)) {
            let chunk = gather(&tx, &survey.segments, &customer_of, (low, high), rows)?;
            summary.passes += 1;
            // Rows were gathered in recorded order, so the position breaks ties of customer and
            // time as the engine's grouping does.
            let mut order: Vec<u32> = (0..chunk.time.len() as u32).collect();
            order.sort_unstable_by_key(|&r| (chunk.customer[r as usize], chunk.time[r as usize], r));
            for r in order {
                let r = r as usize;
                let start = if r == 0 { 0 } else { chunk.property_ends[r - 1] };
                let text: [u32; TEXT_COLUMNS] = std::array::from_fn(|c| chunk.text[c][r]);
                builder.push_parts(
                    chunk.keys[r],
                    chunk.time[r],
                    chunk.identity[r],
                    text,
                    chunk.revenue[r],
                    &chunk.property_bytes[start..chunk.property_ends[r]],
                );
                // Segments run on across chunks, so every segment but the last is full.
                if builder.len() >= SEGMENT_ROWS {
                    insert_segment(&tx, business, &mut builder)?;
                    segments_after += 1;
                }
                written += 1;
            }
        }
        if !builder.is_empty() {
            insert_segment(&tx, business, &mut builder)?;
            segments_after += 1;
        }
        // New segment ids are above every old one (row ids grow), so the old are those up to the
        // last one the survey read. Keys go first: they reference their segment.
        let keys_deleted = tx.execute("DELETE FROM event_keys WHERE business = ?1 AND segment <= ?2", params![business.0, last_old])?;
        let deleted = tx.execute("DELETE FROM event_segments WHERE business = ?1 AND id <= ?2", params![business.0, last_old])?;
        if written != survey.rows || deleted as u64 != summary.segments_before || keys_deleted != deleted {
            return Err(StoreError::Corrupt(format!(
                "compaction of business {} wrote {written} of {} events and replaced {deleted} of {} segments ({keys_deleted} key rows); nothing was changed",
                business.0, survey.rows, summary.segments_before
            )));
        }
        summary.segments_after = segments_after;
        summary.rewritten = true;
        super::writer::note_event_rewrite(&tx, business)?;
        before_commit(&summary)?;
        tx.commit()?;
        Ok(summary)
    }
}

/// The customer of a row's identity, as an index into per-customer vectors.
fn customer(customer_of: &[i64], segment: i64, identity: i64) -> Result<usize> {
    usize::try_from(identity)
        .ok()
        .and_then(|i| customer_of.get(i))
        .and_then(|&c| usize::try_from(c).ok())
        .filter(|&c| c > 0)
        .ok_or_else(|| StoreError::Corrupt(format!("event segment {segment}: unknown identity {identity}")))
}

/// One old segment as the first pass saw it.
#[derive(Debug, Clone, Copy)]
struct OldSegment {
    id: i64,
    /// The lowest and highest customer of its rows, so a pass skips the segments that hold none of
    /// its chunk (after a compaction, all but the few new ones).
    low: usize,
    high: usize,
}

/// What the first pass learnt.
#[derive(Debug)]
struct Survey {
    segments: Vec<OldSegment>,
    rows_per_customer: Vec<u64>,
    rows: u64,
    /// Whether the rows are already in (customer, time) order, position breaking ties.
    ordered: bool,
}

/// The first pass: only the identity and time columns of every segment.
fn survey(conn: &Connection, business: BusinessId, customer_of: &[i64]) -> Result<Survey> {
    let most = customer_of.iter().copied().max().unwrap_or(0).max(0) as usize;
    let mut survey = Survey { segments: Vec::new(), rows_per_customer: vec![0; most + 1], rows: 0, ordered: true };
    let mut stmt = conn.prepare("SELECT id, columns FROM event_segments WHERE business = ?1 ORDER BY id")?;
    let mut rows = stmt.query([business.0])?;
    let (mut decoded, mut scratch) = (DecodedSegment::default(), Vec::new());
    let mut previous = (0usize, i64::MIN);
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let blob = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
        decoded.time.clear();
        decoded.identity.clear();
        segment::decode_into(id, blob, &ColumnSelection::default(), &mut decoded, &mut scratch)?;
        let (mut low, mut high) = (usize::MAX, 0);
        for (&identity, &time) in decoded.identity.iter().zip(&decoded.time) {
            let c = customer(customer_of, id, identity)?;
            survey.rows_per_customer[c] += 1;
            (low, high) = (low.min(c), high.max(c));
            survey.ordered &= (c, time) >= previous;
            previous = (c, time);
        }
        survey.rows += decoded.identity.len() as u64;
        survey.segments.push(OldSegment { id, low, high });
    }
    Ok(survey)
}

/// The customers, in id order, cut into ranges `(low, high, rows)` of at most `limit` rows each
/// (one customer with more is a range of its own).
fn chunks(rows_per_customer: &[u64], limit: usize) -> Vec<(usize, usize, u64)> {
    let limit = limit as u64;
    let mut out = Vec::new();
    let mut current: Option<(usize, usize, u64)> = None;
    for (c, &n) in rows_per_customer.iter().enumerate().filter(|(_, n)| **n > 0) {
        current = match current {
            Some((low, _, held)) if held + n <= limit => Some((low, c, held + n)),
            Some(full) => {
                out.push(full);
                Some((c, c, n))
            }
            None => Some((c, c, n)),
        };
    }
    out.extend(current);
    out
}

/// The rows of one chunk of customers, in recorded order, every column as stored.
#[derive(Debug, Default)]
struct Chunk {
    customer: Vec<usize>,
    time: Vec<i64>,
    identity: Vec<i64>,
    text: [Vec<u32>; TEXT_COLUMNS],
    revenue: Vec<i64>,
    keys: Vec<u128>,
    /// Row `r`'s properties are `property_bytes[property_ends[r - 1]..property_ends[r]]`.
    property_ends: Vec<usize>,
    property_bytes: Vec<u8>,
}

/// One pass over the old segments that hold any of customers `low..=high`, keeping their rows.
fn gather(conn: &Connection, segments: &[OldSegment], customer_of: &[i64], (low, high): (usize, usize), rows: u64) -> Result<Chunk> {
    let rows = rows as usize;
    let mut chunk = Chunk::default();
    // Exact sizes: the first pass counted the chunk's rows, so no vector grows past them.
    chunk.customer.reserve_exact(rows);
    chunk.time.reserve_exact(rows);
    chunk.identity.reserve_exact(rows);
    chunk.text.iter_mut().for_each(|c| c.reserve_exact(rows));
    chunk.revenue.reserve_exact(rows);
    chunk.keys.reserve_exact(rows);
    chunk.property_ends.reserve_exact(rows);
    let all = ColumnSelection { text: [true; TEXT_COLUMNS], revenue: true, properties: true };
    let mut decoded = DecodedSegment { raw_properties: Some(RawProperties::default()), ..DecodedSegment::default() };
    let mut scratch = Vec::new();
    let mut keys: Vec<u128> = Vec::new();
    let mut stmt = conn.prepare(
        "SELECT s.columns, k.keys FROM event_segments s LEFT JOIN event_keys k ON k.segment = s.id WHERE s.id = ?1",
    )?;
    for old in segments.iter().filter(|s| s.low <= high && s.high >= low) {
        let mut found = stmt.query([old.id])?;
        let row = found.next()?.ok_or_else(|| StoreError::Corrupt(format!("event segment {} vanished during compaction", old.id)))?;
        decoded.time.clear();
        decoded.identity.clear();
        decoded.text.iter_mut().for_each(Vec::clear);
        decoded.revenue.clear();
        let raw = decoded.raw_properties.get_or_insert_with(RawProperties::default);
        raw.lengths.clear();
        raw.bytes.clear();
        let count = segment::decode_into(old.id, row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?, &all, &mut decoded, &mut scratch)?;
        let key_blob = row
            .get_ref(1)?
            .as_blob_or_null()
            .map_err(rusqlite::Error::from)?
            .ok_or_else(|| StoreError::Corrupt(format!("event segment {} has no keys", old.id)))?;
        keys.clear();
        keys.extend(decode_keys(old.id, key_blob)?);
        if keys.len() != count {
            return Err(StoreError::Corrupt(format!("event segment {}: {} keys for {count} rows", old.id, keys.len())));
        }
        let raw = decoded.raw_properties.as_ref().ok_or_else(|| StoreError::Corrupt("properties not decoded".into()))?;
        let mut offset = 0usize;
        for r in 0..count {
            let length = raw.lengths[r] as usize;
            let c = customer(customer_of, old.id, decoded.identity[r])?;
            if (low..=high).contains(&c) {
                chunk.customer.push(c);
                chunk.time.push(decoded.time[r]);
                chunk.identity.push(decoded.identity[r]);
                for (column, values) in chunk.text.iter_mut().zip(&decoded.text) {
                    column.push(values[r]);
                }
                chunk.revenue.push(decoded.revenue[r]);
                chunk.keys.push(keys[r]);
                chunk.property_bytes.extend_from_slice(&raw.bytes[offset..offset + length]);
                chunk.property_ends.push(chunk.property_bytes.len());
            }
            offset += length;
        }
    }
    if chunk.time.len() != rows {
        return Err(StoreError::Corrupt(format!(
            "compaction found {} events of customers {low} to {high}, the first pass {rows}",
            chunk.time.len()
        )));
    }
    Ok(chunk)
}

impl Compaction for SqliteStore {
    fn compact_events(&mut self, business: BusinessId) -> Result<CompactSummary> {
        self.compact_events_with(business, COMPACT_CHUNK_ROWS, &mut |_| Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_are_cut_into_chunks_in_id_order_without_splitting_one() {
        // Customer ids are indices; 0 and 3 have no rows.
        let rows = [0, 4, 3, 0, 5, 12, 1];
        assert_eq!(chunks(&rows, 7), vec![(1, 2, 7), (4, 4, 5), (5, 5, 12), (6, 6, 1)]);
        assert_eq!(chunks(&rows, 100), vec![(1, 6, 25)]);
        assert_eq!(chunks(&rows, 1), vec![(1, 1, 4), (2, 2, 3), (4, 4, 5), (5, 5, 12), (6, 6, 1)]);
        assert!(chunks(&[0, 0], 5).is_empty());
    }
}
