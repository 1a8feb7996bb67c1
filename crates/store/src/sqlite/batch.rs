//! SQLite's reads of a business's rows in batches ([`crate::IncrementalReads`]): each kind (orders with their lines, survey answers,
//! feedback, merged customers, identities) in one pass of one statement (two for orders and
//! their lines, merged in order), never a query per row; "after" a row id for a reader that keeps
//! what it read and comes back for what was written since ([`DataMark`]); and a counter of the
//! statements a connection runs, which the tests use to keep queries out of loops over rows.
//!
//! The order of reads a reader follows is in `crate::reads`.

use crate::*;
use crate::rows::{currency, parse_json};
use crate::{Result, SqliteStore, StoreError};
use rusqlite::{OptionalExtension, params};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use trailmap_model::*;

/// How many statements a connection has run (each execution of a prepared statement counts).
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The text of the statements a connection has run, in order (each execution counts).
#[derive(Debug, Clone, Default)]
pub struct StatementLog(Arc<std::sync::Mutex<Vec<String>>>);

impl StatementLog {
    pub fn statements(&self) -> Vec<String> {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn rowid(id: i64) -> i64 {
    id.max(0)
}

impl SqliteStore {
    /// Counts the statements this connection runs from now on.
    pub fn count_statements(&mut self) -> Result<StatementCounter> {
        let counter = StatementCounter::default();
        let count = counter.0.clone();
        self.conn.trace_v2(
            rusqlite::trace::TraceEventCodes::SQLITE_TRACE_STMT,
            Some(move |event: rusqlite::trace::TraceEvent<'_>| {
                // Statements a trigger runs are reported as comments; they are part of the one
                // that fired them.
                if let rusqlite::trace::TraceEvent::Stmt(_, sql) = event
                    && !sql.starts_with("--")
                {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }),
        )?;
        Ok(counter)
    }

    /// Records the text of every statement this connection runs from now on (in place of a
    /// [`StatementCounter`]): tests check what a path reads, such as no key table after a restart.
    pub fn log_statements(&mut self) -> Result<StatementLog> {
        let log = StatementLog::default();
        let texts = log.0.clone();
        self.conn.trace_v2(
            rusqlite::trace::TraceEventCodes::SQLITE_TRACE_STMT,
            Some(move |event: rusqlite::trace::TraceEvent<'_>| {
                if let rusqlite::trace::TraceEvent::Stmt(_, sql) = event
                    && !sql.starts_with("--")
                    && let Ok(mut texts) = texts.lock()
                {
                    texts.push(sql.to_string());
                }
            }),
        )?;
        Ok(log)
    }

    fn read_orders(&self, business: BusinessId, after: i64, merges: &Merges) -> Result<Vec<Order>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, external_id, customer, time, currency, total, subtotal, shipping, tax, discount, status, channel, source, properties, origin
             FROM orders NOT INDEXED WHERE id > ?2 AND business = ?1 ORDER BY time, id",
        )?;
        type OrderRow = (i64, String, i64, i64, String, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<String>, Option<String>, Option<String>, String, String);
        let rows: Vec<OrderRow> = stmt
            .query_map(params![business.0, rowid(after)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        // Every line of those orders, by order and position, in one pass; the unit price is in
        // its order's currency, set below.
        let mut lines: HashMap<i64, Vec<(Option<String>, String, i64, i64)>> = HashMap::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT l.order_id, l.sku, l.name, l.quantity, l.unit_price FROM orders o NOT INDEXED
                 JOIN order_lines l ON l.order_id = o.id WHERE o.id > ?2 AND o.business = ?1 ORDER BY l.order_id, l.position",
            )?;
            let mut line_rows = stmt.query(params![business.0, rowid(after)])?;
            while let Some(r) = line_rows.next()? {
                lines.entry(r.get(0)?).or_default().push((r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?));
            }
        }
        rows.into_iter()
            .map(|(id, external_id, customer, time, cur, total, subtotal, shipping, tax, discount, status, channel, source, properties, origin)| {
                let cur = currency(&cur)?;
                let money = |m: Option<i64>| m.map(|m| Money::new(m, cur));
                let lines = lines
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(sku, name, quantity, unit_price)| OrderLine { sku, name, quantity, unit_price: Money::new(unit_price, cur) })
                    .collect();
                Ok(Order {
                    id: OrderId(id),
                    business,
                    external_id,
                    origin,
                    customer: merges.current(CustomerId(customer)),
                    time: Timestamp(time),
                    total: Money::new(total, cur),
                    subtotal: money(subtotal),
                    shipping: money(shipping),
                    tax: money(tax),
                    discount: money(discount),
                    status,
                    channel,
                    source,
                    lines,
                    properties: parse_json(&properties, "order properties")?,
                })
            })
            .collect()
    }

}

impl IncrementalReads for SqliteStore {
    fn data_mark(&self, business: BusinessId) -> Result<DataMark> {
        let version = crate::Store::data_version(self, business)?;
        let (segment, rows): (i64, i64) = self
            .conn
            .prepare_cached("SELECT coalesce(max(id), 0), coalesce(sum(rows), 0) FROM event_segments WHERE business = ?1")?
            .query_row([business.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let max = |sql: &str| -> Result<i64> { Ok(self.conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?) };
        let strings = max("SELECT coalesce(max(id), 0) FROM strings")?;
        let merged: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM customers WHERE business = ?1 AND merged_into IS NOT NULL")?
            .query_row([business.0], |r| r.get(0))?;
        let rewrites: i64 =
            self.conn.prepare_cached("SELECT event_rewrites FROM businesses WHERE id = ?1")?.query_row([business.0], |r| r.get(0))?;
        Ok(DataMark {
            version,
            segment,
            rows,
            rewrites,
            strings: usize::try_from(strings + 1).map_err(|_| StoreError::Corrupt(format!("string id {strings}")))?,
            identity: max("SELECT coalesce(max(id), 0) FROM identities")?,
            merged,
            order: max("SELECT coalesce(max(id), 0) FROM orders")?,
            response: max("SELECT coalesce(max(id), 0) FROM survey_responses")?,
            feedback: max("SELECT coalesce(max(id), 0) FROM feedback")?,
            erasures: self.conn.prepare_cached("SELECT count(*) FROM erasures WHERE business = ?1")?.query_row([business.0], |r| r.get(0))?,
            feedback_edits: self.conn.prepare_cached("SELECT feedback_edits FROM businesses WHERE id = ?1")?.query_row([business.0], |r| r.get(0))?,
        })
    }

    fn segments_unchanged(&self, business: BusinessId, mark: &DataMark) -> Result<bool> {
        let (rows, rewrites): (i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT (SELECT coalesce(sum(rows), 0) FROM event_segments WHERE business = ?1 AND id <= ?2), event_rewrites FROM businesses WHERE id = ?1",
            )?
            .query_row([business.0, mark.segment], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rewrites == mark.rewrites && rows <= mark.rows)
    }

    fn identities_after(&self, business: BusinessId, after: i64) -> Result<Vec<(i64, i64)>> {
        // By row id (the rows after the mark), not through the (business, kind, value) index.
        let mut stmt = self.conn.prepare_cached("SELECT id, customer FROM identities NOT INDEXED WHERE id > ?2 AND business = ?1 ORDER BY id")?;
        let rows = stmt.query_map(params![business.0, rowid(after)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn merges(&self, business: BusinessId) -> Result<Merges> {
        let mut stmt = self.conn.prepare_cached("SELECT id, merged_into FROM customers WHERE business = ?1 AND merged_into IS NOT NULL")?;
        let rows = stmt.query_map([business.0], |r| Ok((CustomerId(r.get(0)?), CustomerId(r.get(1)?))))?;
        Ok(Merges(rows.collect::<rusqlite::Result<_>>()?))
    }

    fn order_table(&self, business: BusinessId, after: i64, merges: &Merges) -> Result<OrderTable> {
        // Read in the table's own (id) order and sorted by (time, id) here: SQLite's sorter, which
        // an ORDER BY time, id needs without an index on it, took longer than the rest of the
        // read (a quarter of `trailmap clv` at a million customers), and sorting the few columns
        // in memory gives the same rows in the same order.
        let mut stmt =
            self.conn.prepare_cached("SELECT id, customer, time, currency, total FROM orders NOT INDEXED WHERE id > ?2 AND business = ?1")?;
        let mut rows = stmt.query(params![business.0, rowid(after)])?;
        let mut read: Vec<(i64, i64, i64, i64, Currency)> = Vec::new();
        // Few currencies, many orders: each code is parsed once, and most rows repeat the last.
        let mut last: Option<(String, Currency)> = None;
        let mut currencies: HashMap<String, Currency> = HashMap::new();
        while let Some(row) = rows.next()? {
            let code = row.get_ref(3)?.as_str().map_err(rusqlite::Error::from)?;
            let cur = match &last {
                Some((text, c)) if text == code => *c,
                _ => {
                    let c = match currencies.get(code) {
                        Some(&c) => c,
                        None => {
                            let c = currency(code)?;
                            currencies.insert(code.to_string(), c);
                            c
                        }
                    };
                    last = Some((code.to_string(), c));
                    c
                }
            };
            read.push((row.get(2)?, row.get(0)?, row.get(1)?, row.get(4)?, cur));
        }
        // (time, id) is unique, so the unstable sort gives the one order.
        if !read.is_sorted_by_key(|r| (r.0, r.1)) {
            read.sort_unstable_by_key(|r| (r.0, r.1));
        }
        let mut table = OrderTable::with_capacity(read.len());
        for (time, id, customer, total, cur) in read {
            table.push(OrderId(id), merges.current(CustomerId(customer)), time, Money::new(total, cur));
        }
        Ok(table)
    }

    fn orders_after(&self, business: BusinessId, after: i64) -> Result<Vec<Order>> {
        self.snapshot(|store| {
            let merges = store.merges(business)?;
            store.read_orders(business, after, &merges)
        })
    }

    fn order_customers(&self, business: BusinessId) -> Result<Vec<(String, CustomerId)>> {
        self.snapshot(|store| {
            let merges = store.merges(business)?;
            let mut stmt = store
                .conn
                .prepare_cached("SELECT external_id, customer FROM orders WHERE business = ?1 ORDER BY time, id")?;
            let rows = stmt.query_map([business.0], |r| Ok((r.get::<_, String>(0)?, CustomerId(r.get(1)?))))?;
            rows.map(|row| row.map(|(number, customer)| (number, merges.current(customer))).map_err(StoreError::from)).collect()
        })
    }

    fn order_customer(&self, business: BusinessId, number: &str) -> Result<Option<CustomerId>> {
        self.snapshot(|store| {
            let found: Option<i64> = store
                .conn
                .prepare_cached("SELECT customer FROM orders WHERE business = ?1 AND external_id = ?2 ORDER BY time, id LIMIT 1")?
                .query_row(params![business.0, number], |r| r.get(0))
                .optional()?;
            found.map(|c| store.merges(business).map(|m| m.current(CustomerId(c)))).transpose()
        })
    }

    fn responses_after(&self, business: BusinessId, after: i64) -> Result<Vec<SurveyResponse>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, survey, customer, submitted_at, hidden, answers FROM survey_responses NOT INDEXED WHERE id > ?2 AND business = ?1 ORDER BY id",
        )?;
        let rows: Vec<(i64, i64, Option<i64>, i64, String, String)> = stmt
            .query_map(params![business.0, rowid(after)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, survey, customer, at, hidden, answers)| {
                Ok(SurveyResponse {
                    id: ResponseId(id),
                    survey: SurveyId(survey),
                    customer: customer.map(CustomerId),
                    submitted_at: Timestamp(at),
                    hidden: parse_json(&hidden, "response hidden fields")?,
                    answers: parse_json(&answers, "response answers")?,
                })
            })
            .collect()
    }

    fn feedback_after(&self, business: BusinessId, after: i64) -> Result<Vec<Feedback>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, source, external_id, customer, author, time, rating, text, link, touchpoint, tags
             FROM feedback NOT INDEXED WHERE id > ?2 AND business = ?1 ORDER BY time, id",
        )?;
        type FeedbackRow = (i64, String, String, Option<String>, Option<i64>, Option<String>, i64, Option<f64>, String, Option<String>, Option<i64>, String);
        let rows: Vec<FeedbackRow> = stmt
            .query_map(params![business.0, rowid(after)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, kind, source, external_id, customer, author, time, rating, text, link, touchpoint, tags)| {
                Ok(Feedback {
                    id: FeedbackId(id),
                    business,
                    kind: FeedbackKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("feedback {id}: kind {kind:?}")))?,
                    source,
                    external_id,
                    customer: customer.map(CustomerId),
                    author,
                    time: Timestamp(time),
                    rating: rating.map(|r| r as f32),
                    text,
                    link,
                    touchpoint: touchpoint.map(TouchpointId),
                    tags: parse_json(&tags, "feedback tags")?,
                })
            })
            .collect()
    }

    fn customers_by_ids(&self, business: BusinessId, ids: &[CustomerId]) -> Result<Vec<Customer>> {
        self.snapshot(|store| {
            let merges = store.merges(business)?;
            let current: Vec<CustomerId> = ids.iter().map(|&id| merges.current(id)).collect();
            let list = serde_json::to_string(&current.iter().map(|c| c.0).collect::<Vec<_>>()).map_err(|e| StoreError::Invalid(e.to_string()))?;
            let mut stmt = store.conn.prepare_cached(&format!(
                "SELECT {} FROM customers WHERE business = ?1 AND id IN (SELECT value FROM json_each(?2))",
                crate::sqlite::CUSTOMER_COLUMNS
            ))?;
            let rows: Vec<_> = stmt.query_map(params![business.0, list], crate::sqlite::customer_row)?.collect::<rusqlite::Result<_>>()?;
            let mut found: HashMap<CustomerId, Customer> = HashMap::new();
            for row in rows {
                let customer = crate::rows::to_customer(row)?;
                found.insert(customer.id, customer);
            }
            Ok(current.iter().filter_map(|id| found.get(id).cloned()).collect())
        })
    }
}
