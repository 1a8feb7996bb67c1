//! Paths pushed down to ClickHouse: each customer's events sorted, cut into sessions after an idle
//! gap and their consecutive repeats collapsed in SQL, so the app counts the engine's own
//! `PathsReport` from the sessions' items instead of streaming every event of the business
//! (`trailmap_analytics::paths`, the reference, makes the same sessions from the journeys and
//! counts them with the same code, `paths_of_sessions`).
//!
//! Where the SQL and the engine agree, by construction and checked on the rig by the tests:
//! - a customer's events in (time, event key) order, the order a load gives and the engine keeps
//!   for events at one millisecond (events.rs): each customer's events are one array of
//!   (milliseconds, key, item) tuples sorted as tuples, and every event is unique in its first
//!   two fields once `FINAL` has collapsed copies;
//! - an item is the event's name or, by page, `page_view PAGE` for a page view with a page, as
//!   the engine writes it (`concat` of the same bytes);
//! - a session ends when the next event is more than the gap later (a gap of exactly the session
//!   gap stays in the session), and within a session an item equal to the one before it is
//!   dropped, as the engine collapses repeats;
//! - each event on the customer it is now, through the same join of the merges as a load.
//!
//! As for retention (retention.rs), the per-customer gathering sits in the query that reads the
//! Distributed table, so each shard groups its own rows and a merged customer written on two
//! shards is whole once the node that took the query merges the partial arrays. The start and end
//! cuts, the steps drawn and the top edges are the engine's code over the sessions; nothing of
//! the engine's paths is beyond 18.16, so nothing is refused here.

use super::events::merge_join;
use super::rowbinary::RowReader;
use super::schema::events_table;
use super::{ClickHouseError, ClickHouseEvents};
use std::io::BufReader;
use trailmap_model::{BusinessId, CustomerId};

/// What a path's item is (the engine's `PathItem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionItems {
    /// The event's name.
    Event,
    /// The name, and the page of a page view: `page_view /checkout`.
    Page,
}

impl ClickHouseEvents {
    /// Every session of the business's customers, made in ClickHouse: per customer in ascending
    /// order, their sessions in time order, each the items with consecutive repeats collapsed.
    /// A session ends after more than `session_gap_ms` without an event.
    pub fn path_sessions(&self, business: BusinessId, items: SessionItems, session_gap_ms: i64) -> Result<Vec<(CustomerId, Vec<String>)>, ClickHouseError> {
        let sql = sessions_sql(&self.location, business, items, session_gap_ms);
        let reader = self.http.reader(0, &sql, &[])?;
        let mut rows = RowReader::new(BufReader::with_capacity(1 << 16, reader));
        let decode = |e: String| ClickHouseError::Decode(format!("{}: {e}", self.http.shown(0)));
        let mut sessions: Vec<(CustomerId, Vec<String>)> = Vec::new();
        while !rows.at_end().map_err(decode)? {
            let customer = CustomerId(rows.i64().map_err(decode)?);
            let starts = rows.u8().map_err(decode)? == 1;
            let item = rows.string().map_err(decode)?.to_string();
            match sessions.last_mut() {
                Some((last, session)) if *last == customer && !starts => session.push(item),
                _ => sessions.push((customer, vec![item])),
            }
        }
        Ok(sessions)
    }
}

/// The query: one row per kept item, (customer, whether it starts a session, item), in customer
/// and time order.
fn sessions_sql(location: &super::ClickHouseLocation, business: BusinessId, items: SessionItems, session_gap_ms: i64) -> String {
    let item = match items {
        SessionItems::Event => "name",
        SessionItems::Page => "if(name = 'page_view' AND page != '', concat(name, ' ', page), name)",
    };
    // The innermost SELECT reads the Distributed table and groups in the same query, so each
    // shard gathers its own rows per current customer. Then, per customer: a break where an event
    // is more than the gap after the one before; an item kept when it is the customer's first,
    // starts a session, or differs from the item before; one row per kept item. 18.16's lambdas
    // cannot read a column of the query, so the previous time and item reach them as shifted
    // arrays (arrayPushFront of arrayPopBack).
    format!(
        "SELECT current, starts, item FROM (
           SELECT current,
                  arrayMap(x -> x.1, events) AS times,
                  arrayMap(x -> x.3, events) AS items,
                  arrayMap((t, p) -> toUInt8(t - p > {session_gap_ms}), times, arrayPushFront(arrayPopBack(times), times[1])) AS breaks,
                  arrayMap((i, p, b, n) -> toUInt8(n = 1 OR b = 1 OR i != p), items, arrayPushFront(arrayPopBack(items), ''), breaks, arrayEnumerate(items)) AS keep,
                  arrayFilter((i, k) -> k = 1, items, keep) AS kept,
                  arrayFilter((b, k) -> k = 1, breaks, keep) AS kept_breaks
           FROM (
             SELECT toInt64(if(merged_into = 0, customer, merged_into)) AS current,
                    arraySort(groupArray((toInt64(time) * 1000 + ms, key, {item}))) AS events
             FROM {events} FINAL {join}
             WHERE business = {business}
             GROUP BY current
           )
         ) ARRAY JOIN kept AS item, kept_breaks AS starts, arrayEnumerate(kept) AS pos
         ORDER BY current, pos FORMAT RowBinary",
        events = events_table(location),
        join = merge_join(location, business),
        business = business.0,
    )
}
