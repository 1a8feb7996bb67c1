//! The reads of [`crate::Store`] on PostgreSQL: plain queries on a pooled connection, each
//! answer built exactly as the SQLite store builds it (sqlite.rs, batch.rs), in the same order.

use super::PgStore;
use crate::rows::{currency, date, parse_json};
use crate::{BusinessSummary, MapVersion, Result, StoreError, WriteKey};
use postgres::Row;
use postgres::types::ToSql;
use std::collections::HashMap;
use trailmap_model::*;

const BUSINESS_COLUMNS: &str = "id, name, currency, timezone, decimal_mark";
pub(crate) const CUSTOMER_COLUMNS: &str = "id, business, external_id, email, name, first_seen, properties";
const WRITE_KEY_COLUMNS: &str = "id, business, name, key_hash, created_at, last_used, revoked_at";

/// A business from a row of [`BUSINESS_COLUMNS`] starting at column `at`.
pub(crate) fn business_row(r: &Row, at: usize) -> Result<Business> {
    crate::rows::to_business((r.get(at), r.get(at + 1), r.get(at + 2), r.get(at + 3), r.get(at + 4)))
}

pub(crate) fn customer_row(r: &Row) -> Result<Customer> {
    crate::rows::to_customer((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)))
}

fn write_key_row(r: &Row) -> WriteKey {
    WriteKey {
        id: r.get(0),
        business: BusinessId(r.get(1)),
        name: r.get(2),
        key_hash: r.get(3),
        created_at: Timestamp(r.get(4)),
        last_used: r.get::<_, Option<i64>>(5).map(Timestamp),
        revoked_at: r.get::<_, Option<i64>>(6).map(Timestamp),
    }
}

impl PgStore {
    /// Runs one query on a pooled connection.
    pub(crate) fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        Ok(self.pool.get()?.query(sql, params)?)
    }

    pub(crate) fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        Ok(self.pool.get()?.query_opt(sql, params)?)
    }

    pub(crate) fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        Ok(self.pool.get()?.query_one(sql, params)?)
    }

    pub(crate) fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        Ok(self.pool.get()?.execute(sql, params)?)
    }

    pub(super) fn read_businesses(&self) -> Result<Vec<Business>> {
        self.query(&format!("SELECT {BUSINESS_COLUMNS} FROM businesses ORDER BY id"), &[])?.iter().map(|r| business_row(r, 0)).collect()
    }

    pub(super) fn read_business_by_name(&self, name: &str) -> Result<Option<Business>> {
        self.query_opt(&format!("SELECT {BUSINESS_COLUMNS} FROM businesses WHERE lower(name) = lower($1)"), &[&name])?
            .map(|r| business_row(&r, 0))
            .transpose()
    }

    pub(super) fn read_business(&self, id: BusinessId) -> Result<Business> {
        let row = self
            .query_opt(&format!("SELECT {BUSINESS_COLUMNS} FROM businesses WHERE id = $1"), &[&id.0])?
            .ok_or(StoreError::NotFound { what: "business", id: id.0 })?;
        business_row(&row, 0)
    }

    pub(super) fn read_data_version(&self, business: BusinessId) -> Result<i64> {
        self.query_opt("SELECT data_version FROM businesses WHERE id = $1", &[&business.0])?
            .map(|r| r.get(0))
            .ok_or(StoreError::NotFound { what: "business", id: business.0 })
    }

    pub(super) fn read_summary(&self, business: BusinessId) -> Result<BusinessSummary> {
        let b = self.read_business(business)?;
        let mut conn = self.pool.get()?;
        // One statement, so every count comes from the same snapshot.
        let r = conn.query_one(
            "SELECT
                (SELECT count(*) FROM customers WHERE business = $1 AND merged_into IS NULL),
                (SELECT count(*) FROM identities WHERE business = $1),
                (SELECT coalesce(sum(rows), 0)::bigint FROM event_segments WHERE business = $1),
                (SELECT min(min_time) FROM event_segments WHERE business = $1),
                (SELECT max(max_time) FROM event_segments WHERE business = $1),
                (SELECT count(*) FROM orders WHERE business = $1),
                (SELECT coalesce(sum(total), 0)::bigint FROM orders WHERE business = $1 AND currency = $2),
                (SELECT count(*) FROM stages WHERE business = $1),
                (SELECT count(*) FROM touchpoints WHERE business = $1),
                (SELECT count(*) FROM personas WHERE business = $1),
                (SELECT count(*) FROM journey_maps WHERE business = $1),
                (SELECT count(*) FROM surveys WHERE business = $1),
                (SELECT count(*) FROM survey_responses WHERE business = $1),
                (SELECT count(*) FROM feedback WHERE business = $1),
                (SELECT count(*) FROM changes WHERE business = $1),
                (SELECT count(*) FROM spend WHERE business = $1),
                (SELECT coalesce(sum(amount), 0)::bigint FROM spend WHERE business = $1 AND currency = $2)",
            &[&business.0, &b.currency.as_str()],
        )?;
        let n = |i: usize| r.get::<_, i64>(i).max(0) as u64;
        let scale = b.currency.minor_per_major() as f64;
        Ok(BusinessSummary {
            business: b.name.clone(),
            customers: n(0),
            identities: n(1),
            events: n(2),
            first_event: r.get::<_, Option<i64>>(3).map(|t| Timestamp(t).to_rfc3339()),
            last_event: r.get::<_, Option<i64>>(4).map(|t| Timestamp(t).to_rfc3339()),
            orders: n(5),
            revenue: r.get::<_, i64>(6) as f64 / scale,
            currency: b.currency.to_string(),
            stages: n(7),
            touchpoints: n(8),
            personas: n(9),
            maps: n(10),
            surveys: n(11),
            responses: n(12),
            feedback: n(13),
            changes: n(14),
            spend_rows: n(15),
            spend: r.get::<_, i64>(16) as f64 / scale,
        })
    }

    pub(super) fn read_stages(&self, business: BusinessId) -> Result<Vec<Stage>> {
        Ok(self
            .query("SELECT id, name, position, description FROM stages WHERE business = $1 ORDER BY position, id", &[&business.0])?
            .iter()
            .map(|r| Stage { id: StageId(r.get(0)), business, name: r.get(1), position: r.get::<_, i64>(2) as u32, description: r.get(3) })
            .collect())
    }

    pub(super) fn read_touchpoints(&self, business: BusinessId) -> Result<Vec<Touchpoint>> {
        self.query(
            "SELECT id, name, channel, stage, online, rule, description FROM touchpoints WHERE business = $1 ORDER BY position, id",
            &[&business.0],
        )?
        .iter()
        .map(|r| {
            let channel: String = r.get(2);
            let rule: String = r.get(5);
            Ok(Touchpoint {
                id: TouchpointId(r.get(0)),
                business,
                name: r.get(1),
                channel: parse_json(&format!("\"{channel}\""), "touchpoint channel")?,
                stage: r.get::<_, Option<i64>>(3).map(StageId),
                online: r.get(4),
                rule: parse_json(&rule, "touchpoint rule")?,
                description: r.get(6),
            })
        })
        .collect()
    }

    pub(super) fn read_dismissed(&self, business: BusinessId) -> Result<Vec<String>> {
        Ok(self
            .query("SELECT key FROM dismissed_touchpoint_suggestions WHERE business = $1 ORDER BY key COLLATE \"C\"", &[&business.0])?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// (id, document) rows of a query, the documents parsed.
    fn docs<T: serde::de::DeserializeOwned>(&self, sql: &str, business: i64, what: &'static str) -> Result<Vec<(i64, T)>> {
        self.query(sql, &[&business])?
            .iter()
            .map(|r| {
                let id: i64 = r.get(0);
                let doc: &str = r.get(1);
                let value = serde_json::from_str(doc).map_err(|e| StoreError::Corrupt(format!("{what} {id}: {e}")))?;
                Ok((id, value))
            })
            .collect()
    }

    pub(super) fn read_personas(&self, business: BusinessId) -> Result<Vec<Persona>> {
        let docs: Vec<(i64, Persona)> = self.docs("SELECT id, doc FROM personas WHERE business = $1 ORDER BY id", business.0, "persona")?;
        Ok(docs.into_iter().map(|(id, p)| Persona { id: PersonaId(id), business, ..p }).collect())
    }

    pub(super) fn read_maps(&self, business: BusinessId) -> Result<Vec<JourneyMap>> {
        let docs: Vec<(i64, JourneyMap)> = self.docs(
            "SELECT m.id, v.doc FROM journey_maps m JOIN map_versions v ON v.map = m.id
             WHERE m.business = $1 AND v.version = (SELECT max(version) FROM map_versions WHERE map = m.id)
             ORDER BY m.id",
            business.0,
            "journey map",
        )?;
        Ok(docs.into_iter().map(|(id, m)| JourneyMap { id: MapId(id), business, ..m }).collect())
    }

    pub(super) fn read_map_versions(&self, map: MapId) -> Result<Vec<MapVersion>> {
        self.query(
            "SELECT v.version, v.author, v.created_at, v.doc, m.business FROM map_versions v
             JOIN journey_maps m ON m.id = v.map WHERE v.map = $1 ORDER BY v.version",
            &[&map.0],
        )?
        .iter()
        .map(|r| {
            let m: JourneyMap = parse_json(r.get(3), "journey map")?;
            Ok(MapVersion {
                version: r.get::<_, i64>(0) as u32,
                author: r.get(1),
                created_at: Timestamp(r.get(2)),
                map: JourneyMap { id: map, business: BusinessId(r.get(4)), ..m },
            })
        })
        .collect()
    }

    pub(super) fn read_surveys(&self, business: BusinessId) -> Result<Vec<Survey>> {
        let docs: Vec<(i64, Survey)> = self.docs("SELECT id, doc FROM surveys WHERE business = $1 ORDER BY id", business.0, "survey")?;
        Ok(docs.into_iter().map(|(id, s)| Survey { id: SurveyId(id), business, ..s }).collect())
    }

    pub(super) fn read_responses(&self, survey: SurveyId) -> Result<Vec<SurveyResponse>> {
        self.query("SELECT id, customer, submitted_at, hidden, answers FROM survey_responses WHERE survey = $1 ORDER BY id", &[&survey.0])?
            .iter()
            .map(|r| {
                Ok(SurveyResponse {
                    id: ResponseId(r.get(0)),
                    survey,
                    customer: r.get::<_, Option<i64>>(1).map(CustomerId),
                    submitted_at: Timestamp(r.get(2)),
                    hidden: parse_json(r.get(3), "response hidden fields")?,
                    answers: parse_json(r.get(4), "response answers")?,
                })
            })
            .collect()
    }

    pub(super) fn read_changes(&self, business: BusinessId) -> Result<Vec<Change>> {
        self.query(
            "SELECT id, title, description, date, touchpoints, stages, kpi, owner, metric, answers FROM changes WHERE business = $1 ORDER BY date, id",
            &[&business.0],
        )?
        .iter()
        .map(|r| {
            Ok(Change {
                id: ChangeId(r.get(0)),
                business,
                title: r.get(1),
                description: r.get(2),
                date: date(r.get(3))?,
                touchpoints: parse_json(r.get(4), "change touchpoints")?,
                stages: parse_json(r.get(5), "change stages")?,
                kpi: r.get(6),
                owner: r.get(7),
                metric: r.get::<_, Option<&str>>(8).map(|m| parse_json(m, "change metric")).transpose()?,
                answers: r.get::<_, Option<&str>>(9).map(|a| parse_json(a, "change answers")).transpose()?,
            })
        })
        .collect()
    }

    pub(super) fn read_spend(&self, business: BusinessId) -> Result<Vec<Spend>> {
        self.query(
            "SELECT id, channel, source, campaign, start_date, end_date, currency, amount FROM spend WHERE business = $1
             ORDER BY start_date, channel COLLATE \"C\", id",
            &[&business.0],
        )?
        .iter()
        .map(|r| {
            Ok(Spend {
                id: SpendId(r.get(0)),
                business,
                channel: r.get(1),
                source: r.get(2),
                campaign: r.get(3),
                start: date(r.get(4))?,
                end: date(r.get(5))?,
                amount: Money::new(r.get(7), currency(r.get(6))?),
            })
        })
        .collect()
    }

    pub(super) fn read_customers(&self, business: BusinessId, limit: usize, offset: usize) -> Result<Vec<Customer>> {
        let (limit, offset) = (i64::try_from(limit).unwrap_or(i64::MAX), i64::try_from(offset).unwrap_or(i64::MAX));
        self.query(
            &format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE business = $1 AND merged_into IS NULL ORDER BY id LIMIT $2 OFFSET $3"),
            &[&business.0, &limit, &offset],
        )?
        .iter()
        .map(customer_row)
        .collect()
    }

    pub(super) fn read_customer(&self, id: CustomerId) -> Result<Customer> {
        let mut conn = self.pool.get()?;
        // A merged customer's id still finds the person it became.
        let mut current = id.0;
        for _ in 0..64 {
            match conn.query_opt("SELECT merged_into FROM customers WHERE id = $1", &[&current])? {
                None => return Err(StoreError::NotFound { what: "customer", id: id.0 }),
                Some(row) => match row.get::<_, Option<i64>>(0) {
                    Some(target) => current = target,
                    None => break,
                },
            }
        }
        customer_row(&conn.query_one(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1"), &[&current])?)
    }

    pub(super) fn read_write_key_by_hash(&self, key_hash: &str) -> Result<Option<WriteKey>> {
        Ok(self.query_opt(&format!("SELECT {WRITE_KEY_COLUMNS} FROM write_keys WHERE key_hash = $1"), &[&key_hash])?.map(|r| write_key_row(&r)))
    }

    pub(super) fn read_write_keys(&self, business: BusinessId) -> Result<Vec<WriteKey>> {
        Ok(self.query(&format!("SELECT {WRITE_KEY_COLUMNS} FROM write_keys WHERE business = $1 ORDER BY id"), &[&business.0])?.iter().map(write_key_row).collect())
    }

    pub(super) fn read_tracking_drops(&self, business: BusinessId) -> Result<Vec<(String, u64)>> {
        Ok(self
            .query("SELECT reason, count FROM tracking_drops WHERE business = $1 ORDER BY count DESC, reason COLLATE \"C\"", &[&business.0])?
            .iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1).max(0) as u64))
            .collect())
    }

    /// The business's orders with an id above `after`, by time then id, each with its lines and
    /// its current customer (as `SqliteStore::orders_after`).
    pub(crate) fn read_orders_after(&self, business: BusinessId, after: i64) -> Result<Vec<Order>> {
        let (rows, mut lines, merges) = self.in_snapshot(|tx| {
        let rows = tx.query(
            "SELECT id, external_id, customer, time, currency, total, subtotal, shipping, tax, discount, status, channel, source, properties, origin
             FROM orders WHERE business = $1 AND id > $2 ORDER BY time, id",
            &[&business.0, &after],
        )?;
            let mut lines: HashMap<i64, Vec<OrderLineRow>> = HashMap::new();
        for r in tx.query(
            "SELECT l.order_id, l.sku, l.name, l.quantity, l.unit_price FROM orders o
             JOIN order_lines l ON l.order_id = o.id WHERE o.business = $1 AND o.id > $2 ORDER BY l.order_id, l.position",
            &[&business.0, &after],
        )? {
            lines.entry(r.get(0)).or_default().push((r.get(1), r.get(2), r.get(3), r.get(4)));
        }
        // Merging moves orders to the customer they became, in the merge's transaction; the
        // merged customers are followed anyway, as the SQLite store does.
        let merges = merges_in(tx, business)?;
            Ok((rows, lines, merges))
        })?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.get(0);
                let cur = currency(r.get(4))?;
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
                    external_id: r.get(1),
                    origin: r.get(14),
                    customer: current(&merges, CustomerId(r.get(2))),
                    time: Timestamp(r.get(3)),
                    total: Money::new(r.get(5), cur),
                    subtotal: money(r.get(6)),
                    shipping: money(r.get(7)),
                    tax: money(r.get(8)),
                    discount: money(r.get(9)),
                    status: r.get(10),
                    channel: r.get(11),
                    source: r.get(12),
                    lines,
                    properties: parse_json(r.get(13), "order properties")?,
                })
            })
            .collect()
    }

    /// The business's feedback with an id above `after`, by time then id (as
    /// `SqliteStore::feedback_after`).
    pub(crate) fn read_feedback_after(&self, business: BusinessId, after: i64) -> Result<Vec<Feedback>> {
        self.query(
            "SELECT id, kind, source, external_id, customer, author, time, rating, text, link, touchpoint, tags
             FROM feedback WHERE business = $1 AND id > $2 ORDER BY time, id",
            &[&business.0, &after],
        )?
        .iter()
        .map(|r| {
            let id: i64 = r.get(0);
            let kind: &str = r.get(1);
            Ok(Feedback {
                id: FeedbackId(id),
                business,
                kind: FeedbackKind::parse(kind).ok_or_else(|| StoreError::Corrupt(format!("feedback {id}: kind {kind:?}")))?,
                source: r.get(2),
                external_id: r.get(3),
                customer: r.get::<_, Option<i64>>(4).map(CustomerId),
                author: r.get(5),
                time: Timestamp(r.get(6)),
                rating: r.get::<_, Option<f64>>(7).map(|r| r as f32),
                text: r.get(8),
                link: r.get(9),
                touchpoint: r.get::<_, Option<i64>>(10).map(TouchpointId),
                tags: parse_json(r.get(11), "feedback tags")?,
            })
        })
        .collect()
    }
}

type OrderLineRow = (Option<String>, String, i64, i64);

/// Merged customers of the business -> the customer each was merged into.
pub(crate) fn merges_in(tx: &mut postgres::Client, business: BusinessId) -> Result<HashMap<i64, i64>> {
    Ok(tx
        .query("SELECT id, merged_into FROM customers WHERE business = $1 AND merged_into IS NOT NULL", &[&business.0])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

pub(crate) fn current(merges: &HashMap<i64, i64>, id: CustomerId) -> CustomerId {
    let mut current = id.0;
    for _ in 0..64 {
        match merges.get(&current) {
            Some(&next) => current = next,
            None => break,
        }
    }
    CustomerId(current)
}
