//! Digests, alert rules and their firings, the outbox of deliveries, and store-wide settings on
//! PostgreSQL ([`DeliveryStore`], [`SettingsStore`]): each call one small transaction of its own,
//! none of it raising a data version, with the same rules as the SQLite store (delivery.rs,
//! settings.rs). The outbox's uniqueness rules (one firing per rule and period, one delivery per
//! key) are the database's constraints, so two servers running the delivery task at once queue
//! each thing once.

use super::PgStore;
use crate::{DeliveryStore, NewDelivery, NewFiring, Result, SettingsStore, StoreError, StoredAlertRule, StoredDelivery, StoredDigest, StoredFiring};
use postgres::Row;
use postgres::types::ToSql;
use trailmap_model::{BusinessId, Timestamp};

const DIGEST_COLUMNS: &str = "id, business, cadence, recipients, created_at";
const RULE_COLUMNS: &str = "id, business, kpi, cadence, threshold, direction, channel, target, secret, created_at";
const FIRING_COLUMNS: &str = "id, rule, business, period, fired_at, message, data";
const DELIVERY_COLUMNS: &str = "id, business, key, kind, channel, target, subject, body, attachment, secret, status, attempts, \
     next_attempt_at, last_error, created_at, sent_at";

fn digest_row(r: &Row) -> StoredDigest {
    StoredDigest { id: r.get(0), business: BusinessId(r.get(1)), cadence: r.get(2), recipients: r.get(3), created_at: Timestamp(r.get(4)) }
}

fn rule_row(r: &Row) -> StoredAlertRule {
    StoredAlertRule {
        id: r.get(0),
        business: BusinessId(r.get(1)),
        kpi: r.get(2),
        cadence: r.get(3),
        threshold: r.get(4),
        direction: r.get(5),
        channel: r.get(6),
        target: r.get(7),
        secret: r.get(8),
        created_at: Timestamp(r.get(9)),
    }
}

fn firing_row(r: &Row) -> StoredFiring {
    StoredFiring {
        id: r.get(0),
        rule: r.get(1),
        business: BusinessId(r.get(2)),
        period: r.get(3),
        fired_at: Timestamp(r.get(4)),
        message: r.get(5),
        data: r.get(6),
    }
}

fn delivery_row(r: &Row) -> StoredDelivery {
    StoredDelivery {
        id: r.get(0),
        business: BusinessId(r.get(1)),
        key: r.get(2),
        kind: r.get(3),
        channel: r.get(4),
        target: r.get(5),
        subject: r.get(6),
        body: r.get(7),
        attachment: r.get(8),
        secret: r.get(9),
        status: r.get(10),
        attempts: r.get::<_, i64>(11).clamp(0, i64::from(u32::MAX)) as u32,
        next_attempt_at: r.get::<_, Option<i64>>(12).map(Timestamp),
        last_error: r.get(13),
        created_at: Timestamp(r.get(14)),
        sent_at: r.get::<_, Option<i64>>(15).map(Timestamp),
    }
}

const INSERT_DELIVERY: &str = "INSERT INTO deliveries (business, key, kind, channel, target, subject, body, attachment, secret, status, attempts, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $10) ON CONFLICT DO NOTHING RETURNING id";

fn delivery_params<'a>(d: &'a NewDelivery, now: &'a i64) -> [&'a (dyn ToSql + Sync); 10] {
    [&d.business.0, &d.key, &d.kind, &d.channel, &d.target, &d.subject, &d.body, &d.attachment, &d.secret, now]
}

impl DeliveryStore for PgStore {
    fn digests(&self, business: BusinessId) -> Result<Vec<StoredDigest>> {
        Ok(self.query(&format!("SELECT {DIGEST_COLUMNS} FROM digests WHERE business = $1 ORDER BY id"), &[&business.0])?.iter().map(digest_row).collect())
    }

    fn all_digests(&self) -> Result<Vec<StoredDigest>> {
        Ok(self.query(&format!("SELECT {DIGEST_COLUMNS} FROM digests ORDER BY id"), &[])?.iter().map(digest_row).collect())
    }

    fn insert_digest(&mut self, business: BusinessId, cadence: &str, recipients: &str, now: Timestamp) -> Result<StoredDigest> {
        let id: i64 = self
            .query_one(
                "INSERT INTO digests (business, cadence, recipients, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                &[&business.0, &cadence, &recipients, &now.0],
            )?
            .get(0);
        Ok(StoredDigest { id, business, cadence: cadence.to_string(), recipients: recipients.to_string(), created_at: now })
    }

    fn delete_digest(&mut self, business: BusinessId, id: i64) -> Result<()> {
        if self.execute("DELETE FROM digests WHERE id = $1 AND business = $2", &[&id, &business.0])? == 0 {
            return Err(StoreError::NotFound { what: "digest", id });
        }
        Ok(())
    }

    fn alert_rules(&self, business: BusinessId) -> Result<Vec<StoredAlertRule>> {
        Ok(self.query(&format!("SELECT {RULE_COLUMNS} FROM alert_rules WHERE business = $1 ORDER BY id"), &[&business.0])?.iter().map(rule_row).collect())
    }

    fn all_alert_rules(&self) -> Result<Vec<StoredAlertRule>> {
        Ok(self.query(&format!("SELECT {RULE_COLUMNS} FROM alert_rules ORDER BY id"), &[])?.iter().map(rule_row).collect())
    }

    fn insert_alert_rule(&mut self, rule: &StoredAlertRule) -> Result<StoredAlertRule> {
        let id: i64 = self
            .query_one(
                "INSERT INTO alert_rules (business, kpi, cadence, threshold, direction, channel, target, secret, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                &[&rule.business.0, &rule.kpi, &rule.cadence, &rule.threshold, &rule.direction, &rule.channel, &rule.target, &rule.secret, &rule.created_at.0],
            )?
            .get(0);
        Ok(StoredAlertRule { id, ..rule.clone() })
    }

    fn delete_alert_rule(&mut self, business: BusinessId, id: i64) -> Result<()> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        tx.execute("DELETE FROM alert_firings WHERE rule = $1 AND business = $2", &[&id, &business.0])?;
        if tx.execute("DELETE FROM alert_rules WHERE id = $1 AND business = $2", &[&id, &business.0])? == 0 {
            return Err(StoreError::NotFound { what: "alert rule", id });
        }
        tx.commit()?;
        Ok(())
    }

    fn alert_firings(&self, business: BusinessId, limit: u32) -> Result<Vec<StoredFiring>> {
        Ok(self
            .query(&format!("SELECT {FIRING_COLUMNS} FROM alert_firings WHERE business = $1 ORDER BY id DESC LIMIT $2"), &[&business.0, &i64::from(limit)])?
            .iter()
            .map(firing_row)
            .collect())
    }

    fn record_firing(&mut self, firing: &NewFiring, deliveries: &[NewDelivery], now: Timestamp) -> Result<Option<StoredFiring>> {
        let mut conn = self.pool.get()?;
        let mut tx = conn.transaction()?;
        let id: Option<i64> = tx
            .query_opt(
                "INSERT INTO alert_firings (rule, business, period, fired_at, message, data) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT DO NOTHING RETURNING id",
                &[&firing.rule, &firing.business.0, &firing.period, &now.0, &firing.message, &firing.data],
            )?
            .map(|r| r.get(0));
        let Some(id) = id else {
            return Ok(None);
        };
        for delivery in deliveries {
            tx.query_opt(INSERT_DELIVERY, &delivery_params(delivery, &now.0))?;
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
        match self.query_opt(INSERT_DELIVERY, &delivery_params(delivery, &now.0))? {
            Some(row) => self.delivery(row.get(0)),
            None => Ok(None),
        }
    }

    fn delivery_key_used(&self, key: &str) -> Result<bool> {
        Ok(self.query_opt("SELECT 1 FROM deliveries WHERE key = $1", &[&key])?.is_some())
    }

    fn delivery(&self, id: i64) -> Result<Option<StoredDelivery>> {
        Ok(self.query_opt(&format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1"), &[&id])?.map(|r| delivery_row(&r)))
    }

    fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<StoredDelivery>> {
        Ok(self
            .query(
                &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"),
                &[&now.0, &i64::from(limit)],
            )?
            .iter()
            .map(delivery_row)
            .collect())
    }

    fn deliveries(&self, business: BusinessId, limit: u32) -> Result<Vec<StoredDelivery>> {
        let columns = DELIVERY_COLUMNS.replace("attachment", "CASE WHEN attachment IS NULL THEN NULL ELSE ''::bytea END");
        Ok(self
            .query(&format!("SELECT {columns} FROM deliveries WHERE business = $1 ORDER BY id DESC LIMIT $2"), &[&business.0, &i64::from(limit)])?
            .iter()
            .map(delivery_row)
            .collect())
    }

    fn record_attempt(&mut self, id: i64, outcome: std::result::Result<(), (&str, Option<Timestamp>)>, now: Timestamp) -> Result<StoredDelivery> {
        let changed = match outcome {
            Ok(()) => self.execute(
                "UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = $2, next_attempt_at = NULL, last_error = NULL WHERE id = $1",
                &[&id, &now.0],
            )?,
            Err((error, retry_at)) => self.execute(
                "UPDATE deliveries SET status = CASE WHEN $3::bigint IS NULL THEN 'failed' ELSE 'pending' END, attempts = attempts + 1,
                 next_attempt_at = $3, last_error = $2 WHERE id = $1",
                &[&id, &error, &retry_at.map(|t| t.0)],
            )?,
        };
        if changed == 0 {
            return Err(StoreError::NotFound { what: "delivery", id });
        }
        self.delivery(id)?.ok_or(StoreError::NotFound { what: "delivery", id })
    }
}

impl SettingsStore for PgStore {
    fn setting(&self, name: &str) -> Result<Option<String>> {
        Ok(self.query_opt("SELECT value FROM settings WHERE name = $1", &[&name])?.map(|r| r.get(0)))
    }

    fn set_setting(&mut self, name: &str, value: &str) -> Result<()> {
        self.execute("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value", &[&name, &value])?;
        Ok(())
    }

    fn checklist_hidden(&self, business: BusinessId) -> Result<Option<Timestamp>> {
        match self.query_opt("SELECT checklist_hidden_at FROM businesses WHERE id = $1", &[&business.0])? {
            None => Err(StoreError::NotFound { what: "business", id: business.0 }),
            Some(r) => Ok(r.get::<_, Option<i64>>(0).map(Timestamp)),
        }
    }

    fn set_checklist_hidden(&mut self, business: BusinessId, at: Option<Timestamp>) -> Result<()> {
        if self.execute("UPDATE businesses SET checklist_hidden_at = $2 WHERE id = $1", &[&business.0, &at.map(|t| t.0)])? == 0 {
            return Err(StoreError::NotFound { what: "business", id: business.0 });
        }
        Ok(())
    }

    fn import_counts(&self, business: BusinessId) -> Result<Vec<(String, u64)>> {
        Ok(self
            .query("SELECT kind, count(*) FROM imports WHERE business = $1 GROUP BY kind ORDER BY kind COLLATE \"C\"", &[&business.0])?
            .iter()
            .map(|r| (r.get(0), r.get::<_, i64>(1).max(0) as u64))
            .collect())
    }
}
