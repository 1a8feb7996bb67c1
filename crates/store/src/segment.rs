//! The columnar encoding of event segments. A segment holds up to [`SEGMENT_ROWS`] events as one
//! LZ4-compressed block per column, so loading events for analysis is a few large blob reads and
//! memcpy-speed decoding instead of millions of row fetches; that is what lets a fresh process load
//! ten million events in about a second.
//!
//! Layout: magic `TMS1`, row count (u32), column count (u8), then per column its compressed length
//! (u32) and the block (LZ4 with the uncompressed size prepended). All integers little-endian.
//! Times are stored as deltas from the previous row, which compress to almost nothing.

use crate::StoreError;
use lz4_flex::block::{compress_prepend_size, decompress_into, uncompressed_size};

/// Rows per segment: big enough for fast sequential loads, small enough to build in memory.
pub const SEGMENT_ROWS: usize = 1 << 16;

const MAGIC: &[u8; 4] = b"TMS1";

/// The text columns of a segment, in their on-disk order.
pub const TEXT_COLUMNS: usize = 8;

/// One event as the segment stores it: every text field already interned.
#[derive(Debug, Clone, Default)]
pub struct SegmentRow {
    pub time: i64,
    pub identity: i64,
    /// name, channel, source, medium, campaign, referrer, page, currency.
    pub text: [u32; TEXT_COLUMNS],
    pub revenue_minor: i64,
    /// JSON text of the properties; empty for none.
    pub properties: String,
}

/// Accumulates rows and encodes them.
#[derive(Debug, Default)]
pub struct SegmentBuilder {
    time: Vec<i64>,
    identity: Vec<i64>,
    text: [Vec<u32>; TEXT_COLUMNS],
    revenue: Vec<i64>,
    property_lengths: Vec<u32>,
    property_bytes: Vec<u8>,
    pub keys: Vec<u128>,
}

impl SegmentBuilder {
    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    pub fn push(&mut self, key: u128, row: &SegmentRow) {
        self.push_parts(key, row.time, row.identity, row.text, row.revenue_minor, row.properties.as_bytes());
    }

    /// [`Self::push`] from the columns' values, the properties as the JSON text's bytes (empty for
    /// none): what compaction copies from one segment to another without building a
    /// [`SegmentRow`] (and its string) per row.
    pub fn push_parts(&mut self, key: u128, time: i64, identity: i64, text: [u32; TEXT_COLUMNS], revenue_minor: i64, properties: &[u8]) {
        self.keys.push(key);
        self.time.push(time);
        self.identity.push(identity);
        for (column, value) in self.text.iter_mut().zip(text) {
            column.push(value);
        }
        self.revenue.push(revenue_minor);
        self.property_lengths.push(properties.len() as u32);
        self.property_bytes.extend_from_slice(properties);
    }

    pub fn min_max_time(&self) -> (i64, i64) {
        let min = self.time.iter().copied().min().unwrap_or(0);
        let max = self.time.iter().copied().max().unwrap_or(0);
        (min, max)
    }

    /// Encodes the columns and the keys, and empties the builder.
    pub fn finish(&mut self) -> (Vec<u8>, Vec<u8>) {
        let rows = self.len();
        let mut out = Vec::with_capacity(rows * 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(rows as u32).to_le_bytes());
        out.push((4 + TEXT_COLUMNS) as u8);
        let mut previous = 0i64;
        let deltas: Vec<u8> = self
            .time
            .iter()
            .flat_map(|&t| {
                let delta = t.wrapping_sub(previous);
                previous = t;
                delta.to_le_bytes()
            })
            .collect();
        push_block(&mut out, &deltas);
        push_block(&mut out, &i64_bytes(&self.identity));
        for column in &self.text {
            push_block(&mut out, &column.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>());
        }
        push_block(&mut out, &i64_bytes(&self.revenue));
        let mut properties: Vec<u8> = self.property_lengths.iter().flat_map(|v| v.to_le_bytes()).collect();
        properties.extend_from_slice(&self.property_bytes);
        push_block(&mut out, &properties);
        let keys = self.keys.iter().flat_map(|k| k.to_le_bytes()).collect();
        *self = SegmentBuilder::default();
        (out, keys)
    }
}

fn i64_bytes(values: &[i64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn push_block(out: &mut Vec<u8>, raw: &[u8]) {
    let block = compress_prepend_size(raw);
    out.extend_from_slice(&(block.len() as u32).to_le_bytes());
    out.extend_from_slice(&block);
}

/// A decoded segment. Properties are decoded only when asked for.
#[derive(Debug, Default)]
pub struct DecodedSegment {
    pub time: Vec<i64>,
    pub identity: Vec<i64>,
    pub text: [Vec<u32>; TEXT_COLUMNS],
    pub revenue: Vec<i64>,
    pub properties: Option<Vec<Option<Box<str>>>>,
    /// The properties as stored, when asked for and `properties` is `None`: each row's length and
    /// all rows' bytes. Compaction copies them without a string per row.
    pub raw_properties: Option<RawProperties>,
}

/// A properties column as stored: row `r`'s JSON text is the `lengths[r]` bytes after the
/// previous rows' (empty for none).
#[derive(Debug, Default)]
pub struct RawProperties {
    pub lengths: Vec<u32>,
    pub bytes: Vec<u8>,
}

/// Which columns [`decode_into`] decodes: time and identity always; a text column by its
/// position in [`TEXT_COLUMNS`] order; the rest by flag. A column not selected is skipped without
/// decompressing it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ColumnSelection {
    pub text: [bool; TEXT_COLUMNS],
    pub revenue: bool,
    pub properties: bool,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    segment: i64,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.bytes.len() < n {
            return Err(corrupt(self.segment, "truncated"));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn u32(&mut self) -> Result<u32, StoreError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Decompresses the next block into `scratch` (reused between blocks so a load allocates
    /// once per column, not once per block) and returns it.
    fn block<'s>(&mut self, rows: usize, width: usize, scratch: &'s mut Vec<u8>) -> Result<&'s [u8], StoreError> {
        let len = self.u32()? as usize;
        let compressed = self.take(len)?;
        let (size, body) =
            uncompressed_size(compressed).map_err(|e| corrupt(self.segment, &format!("bad block: {e}")))?;
        if width > 0 && size != rows * width {
            return Err(corrupt(self.segment, "column length does not match the row count"));
        }
        scratch.clear();
        scratch.resize(size, 0);
        let written = decompress_into(body, scratch).map_err(|e| corrupt(self.segment, &format!("bad block: {e}")))?;
        if written != size {
            return Err(corrupt(self.segment, "block shorter than its stated size"));
        }
        Ok(scratch)
    }

    fn skip_block(&mut self) -> Result<(), StoreError> {
        let len = self.u32()? as usize;
        self.take(len).map(|_| ())
    }
}

fn corrupt(segment: i64, why: &str) -> StoreError {
    StoreError::Corrupt(format!("event segment {segment}: {why}"))
}

fn extend_i64s(out: &mut Vec<i64>, raw: &[u8]) {
    out.extend(raw.chunks_exact(8).map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])));
}

fn extend_u32s(out: &mut Vec<u32>, raw: &[u8]) {
    out.extend(raw.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])));
}

/// Decodes every column of a segment, the properties only when asked for.
/// Appends the rows of segment `id` (its `columns` and `keys` as stored) that
/// `keep` accepts, given each row's time, identity and text ids, to `builder`, every column and
/// the key copied as stored; answers the keys of the rows left out.
pub(crate) fn copy_rows(
    id: i64,
    (columns, keys): (&[u8], Option<&[u8]>),
    builder: &mut SegmentBuilder,
    keep: &mut dyn FnMut(i64, i64, &[u32; TEXT_COLUMNS]) -> bool,
) -> Result<Vec<u128>, StoreError> {
    let all = ColumnSelection { text: [true; TEXT_COLUMNS], revenue: true, properties: true };
    let mut decoded = DecodedSegment { raw_properties: Some(RawProperties::default()), ..DecodedSegment::default() };
    let count = crate::segment::decode_into(id, columns, &all, &mut decoded, &mut Vec::new())?;
    let keys = keys.ok_or_else(|| StoreError::Corrupt(format!("event segment {id} has no keys")))?;
    let keys: Vec<u128> = decode_keys(id, keys)?.collect();
    if keys.len() != count {
        return Err(StoreError::Corrupt(format!("event segment {id}: {} keys for {count} rows", keys.len())));
    }
    let raw = decoded.raw_properties.as_ref().ok_or_else(|| StoreError::Corrupt("properties not decoded".into()))?;
    let mut removed = Vec::new();
    let mut offset = 0usize;
    for (r, &key) in keys.iter().enumerate() {
        let length = raw.lengths[r] as usize;
        let text: [u32; TEXT_COLUMNS] = std::array::from_fn(|c| decoded.text[c][r]);
        if keep(decoded.time[r], decoded.identity[r], &text) {
            builder.push_parts(key, decoded.time[r], decoded.identity[r], text, decoded.revenue[r], &raw.bytes[offset..offset + length]);
        } else {
            removed.push(key);
        }
        offset += length;
    }
    Ok(removed)
}

#[cfg(test)]
pub fn decode(segment: i64, bytes: &[u8], with_properties: bool) -> Result<DecodedSegment, StoreError> {
    let mut out = DecodedSegment::default();
    let selection = ColumnSelection { text: [true; TEXT_COLUMNS], revenue: true, properties: with_properties };
    if with_properties {
        out.properties = Some(Vec::new());
    }
    decode_into(segment, bytes, &selection, &mut out, &mut Vec::new())?;
    Ok(out)
}

/// Decodes the selected columns of a segment and appends them to `out`'s vectors (the
/// properties to `out.properties` when it is `Some`, else as stored to `out.raw_properties` when
/// that is `Some`); returns the segment's row count. On an error
/// `out` may hold part of the segment.
pub fn decode_into(
    segment: i64,
    bytes: &[u8],
    selection: &ColumnSelection,
    out: &mut DecodedSegment,
    scratch: &mut Vec<u8>,
) -> Result<usize, StoreError> {
    let mut cursor = Cursor { bytes, segment };
    if cursor.take(4)? != MAGIC {
        return Err(corrupt(segment, "unknown format"));
    }
    let rows = cursor.u32()? as usize;
    let columns = cursor.take(1)?[0] as usize;
    if columns != 4 + TEXT_COLUMNS {
        return Err(corrupt(segment, "unexpected column count"));
    }
    let mut time = 0i64;
    out.time.extend(cursor.block(rows, 8, scratch)?.chunks_exact(8).map(|c| {
        time = time.wrapping_add(i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        time
    }));
    extend_i64s(&mut out.identity, cursor.block(rows, 8, scratch)?);
    for (column, wanted) in out.text.iter_mut().zip(selection.text) {
        if wanted {
            extend_u32s(column, cursor.block(rows, 4, scratch)?);
        } else {
            cursor.skip_block()?;
        }
    }
    if selection.revenue {
        extend_i64s(&mut out.revenue, cursor.block(rows, 8, scratch)?);
    } else {
        cursor.skip_block()?;
    }
    if selection.properties
        && out.properties.is_none()
        && let Some(raw) = out.raw_properties.as_mut()
    {
        let block = cursor.block(rows, 0, scratch)?;
        if block.len() < rows * 4 {
            return Err(corrupt(segment, "properties column too short"));
        }
        let (lengths, text) = block.split_at(rows * 4);
        let before = raw.lengths.len();
        extend_u32s(&mut raw.lengths, lengths);
        let stated: usize = raw.lengths[before..].iter().map(|&l| l as usize).sum();
        if stated != text.len() {
            return Err(corrupt(segment, "properties column length does not match its rows"));
        }
        raw.bytes.extend_from_slice(text);
    } else if selection.properties
        && let Some(properties) = out.properties.as_mut()
    {
        let raw = cursor.block(rows, 0, scratch)?;
        if raw.len() < rows * 4 {
            return Err(corrupt(segment, "properties column too short"));
        }
        let (lengths, mut text) = raw.split_at(rows * 4);
        properties.reserve(rows);
        for c in lengths.chunks_exact(4) {
            let len = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize;
            if text.len() < len {
                return Err(corrupt(segment, "properties column too short"));
            }
            let (this, rest) = text.split_at(len);
            text = rest;
            properties.push(if len == 0 {
                None
            } else {
                Some(
                    std::str::from_utf8(this)
                        .map_err(|_| corrupt(segment, "properties are not UTF-8"))?
                        .into(),
                )
            });
        }
    }
    Ok(rows)
}

pub fn decode_keys(segment: i64, bytes: &[u8]) -> Result<impl Iterator<Item = u128> + '_, StoreError> {
    if !bytes.len().is_multiple_of(16) {
        return Err(corrupt(segment, "key block length is not a multiple of 16"));
    }
    Ok(bytes.chunks_exact(16).map(|c| {
        let mut b = [0u8; 16];
        b.copy_from_slice(c);
        u128::from_le_bytes(b)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rows() {
        let mut builder = SegmentBuilder::default();
        for i in 0..1000i64 {
            let row = SegmentRow {
                time: 1_700_000_000_000 + i * 37 - (i % 3) * 1000,
                identity: i % 17,
                text: [1, 2, 3, 4, 5, 6, i as u32, 0],
                revenue_minor: if i % 10 == 0 { 1250 } else { 0 },
                properties: if i % 2 == 0 { format!("{{\"i\":{i}}}") } else { String::new() },
            };
            builder.push(i as u128 * 7919, &row);
        }
        let (columns, keys) = builder.finish();
        assert!(builder.is_empty());
        let decoded = decode(1, &columns, true).unwrap();
        assert_eq!(decoded.time.len(), 1000);
        assert_eq!(decoded.time[5], 1_700_000_000_000 + 5 * 37 - 2000);
        assert_eq!(decoded.identity[16], 16);
        assert_eq!(decoded.text[6][999], 999);
        assert_eq!(decoded.revenue[10], 1250);
        let properties = decoded.properties.unwrap();
        assert_eq!(properties[4].as_deref(), Some("{\"i\":4}"));
        assert_eq!(properties[5], None);
        let keys: Vec<u128> = decode_keys(1, &keys).unwrap().collect();
        assert_eq!(keys[3], 3 * 7919);
        assert!(decode(1, &columns, false).unwrap().properties.is_none());

        // The properties as stored: each row's length and the bytes, as compaction copies them.
        let every = ColumnSelection { text: [true; TEXT_COLUMNS], revenue: true, properties: true };
        let mut raw = DecodedSegment { raw_properties: Some(RawProperties::default()), ..DecodedSegment::default() };
        decode_into(1, &columns, &every, &mut raw, &mut Vec::new()).unwrap();
        let stored = raw.raw_properties.unwrap();
        assert_eq!((stored.lengths.len(), stored.lengths[4], stored.lengths[5]), (1000, 7, 0));
        assert_eq!(&stored.bytes[..14], b"{\"i\":0}{\"i\":2}");
        assert_eq!(stored.bytes.len(), stored.lengths.iter().map(|&l| l as usize).sum::<usize>());

        // A selection decodes only its columns and appends to what the buffer holds.
        let mut text = [false; TEXT_COLUMNS];
        text[6] = true;
        let selection = ColumnSelection { text, revenue: false, properties: false };
        let mut out = DecodedSegment::default();
        let mut scratch = Vec::new();
        assert_eq!(decode_into(1, &columns, &selection, &mut out, &mut scratch).unwrap(), 1000);
        assert_eq!(decode_into(1, &columns, &selection, &mut out, &mut scratch).unwrap(), 1000);
        assert_eq!((out.time.len(), out.identity.len(), out.text[6].len()), (2000, 2000, 2000));
        assert_eq!(out.time[1005], decoded.time[5]);
        assert_eq!(out.text[6][1999], 999);
        assert!(out.text[0].is_empty() && out.revenue.is_empty() && out.properties.is_none());
    }

    #[test]
    fn corrupt_blobs_are_errors_not_panics() {
        let mut builder = SegmentBuilder::default();
        builder.push(1, &SegmentRow::default());
        let (columns, _) = builder.finish();
        for cut in [0, 3, 9, columns.len() / 2, columns.len() - 1] {
            assert!(decode(9, &columns[..cut], true).is_err(), "cut at {cut}");
        }
        assert!(decode_keys(9, &[0u8; 15]).is_err());
    }
}
