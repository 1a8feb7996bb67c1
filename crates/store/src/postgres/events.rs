//! Loading a business's events from PostgreSQL for analysis: the segments' blobs stream from one
//! query in a read-only snapshot while two threads decode them (segment.rs) and resolve each
//! row's identity to its current customer, and a third appends the decoded rows to the table's
//! columns in segment order. The result is the same [`EventTable`] the SQLite store loads from
//! the same writes: the same dictionary, rows, order and customer column.

use super::PgStore;
use crate::EventLoads;
use crate::segment::{self, ColumnSelection, DecodedSegment};
use crate::{EventsAfter, Result, StoreError};
use postgres::fallible_iterator::FallibleIterator;
use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use trailmap_model::{BusinessId, CustomerColumn, CustomerId, EventSelection, EventTable};

/// Blobs (up to about a megabyte each) waiting for a decoder, and decoded segments waiting to be
/// appended.
const IN_FLIGHT: usize = 4;

/// Threads decoding segments during a load, besides the reader and the appender.
const DECODERS: usize = 2;

impl PgStore {

    fn load(&self, business: BusinessId, selection: EventSelection, keep: Option<&dyn Fn(&str) -> bool>) -> Result<EventTable> {
        self.load_in(business, selection, keep, None)
    }

    fn load_in(&self, business: BusinessId, selection: EventSelection, keep: Option<&dyn Fn(&str) -> bool>, after: Option<&EventsAfter<'_>>) -> Result<EventTable> {
        // One snapshot, so the strings, identities and segments agree: a write committed between
        // reading the identities and reading the segments would otherwise show a row whose
        // identity was not loaded.
        self.in_snapshot(|conn| load_with(conn, business, selection, keep, after))
    }
}

fn load_with(
    conn: &mut postgres::Client,
    business: BusinessId,
    selection: EventSelection,
    keep: Option<&dyn Fn(&str) -> bool>,
    after: Option<&EventsAfter<'_>>,
) -> Result<EventTable> {
    let after_segment = after.map_or(0, |a| a.segment);
    // Without a mark, the whole dictionary from "" (id 0); after one, the entries from the first
    // the reader lacks.
    let first = after.map_or(0, |a| a.strings);
    let mut table = EventTable::default();
    if first == 0 {
        table.strings.push("".into());
    }
    for row in conn.query("SELECT id, value FROM strings WHERE id >= $1 ORDER BY id", &[&(first.max(1) as i64)])? {
        let id: i64 = row.get(0);
        // Ids are dense from 1 except where a rolled-back write took some; fill any hole so
        // indexing stays direct.
        while ((first + table.strings.len()) as i64) < id {
            table.strings.push("".into());
        }
        table.strings.push(row.get::<_, String>(1).into_boxed_str());
    }
    let customer_of = match after {
        Some(after) => after.customer_of.to_vec(),
        None => {
            let mut customer_of: Vec<i64> = Vec::new();
            for row in conn.query("SELECT id, customer FROM identities WHERE business = $1", &[&business.0])? {
                let id: i64 = row.get(0);
                let index = usize::try_from(id).map_err(|_| StoreError::Corrupt(format!("identity id {id}")))?;
                if customer_of.len() <= index {
                    customer_of.resize(index + 1, 0);
                }
                customer_of[index] = row.get(1);
            }
            customer_of
        }
    };
    let total: i64 =
        conn.query_one("SELECT coalesce(sum(rows), 0)::bigint FROM event_segments WHERE business = $1 AND id > $2", &[&business.0, &after_segment])?.get(0);
    let total = usize::try_from(total).map_err(|_| StoreError::Corrupt(format!("{total} events")))?;
    let customers = CustomerIndex::new(customer_of)?;
    let kept_names: Option<Vec<bool>> = keep.map(|keep| table.strings.iter().enumerate().map(|(id, s)| id != 0 && keep(s)).collect());
    let columns = ColumnSelection { text: selection.texts(), revenue: selection.revenue, properties: selection.properties };
    // Each selected column reserved at its final size (fewer rows are kept with a filter).
    let reserve = if kept_names.is_some() { 0 } else { total };
    table.time.reserve_exact(reserve);
    for (column, wanted) in table.columns_mut().texts.into_iter().zip(selection.texts()) {
        if wanted {
            column.reserve_exact(reserve);
        }
    }
    if selection.revenue {
        table.revenue_minor.reserve_exact(reserve);
    }
    if selection.properties {
        table.properties = Some(Vec::with_capacity(reserve));
    }
    let mut customer_rows: Vec<u32> = Vec::with_capacity(reserve);

    let (blobs, waiting) = sync_channel::<(usize, i64, Vec<u8>)>(IN_FLIGHT);
    let waiting = Arc::new(Mutex::new(waiting));
    let (decoded_out, decoded_in) = sync_channel::<(usize, Result<Decoded>)>(IN_FLIGHT);
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..DECODERS {
            let (waiting, decoded_out) = (Arc::clone(&waiting), decoded_out.clone());
            let (customers, kept_names) = (&customers, kept_names.as_deref());
            scope.spawn(move || decode_segments(&waiting, &decoded_out, &columns, customers, kept_names));
        }
        // The decoders hold the only receivers now: when they stop, sending fails.
        drop(waiting);
        drop(decoded_out);
        let (into_table, into_rows) = (&mut table, &mut customer_rows);
        let appender = scope.spawn(move || append_segments(decoded_in, into_table, into_rows));
        let read = (|| -> Result<()> {
            let mut rows = conn.query_raw(
                "SELECT id, columns FROM event_segments WHERE business = $1 AND id > $2 ORDER BY id",
                [&business.0 as &(dyn postgres::types::ToSql + Sync), &after_segment],
            )?;
            let mut turn = 0;
            while let Some(row) = rows.next()? {
                let blob: &[u8] = row.get(1);
                if blobs.send((turn, row.get(0), blob.to_vec())).is_err() {
                    // The decoders stopped; the appender has their error.
                    break;
                }
                turn += 1;
            }
            Ok(())
        })();
        drop(blobs);
        let appended = appender.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        // A decoder's error explains why reading stopped, so it comes first.
        appended.and(read)
    })?;
    if kept_names.is_none() && table.time.len() != total {
        return Err(StoreError::Corrupt(format!("the event segments hold {} rows, not the {total} their counts add up to", table.time.len())));
    }
    if let Some(after) = after {
        skip_rows_merged_across(conn, business, after, keep.is_some(), &mut table, &mut customer_rows)?;
    }
    table.customer = customers.column(customer_rows)?;
    let strings = (first + table.strings.len()) as u32;
    for column in table.columns_mut().texts {
        if column.iter().any(|&s| s >= strings) {
            return Err(StoreError::Corrupt("an event refers to a missing string".into()));
        }
    }
    Ok(table)
}

/// Leaves out the first rows of a load after `after.segment` that the reader holds already (as
/// the SQLite loader does): rows a merge of small segments moved across the reader's mark.
fn skip_rows_merged_across(
    conn: &mut postgres::Client,
    business: BusinessId,
    after: &EventsAfter<'_>,
    filtered: bool,
    table: &mut EventTable,
    customer_rows: &mut Vec<u32>,
) -> Result<()> {
    let up_to: i64 = conn
        .query_one("SELECT coalesce(sum(rows), 0)::bigint FROM event_segments WHERE business = $1 AND id <= $2", &[&business.0, &after.segment])?
        .get(0);
    let skip = usize::try_from(after.rows - up_to).unwrap_or(0);
    if skip == 0 {
        return Ok(());
    }
    if filtered || skip > table.len() {
        return Err(StoreError::Corrupt(format!("a load after segment {} would skip {skip} rows of {} merged across it", after.segment, table.len())));
    }
    customer_rows.drain(..skip);
    let columns = table.columns_mut();
    for column in columns.numbers {
        column.drain(..skip.min(column.len()));
    }
    for column in columns.texts {
        column.drain(..skip.min(column.len()));
    }
    if let Some(properties) = columns.properties {
        properties.drain(..skip);
    }
    Ok(())
}

/// One decoded segment's kept rows, with each row's customer index.
struct Decoded {
    segment: DecodedSegment,
    customers: Vec<u32>,
}

/// A decoder thread: takes blobs until there are none, sends each decoded segment (or the error
/// that stopped it) to the appender.
fn decode_segments(
    waiting: &Mutex<Receiver<(usize, i64, Vec<u8>)>>,
    out: &SyncSender<(usize, Result<Decoded>)>,
    columns: &ColumnSelection,
    customers: &CustomerIndex,
    kept_names: Option<&[bool]>,
) {
    let mut scratch = Vec::new();
    loop {
        // The lock is held only to take the next blob.
        let next = match waiting.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok((turn, id, blob)) = next else { return };
        let decoded = decode_one(id, &blob, columns, customers, kept_names, &mut scratch);
        let failed = decoded.is_err();
        if out.send((turn, decoded)).is_err() || failed {
            return;
        }
    }
}

fn decode_one(id: i64, blob: &[u8], columns: &ColumnSelection, customers: &CustomerIndex, kept_names: Option<&[bool]>, scratch: &mut Vec<u8>) -> Result<Decoded> {
    let mut segment = DecodedSegment { properties: columns.properties.then(Vec::new), ..DecodedSegment::default() };
    segment::decode_into(id, blob, columns, &mut segment, scratch)?;
    if let Some(kept_names) = kept_names {
        // The name is the first text column, always decoded when names are filtered.
        let kept: Vec<bool> = segment.text[0].iter().map(|&name| kept_names.get(name as usize).copied().unwrap_or(false)).collect();
        fn keep<T>(column: &mut Vec<T>, kept: &[bool]) {
            if column.is_empty() {
                return;
            }
            let mut k = kept.iter();
            column.retain(|_| *k.next().unwrap_or(&false));
        }
        keep(&mut segment.time, &kept);
        keep(&mut segment.identity, &kept);
        for column in segment.text.iter_mut() {
            keep(column, &kept);
        }
        keep(&mut segment.revenue, &kept);
        if let Some(properties) = segment.properties.as_mut() {
            keep(properties, &kept);
        }
    }
    let customers = segment.identity.iter().map(|&identity| customers.index(id, identity)).collect::<Result<Vec<u32>>>()?;
    Ok(Decoded { segment, customers })
}

/// The appender thread: puts decoded segments into the table's columns in segment order; the
/// first error any decoder met ends the load.
fn append_segments(decoded: Receiver<(usize, Result<Decoded>)>, table: &mut EventTable, customer_rows: &mut Vec<u32>) -> Result<()> {
    let mut waiting: BTreeMap<usize, Decoded> = BTreeMap::new();
    let mut next = 0;
    // Dropping the receiver on an error makes the decoders stop at their next send.
    for (turn, result) in decoded {
        waiting.insert(turn, result?);
        while let Some(d) = waiting.remove(&next) {
            let columns = table.columns_mut();
            let [time, revenue] = columns.numbers;
            time.extend_from_slice(&d.segment.time);
            for (column, values) in columns.texts.into_iter().zip(&d.segment.text) {
                column.extend_from_slice(values);
            }
            revenue.extend_from_slice(&d.segment.revenue);
            if let (Some(properties), Some(values)) = (columns.properties, d.segment.properties) {
                properties.extend(values);
            }
            customer_rows.extend_from_slice(&d.customers);
            next += 1;
        }
    }
    if !waiting.is_empty() {
        return Err(StoreError::Corrupt("a decoded event segment was left out of the load".into()));
    }
    Ok(())
}

/// Each loaded row's customer as an index into the business's customers in ascending id order,
/// resolved once per identity (as the SQLite loader's index of the same name).
#[derive(Debug)]
struct CustomerIndex {
    /// Identity id -> 1 + its customer's index in `ids` (0: not this business's identity).
    index_of_identity: Vec<u32>,
    ids: Vec<CustomerId>,
}

impl CustomerIndex {
    fn new(customer_of: Vec<i64>) -> Result<CustomerIndex> {
        let mut ids: Vec<i64> = customer_of.iter().copied().filter(|&c| c != 0).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() >= u32::MAX as usize {
            return Err(StoreError::Corrupt("more customers than a table can index".into()));
        }
        let rank: rustc_hash::FxHashMap<i64, u32> = ids.iter().enumerate().map(|(k, &id)| (id, k as u32 + 1)).collect();
        let index_of_identity = customer_of.iter().map(|c| rank.get(c).copied().unwrap_or(0)).collect();
        Ok(CustomerIndex { index_of_identity, ids: ids.into_iter().map(CustomerId).collect() })
    }

    fn index(&self, segment: i64, identity: i64) -> Result<u32> {
        usize::try_from(identity)
            .ok()
            .and_then(|slot| self.index_of_identity.get(slot))
            .and_then(|&index| index.checked_sub(1))
            .ok_or_else(|| StoreError::Corrupt(format!("event segment {segment}: unknown identity {identity}")))
    }

    /// The customer column of the loaded rows: the customers they name, each once in ascending
    /// id order (customers without a loaded row are left out, as the SQLite loader does).
    fn column(self, mut rows: Vec<u32>) -> Result<CustomerColumn> {
        let mut used = vec![false; self.ids.len()];
        for &index in &rows {
            used[index as usize] = true;
        }
        let ids = if used.iter().all(|&u| u) {
            self.ids
        } else {
            let mut renumbered = vec![0u32; self.ids.len()];
            let mut ids = Vec::new();
            for (k, id) in self.ids.into_iter().enumerate() {
                if used[k] {
                    renumbered[k] = ids.len() as u32;
                    ids.push(id);
                }
            }
            rows.iter_mut().for_each(|index| *index = renumbered[*index as usize]);
            ids
        };
        CustomerColumn::from_parts(ids, rows).ok_or_else(|| StoreError::Corrupt("more customers than a table can index".into()))
    }
}

impl EventLoads for PgStore {
    fn load_selected_events(&self, business: BusinessId, selection: EventSelection) -> Result<EventTable> {
        self.load(business, selection, None)
    }

    fn load_named_events(&self, business: BusinessId, selection: EventSelection, keep: &dyn Fn(&str) -> bool) -> Result<EventTable> {
        self.load(business, EventSelection { name: true, ..selection }, Some(keep))
    }

    fn load_events_after(&self, business: BusinessId, selection: EventSelection, after: &EventsAfter<'_>) -> Result<EventTable> {
        self.load_in(business, selection, None, Some(after))
    }
}
