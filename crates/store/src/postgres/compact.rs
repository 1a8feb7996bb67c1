//! Compaction on PostgreSQL: a business's event segments rewritten in (customer, time, recorded
//! position) order, as compact.rs does for SQLite, in one transaction under the write lock, in
//! chunks of customers so memory stays bounded. Rows, keys and every column are kept; the data
//! version stays (every answer is the same), the rewrite count goes up (readers' marks are no
//! longer prefixes).

use super::pool::Pooled;
use super::{PgStore, WRITE_LOCK};
use crate::Compaction;
use crate::segment::{self, ColumnSelection, DecodedSegment, RawProperties, SEGMENT_ROWS, SegmentBuilder, TEXT_COLUMNS, decode_keys};
use crate::{COMPACT_CHUNK_ROWS, CompactSummary, Result, StoreError};
use postgres::Transaction;
use trailmap_model::BusinessId;

impl PgStore {

    /// [`Self::compact_events`] holding at most `chunk_rows` rows a pass, calling `before_commit`
    /// just before the commit (an error from it rolls everything back).
    pub fn compact_events_with(
        &mut self,
        business: BusinessId,
        chunk_rows: usize,
        before_commit: &mut dyn FnMut(&CompactSummary) -> Result<()>,
    ) -> Result<CompactSummary> {
        let mut conn: Pooled<'_> = self.pool.get()?;
        let bytes: i64 = conn.query_one("SELECT pg_database_size(current_database())", &[])?.get(0);
        let bytes = u64::try_from(bytes).unwrap_or(0);
        let mut tx = conn.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        if tx.query_opt("SELECT id FROM businesses WHERE id = $1", &[&business.0])?.is_none() {
            return Err(StoreError::NotFound { what: "business", id: business.0 });
        }
        let mut customer_of: Vec<i64> = Vec::new();
        for row in tx.query("SELECT id, customer FROM identities WHERE business = $1", &[&business.0])? {
            let id = usize::try_from(row.get::<_, i64>(0)).map_err(|_| StoreError::Corrupt("a negative identity id".into()))?;
            if customer_of.len() <= id {
                customer_of.resize(id + 1, 0);
            }
            customer_of[id] = row.get(1);
        }
        let survey = survey(&mut tx, business, &customer_of)?;
        let mut summary = CompactSummary {
            business,
            events: survey.rows,
            segments_before: survey.segments.len() as u64,
            segments_after: survey.segments.len() as u64,
            rewritten: false,
            passes: 0,
            file_bytes_before: bytes,
            file_bytes_after: bytes,
        };
        if survey.ordered {
            return Ok(summary);
        }
        let last_old = survey.segments.last().map_or(0, |s| s.id);
        let mut builder = SegmentBuilder::default();
        let (mut written, mut segments_after) = (0u64, 0u64);
        for (low, high, rows) in chunks(&survey.rows_per_customer, chunk_rows.max(1)) {
            let chunk = gather(&mut tx, &survey.segments, &customer_of, (low, high), rows)?;
            summary.passes += 1;
            let mut order: Vec<u32> = (0..chunk.time.len() as u32).collect();
            order.sort_unstable_by_key(|&r| (chunk.customer[r as usize], chunk.time[r as usize], r));
            for r in order {
                let r = r as usize;
                let start = if r == 0 { 0 } else { chunk.property_ends[r - 1] };
                let text: [u32; TEXT_COLUMNS] = std::array::from_fn(|c| chunk.text[c][r]);
                builder.push_parts(chunk.keys[r], chunk.time[r], chunk.identity[r], text, chunk.revenue[r], &chunk.property_bytes[start..chunk.property_ends[r]]);
                if builder.len() >= SEGMENT_ROWS {
                    insert_segment(&mut tx, business, &mut builder)?;
                    segments_after += 1;
                }
                written += 1;
            }
        }
        if !builder.is_empty() {
            insert_segment(&mut tx, business, &mut builder)?;
            segments_after += 1;
        }
        // New segment ids are above every old one, so the old are those up to the last the survey read.
        let deleted = tx.execute("DELETE FROM event_segments WHERE business = $1 AND id <= $2", &[&business.0, &last_old])?;
        if written != survey.rows || deleted != summary.segments_before {
            return Err(StoreError::Corrupt(format!(
                "compaction of business {} wrote {written} of {} events and replaced {deleted} of {} segments; nothing was changed",
                business.0, survey.rows, summary.segments_before
            )));
        }
        summary.segments_after = segments_after;
        summary.rewritten = true;
        tx.execute("UPDATE businesses SET event_rewrites = event_rewrites + 1 WHERE id = $1", &[&business.0])?;
        before_commit(&summary)?;
        tx.commit()?;
        Ok(summary)
    }
}

fn insert_segment(tx: &mut Transaction<'_>, business: BusinessId, builder: &mut SegmentBuilder) -> Result<()> {
    let rows = builder.len() as i64;
    let (min, max) = builder.min_max_time();
    let (columns, keys) = builder.finish();
    tx.execute(
        "INSERT INTO event_segments (business, rows, min_time, max_time, columns, keys) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&business.0, &rows, &min, &max, &columns, &keys],
    )?;
    Ok(())
}

fn customer(customer_of: &[i64], segment: i64, identity: i64) -> Result<usize> {
    usize::try_from(identity)
        .ok()
        .and_then(|i| customer_of.get(i))
        .and_then(|&c| usize::try_from(c).ok())
        .filter(|&c| c > 0)
        .ok_or_else(|| StoreError::Corrupt(format!("event segment {segment}: unknown identity {identity}")))
}

/// One old segment as the first pass saw it: its id and the lowest and highest customer of its rows.
#[derive(Debug, Clone, Copy)]
struct OldSegment {
    id: i64,
    low: usize,
    high: usize,
}

#[derive(Debug)]
struct Survey {
    segments: Vec<OldSegment>,
    rows_per_customer: Vec<u64>,
    rows: u64,
    ordered: bool,
}

/// The first pass: only the identity and time columns of every segment.
fn survey(tx: &mut Transaction<'_>, business: BusinessId, customer_of: &[i64]) -> Result<Survey> {
    let most = customer_of.iter().copied().max().unwrap_or(0).max(0) as usize;
    let mut survey = Survey { segments: Vec::new(), rows_per_customer: vec![0; most + 1], rows: 0, ordered: true };
    let ids: Vec<i64> = tx.query("SELECT id FROM event_segments WHERE business = $1 ORDER BY id", &[&business.0])?.iter().map(|r| r.get(0)).collect();
    let (mut decoded, mut scratch) = (DecodedSegment::default(), Vec::new());
    let mut previous = (0usize, i64::MIN);
    for id in ids {
        let blob: Vec<u8> = tx.query_one("SELECT columns FROM event_segments WHERE id = $1", &[&id])?.get(0);
        decoded.time.clear();
        decoded.identity.clear();
        segment::decode_into(id, &blob, &ColumnSelection::default(), &mut decoded, &mut scratch)?;
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

/// The customers, in id order, cut into ranges `(low, high, rows)` of at most `limit` rows each.
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

#[derive(Debug, Default)]
struct Chunk {
    customer: Vec<usize>,
    time: Vec<i64>,
    identity: Vec<i64>,
    text: [Vec<u32>; TEXT_COLUMNS],
    revenue: Vec<i64>,
    keys: Vec<u128>,
    property_ends: Vec<usize>,
    property_bytes: Vec<u8>,
}

/// One pass over the old segments that hold any of customers `low..=high`, keeping their rows in
/// recorded order, every column as stored.
fn gather(tx: &mut Transaction<'_>, segments: &[OldSegment], customer_of: &[i64], (low, high): (usize, usize), rows: u64) -> Result<Chunk> {
    let mut chunk = Chunk::default();
    let all = ColumnSelection { text: [true; TEXT_COLUMNS], revenue: true, properties: true };
    let mut scratch = Vec::new();
    for old in segments.iter().filter(|s| s.low <= high && s.high >= low) {
        let row = tx
            .query_opt("SELECT columns, keys FROM event_segments WHERE id = $1", &[&old.id])?
            .ok_or_else(|| StoreError::Corrupt(format!("event segment {} vanished during compaction", old.id)))?;
        let (columns, key_blob): (&[u8], &[u8]) = (row.get(0), row.get(1));
        let mut decoded = DecodedSegment { raw_properties: Some(RawProperties::default()), ..DecodedSegment::default() };
        let count = segment::decode_into(old.id, columns, &all, &mut decoded, &mut scratch)?;
        let keys: Vec<u128> = decode_keys(old.id, key_blob)?.collect();
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
    if chunk.time.len() as u64 != rows {
        return Err(StoreError::Corrupt(format!("compaction found {} events of customers {low} to {high}, the first pass {rows}", chunk.time.len())));
    }
    Ok(chunk)
}

impl Compaction for PgStore {
    fn compact_events(&mut self, business: BusinessId) -> Result<CompactSummary> {
        self.compact_events_with(business, COMPACT_CHUNK_ROWS, &mut |_| Ok(()))
    }
}
