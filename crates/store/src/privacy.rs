//! Privacy operations every backend offers: erasing one person on their request (everything held
//! about them removed in one transaction, a tombstone per identity kept so a re-import cannot bring
//! them back), and the retention of raw events (events older than the business's limit removed).

use crate::Result;
use serde::Serialize;
use sha2::{Digest, Sha256};
use trailmap_model::{BusinessId, CustomerId, Identity, IdentityKind, Timestamp};

/// What an erasure removed, by kind; kept (without the data) in `erasures`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErasureSummary {
    pub business: BusinessId,
    pub erased_at: Timestamp,
    /// Customer rows: the one asked for and every customer merged into it.
    pub customers: u64,
    pub identities: u64,
    pub events: u64,
    pub orders: u64,
    pub survey_responses: u64,
    pub feedback: u64,
    /// Event segments rewritten without the person's rows (or deleted, when only theirs).
    pub segments_rewritten: u64,
}

/// One person as the store knows them: several customers when identities linked them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The customer the others were merged into.
    pub customer: CustomerId,
    pub merged: Vec<CustomerId>,
    pub identities: Vec<Identity>,
}

/// The tombstone of an identity: SHA-256 of `kind`, a NUL and `value`, in hex.
pub fn identity_hash(kind: IdentityKind, value: &str) -> String {
    let digest = Sha256::new().chain_update(kind.as_str().as_bytes()).chain_update([0u8]).chain_update(value.as_bytes()).finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The longest retention a business may set: ten years.
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// What an expiry removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExpirySummary {
    pub business: BusinessId,
    /// Events older than this were removed.
    pub before: Timestamp,
    pub events: u64,
    pub segments_deleted: u64,
    pub segments_rewritten: u64,
    /// Bytes the store's file shrank by when the space was given back.
    pub bytes_freed: u64,
}

/// Erasing a person and reading what is held about them.
pub trait Erasure {
    /// The person `customer` is part of: the customer every merge of theirs points at, the
    /// customers merged into it, and every identity of them all.
    fn person(&self, business: BusinessId, customer: CustomerId) -> Result<Person>;

    /// The customer of `business` that holds this identity (the one it was merged into, if it was).
    fn customer_with_identity(&self, business: BusinessId, kind: IdentityKind, value: &str) -> Result<Option<CustomerId>>;

    /// When a record naming this identity was erased, the time of the erasure.
    fn erased_at(&self, business: BusinessId, kind: IdentityKind, value: &str) -> Result<Option<Timestamp>>;

    /// Every erasure of a business: when, and how many records of each kind (never whose).
    fn erasures(&self, business: BusinessId) -> Result<Vec<ErasureSummary>>;

    /// Erases `customer` of `business` and every customer merged into it (see the module's comment).
    fn erase_customer(&mut self, business: BusinessId, customer: CustomerId, at: Timestamp) -> Result<ErasureSummary>;
}

/// How long a business keeps its raw events, and expiring the older ones.
pub trait Retention {
    /// How many days the business keeps its events; none: for ever.
    fn event_retention(&self, business: BusinessId) -> Result<Option<u32>>;

    /// Sets how many days the business keeps its events (1 to [`MAX_RETENTION_DAYS`]; none: for
    /// ever). Nothing is removed until [`SqliteStore::expire_events`] runs.
    fn set_event_retention(&mut self, business: BusinessId, days: Option<u32>) -> Result<()>;

    /// Removes the business's events older than `before` (see the module's comment) and gives the
    /// space back.
    fn expire_events(&mut self, business: BusinessId, before: Timestamp) -> Result<ExpirySummary>;
}
