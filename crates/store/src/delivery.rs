//! What reaches people outside the app: scheduled digests, alert rules with the periods each has
//! fired for, and the outbox of e-mails and webhook calls (the send log). Like comments and
//! accounts, each call here is one small transaction of its own, outside the business data's
//! write transactions: none of it is data an analysis reads, so none of it raises a data version.
//!
//! Two uniqueness rules make the delivery task safe to run again at any time: an alert fires once
//! per rule and period (`alert_firings (rule, period)`), and a delivery planned under a key
//! (`digest:3:2026-10-01`) is queued once, however often it is planned.

use crate::Result;
use trailmap_model::{BusinessId, Timestamp};

/// A scheduled digest as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDigest {
    pub id: i64,
    pub business: BusinessId,
    /// `weekly` or `monthly`.
    pub cadence: String,
    /// Addresses separated by commas, checked before they were stored.
    pub recipients: String,
    pub created_at: Timestamp,
}

/// An alert rule as stored (its KPI and settings as text the app checked before storing them).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlertRule {
    pub id: i64,
    pub business: BusinessId,
    pub kpi: String,
    pub cadence: String,
    pub threshold: Option<f64>,
    pub direction: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The addresses or the webhook's URL.
    pub target: String,
    /// The webhook's signing secret.
    pub secret: Option<String>,
    pub created_at: Timestamp,
}

/// One time an alert fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFiring {
    pub id: i64,
    pub rule: i64,
    pub business: BusinessId,
    /// The period it fired for, `FROM..TO`.
    pub period: String,
    pub fired_at: Timestamp,
    pub message: String,
    /// The firing as JSON (what the webhook carries).
    pub data: String,
}

/// An e-mail or webhook call to make, being made, made or given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDelivery {
    pub id: i64,
    pub business: BusinessId,
    /// What planned it once (`digest:3:2026-10-01`), None for one sent on request.
    pub key: Option<String>,
    /// `digest`, `report`, `alert` or `test`.
    pub kind: String,
    /// `email` or `webhook`.
    pub channel: String,
    pub target: String,
    pub subject: String,
    /// For an e-mail, JSON with its HTML and plain-text parts; for a webhook, the JSON posted.
    pub body: String,
    /// The PDF attached to an e-mail.
    pub attachment: Option<Vec<u8>>,
    /// The webhook's signing secret.
    pub secret: Option<String>,
    /// `pending`, `sent` or `failed` (given up after the last attempt).
    pub status: String,
    pub attempts: u32,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// A delivery to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub business: BusinessId,
    pub key: Option<String>,
    pub kind: String,
    pub channel: String,
    pub target: String,
    pub subject: String,
    pub body: String,
    pub attachment: Option<Vec<u8>>,
    pub secret: Option<String>,
}

/// A firing to record, with what it sends.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFiring {
    pub rule: i64,
    pub business: BusinessId,
    pub period: String,
    pub message: String,
    pub data: String,
}

/// Digests, alerts and the outbox behind a trait, as the rest of the store is.
pub trait DeliveryStore {
    fn digests(&self, business: BusinessId) -> Result<Vec<StoredDigest>>;
    /// Every business's digests (what the delivery task looks at).
    fn all_digests(&self) -> Result<Vec<StoredDigest>>;
    fn insert_digest(&mut self, business: BusinessId, cadence: &str, recipients: &str, now: Timestamp) -> Result<StoredDigest>;
    /// `NotFound` when the business has no such digest.
    fn delete_digest(&mut self, business: BusinessId, id: i64) -> Result<()>;

    fn alert_rules(&self, business: BusinessId) -> Result<Vec<StoredAlertRule>>;
    fn all_alert_rules(&self) -> Result<Vec<StoredAlertRule>>;
    fn insert_alert_rule(&mut self, rule: &StoredAlertRule) -> Result<StoredAlertRule>;
    /// Deletes the rule and the record of its firings, in one transaction; `NotFound` when the
    /// business has no such rule.
    fn delete_alert_rule(&mut self, business: BusinessId, id: i64) -> Result<()>;

    /// The business's firings, newest first.
    fn alert_firings(&self, business: BusinessId, limit: u32) -> Result<Vec<StoredFiring>>;
    /// Records the firing and queues its deliveries in one transaction; None (and nothing
    /// written) when the rule already fired for that period.
    fn record_firing(&mut self, firing: &NewFiring, deliveries: &[NewDelivery], now: Timestamp) -> Result<Option<StoredFiring>>;

    /// Queues a delivery, due at once; None when one with the same key was queued before.
    fn queue_delivery(&mut self, delivery: &NewDelivery, now: Timestamp) -> Result<Option<StoredDelivery>>;
    /// Whether a delivery with this key was ever queued.
    fn delivery_key_used(&self, key: &str) -> Result<bool>;
    fn delivery(&self, id: i64) -> Result<Option<StoredDelivery>>;
    /// The pending deliveries due at `now`, oldest first, at most `limit`.
    fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<StoredDelivery>>;
    /// The business's deliveries, newest first (the send log), without their attachments' bytes.
    fn deliveries(&self, business: BusinessId, limit: u32) -> Result<Vec<StoredDelivery>>;
    /// Records an attempt: sent, or failed with `error` and due again at `retry_at` (None: given up).
    fn record_attempt(&mut self, id: i64, outcome: std::result::Result<(), (&str, Option<Timestamp>)>, now: Timestamp) -> Result<StoredDelivery>;
}
