//! The SQLite implementation of the delivery traits (see `crate::delivery`).

use crate::{Result, SqliteStore, StoreError};
use rusqlite::{OptionalExtension, Row, params};
use trailmap_model::{BusinessId, Timestamp};
use crate::*;


const DIGEST_COLUMNS: &str = "id, business, cadence, recipients, created_at";
const RULE_COLUMNS: &str = "id, business, kpi, cadence, threshold, direction, channel, target, secret, created_at";
const FIRING_COLUMNS: &str = "id, rule, business, period, fired_at, message, data";
const DELIVERY_COLUMNS: &str = "id, business, key, kind, channel, target, subject, body, attachment, secret, status, attempts, \
     next_attempt_at, last_error, created_at, sent_at";

fn digest_row(r: &Row<'_>) -> rusqlite::Result<StoredDigest> {
    Ok(StoredDigest {
        id: r.get(0)?,
        business: BusinessId(r.get(1)?),
        cadence: r.get(2)?,
        recipients: r.get(3)?,
        created_at: Timestamp(r.get(4)?),
    })
}

fn rule_row(r: &Row<'_>) -> rusqlite::Result<StoredAlertRule> {
    Ok(StoredAlertRule {
        id: r.get(0)?,
        business: BusinessId(r.get(1)?),
        kpi: r.get(2)?,
        cadence: r.get(3)?,
        threshold: r.get(4)?,
        direction: r.get(5)?,
        channel: r.get(6)?,
        target: r.get(7)?,
        secret: r.get(8)?,
        created_at: Timestamp(r.get(9)?),
    })
}

fn firing_row(r: &Row<'_>) -> rusqlite::Result<StoredFiring> {
    Ok(StoredFiring {
        id: r.get(0)?,
        rule: r.get(1)?,
        business: BusinessId(r.get(2)?),
        period: r.get(3)?,
        fired_at: Timestamp(r.get(4)?),
        message: r.get(5)?,
        data: r.get(6)?,
    })
}

fn delivery_row(r: &Row<'_>) -> rusqlite::Result<StoredDelivery> {
    Ok(StoredDelivery {
        id: r.get(0)?,
        business: BusinessId(r.get(1)?),
        key: r.get(2)?,
        kind: r.get(3)?,
        channel: r.get(4)?,
        target: r.get(5)?,
        subject: r.get(6)?,
        body: r.get(7)?,
        attachment: r.get(8)?,
        secret: r.get(9)?,
        status: r.get(10)?,
        attempts: r.get(11)?,
        next_attempt_at: r.get::<_, Option<i64>>(12)?.map(Timestamp),
        last_error: r.get(13)?,
        created_at: Timestamp(r.get(14)?),
        sent_at: r.get::<_, Option<i64>>(15)?.map(Timestamp),
    })
}

fn insert_delivery(conn: &rusqlite::Connection, d: &NewDelivery, now: Timestamp) -> Result<Option<i64>> {
    let changed = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO deliveries (business, key, kind, channel, target, subject, body, attachment, secret, status, attempts, next_attempt_at, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', 0, ?10, ?10)",
        )?
        .execute(params![d.business.0, d.key, d.kind, d.channel, d.target, d.subject, d.body, d.attachment, d.secret, now.0])?;
    Ok((changed > 0).then(|| conn.last_insert_rowid()))
}


impl DeliveryStore for SqliteStore {
    fn digests(&self, business: BusinessId) -> Result<Vec<StoredDigest>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {DIGEST_COLUMNS} FROM digests WHERE business = ?1 ORDER BY id"))?;
        let rows = stmt.query_map([business.0], digest_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn all_digests(&self) -> Result<Vec<StoredDigest>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {DIGEST_COLUMNS} FROM digests ORDER BY id"))?;
        let rows = stmt.query_map([], digest_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_digest(&mut self, business: BusinessId, cadence: &str, recipients: &str, now: Timestamp) -> Result<StoredDigest> {
        self.conn
            .prepare_cached("INSERT INTO digests (business, cadence, recipients, created_at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![business.0, cadence, recipients, now.0])?;
        let id = self.conn.last_insert_rowid();
        Ok(StoredDigest { id, business, cadence: cadence.to_string(), recipients: recipients.to_string(), created_at: now })
    }

    fn delete_digest(&mut self, business: BusinessId, id: i64) -> Result<()> {
        if self.conn.prepare_cached("DELETE FROM digests WHERE id = ?1 AND business = ?2")?.execute(params![id, business.0])? == 0 {
            return Err(StoreError::NotFound { what: "digest", id });
        }
        Ok(())
    }

    fn alert_rules(&self, business: BusinessId) -> Result<Vec<StoredAlertRule>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {RULE_COLUMNS} FROM alert_rules WHERE business = ?1 ORDER BY id"))?;
        let rows = stmt.query_map([business.0], rule_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn all_alert_rules(&self) -> Result<Vec<StoredAlertRule>> {
        let mut stmt = self.conn.prepare_cached(&format!("SELECT {RULE_COLUMNS} FROM alert_rules ORDER BY id"))?;
        let rows = stmt.query_map([], rule_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_alert_rule(&mut self, rule: &StoredAlertRule) -> Result<StoredAlertRule> {
        self.conn
            .prepare_cached(
                "INSERT INTO alert_rules (business, kpi, cadence, threshold, direction, channel, target, secret, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                rule.business.0,
                rule.kpi,
                rule.cadence,
                rule.threshold,
                rule.direction,
                rule.channel,
                rule.target,
                rule.secret,
                rule.created_at.0
            ])?;
        Ok(StoredAlertRule { id: self.conn.last_insert_rowid(), ..rule.clone() })
    }

    fn delete_alert_rule(&mut self, business: BusinessId, id: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.prepare_cached("DELETE FROM alert_firings WHERE rule = ?1 AND business = ?2")?.execute(params![id, business.0])?;
        if tx.prepare_cached("DELETE FROM alert_rules WHERE id = ?1 AND business = ?2")?.execute(params![id, business.0])? == 0 {
            return Err(StoreError::NotFound { what: "alert rule", id });
        }
        tx.commit()?;
        Ok(())
    }

    fn alert_firings(&self, business: BusinessId, limit: u32) -> Result<Vec<StoredFiring>> {
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {FIRING_COLUMNS} FROM alert_firings WHERE business = ?1 ORDER BY id DESC LIMIT ?2"))?;
        let rows = stmt.query_map(params![business.0, limit], firing_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn record_firing(&mut self, firing: &NewFiring, deliveries: &[NewDelivery], now: Timestamp) -> Result<Option<StoredFiring>> {
        let tx = self.conn.transaction()?;
        let changed = tx
            .prepare_cached("INSERT OR IGNORE INTO alert_firings (rule, business, period, fired_at, message, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
            .execute(params![firing.rule, firing.business.0, firing.period, now.0, firing.message, firing.data])?;
        if changed == 0 {
            return Ok(None);
        }
        let id = tx.last_insert_rowid();
        for delivery in deliveries {
            insert_delivery(&tx, delivery, now)?;
        }
        tx.commit()?;
        Ok(Some(StoredFiring {
            id,
            rule: firing.rule,
            business: firing.business,
            period: firing.period.clone(),
            fired_at: now,
            message: firing.message.clone(),
            data: firing.data.clone(),
        }))
    }

    fn queue_delivery(&mut self, delivery: &NewDelivery, now: Timestamp) -> Result<Option<StoredDelivery>> {
        match insert_delivery(&self.conn, delivery, now)? {
            Some(id) => self.delivery(id),
            None => Ok(None),
        }
    }

    fn delivery_key_used(&self, key: &str) -> Result<bool> {
        Ok(self.conn.prepare_cached("SELECT 1 FROM deliveries WHERE key = ?1")?.query_row([key], |_| Ok(())).optional()?.is_some())
    }

    fn delivery(&self, id: i64) -> Result<Option<StoredDelivery>> {
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?1"))?
            .query_row([id], delivery_row)
            .optional()?)
    }

    fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<StoredDelivery>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![now.0, limit], delivery_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn deliveries(&self, business: BusinessId, limit: u32) -> Result<Vec<StoredDelivery>> {
        let columns = DELIVERY_COLUMNS.replace("attachment", "CASE WHEN attachment IS NULL THEN NULL ELSE x'' END");
        let mut stmt =
            self.conn.prepare_cached(&format!("SELECT {columns} FROM deliveries WHERE business = ?1 ORDER BY id DESC LIMIT ?2"))?;
        let rows = stmt.query_map(params![business.0, limit], delivery_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn record_attempt(&mut self, id: i64, outcome: std::result::Result<(), (&str, Option<Timestamp>)>, now: Timestamp) -> Result<StoredDelivery> {
        let changed = match outcome {
            Ok(()) => self
                .conn
                .prepare_cached(
                    "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?2, next_attempt_at = NULL, last_error = NULL WHERE id = ?1",
                )?
                .execute(params![id, now.0])?,
            Err((error, retry_at)) => self
                .conn
                .prepare_cached(
                    "UPDATE deliveries SET status = CASE WHEN ?3 IS NULL THEN 'failed' ELSE 'pending' END, attempts = attempts + 1, \
                     next_attempt_at = ?3, last_error = ?2 WHERE id = ?1",
                )?
                .execute(params![id, error, retry_at.map(|t| t.0)])?,
        };
        if changed == 0 {
            return Err(StoreError::NotFound { what: "delivery", id });
        }
        self.delivery(id)?.ok_or(StoreError::NotFound { what: "delivery", id })
    }
}
