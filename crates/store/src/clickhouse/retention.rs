//! Retention cohorts pushed down to ClickHouse: each buyer's purchases summarised in SQL (the
//! period of the first purchase, the later periods with a purchase, the gaps between consecutive
//! purchases), so the app assembles the engine's own `RetentionReport` from one row per buyer
//! instead of streaming every event of the business (`trailmap_analytics::retention`, the
//! reference, is the same assembly over the journeys).
//!
//! Where the SQL and the engine agree, by construction and checked on the rig by the tests:
//! - a purchase is an event whose name is exactly the purchase event's (case and all), as the
//!   engine finds the name in the table's dictionary;
//! - periods are the engine's indexes in UTC: ISO weeks as `(days + 3) div 7`, days counted from
//!   1970-01-01 in whole seconds (ClickHouse keeps no time before 1970, so every division is a
//!   floor, as `div_euclid`), months as `year * 12 + month - 1` with the year and month of the
//!   time in the time zone `UTC` named in the query, whatever the server's own zone;
//! - purchases at the same millisecond: the engine's gap between them is 0 whichever comes first,
//!   so the times are sorted by value alone, and two copies of one event count once (`FINAL`);
//! - each purchase on the customer it is now, through the same join of the merges as a load;
//! - the triangle stops at the period of the business's last event of any kind, whoever's.
//!
//! Each customer's work is done on the shards: the per-customer aggregation sits in the query that
//! reads the Distributed table, so every shard aggregates its own rows by current customer and the
//! node that took the query merges the partial states. A merged customer whose events were written
//! on two shards (events are sharded by the customer they were written under) is therefore whole
//! after that merge, which is what makes the answer exact where doing all of a customer's work on
//! one shard would not be. Nothing of the engine's retention is beyond 18.16, so nothing is
//! refused here; the app streams instead only when the events are not in ClickHouse.

use super::events::merge_join;
use super::http::quote;
use super::schema::events_table;
use super::{ClickHouseError, ClickHouseEvents};
use trailmap_model::{BusinessId, CustomerId};

/// The calendar periods cohorts are cut by, in UTC (the engine's `RetentionPeriod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CohortPeriod {
    /// ISO weeks, starting Monday.
    Week,
    /// Calendar months.
    Month,
}

/// One buyer's purchases as ClickHouse summarised them (the engine's `BuyerPurchases`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuyerRow {
    /// The customer the purchases are on now.
    pub customer: CustomerId,
    /// The period index of the first purchase.
    pub cohort: i64,
    /// The periods after the cohort's with a purchase, ascending, each once.
    pub offsets: Vec<usize>,
    /// Milliseconds between consecutive purchases, in time order.
    pub gaps: Vec<i64>,
}

/// What a pushed-down retention reads from ClickHouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRows {
    /// The time of the business's last event of any kind, None without events.
    pub last_event_ms: Option<i64>,
    /// Every buyer, in ascending customer order.
    pub buyers: Vec<BuyerRow>,
}

impl ClickHouseEvents {
    /// Every buyer of `purchase_event` summarised per customer in ClickHouse, and the time of the
    /// business's last event: what the engine's retention reads of the events, counts equal.
    pub fn retention(&self, business: BusinessId, period: CohortPeriod, purchase_event: &str) -> Result<RetentionRows, ClickHouseError> {
        let decode = |what: &str, line: &str| ClickHouseError::Decode(format!("{}: {what} {line:?}", self.http.shown(0)));
        // Duplicates do not move a maximum, so the last event needs no FINAL.
        let span = self.http.text(
            0,
            &format!("SELECT count(), max(toInt64(time) * 1000 + ms) FROM {} WHERE business = {} FORMAT TabSeparated", events_table(&self.location), business.0),
            &[],
        )?;
        let (count, last) = span.trim().split_once('\t').ok_or_else(|| decode("event span", &span))?;
        let count: u64 = count.parse().map_err(|_| decode("event span", &span))?;
        let last: i64 = last.parse().map_err(|_| decode("event span", &span))?;
        // An empty set's max is 0 in ClickHouse, not NULL.
        let last_event_ms = (count > 0).then_some(last);
        let text = self.http.text(0, &retention_sql(&self.location, business, period, purchase_event), &[])?;
        let mut buyers = Vec::new();
        for line in text.lines() {
            let mut fields = line.split('\t');
            let mut next = || fields.next().ok_or_else(|| decode("buyer row", line));
            let customer = next()?.parse().map_err(|_| decode("buyer row", line))?;
            let cohort = next()?.parse().map_err(|_| decode("buyer row", line))?;
            let offsets = array(next()?).ok_or_else(|| decode("buyer row", line))?;
            let gaps = array(next()?).ok_or_else(|| decode("buyer row", line))?;
            let offsets = offsets.into_iter().map(usize::try_from).collect::<Result<_, _>>().map_err(|_| decode("buyer row", line))?;
            buyers.push(BuyerRow { customer: CustomerId(customer), cohort, offsets, gaps });
        }
        Ok(RetentionRows { last_event_ms, buyers })
    }
}

/// A TabSeparated array of integers, `[1,2,3]`.
fn array(text: &str) -> Option<Vec<i64>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    if inner.is_empty() {
        return Some(Vec::new());
    }
    inner.split(',').map(|n| n.parse().ok()).collect()
}

/// The period index of an event, in SQL over the events table's `time` (whole seconds, UTC).
fn period_sql(period: CohortPeriod) -> &'static str {
    match period {
        // 1970-01-01 was a Thursday: three days on, weeks start on Monday, as the engine counts.
        CohortPeriod::Week => "intDiv(intDiv(toInt64(time), 86400) + 3, 7)",
        CohortPeriod::Month => "(toInt64(toYear(time, 'UTC')) * 12 + toInt64(toMonth(time, 'UTC')) - 1)",
    }
}

/// The query: per buyer (current customer), the first purchase's period, the distinct later
/// periods as offsets from it, and the gaps between the sorted purchase times.
fn retention_sql(location: &super::ClickHouseLocation, business: BusinessId, period: CohortPeriod, purchase_event: &str) -> String {
    let period = period_sql(period);
    // The inner SELECT reads the Distributed table and groups in the same query, so each shard
    // aggregates its own rows and the node that took the query merges the partial states (a
    // merged customer's rows may sit on two shards). 18.16's lambdas cannot read a column of the
    // query, so the cohort reaches the lambda as a second array of equal length.
    format!(
        "SELECT current, cohort,
                arrayFilter(k -> k > 0, arrayMap((p, c) -> p - c, periods, arrayResize([cohort], length(periods), cohort))) AS offsets,
                arrayMap((a, b) -> a - b, arrayPopFront(times), arrayPopBack(times)) AS gaps
         FROM (
           SELECT toInt64(if(merged_into = 0, customer, merged_into)) AS current,
                  min({period}) AS cohort,
                  arraySort(groupUniqArray({period})) AS periods,
                  arraySort(groupArray(toInt64(time) * 1000 + ms)) AS times
           FROM {events} FINAL {join}
           WHERE business = {business} AND name = {name}
           GROUP BY current
         ) ORDER BY current FORMAT TabSeparated",
        events = events_table(location),
        join = merge_join(location, business),
        business = business.0,
        name = quote(purchase_event),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_read_and_the_purchase_name_is_quoted() {
        assert_eq!(array("[]"), Some(vec![]));
        assert_eq!(array("[1,-2,30]"), Some(vec![1, -2, 30]));
        assert_eq!(array("1,2"), None);
        let location = super::super::ClickHouseLocation::parse("clickhouse://h:1/db").unwrap();
        let sql = retention_sql(&location, BusinessId(3), CohortPeriod::Week, "it's");
        assert!(sql.contains("name = 'it\\'s'") && sql.contains("business = 3"), "{sql}");
    }
}
