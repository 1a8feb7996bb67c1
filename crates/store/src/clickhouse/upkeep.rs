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

    /// Deletes the business's events before `before` on every shard (its retention), and waits
    /// until no read returns them.
    pub fn delete_events_before(&self, business: BusinessId, before: Timestamp) -> Result<(), ClickHouseError> {
        self.delete_where(business, &before_filter(before), &[])
    }

    /// Deletes the rows these writes sent, of any business, on every shard (writes that never
    /// committed: rolled back, or their process killed), and waits until no read returns them.
    /// An insert of a killed write may still be running on a node (the server goes on with a
    /// request whose sender died), and a deletion does not reach rows inserted after it: so the
    /// writes' inserts are waited for first, and the rows counted after.
    pub fn delete_writes(&self, writes: &[u64]) -> Result<(), ClickHouseError> {
        // 5,000 ids of at most 19 digits keep the statement within the default max_query_size.
        for chunk in writes.chunks(5_000) {
            let list = chunk.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
            let ids = chunk.iter().map(u64::to_string).collect::<Vec<_>>().join("|");
            let running = format!("SELECT count() FROM system.processes WHERE match(initial_query_id, '^{}({ids})-')", super::events::WRITE_QUERY_ID);
            self.wait_on_every_shard(&running, "the killed writes' inserts are still running")?;
            self.delete_rows(&format!("write_id IN ({list})"), &[])?;
            let left = self.http.text(0, &format!("SELECT count() FROM {} WHERE write_id IN ({list})", events_table(&self.location)), &[])?;
            if left.trim() != "0" {
                return Err(ClickHouseError::Server {
                    url: self.http.shown(0),
                    message: format!("{} rows of writes that never committed are still there after their deletion", left.trim()),
                });
            }
        }
        Ok(())
    }

    fn delete_where(&self, business: BusinessId, filter: &str, settings: &[(&str, &str)]) -> Result<(), ClickHouseError> {
        self.delete_rows(&format!("business = {} AND {filter}", business.0), settings)
    }

    fn delete_rows(&self, filter: &str, settings: &[(&str, &str)]) -> Result<(), ClickHouseError> {
        let db = &self.location.database;
        for shard in 0..self.http.shards() {
            self.http.text(shard, &format!("ALTER TABLE {db}.events_local DELETE WHERE {filter}"), settings)?;
        }
        // Mutations run in the background on each shard (18.16 has no setting to wait for
        // them): the deletion is done when none of them is pending anywhere.
        let pending = format!("SELECT count() FROM system.mutations WHERE database = {} AND table = 'events_local' AND is_done = 0", quote(db));
        self.wait_on_every_shard(&pending, "the deletion is still running")
    }

    /// Waits until the count `sql` asks for is 0 on every shard, at most [`MUTATION_WAIT`], then
    /// says `what` with the time waited.
    fn wait_on_every_shard(&self, sql: &str, what: &str) -> Result<(), ClickHouseError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        for shard in 0..self.http.shards() {
            while self.http.text(shard, sql, &[])?.trim() != "0" {
                if started.elapsed() > MUTATION_WAIT {
                    return Err(ClickHouseError::Server {
                        url: self.http.shown(shard),
                        message: format!("{what} after {} s; it goes on in the background", MUTATION_WAIT.as_secs()),
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
