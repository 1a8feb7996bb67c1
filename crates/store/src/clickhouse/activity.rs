//! The dashboard's reading of the events pushed down to ClickHouse: per customer, their first
//! event (time and channel) and the slots of the dashboard's windows in which they have events, so
//! the app computes the engine's own key numbers (`trailmap_analytics::kpis_of_activity`) from one
//! row per customer active in the period or new since its start, instead of streaming every event
//! of the business; and the few counts of events by time that choose the period a page opens on.
//!
//! Where the SQL and the engine agree, by construction and checked on the rig by the tests:
//! - a customer's first event is the least (milliseconds, event key), the order a load gives
//!   (events.rs), and its channel is that event's; copies of an event share both, so no `FINAL`
//!   is needed for a minimum, an `argMin` or a set of slots;
//! - slots: the windows' bounds are cut into units of the greatest common divisor of their
//!   distances from the first bound (a day, or an hour where a time zone's days are 23 or 25
//!   hours), each event in range is counted by its unit, and a unit lies in exactly one slot, so
//!   the units a customer was active in name the slots exactly;
//! - each event on the customer it is now, through the same join of the merges as a load, and
//!   grouped in the query that reads the Distributed table, so a merged customer written on two
//!   shards is whole once the node that took the query merges the partial states (retention.rs).

use super::events::merge_join;
use super::rowbinary::RowReader;
use super::schema::events_table;
use super::{ClickHouseError, ClickHouseEvents};
use std::io::BufReader;
use trailmap_model::{BusinessId, CustomerId};

/// One customer's activity as ClickHouse summarised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerActivityRow {
    /// The customer the events are on now.
    pub customer: CustomerId,
    /// The time of their first event, in milliseconds.
    pub first_ms: i64,
    /// The channel of their first event, empty when it has none.
    pub first_channel: String,
    /// The slots (between consecutive bounds) holding their events, ascending; empty for a
    /// customer with no event in the bounds' range.
    pub slots: Vec<u32>,
}

/// The events' times as a page choosing its period reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTimes {
    /// The business's events, each counted once.
    pub count: u64,
    /// The first and the last event's times, None without events.
    pub span: Option<(i64, i64)>,
}

/// Customers per query when the first events of named customers are asked for: a query's text
/// stays far below ClickHouse's `max_query_size` (256 KiB).
const CUSTOMERS_PER_QUERY: usize = 10_000;

/// The time of an event in milliseconds, in SQL.
const MS: &str = "(toInt64(time) * 1000 + ms)";

impl ClickHouseEvents {
    /// Every customer whose first event is at or after `bounds[0]` or who has an event from
    /// `bounds[0]` to the last bound, with their first event and the slots between the bounds
    /// they were active in, in ascending customer order. `bounds` is ascending, at least two.
    pub fn customer_activity(&self, business: BusinessId, bounds: &[i64]) -> Result<Vec<CustomerActivityRow>, ClickHouseError> {
        let (Some(&start), Some(&end)) = (bounds.first(), bounds.last()) else {
            return Err(ClickHouseError::Invalid("customer activity: no bounds".into()));
        };
        let unit = bounds.iter().fold(0, |g, b| gcd(g, b - start)).max(1);
        let units = format!("groupUniqArrayIf(toUInt32(intDiv({MS} - {start}, {unit})), {MS} >= {start} AND {MS} < {end})");
        let sql = self.first_events_sql(business, &units, &format!("first_ms >= {start} OR notEmpty(units)"));
        let slot_of = |unit_index: u32| (bounds.partition_point(|b| *b <= start + i64::from(unit_index) * unit) - 1) as u32;
        self.activity_rows(&sql, |units| {
            let mut slots: Vec<u32> = units.into_iter().map(slot_of).collect();
            slots.sort_unstable();
            slots.dedup();
            slots
        })
    }

    /// The first event (time and channel) of each of these customers who has events, in
    /// ascending customer order; their slots are left empty.
    pub fn first_events(&self, business: BusinessId, customers: &[CustomerId]) -> Result<Vec<CustomerActivityRow>, ClickHouseError> {
        let mut rows = Vec::new();
        for chunk in customers.chunks(CUSTOMERS_PER_QUERY) {
            let list = chunk.iter().map(|c| c.0.to_string()).collect::<Vec<_>>().join(",");
            let sql = self.first_events_sql(business, "emptyArrayUInt32()", &format!("current IN ({list})"));
            rows.extend(self.activity_rows(&sql, |units| units)?);
        }
        rows.sort_by_key(|r| r.customer);
        Ok(rows)
    }

    /// The query both readings share: per current customer (grouped in the query that reads the
    /// Distributed table, see the module), the first event's time and channel and the `units`
    /// column given, for the customers `having` keeps, in customer order.
    fn first_events_sql(&self, business: BusinessId, units: &str, having: &str) -> String {
        format!(
            "SELECT current, first_ms, first_channel, units FROM (
               SELECT toInt64(if(merged_into = 0, customer, merged_into)) AS current,
                      min({MS}) AS first_ms,
                      argMin(channel, ({MS}, key)) AS first_channel,
                      {units} AS units
               FROM {events} {join}
               WHERE business = {business}
               GROUP BY current
               HAVING {having}
             ) ORDER BY current FORMAT RowBinary",
            events = events_table(&self.location),
            join = merge_join(&self.location, business),
            business = business.0,
        )
    }

    fn activity_rows(&self, sql: &str, slots: impl Fn(Vec<u32>) -> Vec<u32>) -> Result<Vec<CustomerActivityRow>, ClickHouseError> {
        let reader = self.http.reader(0, sql, &[])?;
        let mut rows = RowReader::new(BufReader::with_capacity(1 << 16, reader));
        let decode = |e: String| ClickHouseError::Decode(format!("{}: {e}", self.http.shown(0)));
        let mut activity = Vec::new();
        while !rows.at_end().map_err(decode)? {
            let customer = CustomerId(rows.i64().map_err(decode)?);
            let first_ms = rows.i64().map_err(decode)?;
            let first_channel = rows.string().map_err(decode)?.to_string();
            let units = rows.u32_array().map_err(decode)?;
            activity.push(CustomerActivityRow { customer, first_ms, first_channel, slots: slots(units) });
        }
        Ok(activity)
    }

    /// How many events the business has, and the first and last one's times.
    pub fn event_times(&self, business: BusinessId) -> Result<EventTimes, ClickHouseError> {
        let (count, first, last) = self.count_and_span(business, None)?;
        Ok(EventTimes { count, span: (count > 0).then_some((first, last)) })
    }

    /// How many events the business has from `start` (included) to `end` (excluded), in
    /// milliseconds, each counted once.
    pub fn count_events_between(&self, business: BusinessId, start: i64, end: i64) -> Result<u64, ClickHouseError> {
        Ok(self.count_and_span(business, Some((start, end)))?.0)
    }

    /// The time of the business's last event before `before`, in milliseconds.
    pub fn last_event_before(&self, business: BusinessId, before: i64) -> Result<Option<i64>, ClickHouseError> {
        let (count, _, last) = self.count_and_span(business, Some((i64::MIN, before)))?;
        Ok((count > 0).then_some(last))
    }

    /// The count (each event once), the first and the last time of the business's events, of
    /// those in `[start, end)` when given. The whole seconds are tested too, so whole partitions
    /// outside the range are skipped.
    fn count_and_span(&self, business: BusinessId, range: Option<(i64, i64)>) -> Result<(u64, i64, i64), ClickHouseError> {
        let filter = range.map_or_else(String::new, |(start, end)| {
            // Seconds a DateTime can hold: a bound outside them tests nothing.
            let seconds = |ms: i64| ms.div_euclid(1000).clamp(0, i64::from(u32::MAX));
            format!(
                " AND time >= toDateTime({}) AND time <= toDateTime({}) AND {MS} >= {start} AND {MS} < {end}",
                seconds(start),
                seconds(end),
            )
        });
        let sql = format!(
            "SELECT count(), min({MS}), max({MS}) FROM {} FINAL WHERE business = {}{filter} FORMAT TabSeparated",
            events_table(&self.location),
            business.0
        );
        let text = self.http.text(0, &sql, &[])?;
        let decode = || ClickHouseError::Decode(format!("{}: event times {text:?}", self.http.shown(0)));
        let mut fields = text.trim().split('\t').map(|f| f.parse::<i64>());
        match (fields.next(), fields.next(), fields.next()) {
            (Some(Ok(count)), Some(Ok(first)), Some(Ok(last))) => Ok((u64::try_from(count).map_err(|_| decode())?, first, last)),
            _ => Err(decode()),
        }
    }
}

fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::gcd;

    #[test]
    fn units_divide_every_bound() {
        // Days of 23, 24 and 25 hours from the first bound: an hour divides them all.
        let hour = 3_600_000;
        let bounds = [0, 24 * hour, 47 * hour, 72 * hour];
        assert_eq!(bounds.iter().fold(0, |g, b| gcd(g, b - bounds[0])), hour);
        assert_eq!(gcd(0, 0), 0);
    }
}
