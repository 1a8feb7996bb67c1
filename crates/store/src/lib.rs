//! Persistence. The traits here ([`Store`], [`Writer`], [`AccountStore`], [`IncrementalReads`],
//! ...) are what the rest of Trailmap sees, and they name no database. Each backend lives in its
//! own folder and implements all of them: `sqlite/` is the embedded default (one file, WAL,
//! versioned migrations) and the reference every other backend must agree with. [`AnyStore`] is
//! the one the app holds: whichever backend the store's location names, chosen when it is opened.
//! One conformance suite (`tests/store/conformance.rs`) runs every behaviour against each backend.
//!
//! Writes happen only inside [`Store::write`]: a closure receives a [`Writer`], and everything it
//! writes lands in one transaction when it returns `Ok`, or nothing lands when it returns `Err`.
//! That is how an import lands whole or not at all. A write that returned is on disk: the store
//! runs SQLite with `synchronous = FULL`.

mod accounts;
mod any;
mod clickhouse;
mod comments;
mod delivery;
mod maps;
mod postgres;
mod privacy;
mod reads;
mod rows;
pub mod segment;
mod settings;
mod split;
mod sqlite;
mod surveys;
mod upkeep;

pub use accounts::{AccountStore, NewInvitation, SESSION_ID_CHARS, SessionInfo, StoredSession};
pub use any::{AnyStore, StoreLocation};
pub use clickhouse::{
    CLICKHOUSE_SCHEMA_VERSION, ClickHouseError, ClickHouseEvents, ClickHouseLocation, FunnelPath, FunnelSpec, MAX_EXECUTION_SECONDS, MAX_PUSHDOWN_WINDOW_MS,
    PushdownRefusal, QueryLimits, quote as clickhouse_quote, BuyerRow, CohortPeriod, CustomerActivityRow, EventTimes, RetentionRows, SessionItems,
};
pub use comments::{CommentStore, StoredComment};
pub use delivery::{DeliveryStore, NewDelivery, NewFiring, StoredAlertRule, StoredDelivery, StoredDigest, StoredFiring};
pub use maps::{MapStore, ShareLink};
pub use privacy::{Erasure, ErasureSummary, ExpirySummary, MAX_RETENTION_DAYS, Person, Retention, identity_hash};
pub use reads::{DataMark, EventLoads, EventsAfter, IncrementalReads, Merges};
pub use segment::SEGMENT_ROWS;
pub use settings::SettingsStore;
pub use sqlite::{COMPACT_CHUNK_ROWS, SqliteStore, StatementCounter, StatementLog};
pub use postgres::{CopySummary, PgStore};
pub use split::SplitStore;
pub use surveys::SurveyLinkStore;
pub use upkeep::{Compaction, CompactSummary, MERGE_AFTER, MergeSummary, SegmentMerging};
/// The SQLite schema's migrations, in order; a store at version N has run the first N. Public so
/// tests can build a store as an older Trailmap left it and check the upgrade.
pub use sqlite::MIGRATIONS;

use serde::Serialize;
use trailmap_model::{
    Business, BusinessId, Change, ChangeId, ChangeMetric, Currency, Customer, CustomerId, DecimalMark, EventColumns, FeedbackId,
    EventTable, Feedback, IncomingCustomer, IncomingEvent, IncomingFeedback, IncomingOrder,
    IncomingResponse, IncomingSpend, JourneyMap, MapId, Order, Persona, PersonaId, Spend, Stage,
    Survey, SurveyResponse, SurveyId, Touchpoint, TouchpointId,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An error the database reported, as its backend words it (SQLite's, PostgreSQL's).
    #[error("database error: {0}")]
    Database(String),
    #[error("cannot open the store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the store at {path} has schema version {found}, newer than this trailmap knows ({known}); upgrade trailmap")]
    TooNew { path: String, found: i64, known: i64 },
    #[error("the store is damaged: {0}")]
    Corrupt(String),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: i64 },
    #[error("{0}")]
    Invalid(String),
    /// The write would break a uniqueness rule (a taken email or name, the last owner).
    #[error("{0}")]
    Conflict(String),
    /// A store the data lives in (the ClickHouse holding the events) cannot be reached now:
    /// nothing was written, and the same request may be made again later.
    #[error("{0}")]
    Unavailable(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What a write added and what it found already there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WriteSummary {
    pub events_added: u64,
    pub events_duplicate: u64,
    pub customers_added: u64,
    pub customers_updated: u64,
    /// Customers folded into another because an identity linked them.
    pub customers_merged: u64,
    pub orders_added: u64,
    pub orders_duplicate: u64,
    pub spend_added: u64,
    pub spend_duplicate: u64,
    pub feedback_added: u64,
    pub feedback_duplicate: u64,
    pub responses_added: u64,
    pub responses_duplicate: u64,
}

impl WriteSummary {
    pub fn added(&self) -> u64 {
        self.events_added
            + self.customers_added
            + self.orders_added
            + self.spend_added
            + self.feedback_added
            + self.responses_added
    }

    pub fn duplicates(&self) -> u64 {
        self.events_duplicate
            + self.orders_duplicate
            + self.spend_duplicate
            + self.feedback_duplicate
            + self.responses_duplicate
    }
}

/// The size of a business's data, by kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BusinessSummary {
    pub business: String,
    pub customers: u64,
    pub identities: u64,
    pub events: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub orders: u64,
    /// Order revenue in major units of the business's currency (orders in other currencies are
    /// not converted and not included).
    pub revenue: f64,
    pub currency: String,
    pub stages: u64,
    pub touchpoints: u64,
    pub personas: u64,
    pub maps: u64,
    pub surveys: u64,
    pub responses: u64,
    pub feedback: u64,
    pub changes: u64,
    pub spend_rows: u64,
    pub spend: f64,
}

/// One version of a journey map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapVersion {
    pub version: u32,
    pub author: String,
    pub created_at: trailmap_model::Timestamp,
    pub map: JourneyMap,
}

/// A write key of the tracking API as listed: never the key itself, which is kept only as a hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteKey {
    pub id: i64,
    pub business: BusinessId,
    pub name: String,
    /// SHA-256 of the key, in lower-case hex.
    pub key_hash: String,
    pub created_at: trailmap_model::Timestamp,
    /// When a tracking request last sent messages with the key (recorded once per group commit).
    pub last_used: Option<trailmap_model::Timestamp>,
    /// When the key was revoked; a revoked key is refused by the tracking API.
    pub revoked_at: Option<trailmap_model::Timestamp>,
}

impl WriteKey {
    pub fn is_live(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// An open read snapshot of a store (see [`Store::begin_snapshot`]); dropping it ends it.
pub struct Snapshot<'a> {
    _guard: Option<Box<dyn SnapshotGuard + 'a>>,
}

/// Whatever a backend holds to keep a snapshot open (a transaction, a pinned connection).
pub trait SnapshotGuard {}
impl<T> SnapshotGuard for T {}

impl std::fmt::Debug for Snapshot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").field("holds", &self._guard.is_some()).finish()
    }
}

impl<'a> Snapshot<'a> {
    /// A snapshot that holds nothing: the one already open goes on.
    pub fn none() -> Snapshot<'a> {
        Snapshot { _guard: None }
    }

    /// A snapshot that lasts as long as `guard`.
    pub fn holding(guard: impl SnapshotGuard + 'a) -> Snapshot<'a> {
        Snapshot { _guard: Some(Box::new(guard)) }
    }
}

/// Everything a write can do. Records for creation carry id 0; the writer assigns the ids.
pub trait Writer {
    /// Creates a business with the default stages.
    fn create_business(&mut self, name: &str, currency: Currency, timezone: &str) -> Result<(Business, Vec<Stage>)>;
    /// Declares (or, with None, undeclares) the decimal mark of the business's files.
    fn set_decimal_mark(&mut self, business: BusinessId, mark: Option<DecimalMark>) -> Result<()>;
    /// Creates a touchpoint after the business's others (its position is the next one).
    fn create_touchpoint(&mut self, touchpoint: &Touchpoint) -> Result<TouchpointId>;
    /// Saves a touchpoint's name, channel, stage, online flag, rule and description (by its id,
    /// which must belong to its business); its position stays.
    fn update_touchpoint(&mut self, touchpoint: &Touchpoint) -> Result<()>;
    /// Deletes a touchpoint of `business`. The caller detaches it from maps first; what still
    /// points at it (feedback) makes this a [`StoreError::Conflict`].
    fn delete_touchpoint(&mut self, business: BusinessId, touchpoint: TouchpointId) -> Result<()>;
    /// Puts the business's touchpoints in this order; `order` names each of them exactly once.
    fn reorder_touchpoints(&mut self, business: BusinessId, order: &[TouchpointId]) -> Result<()>;
    /// Records that a touchpoint suggestion (by its key) was dismissed, so it is not proposed again.
    fn dismiss_touchpoint_suggestion(&mut self, business: BusinessId, key: &str) -> Result<()>;
    /// Replaces the metric a change is measured by (a renamed touchpoint renames it there).
    fn set_change_metric(&mut self, business: BusinessId, change: ChangeId, metric: Option<&ChangeMetric>) -> Result<()>;
    /// Replaces the tags of a feedback record of `business`; `NotFound` when it has no such record.
    fn set_feedback_tags(&mut self, business: BusinessId, feedback: FeedbackId, tags: &[String]) -> Result<()>;
    /// Ties a survey to the touchpoint it is asked at (None: to none).
    fn set_survey_touchpoint(&mut self, business: BusinessId, survey: SurveyId, touchpoint: Option<TouchpointId>) -> Result<()>;
    /// Creates a persona; `Conflict` when the business has one of the same name (ignoring case).
    fn create_persona(&mut self, persona: &Persona) -> Result<PersonaId>;
    /// Replaces a persona's card (by its id, within its business); `NotFound` when the business
    /// has no such persona, `Conflict` when another of its personas has the new name.
    fn update_persona(&mut self, persona: &Persona) -> Result<()>;
    /// Deletes a persona; `Conflict` naming the maps whose newest version shows it, which keep
    /// it until it is taken off them, and `NotFound` when the business has no such persona.
    fn delete_persona(&mut self, business: BusinessId, persona: PersonaId) -> Result<()>;
    /// Saves a map as a new version; a map with id 0 is created.
    fn save_map(&mut self, map: &JourneyMap, author: &str) -> Result<MapId>;
    /// Creates a survey, assigning ids to it and its questions; returns it as stored.
    fn create_survey(&mut self, survey: &Survey) -> Result<Survey>;
    fn add_change(&mut self, change: &Change) -> Result<ChangeId>;

    /// Adds or updates a customer; returns the customer and whether it is new.
    fn add_customer(&mut self, business: BusinessId, customer: &IncomingCustomer) -> Result<(CustomerId, bool)>;
    /// Adds an event unless one with the same key is there; returns whether it was added.
    fn add_event(&mut self, business: BusinessId, event: &IncomingEvent) -> Result<bool>;
    /// Adds an order and its `purchase` event unless the order number is there (per business and
    /// origin). An order number stored already with the same customer, total and time is a
    /// duplicate (`Ok(false)`); with another customer, total or time it is a
    /// [`StoreError::Conflict`] naming what differs. Either way nothing is written: no customer or
    /// identity is created for an order that is not added.
    fn add_order(&mut self, business: BusinessId, order: &IncomingOrder) -> Result<bool>;
    fn add_spend(&mut self, business: BusinessId, spend: &IncomingSpend) -> Result<bool>;
    fn add_feedback(&mut self, business: BusinessId, feedback: &IncomingFeedback) -> Result<bool>;
    fn add_response(&mut self, business: BusinessId, response: &IncomingResponse) -> Result<bool>;
    /// When `identity` was erased at its person's request, if it was: a record naming it is
    /// refused by every `add_*` (as `StoreError::Invalid`); the tracking API asks first, to drop
    /// such a message with its reason instead of failing the whole commit.
    fn erased(&mut self, business: BusinessId, identity: &trailmap_model::Identity) -> Result<Option<trailmap_model::Timestamp>>;

    /// Records a write key of the tracking API by the hash of the key; returns its id.
    fn create_write_key(&mut self, business: BusinessId, name: &str, key_hash: &str) -> Result<i64>;
    /// Records that the key sent messages at `at`; returns false (and records nothing) when the
    /// key was revoked or deleted since it was looked up. Not a change of the business's data: the
    /// data version stays.
    fn touch_write_key(&mut self, key: i64, at: trailmap_model::Timestamp) -> Result<bool>;
    /// Revokes a key of `business`; `StoreError::NotFound` when the business has no such key, and
    /// `StoreError::Conflict` when it is revoked already.
    fn revoke_write_key(&mut self, business: BusinessId, key: i64, at: trailmap_model::Timestamp) -> Result<()>;
    /// Deletes the comments on these cards of `map` (cards a map edit removed), in the edit's
    /// transaction, so a later card that gets a freed id does not inherit them.
    fn delete_card_comments(&mut self, map: MapId, cards: &[u32]) -> Result<u64>;
    /// Adds `count` to the messages the tracking API dropped for `reason`.
    fn count_tracking_drops(&mut self, business: BusinessId, reason: &str, count: u64) -> Result<()>;

    /// Records that a file was imported, with what this write has done so far.
    fn record_import(&mut self, business: BusinessId, kind: &str, file: &str) -> Result<()>;
    /// What this write has done so far.
    fn summary(&self) -> WriteSummary;

    /// A hint that this write names many customers (an import, the demo): the writer then loads
    /// all of a business's identities once instead of looking each up. Small writes (a tracking
    /// batch) should not call it, or each would pay for loading them all.
    fn bulk(&mut self) {}
}

/// A write closure: gets the writer, returns Ok to commit or Err to roll back.
pub type WriteFn<'a, E> = dyn FnMut(&mut dyn Writer) -> std::result::Result<(), E> + 'a;

/// The store as the rest of Trailmap sees it.
pub trait Store {
    /// Runs `f` in one transaction. Its writes land when it returns Ok, and none of them when it
    /// returns Err (or the process dies before the commit). Errors of the store itself are turned
    /// into `E` with `From`.
    fn write<E: From<StoreError>>(&mut self, f: &mut WriteFn<'_, E>) -> std::result::Result<WriteSummary, E>
    where
        Self: Sized;

    /// Starts a read snapshot: until the guard is dropped, every read of this store sees the same
    /// committed state. Inside a write or a snapshot already open, it is that one.
    fn begin_snapshot(&self) -> Result<Snapshot<'_>>;

    /// Runs `f` in one read snapshot ([`Store::begin_snapshot`]), so everything it reads comes from
    /// the same committed state.
    fn snapshot<T>(&self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T>
    where
        Self: Sized,
    {
        let _snapshot = self.begin_snapshot()?;
        f(self)
    }

    fn businesses(&self) -> Result<Vec<Business>>;
    fn business_by_name(&self, name: &str) -> Result<Option<Business>>;
    fn business(&self, id: BusinessId) -> Result<Business>;
    /// A number that goes up with every committed write that changes the business's data (events,
    /// customers, orders, touchpoints, maps, surveys, ...; not accounts). An answer computed at
    /// one version is still right while the version is the same, whichever process wrote since.
    fn data_version(&self, business: BusinessId) -> Result<i64>;
    fn summary(&self, business: BusinessId) -> Result<BusinessSummary>;

    fn stages(&self, business: BusinessId) -> Result<Vec<Stage>>;
    /// The business's touchpoints in the order its people arranged them.
    fn touchpoints(&self, business: BusinessId) -> Result<Vec<Touchpoint>>;
    /// The keys of the touchpoint suggestions the business dismissed.
    fn dismissed_touchpoint_suggestions(&self, business: BusinessId) -> Result<Vec<String>>;
    fn personas(&self, business: BusinessId) -> Result<Vec<Persona>>;
    /// The newest version of every map.
    fn maps(&self, business: BusinessId) -> Result<Vec<JourneyMap>>;
    fn map_versions(&self, map: MapId) -> Result<Vec<MapVersion>>;
    fn surveys(&self, business: BusinessId) -> Result<Vec<Survey>>;
    fn responses(&self, survey: SurveyId) -> Result<Vec<SurveyResponse>>;
    fn feedback(&self, business: BusinessId) -> Result<Vec<Feedback>>;
    fn changes(&self, business: BusinessId) -> Result<Vec<Change>>;
    fn spend(&self, business: BusinessId) -> Result<Vec<Spend>>;

    /// Customers not merged into another, by id.
    fn customers(&self, business: BusinessId, limit: usize, offset: usize) -> Result<Vec<Customer>>;
    fn customer(&self, id: CustomerId) -> Result<Customer>;
    fn orders(&self, business: BusinessId) -> Result<Vec<Order>>;

    /// The write key with this hash, if there is one (revoked or not: the caller decides).
    fn write_key_by_hash(&self, key_hash: &str) -> Result<Option<WriteKey>>;
    fn write_keys(&self, business: BusinessId) -> Result<Vec<WriteKey>>;
    /// Messages the tracking API dropped, by reason, most first.
    fn tracking_drops(&self, business: BusinessId) -> Result<Vec<(String, u64)>>;

    /// All events of a business in columnar form, each row resolved to its current customer, in
    /// the order they are stored: as written, or in customer order after a compaction.
    fn load_events(&self, business: BusinessId, columns: EventColumns) -> Result<EventTable>;
}
