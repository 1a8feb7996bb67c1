//! The store the app holds: whichever backend its location names, chosen once when it is opened.
//! Every trait of the crate is implemented here by handing the call to that backend, so the app,
//! the server and the CLI are written once for all of them. A new backend is a new folder, a new
//! variant here and one more arm in [`delegate`].

use crate::*;
use std::path::{Path, PathBuf};
use trailmap_model::*;

/// Where a store lives: a SQLite file (the default; any path) or a PostgreSQL database
/// (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`).
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    Postgres(String),
    /// A SQLite or PostgreSQL store whose businesses' events live in ClickHouse (`--events`).
    WithEvents { store: Box<StoreLocation>, events: crate::clickhouse::ClickHouseLocation },
}

impl StoreLocation {
    /// Reads a `--db` value: a `postgres://` or `postgresql://` URL names a PostgreSQL database,
    /// another `scheme://` is refused (rather than taken for a file name), anything else is the
    /// path of a SQLite file.
    pub fn parse(text: &str) -> Result<StoreLocation> {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(StoreLocation::Postgres(text.to_string()));
        }
        if let Some((scheme, _)) = text.split_once("://")
            && !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
        {
            return Err(StoreError::Open {
                path: redact(text),
                reason: format!("unknown store kind {scheme}://; give a file path for SQLite or a postgres:// URL"),
            });
        }
        Ok(StoreLocation::Sqlite(PathBuf::from(text)))
    }

    /// This store with its events in ClickHouse at `events` (an `--events` value), or as it is
    /// with None.
    pub fn with_events(self, events: Option<&str>) -> Result<StoreLocation> {
        let Some(events) = events else { return Ok(self) };
        let events = crate::clickhouse::ClickHouseLocation::parse(events)?;
        match self {
            StoreLocation::WithEvents { store, .. } => Ok(StoreLocation::WithEvents { store, events }),
            store => Ok(StoreLocation::WithEvents { store: Box::new(store), events }),
        }
    }

    /// The store that holds everything but the events.
    pub fn primary(&self) -> &StoreLocation {
        match self {
            StoreLocation::WithEvents { store, .. } => store,
            other => other,
        }
    }
}

impl std::fmt::Debug for StoreLocation {
    /// As `Display`: a URL without its password, since a Debug print can reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            StoreLocation::Postgres(url) => f.debug_tuple("Postgres").field(&redact(url)).finish(),
            StoreLocation::WithEvents { store, events } => f.debug_struct("WithEvents").field("store", store).field("events", events).finish(),
        }
    }
}

impl std::fmt::Display for StoreLocation {
    /// The location as it may be shown and logged: a URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(url) => f.write_str(&redact(url)),
            StoreLocation::WithEvents { store, events } => write!(f, "{store} (events in {events})"),
        }
    }
}

/// `url` with the password of its user part replaced by `***`, so errors and logs never carry it.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user_part, host)) => match user_part.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// One store, of whichever backend.
#[derive(Debug)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    /// Boxed: its pool and settings are larger than the SQLite store, and an app holds one.
    Postgres(Box<PgStore>),
    /// Either of the others with its events in ClickHouse (split.rs).
    Split(Box<crate::split::SplitStore>),
}

impl AnyStore {
    /// Opens (creating where it is missing) the store at `location` and brings its schema up to
    /// date.
    pub fn open(location: &StoreLocation) -> Result<AnyStore> {
        match location {
            StoreLocation::Sqlite(path) => Ok(AnyStore::Sqlite(SqliteStore::open(path)?)),
            StoreLocation::Postgres(url) => Ok(AnyStore::Postgres(Box::new(PgStore::open(url)?))),
            StoreLocation::WithEvents { store, events } => Ok(AnyStore::Split(Box::new(crate::split::SplitStore::open(store, events)?))),
        }
    }

    /// An embedded store in memory, for tests and throw-away runs.
    pub fn in_memory() -> Result<AnyStore> {
        Ok(AnyStore::Sqlite(SqliteStore::in_memory()?))
    }

    /// Where the store lives, enough to open it again (a URL keeps its password: show it through
    /// `StoreLocation`'s `Display`, which leaves the password out).
    pub fn location(&self) -> StoreLocation {
        match self {
            AnyStore::Sqlite(store) => StoreLocation::Sqlite(store.path().to_path_buf()),
            AnyStore::Postgres(store) => StoreLocation::Postgres(store.connect_url().to_string()),
            AnyStore::Split(store) => StoreLocation::WithEvents { store: Box::new(store.main.location()), events: store.events.location().clone() },
        }
    }

    /// The SQLite file, when the store is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            AnyStore::Sqlite(store) => Some(store.path()),
            AnyStore::Postgres(_) => None,
            AnyStore::Split(store) => store.main.sqlite_path(),
        }
    }

    /// The SQLite store inside, when it is one: for what only SQLite has (statement counting in
    /// tests, its file's segments).
    pub fn sqlite_mut(&mut self) -> Option<&mut SqliteStore> {
        match self {
            AnyStore::Sqlite(store) => Some(store),
            AnyStore::Postgres(_) => None,
            AnyStore::Split(store) => store.main.sqlite_mut(),
        }
    }

    /// Sets how much memory the backend's page cache may take on this connection, where it has
    /// one of its own (SQLite); others ignore it.
    pub fn set_cache_mib(&self, mib: u64) -> Result<()> {
        match self {
            AnyStore::Sqlite(store) => store.set_cache_mib(mib),
            AnyStore::Postgres(_) => Ok(()),
            AnyStore::Split(store) => store.main.set_cache_mib(mib),
        }
    }

    /// The ClickHouse events with the business's merges brought up to date there, for a query
    /// pushed down, when this store keeps its events in ClickHouse.
    pub fn clickhouse_synced(&self, business: BusinessId) -> Result<Option<&crate::clickhouse::ClickHouseEvents>> {
        match self {
            AnyStore::Split(store) => {
                store.synced(business)?;
                Ok(Some(store.events()))
            }
            _ => Ok(None),
        }
    }

    /// The ClickHouse events, when this store keeps its events there.
    pub fn clickhouse(&self) -> Option<&crate::clickhouse::ClickHouseEvents> {
        match self {
            AnyStore::Split(store) => Some(store.events()),
            _ => None,
        }
    }
}

/// Implements `$trait` for [`AnyStore`] by calling the backend's implementation of each method.
macro_rules! delegate {
    ($trait:ident { $($fns:tt)* }) => {
        impl $trait for AnyStore {
            delegate_fns! { $trait; $($fns)* }
        }
    };
}

/// The methods of [`delegate`], one at a time (a receiver is `&self` or `&mut self`).
macro_rules! delegate_fns {
    ($trait:ident;) => {};
    ($trait:ident; fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; $($rest:tt)*) => {
        fn $name(&self $(, $arg: $ty)*) -> $ret {
            match self {
                AnyStore::Sqlite(store) => $trait::$name(store $(, $arg)*),
                AnyStore::Postgres(store) => $trait::$name(&**store $(, $arg)*),
                AnyStore::Split(store) => $trait::$name(&store.main $(, $arg)*),
            }
        }
        delegate_fns! { $trait; $($rest)* }
    };
    ($trait:ident; fn $name:ident(&mut self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; $($rest:tt)*) => {
        fn $name(&mut self $(, $arg: $ty)*) -> $ret {
            match self {
                AnyStore::Sqlite(store) => $trait::$name(store $(, $arg)*),
                AnyStore::Postgres(store) => $trait::$name(&mut **store $(, $arg)*),
                AnyStore::Split(store) => $trait::$name(&mut store.main $(, $arg)*),
            }
        }
        delegate_fns! { $trait; $($rest)* }
    };
}

impl Store for AnyStore {
    fn write<E: From<StoreError>>(&mut self, f: &mut WriteFn<'_, E>) -> std::result::Result<WriteSummary, E> {
        match self {
            AnyStore::Sqlite(store) => store.write(f),
            AnyStore::Postgres(store) => store.write(f),
            AnyStore::Split(store) => store.write(f),
        }
    }

    fn begin_snapshot(&self) -> Result<Snapshot<'_>> {
        match self {
            AnyStore::Sqlite(store) => store.begin_snapshot(),
            AnyStore::Postgres(store) => store.begin_snapshot(),
            AnyStore::Split(store) => store.main.begin_snapshot(),
        }
    }

    fn businesses(&self) -> Result<Vec<Business>> {
        match self {
            AnyStore::Sqlite(store) => store.businesses(),
            AnyStore::Postgres(store) => store.businesses(),
            AnyStore::Split(store) => store.main.businesses(),
        }
    }

    fn summary(&self, business: BusinessId) -> Result<BusinessSummary> {
        match self {
            AnyStore::Split(store) => store.summary(business),
            AnyStore::Sqlite(store) => store.summary(business),
            AnyStore::Postgres(store) => store.summary(business),
        }
    }

    fn load_events(&self, business: BusinessId, columns: EventColumns) -> Result<EventTable> {
        match self {
            AnyStore::Split(store) => store.load_events(business, columns),
            AnyStore::Sqlite(store) => store.load_events(business, columns),
            AnyStore::Postgres(store) => store.load_events(business, columns),
        }
    }

    delegate_fns! { Store;
        fn business_by_name(&self, name: &str) -> Result<Option<Business>>;
        fn business(&self, id: BusinessId) -> Result<Business>;
        fn data_version(&self, business: BusinessId) -> Result<i64>;
        fn stages(&self, business: BusinessId) -> Result<Vec<Stage>>;
        fn touchpoints(&self, business: BusinessId) -> Result<Vec<Touchpoint>>;
        fn dismissed_touchpoint_suggestions(&self, business: BusinessId) -> Result<Vec<String>>;
        fn personas(&self, business: BusinessId) -> Result<Vec<Persona>>;
        fn maps(&self, business: BusinessId) -> Result<Vec<JourneyMap>>;
        fn map_versions(&self, map: MapId) -> Result<Vec<MapVersion>>;
        fn surveys(&self, business: BusinessId) -> Result<Vec<Survey>>;
        fn responses(&self, survey: SurveyId) -> Result<Vec<SurveyResponse>>;
        fn feedback(&self, business: BusinessId) -> Result<Vec<Feedback>>;
        fn changes(&self, business: BusinessId) -> Result<Vec<Change>>;
        fn spend(&self, business: BusinessId) -> Result<Vec<Spend>>;
        fn customers(&self, business: BusinessId, limit: usize, offset: usize) -> Result<Vec<Customer>>;
        fn customer(&self, id: CustomerId) -> Result<Customer>;
        fn orders(&self, business: BusinessId) -> Result<Vec<Order>>;
        fn write_key_by_hash(&self, key_hash: &str) -> Result<Option<WriteKey>>;
        fn write_keys(&self, business: BusinessId) -> Result<Vec<WriteKey>>;
        fn tracking_drops(&self, business: BusinessId) -> Result<Vec<(String, u64)>>;
    }
}


delegate! { AccountStore {
    fn user_count(&self) -> Result<u64>;
    fn insert_user(&mut self, email: &str, name: &str, password_hash: &str, now: Timestamp) -> Result<User>;
    fn user(&self, id: UserId) -> Result<Option<User>>;
    fn users(&self) -> Result<Vec<User>>;
    fn user_with_hash(&self, email: &str) -> Result<Option<(User, String)>>;
    fn set_password_hash(&mut self, user: UserId, password_hash: &str) -> Result<()>;
    fn memberships(&self, user: UserId) -> Result<Vec<Membership>>;
    fn role(&self, user: UserId, business: BusinessId) -> Result<Option<Role>>;
    fn members(&self, business: BusinessId) -> Result<Vec<(User, Role)>>;
    fn set_member(&mut self, business: BusinessId, user: UserId, role: Role) -> Result<()>;
    fn remove_member(&mut self, business: BusinessId, user: UserId) -> Result<()>;
    fn create_business_owned(&mut self, owner: UserId, name: &str, currency: Currency, timezone: &str) -> Result<Business>;
    fn rename_business(&mut self, business: BusinessId, name: &str) -> Result<Business>;
    fn insert_session(&mut self, token_hash: &str, user: UserId, csrf: &str, now: Timestamp, expires: Timestamp) -> Result<()>;
    fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<StoredSession>>;
    fn delete_session(&mut self, token_hash: &str) -> Result<()>;
    fn delete_expired_sessions(&mut self, now: Timestamp) -> Result<u64>;
    fn insert_invitation(&mut self, token_hash: &str, invitation: &NewInvitation<'_>) -> Result<()>;
    fn invitation(&self, token_hash: &str) -> Result<Option<Invitation>>;
    fn accept_invitation(&mut self, token_hash: &str, user: UserId, now: Timestamp) -> Result<Membership>;
    fn insert_api_key(&mut self, user: UserId, name: &str, prefix: &str, key_hash: &str, now: Timestamp) -> Result<ApiKeyInfo>;
    fn api_keys(&self, user: UserId) -> Result<Vec<ApiKeyInfo>>;
    fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<(ApiKeyInfo, User)>>;
    fn revoke_api_key(&mut self, user: UserId, id: i64, now: Timestamp) -> Result<()>;
    fn touch_api_key(&mut self, key_hash: &str, now: Timestamp) -> Result<()>;
    fn sessions_of(&self, user: UserId, now: Timestamp) -> Result<Vec<SessionInfo>>;
    fn delete_session_by_id(&mut self, user: UserId, id: &str) -> Result<bool>;
    fn delete_sessions_except(&mut self, user: UserId, keep: Option<&str>) -> Result<u64>;
    fn insert_password_reset(&mut self, token_hash: &str, user: UserId, now: Timestamp, expires: Timestamp) -> Result<()>;
    fn password_reset(&self, token_hash: &str, now: Timestamp) -> Result<Option<User>>;
    fn use_password_reset(&mut self, token_hash: &str, password_hash: &str, now: Timestamp) -> Result<User>;
}}

delegate! { CommentStore {
    fn comments(&self, map: MapId, card: Option<u32>) -> Result<Vec<StoredComment>>;
    fn comment(&self, id: i64) -> Result<Option<StoredComment>>;
    fn insert_comment(&mut self, map: MapId, card: u32, author: UserId, text: &str, now: Timestamp) -> Result<StoredComment>;
    fn update_comment(&mut self, id: i64, text: &str, now: Timestamp) -> Result<StoredComment>;
    fn delete_comment(&mut self, id: i64) -> Result<()>;
}}

delegate! { DeliveryStore {
    fn digests(&self, business: BusinessId) -> Result<Vec<StoredDigest>>;
    fn all_digests(&self) -> Result<Vec<StoredDigest>>;
    fn insert_digest(&mut self, business: BusinessId, cadence: &str, recipients: &str, now: Timestamp) -> Result<StoredDigest>;
    fn delete_digest(&mut self, business: BusinessId, id: i64) -> Result<()>;
    fn alert_rules(&self, business: BusinessId) -> Result<Vec<StoredAlertRule>>;
    fn all_alert_rules(&self) -> Result<Vec<StoredAlertRule>>;
    fn insert_alert_rule(&mut self, rule: &StoredAlertRule) -> Result<StoredAlertRule>;
    fn delete_alert_rule(&mut self, business: BusinessId, id: i64) -> Result<()>;
    fn alert_firings(&self, business: BusinessId, limit: u32) -> Result<Vec<StoredFiring>>;
    fn record_firing(&mut self, firing: &NewFiring, deliveries: &[NewDelivery], now: Timestamp) -> Result<Option<StoredFiring>>;
    fn queue_delivery(&mut self, delivery: &NewDelivery, now: Timestamp) -> Result<Option<StoredDelivery>>;
    fn delivery_key_used(&self, key: &str) -> Result<bool>;
    fn delivery(&self, id: i64) -> Result<Option<StoredDelivery>>;
    fn due_deliveries(&self, now: Timestamp, limit: u32) -> Result<Vec<StoredDelivery>>;
    fn deliveries(&self, business: BusinessId, limit: u32) -> Result<Vec<StoredDelivery>>;
    fn record_attempt(&mut self, id: i64, outcome: std::result::Result<(), (&str, Option<Timestamp>)>, now: Timestamp) -> Result<StoredDelivery>;
}}

delegate! { MapStore {
    fn map(&self, id: MapId) -> Result<Option<MapVersion>>;
    fn map_version(&self, id: MapId, version: u32) -> Result<Option<MapVersion>>;
    fn delete_map(&mut self, id: MapId) -> Result<()>;
    fn insert_share_link(&mut self, link: &ShareLink) -> Result<()>;
    fn share_link(&self, token_hash: &str) -> Result<Option<ShareLink>>;
    fn share_links(&self, map: MapId) -> Result<Vec<ShareLink>>;
    fn delete_share_link(&mut self, map: MapId, token_hash: &str) -> Result<()>;
    fn set_share_link_frame_ancestors(&mut self, map: MapId, token_hash: &str, origins: &[String]) -> Result<()>;
}}

delegate! { SettingsStore {
    fn setting(&self, name: &str) -> Result<Option<String>>;
    fn set_setting(&mut self, name: &str, value: &str) -> Result<()>;
    fn checklist_hidden(&self, business: BusinessId) -> Result<Option<Timestamp>>;
    fn set_checklist_hidden(&mut self, business: BusinessId, at: Option<Timestamp>) -> Result<()>;
    fn import_counts(&self, business: BusinessId) -> Result<Vec<(String, u64)>>;
}}

delegate! { SurveyLinkStore {
    fn set_survey_token(&mut self, survey: SurveyId, token: Option<&str>) -> Result<()>;
    fn survey_token(&self, survey: SurveyId) -> Result<Option<String>>;
    fn survey_by_token(&self, token: &str) -> Result<Option<(BusinessId, SurveyId)>>;
}}

impl IncrementalReads for AnyStore {
    delegate_fns! { IncrementalReads;
    fn data_mark(&self, business: BusinessId) -> Result<DataMark>;
    fn identities_after(&self, business: BusinessId, after: i64) -> Result<Vec<(i64, i64)>>;
    fn merges(&self, business: BusinessId) -> Result<Merges>;
    fn order_table(&self, business: BusinessId, after: i64, merges: &Merges) -> Result<OrderTable>;
    fn orders_after(&self, business: BusinessId, after: i64) -> Result<Vec<Order>>;
    fn order_customers(&self, business: BusinessId) -> Result<Vec<(String, CustomerId)>>;
    fn order_customer(&self, business: BusinessId, number: &str) -> Result<Option<CustomerId>>;
    fn responses_after(&self, business: BusinessId, after: i64) -> Result<Vec<SurveyResponse>>;
    fn feedback_after(&self, business: BusinessId, after: i64) -> Result<Vec<Feedback>>;
    fn customers_by_ids(&self, business: BusinessId, ids: &[CustomerId]) -> Result<Vec<Customer>>;
}

    fn segments_unchanged(&self, business: BusinessId, mark: &DataMark) -> Result<bool> {
        match self {
            AnyStore::Sqlite(store) => store.segments_unchanged(business, mark),
            AnyStore::Postgres(store) => store.segments_unchanged(business, mark),
            // ClickHouse rows carry no marks: a reader's copy is loaded again whole (split.rs).
            AnyStore::Split(_) => Ok(false),
        }
    }
}

impl EventLoads for AnyStore {
    fn load_selected_events(&self, business: BusinessId, selection: EventSelection) -> Result<EventTable> {
        match self {
            AnyStore::Sqlite(store) => store.load_selected_events(business, selection),
            AnyStore::Postgres(store) => store.load_selected_events(business, selection),
            AnyStore::Split(store) => store.load_selected_events(business, selection),
        }
    }

    fn load_named_events(&self, business: BusinessId, selection: EventSelection, keep: &dyn Fn(&str) -> bool) -> Result<EventTable> {
        match self {
            AnyStore::Sqlite(store) => store.load_named_events(business, selection, keep),
            AnyStore::Postgres(store) => store.load_named_events(business, selection, keep),
            AnyStore::Split(store) => store.load_named_events(business, selection, keep),
        }
    }

    fn load_events_after(&self, business: BusinessId, selection: EventSelection, after: &EventsAfter<'_>) -> Result<EventTable> {
        match self {
            AnyStore::Sqlite(store) => store.load_events_after(business, selection, after),
            AnyStore::Postgres(store) => store.load_events_after(business, selection, after),
            AnyStore::Split(store) => store.load_events_after(business, selection, after),
        }
    }
}

impl Erasure for AnyStore {
    delegate_fns! { Erasure;
    fn person(&self, business: BusinessId, customer: CustomerId) -> Result<Person>;
    fn customer_with_identity(&self, business: BusinessId, kind: IdentityKind, value: &str) -> Result<Option<CustomerId>>;
    fn erased_at(&self, business: BusinessId, kind: IdentityKind, value: &str) -> Result<Option<Timestamp>>;
    fn erasures(&self, business: BusinessId) -> Result<Vec<ErasureSummary>>;
}

    fn erase_customer(&mut self, business: BusinessId, customer: CustomerId, at: Timestamp) -> Result<ErasureSummary> {
        match self {
            AnyStore::Sqlite(store) => store.erase_customer(business, customer, at),
            AnyStore::Postgres(store) => store.erase_customer(business, customer, at),
            AnyStore::Split(store) => store.erase_customer(business, customer, at),
        }
    }
}

impl Retention for AnyStore {
    delegate_fns! { Retention;
    fn event_retention(&self, business: BusinessId) -> Result<Option<u32>>;
    fn set_event_retention(&mut self, business: BusinessId, days: Option<u32>) -> Result<()>;
}

    fn expire_events(&mut self, business: BusinessId, before: Timestamp) -> Result<ExpirySummary> {
        match self {
            AnyStore::Sqlite(store) => store.expire_events(business, before),
            AnyStore::Postgres(store) => store.expire_events(business, before),
            AnyStore::Split(store) => store.expire_events(business, before),
        }
    }
}

impl Compaction for AnyStore {
    fn compact_events(&mut self, business: BusinessId) -> Result<CompactSummary> {
        match self {
            AnyStore::Sqlite(store) => store.compact_events(business),
            AnyStore::Postgres(store) => store.compact_events(business),
            AnyStore::Split(store) => store.compact_events(business),
        }
    }
}

delegate! { SegmentMerging {
    fn unmerged_segments(&self) -> u64;
    fn merge_step(&mut self, everywhere: bool) -> Result<Option<MergeSummary>>;
}}
