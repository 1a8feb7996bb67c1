//! What keeps ClickHouse's copy of a business's events in step with the primary store, which
//! decides identities and privacy: the primary store's merges of customers copied over (reads
//! apply them, see events.rs), a business's event count and time span for its summary, and
//! deletions (an erased person's events, events past the retention) as mutations on every shard,
//! waited for so that the caller's next read no longer sees the rows.

use super::http::quote;
use super::schema::{events_table, merges_table};
use super::{ClickHouseError, ClickHouseEvents};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use trailmap_model::*;

/// How long a deletion waits for its mutations to finish on every shard before it says so: a
/// mutation rewrites the parts holding the rows, seconds for a small business, and the caller (an
/// erasure, the retention) must not report rows gone that a read still returns.
const MUTATION_WAIT: Duration = Duration::from_secs(120);

/// `max_query_size` for a deletion listing its keys: ClickHouse parses a whole ALTER statement in
/// memory and stops at 256 KiB by default, and 50,000 keys take about 2.3 MB.
const QUERY_BYTES_FOR_KEYS: &str = "8388608";

/// `max_ast_elements` for the same: each key is a few nodes of the parsed statement, past the
/// default 50,000 for a chunk of keys.
const AST_ELEMENTS_FOR_KEYS: &str = "1000000";

impl ClickHouseEvents {
    /// Makes ClickHouse's merges of the business those of `current` (each merged customer to the
    /// customer they are now, as the primary store has them): only the rows that differ are
    /// written, so a call with nothing new costs one small read.
    pub fn sync_merges(&self, business: BusinessId, current: &HashMap<CustomerId, CustomerId>) -> Result<u64, ClickHouseError> {
        let merges = merges_table(&self.location);
        let text = self.http.text(
            0,
            &format!("SELECT customer, merged_into, version FROM {merges} FINAL WHERE business = {} FORMAT TabSeparated", business.0),
            &[],
        )?;
        let mut held: HashMap<i64, i64> = HashMap::new();
        let mut version = 0u64;
        for line in text.lines() {
            let mut fields = line.split('\t');
            let mut next = |what: &str| -> Result<i64, ClickHouseError> {
                fields.next().and_then(|f| f.parse().ok()).ok_or_else(|| ClickHouseError::Decode(format!("merge row {line:?}: {what}")))
            };
            let customer = next("customer")?;
            let into = next("merged_into")?;
            version = version.max(u64::try_from(next("version")?).unwrap_or(0));
            held.insert(customer, into);
        }
        let mut changed: Vec<(i64, i64)> =
            current.iter().map(|(c, into)| (c.0, into.0)).filter(|(c, into)| held.get(c) != Some(into)).collect();
        if changed.is_empty() {
            return Ok(0);
        }
        changed.sort_unstable();
        let mut rows = super::rowbinary::RowWriter::default();
        for (customer, into) in &changed {
            rows.i64(business.0);
            rows.i64(*customer);
            rows.i64(*into);
            rows.u64(version + 1);
        }
        let sql = format!("INSERT INTO {merges} (business, customer, merged_into, version) FORMAT RowBinary");
        self.http.insert(0, &sql, &rows.bytes, &[("insert_distributed_sync", "1")])?;
        Ok(changed.len() as u64)
    }

    /// The business's events counted once each, and the first and last event's time.
    pub fn span(&self, business: BusinessId) -> Result<(u64, Option<Timestamp>, Option<Timestamp>), ClickHouseError> {
        let text = self.http.text(
            0,
            &format!(
                "SELECT count(), min(toInt64(time) * 1000 + ms), max(toInt64(time) * 1000 + ms) FROM {} FINAL WHERE business = {} FORMAT TabSeparated",
                events_table(&self.location),
                business.0
            ),
            &[],
        )?;
        let fields: Vec<&str> = text.trim().split('\t').collect();
        let number = |at: usize| fields.get(at).and_then(|f| f.parse::<i64>().ok());
        let count = number(0).ok_or_else(|| ClickHouseError::Decode(format!("event span {text:?}")))?;
        let count = u64::try_from(count).unwrap_or(0);
        // An empty set's min and max are 0 in ClickHouse, not NULL.
        let at = |n: Option<i64>| if count == 0 { None } else { n.map(Timestamp) };
        Ok((count, at(number(1)), at(number(2))))
    }

    /// The business's distinct event names, sorted.
    pub fn event_names(&self, business: BusinessId) -> Result<Vec<String>, ClickHouseError> {
        let text = self.http.text(0, &format!("SELECT DISTINCT name FROM {} WHERE business = {} ORDER BY name FORMAT TSVRaw", events_table(&self.location), business.0), &[])?;
        Ok(text.lines().filter(|name| !name.is_empty()).map(str::to_string).collect())
    }

    /// The number of the business's events (each once) of these customers, as they were written.
    pub fn count_customer_events(&self, business: BusinessId, customers: &[CustomerId]) -> Result<u64, ClickHouseError> {
        if customers.is_empty() {
            return Ok(0);
        }
        let text = self.http.text(
            0,
            &format!("SELECT count() FROM {} FINAL WHERE business = {} AND customer IN ({})", events_table(&self.location), business.0, list(customers)),
            &[],
        )?;
        text.trim().parse().map_err(|_| ClickHouseError::Decode(format!("count {text:?}")))
    }

    /// The number of the business's events (each once) before `before`.
    pub fn count_events_before(&self, business: BusinessId, before: Timestamp) -> Result<u64, ClickHouseError> {
        let text = self.http.text(0, &format!("SELECT count() FROM {} FINAL WHERE business = {} AND {}", events_table(&self.location), business.0, before_filter(before)), &[])?;
        text.trim().parse().map_err(|_| ClickHouseError::Decode(format!("count {text:?}")))
    }

    /// Deletes the events of these customers (an erased person: the customer and every customer
    /// merged into it) on every shard, and waits until no read returns them.
    pub fn delete_customer_events(&self, business: BusinessId, customers: &[CustomerId]) -> Result<(), ClickHouseError> {
        if customers.is_empty() {
            return Ok(());
        }
        self.delete_where(business, &format!("customer IN ({})", list(customers)), &[])
    }

    /// Deletes the business's events of these keys on every shard (a write that sent them and then
    /// rolled back), and waits until no read returns them.
    pub fn delete_keys(&self, business: BusinessId, keys: &[EventKey]) -> Result<(), ClickHouseError> {
        // Keys are 16 bytes, compared as ClickHouse's FixedString: unhex of their big-endian hex.
        for chunk in keys.chunks(50_000) {
            let list = chunk.iter().map(|k| format!("unhex('{:032x}')", k.0)).collect::<Vec<_>>().join(",");
            self.delete_where(business, &format!("key IN ({list})"), &[("max_query_size", QUERY_BYTES_FOR_KEYS), ("max_ast_elements", AST_ELEMENTS_FOR_KEYS)])?;
        }
        Ok(())
    }

    /// Deletes the business's events before `before` on every shard (its retention), and waits
    /// until no read returns them.
    pub fn delete_events_before(&self, business: BusinessId, before: Timestamp) -> Result<(), ClickHouseError> {
        self.delete_where(business, &before_filter(before), &[])
    }

    fn delete_where(&self, business: BusinessId, filter: &str, settings: &[(&str, &str)]) -> Result<(), ClickHouseError> {
        let db = &self.location.database;
        for shard in 0..self.http.shards() {
            self.http.text(shard, &format!("ALTER TABLE {db}.events_local DELETE WHERE business = {} AND {filter}", business.0), settings)?;
        }
        // Mutations run in the background on each shard (18.16 has no setting to wait for
        // them): the deletion is done when none of them is pending anywhere.
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        for shard in 0..self.http.shards() {
            loop {
                let pending = self.http.text(
                    shard,
                    &format!("SELECT count() FROM system.mutations WHERE database = {} AND table = 'events_local' AND is_done = 0", quote(db)),
                    &[],
                )?;
                if pending.trim() == "0" {
                    break;
                }
                if started.elapsed() > MUTATION_WAIT {
                    return Err(ClickHouseError::Server {
                        url: self.http.shown(shard),
                        message: format!("the deletion is still running after {} s; it goes on in the background", MUTATION_WAIT.as_secs()),
                    });
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(500));
            }
        }
        Ok(())
    }
}

fn list(customers: &[CustomerId]) -> String {
    customers.iter().map(|c| c.0.to_string()).collect::<Vec<_>>().join(",")
}

/// Rows strictly before `before`, on (seconds, milliseconds).
fn before_filter(before: Timestamp) -> String {
    let seconds = before.0.div_euclid(1000).max(0);
    let ms = before.0.rem_euclid(1000);
    format!("(toInt64(time) < {seconds} OR (toInt64(time) = {seconds} AND ms < {ms}))")
}
