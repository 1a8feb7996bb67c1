//! Reads for a reader that keeps what it read and comes back for what was written since, on
//! PostgreSQL, with the SQLite store's meaning (batch.rs): a [`DataMark`] of where the business's
//! data stands, the rows with ids above a mark, and snapshots to make several reads agree. A
//! snapshot is a read-only REPEATABLE READ transaction on one connection, pinned in the store's
//! pool while it lasts: every read of the store runs in it.

use super::PgStore;
use super::reads::{CUSTOMER_COLUMNS, current, customer_row, merges_in};
use crate::IncrementalReads;
use crate::rows::{currency, parse_json};
use crate::{DataMark, Merges, Result, StoreError};
use std::collections::HashMap;
use trailmap_model::*;

const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// An open snapshot: its connection is pinned in the store's pool until this is dropped, which
/// ends the read transaction and gives the connection back.
struct SnapshotEnd<'a> {
    pool: &'a super::pool::Pool,
}

impl Drop for SnapshotEnd<'_> {
    fn drop(&mut self) {
        if let Some(mut client) = self.pool.unpin()
            && client.batch_execute("COMMIT").is_ok()
        {
            self.pool.give_back(client);
        }
    }
}

impl PgStore {
    /// Starts a read snapshot (see [`crate::Store::begin_snapshot`]): a read-only REPEATABLE
    /// READ transaction on one connection, pinned in the pool so that every read of this store
    /// runs on it until the guard is dropped. Inside a snapshot already, that one goes on.
    pub(crate) fn begin_read_snapshot(&self) -> Result<crate::Snapshot<'_>> {
        if self.pool.is_pinned() {
            return Ok(crate::Snapshot::none());
        }
        let mut client = self.pool.take()?;
        client.batch_execute(BEGIN_SNAPSHOT)?;
        self.pool.pin(client)?;
        Ok(crate::Snapshot::holding(SnapshotEnd { pool: &self.pool }))
    }

    /// Runs `f` on one connection in a read-only snapshot: the snapshot's own connection inside
    /// [`Self::snapshot`], else a pooled one in a transaction of its own.
    pub(crate) fn in_snapshot<T>(&self, f: impl FnOnce(&mut postgres::Client) -> Result<T>) -> Result<T> {
        let mut conn = self.pool.get()?;
        if conn.in_snapshot() {
            return f(&mut conn);
        }
        conn.batch_execute(BEGIN_SNAPSHOT)?;
        let result = f(&mut conn);
        if conn.batch_execute(if result.is_ok() { "COMMIT" } else { "ROLLBACK" }).is_err() {
            // A connection whose transaction did not end cleanly is not reused.
            conn.discard();
        }
        result
    }

    /// The business's merged customers, each with the customer it was merged into (what
    /// `SqliteStore::merges` gathers into a [`Merges`]).
    pub fn merged_customers(&self, business: BusinessId) -> Result<Vec<(CustomerId, CustomerId)>> {
        Ok(self
            .query("SELECT id, merged_into FROM customers WHERE business = $1 AND merged_into IS NOT NULL ORDER BY id", &[&business.0])?
            .iter()
            .map(|r| (CustomerId(r.get(0)), CustomerId(r.get(1))))
            .collect())
    }

}

impl IncrementalReads for PgStore {
    fn merges(&self, business: BusinessId) -> Result<Merges> {
        Ok(Merges(self.merged_customers(business)?.into_iter().collect()))
    }

    fn orders_after(&self, business: BusinessId, after: i64) -> Result<Vec<Order>> {
        self.read_orders_after(business, after)
    }

    fn feedback_after(&self, business: BusinessId, after: i64) -> Result<Vec<Feedback>> {
        self.read_feedback_after(business, after)
    }

    fn data_mark(&self, business: BusinessId) -> Result<DataMark> {
        self.in_snapshot(|conn| {
            let r = conn
                .query_opt(
                    "SELECT b.data_version,
                        (SELECT coalesce(max(id), 0) FROM event_segments WHERE business = b.id),
                        (SELECT coalesce(sum(rows), 0)::bigint FROM event_segments WHERE business = b.id),
                        b.event_rewrites,
                        (SELECT coalesce(max(id), 0) FROM strings),
                        (SELECT coalesce(max(id), 0) FROM identities),
                        (SELECT count(*) FROM customers WHERE business = b.id AND merged_into IS NOT NULL),
                        (SELECT coalesce(max(id), 0) FROM orders),
                        (SELECT coalesce(max(id), 0) FROM survey_responses),
                        (SELECT coalesce(max(id), 0) FROM feedback),
                        (SELECT count(*) FROM erasures WHERE business = b.id),
                        b.feedback_edits
                     FROM businesses b WHERE b.id = $1",
                    &[&business.0],
                )?
                .ok_or(StoreError::NotFound { what: "business", id: business.0 })?;
            let strings: i64 = r.get(4);
            Ok(DataMark {
                version: r.get(0),
                segment: r.get(1),
                rows: r.get(2),
                rewrites: r.get(3),
                strings: usize::try_from(strings + 1).map_err(|_| StoreError::Corrupt(format!("string id {strings}")))?,
                identity: r.get(5),
                merged: r.get(6),
                order: r.get(7),
                response: r.get(8),
                feedback: r.get(9),
                erasures: r.get(10),
                feedback_edits: r.get(11),
            })
        })
    }

    fn segments_unchanged(&self, business: BusinessId, mark: &DataMark) -> Result<bool> {
        let r = self.query_one(
            "SELECT (SELECT coalesce(sum(rows), 0)::bigint FROM event_segments WHERE business = $1 AND id <= $2), event_rewrites
             FROM businesses WHERE id = $1",
            &[&business.0, &mark.segment],
        )?;
        let (rows, rewrites): (i64, i64) = (r.get(0), r.get(1));
        Ok(rewrites == mark.rewrites && rows <= mark.rows)
    }

    fn identities_after(&self, business: BusinessId, after: i64) -> Result<Vec<(i64, i64)>> {
        Ok(self
            .query("SELECT id, customer FROM identities WHERE business = $1 AND id > $2 ORDER BY id", &[&business.0, &after])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn order_table(&self, business: BusinessId, after: i64, merges: &Merges) -> Result<OrderTable> {
        let rows = self.query(
            "SELECT id, customer, time, currency, total FROM orders WHERE business = $1 AND id > $2 ORDER BY time, id",
            &[&business.0, &after],
        )?;
        let mut table = OrderTable::with_capacity(rows.len());
        let mut currencies: HashMap<String, Currency> = HashMap::new();
        for row in rows {
            let code: &str = row.get(3);
            let cur = match currencies.get(code) {
                Some(&c) => c,
                None => {
                    let c = currency(code)?;
                    currencies.insert(code.to_string(), c);
                    c
                }
            };
            table.push(OrderId(row.get(0)), merges.current(CustomerId(row.get(1))), row.get(2), Money::new(row.get(4), cur));
        }
        Ok(table)
    }

    fn order_customers(&self, business: BusinessId) -> Result<Vec<(String, CustomerId)>> {
        self.in_snapshot(|conn| {
            let merges = merges_in(conn, business)?;
            Ok(conn
                .query("SELECT external_id, customer FROM orders WHERE business = $1 ORDER BY time, id", &[&business.0])?
                .iter()
                .map(|r| (r.get(0), current(&merges, CustomerId(r.get(1)))))
                .collect())
        })
    }

    fn order_customer(&self, business: BusinessId, number: &str) -> Result<Option<CustomerId>> {
        self.in_snapshot(|conn| {
            let found: Option<i64> = conn
                .query_opt("SELECT customer FROM orders WHERE business = $1 AND external_id = $2 ORDER BY time, id LIMIT 1", &[&business.0, &number])?
                .map(|r| r.get(0));
            match found {
                Some(c) => Ok(Some(current(&merges_in(conn, business)?, CustomerId(c)))),
                None => Ok(None),
            }
        })
    }

    fn responses_after(&self, business: BusinessId, after: i64) -> Result<Vec<SurveyResponse>> {
        self.query(
            "SELECT id, survey, customer, submitted_at, hidden, answers FROM survey_responses WHERE business = $1 AND id > $2 ORDER BY id",
            &[&business.0, &after],
        )?
        .iter()
        .map(|r| {
            Ok(SurveyResponse {
                id: ResponseId(r.get(0)),
                survey: SurveyId(r.get(1)),
                customer: r.get::<_, Option<i64>>(2).map(CustomerId),
                submitted_at: Timestamp(r.get(3)),
                hidden: parse_json(r.get(4), "response hidden fields")?,
                answers: parse_json(r.get(5), "response answers")?,
            })
        })
        .collect()
    }

    fn customers_by_ids(&self, business: BusinessId, ids: &[CustomerId]) -> Result<Vec<Customer>> {
        self.in_snapshot(|conn| {
            let merges = merges_in(conn, business)?;
            let wanted: Vec<CustomerId> = ids.iter().map(|&id| current(&merges, id)).collect();
            let list: Vec<i64> = wanted.iter().map(|c| c.0).collect();
            let mut found: HashMap<CustomerId, Customer> = HashMap::new();
            for row in conn.query(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE business = $1 AND id = ANY($2)"), &[&business.0, &list])? {
                let customer = customer_row(&row)?;
                found.insert(customer.id, customer);
            }
            Ok(wanted.iter().filter_map(|id| found.get(id).cloned()).collect())
        })
    }
}
