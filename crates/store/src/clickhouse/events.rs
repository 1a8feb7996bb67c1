//! Events written to ClickHouse and loaded back: batches of events with their resolved customer
//! inserted as RowBinary through the Distributed table with `insert_distributed_sync=1`, merges of
//! customers recorded as rows, and a business's events read back (duplicates collapsed by
//! `FINAL`, each row on the customer it is now) into the engine's [`EventTable`].
//!
//! Events at the same millisecond of one customer come back in the order of their event keys:
//! ClickHouse keeps no order of arrival across shards and batches, so the key is this backend's
//! recorded order, and the funnel pushed down (funnel.rs) breaks ties the same way.
//!
//! Two copies of an event collapse when they share the whole sorting key, the customer included:
//! a batch retried after its customers were merged is written under the customer it names then,
//! so the caller (which resolves identities) resolves a retried event to the customer it first
//! wrote it under, as the primary store's own deduplication of keys already tells it.

use super::http::quote;
use super::rowbinary::{RowReader, RowWriter};
use super::schema::{events_table, merges_table};
use super::{ClickHouseError, ClickHouseEvents};
use std::collections::HashMap;
use std::io::BufReader;
use trailmap_model::*;

/// How the query id of a write's insert starts, the write's id after it (`trailmap-write-W-...`).
pub(super) const WRITE_QUERY_ID: &str = "trailmap-write-";

/// Rows per insert request: big enough that a request's cost is spread, small enough that a
/// request body stays a few tens of megabytes.
const INSERT_ROWS: usize = 100_000;

/// The columns an insert writes, in the order the rows are encoded.
const INSERT_COLUMNS: &str = "business, customer, time, ms, key, name, channel, source, medium, campaign, referrer, page, revenue_minor, currency, properties, write_id";

impl ClickHouseEvents {
    /// Writes the business's events, each with the customer it was resolved to, in batches.
    /// Each batch is a synchronous distributed insert: when this returns, every row is stored on
    /// its shard. Writing the same events again (a retried batch) adds rows that reads collapse,
    /// since they share their sorting key. An event ClickHouse's `DateTime` cannot hold (before
    /// 1970 or after 2106) is refused before anything is written.
    pub fn append(&self, business: BusinessId, events: &[(CustomerId, Event)]) -> Result<u64, ClickHouseError> {
        self.append_written(business, events, 0)
    }

    /// [`Self::append`] with each row naming the write that sends it (`write`, see split.rs): the
    /// rows of a write that never committed are deleted by that id ([`Self::delete_writes`]).
    pub fn append_written(&self, business: BusinessId, events: &[(CustomerId, Event)], write: u64) -> Result<u64, ClickHouseError> {
        if let Some((_, event)) = events.iter().find(|(_, e)| seconds(e.time).is_none()) {
            return Err(ClickHouseError::Invalid(format!("event {:?} at {} ms: ClickHouse keeps times from 1970 to 2106 only", event.name, event.time.0)));
        }
        let sql = format!("INSERT INTO {} ({INSERT_COLUMNS}) FORMAT RowBinary", events_table(&self.location));
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        for batch in events.chunks(INSERT_ROWS) {
            // Named after the write, so a recovery can wait for an insert of a killed write that
            // is still running on a node (upkeep.rs); unique per request, as ClickHouse asks.
            let query_id = format!("{}{write}-{}-{}", WRITE_QUERY_ID, std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
            let mut rows = RowWriter::default();
            for (customer, event) in batch {
                encode(&mut rows, business, *customer, event)?;
                rows.u64(write);
            }
            self.http.insert(0, &sql, &rows.bytes, &[("insert_distributed_sync", "1"), ("query_id", &query_id)])?;
        }
        Ok(events.len() as u64)
    }

    /// Records that the customers `from` are now the customer `into`, as rows the reads apply:
    /// events keep the customer they were written with. Customers merged into one of `from`
    /// before are re-pointed to `into` too, so one step always leads to the current customer.
    pub fn merge_customers(&self, business: BusinessId, from: &[CustomerId], into: CustomerId) -> Result<(), ClickHouseError> {
        if from.is_empty() {
            return Ok(());
        }
        let merges = merges_table(&self.location);
        let list = from.iter().map(|c| c.0.to_string()).collect::<Vec<_>>().join(",");
        let earlier = self.http.text(
            0,
            &format!("SELECT customer FROM {merges} FINAL WHERE business = {} AND merged_into IN ({list}) FORMAT TabSeparated", business.0),
            &[],
        )?;
        let version = self.http.text(0, &format!("SELECT max(version) FROM {merges} WHERE business = {}", business.0), &[])?;
        let version: u64 = version.trim().parse().map_err(|_| ClickHouseError::Decode(format!("merge version {version:?}")))?;
        let mut customers: Vec<i64> = from.iter().map(|c| c.0).filter(|&c| c != into.0).collect();
        for line in earlier.lines() {
            customers.push(line.trim().parse().map_err(|_| ClickHouseError::Decode(format!("merged customer {line:?}")))?);
        }
        let mut rows = RowWriter::default();
        for customer in customers {
            rows.i64(business.0);
            rows.i64(customer);
            rows.i64(into.0);
            rows.u64(version + 1);
        }
        let sql = format!("INSERT INTO {merges} (business, customer, merged_into, version) FORMAT RowBinary");
        self.http.insert(0, &sql, &rows.bytes, &[("insert_distributed_sync", "1")])
    }

    /// All of a business's events (each once, on its current customer) with the selected
    /// columns, grouped by customer in (time, key) order.
    pub fn load_selected_events(&self, business: BusinessId, selection: EventSelection) -> Result<EventTable, ClickHouseError> {
        self.load(business, selection, None)
    }

    /// [`Self::load_selected_events`] keeping only the events whose name passes `keep`: the
    /// business's distinct names are read first, and only the rows of the kept ones are sent.
    pub fn load_named_events(&self, business: BusinessId, selection: EventSelection, keep: &dyn Fn(&str) -> bool) -> Result<EventTable, ClickHouseError> {
        let names = self.http.text(0, &format!("SELECT DISTINCT name FROM {} WHERE business = {} FORMAT TSVRaw", events_table(&self.location), business.0), &[])?;
        let kept: Vec<String> = names.lines().filter(|name| keep(name)).map(quote).collect();
        if kept.is_empty() {
            return Ok(EventTable { strings: vec!["".into()], ..EventTable::default() });
        }
        self.load(business, EventSelection { name: true, ..selection }, Some(&format!("name IN ({})", kept.join(","))))
    }

    /// The number of the business's events, each counted once.
    pub fn count_events(&self, business: BusinessId) -> Result<u64, ClickHouseError> {
        let text = self.http.text(0, &format!("SELECT count() FROM {} FINAL WHERE business = {}", events_table(&self.location), business.0), &[])?;
        text.trim().parse().map_err(|_| ClickHouseError::Decode(format!("count {text:?}")))
    }

    fn load(&self, business: BusinessId, selection: EventSelection, filter: Option<&str>) -> Result<EventTable, ClickHouseError> {
        let mut columns = vec!["toInt64(if(merged_into = 0, customer, merged_into)) AS current", "toUInt32(time)", "ms"];
        let texts = ["name", "channel", "source", "medium", "campaign", "referrer", "page", "currency"];
        let wanted = selection.texts();
        columns.extend(texts.iter().zip(wanted).filter(|(_, on)| *on).map(|(column, _)| *column));
        if selection.revenue {
            columns.push("revenue_minor");
        }
        if selection.properties {
            columns.push("properties");
        }
        let sql = format!(
            "SELECT {} FROM {} FINAL {} WHERE business = {} {} ORDER BY current, time, ms, key FORMAT RowBinary",
            columns.join(", "),
            events_table(&self.location),
            merge_join(&self.location, business),
            business.0,
            filter.map(|f| format!("AND {f}")).unwrap_or_default(),
        );
        let reader = self.http.reader(0, &sql, &[])?;
        let mut rows = RowReader::new(BufReader::with_capacity(1 << 16, reader));
        let mut table = EventTable::default();
        let mut strings: Vec<Box<str>> = vec!["".into()];
        if selection.properties {
            table.properties = Some(Vec::new());
        }
        let mut dictionary: HashMap<Box<str>, StringId> = HashMap::new();
        let decode = |e: String| ClickHouseError::Decode(format!("{}: {e}", self.http.shown(0)));
        while !rows.at_end().map_err(decode)? {
            table.customer.push(CustomerId(rows.i64().map_err(decode)?));
            let seconds = i64::from(rows.u32().map_err(decode)?);
            let ms = i64::from(rows.u16().map_err(decode)?);
            table.time.push(seconds * 1000 + ms);
            let mut text_columns = table.columns_mut().texts;
            for (k, column) in text_columns.iter_mut().enumerate() {
                if wanted[k] {
                    let text = rows.string().map_err(decode)?;
                    column.push(intern(&mut strings, &mut dictionary, text));
                }
            }
            if selection.revenue {
                table.revenue_minor.push(rows.i64().map_err(decode)?);
            }
            if let Some(properties) = table.properties.as_mut() {
                let text = rows.string().map_err(decode)?;
                properties.push((!text.is_empty()).then(|| text.into()));
            }
        }
        table.strings = strings;
        Ok(table)
    }
}

/// The join that puts each row on its current customer: the business's merges, read with
/// `FINAL` (the latest row per merged customer) and sent to every shard (`GLOBAL`). A customer
/// without a merge gets 0, the default of an unmatched `ANY LEFT JOIN`, and keeps their id.
pub(super) fn merge_join(location: &super::ClickHouseLocation, business: BusinessId) -> String {
    let global = if location.cluster.is_some() { "GLOBAL " } else { "" };
    format!(
        "{global}ANY LEFT JOIN (SELECT customer, merged_into FROM {} FINAL WHERE business = {}) USING customer",
        merges_table(location),
        business.0
    )
}

fn intern(strings: &mut Vec<Box<str>>, dictionary: &mut HashMap<Box<str>, StringId>, text: &str) -> StringId {
    if text.is_empty() {
        return 0;
    }
    if let Some(&id) = dictionary.get(text) {
        return id;
    }
    let id = strings.len() as StringId;
    strings.push(text.into());
    dictionary.insert(text.into(), id);
    id
}

/// Whole seconds and milliseconds of a time, when a `DateTime` can hold it.
fn seconds(time: Timestamp) -> Option<(u32, u16)> {
    let seconds = u32::try_from(time.0.div_euclid(1000)).ok()?;
    Some((seconds, time.0.rem_euclid(1000) as u16))
}

fn encode(rows: &mut RowWriter, business: BusinessId, customer: CustomerId, event: &Event) -> Result<(), ClickHouseError> {
    let (seconds, ms) = seconds(event.time).ok_or_else(|| ClickHouseError::Invalid(format!("event time {} out of range", event.time.0)))?;
    rows.i64(business.0);
    rows.i64(customer.0);
    rows.u32(seconds);
    rows.u16(ms);
    // Big-endian, so the key's byte order (ClickHouse's order of FixedString) is its number order.
    rows.fixed(&event.key.0.to_be_bytes());
    rows.string(&event.name);
    for text in [&event.channel, &event.source, &event.medium, &event.campaign, &event.referrer, &event.page] {
        rows.string(text.as_deref().unwrap_or(""));
    }
    rows.i64(event.revenue.map_or(0, |m| m.minor));
    rows.string(event.revenue.as_ref().map_or("", |m| m.currency.as_str()));
    let properties = if event.properties.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&event.properties).map_err(|e| ClickHouseError::Invalid(format!("event properties: {e}")))?
    };
    rows.string(&properties);
    Ok(())
}
