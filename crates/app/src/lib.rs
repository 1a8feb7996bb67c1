//! The one API both the CLI and (later) the server call. It owns the store, picks the business a
//! request is about, and wires the ingest pipeline and the demo generator to the store. It knows
//! nothing of terminals or HTTP: progress is a callback, results are plain data.

mod accounts;
pub mod alerts;
pub mod delivery;
pub mod digests;
pub mod portfolio;
pub mod account_security;
pub mod actions;
mod attribution;
pub mod business_data;
pub mod card_evidence;
pub mod changes;
mod evidence_text;
pub mod customer_facts;
pub mod comments;
mod dashboard;
mod demo;
mod engine;
pub mod funnel_customers;
mod funnel_steps;
mod import;
pub mod import_preview;
pub mod impact;
pub mod insights;
pub mod journeys_cache;
mod maps;
mod names;
mod map_numbers;
pub mod map_touchpoints;
pub mod map_evidence;
pub mod migrate_store;
pub mod personas;
pub mod referrals;
pub mod privacy;
pub mod query;
pub mod onboarding;
pub mod report;
pub mod research;
pub mod surveys;
pub mod survey_links;
pub mod touchpoints;
pub mod touchpoint_edits;
pub mod touchpoint_preview;
pub mod touchpoint_suggestions;
mod tracking;
mod upkeep;
mod value;
mod value_model;
pub mod voice;

pub use accounts::{MIN_PASSWORD_CHARS, NewSession, Session};
pub use attribution::{AttributionReport, AttributionRequest, NO_TOUCH_CUSTOMERS};
pub use comments::Comment;
pub use dashboard::{Bucket, Dashboard, DayRange, FullerPeriod, PeriodChoice, RecordedSpan, Timeline, TimelineEntry, property_rows};
pub use demo::{DEMO_BUSINESSES, DEMO_EMAIL, DemoLogin, DemoReport};
pub use engine::{FunnelAnswer, FunnelRequest, PathTaken, PathsAnswer, RetentionAnswer};
pub use funnel_customers::{FunnelCustomers, FunnelCustomersRequest};
pub use query::{ClvAnswer, FromParams, Params, PathsRequest, RetentionRequest};
pub use value::{
    ClvReport, ClvRequest, GroupBy, GroupClv, ModelFit, PersonaRequest, PersonaSuggestion, PersonaSuggestions, PurchaseModel,
    SegmentsReport,
};
pub use import::{ImportReport, ImportRequest};
pub use import_preview::{FieldMapping, ImportForm, ImportPreview, ImportSettings, MissingField, PreviewError, PreviewRow};
pub use map_numbers::{
    MapNumbers, MapNumbersRequest, NumberDefinition, Revenue, ScoreFigure, SentimentFigure, StageConversion, StageNumbers, TouchpointNumbers,
    number_definitions,
};
pub use maps::{
    CustomerCount, DocumentEmotion, DocumentStage, ImportedMap, MAP_DOCUMENT_FORMAT, MAP_DOCUMENT_VERSION, MapChange, MapDiff, MapDocument, MapEdit,
    MapExportFormat, MapSummary, MapTemplate, NewShareLink, PersonaCoverage, SharedMap, ShareLinkError, VersionInfo, apply_edit, diff_maps,
    mermaid, mermaid_score,
};
pub use maps::{MAX_STAGES, check_embed_origins};
pub use names::BusinessNames;
pub use funnel_steps::{StepChoice, StepChoices};
pub use onboarding::{Onboarding, OnboardingStep};
pub use tracking::{TrackingCommit, TrackingWrite, WriteKey};
pub use trailmap_ingest::{FieldSpec, RecordKind, fields as import_fields};
pub use migrate_store::migrate_store;
pub use trailmap_store::{CompactSummary, CopySummary, MapVersion, MergeSummary, NewDelivery, StoreError, StoreLocation, StoredDelivery, BusinessSummary, ErasureSummary, ExpirySummary, MAX_RETENTION_DAYS, WriteSummary};
pub use trailmap_testkit::DemoOptions;

use std::path::{Path, PathBuf};
use trailmap_model::{Business, BusinessId, Currency, DecimalMark};
use trailmap_store::{AnyStore, SettingsStore, Store};

/// The business every fresh store has, so a first import needs no setup.
pub const DEFAULT_BUSINESS: &str = "My Business";

/// The setting naming (by id) the business commands use when none is named.
const DEFAULT_BUSINESS_SETTING: &str = "default_business";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no business named {name:?}; the store has: {}", known.join(", "))]
    UnknownBusiness { name: String, known: Vec<String> },
    #[error(transparent)]
    Import(#[from] trailmap_ingest::ImportError),
    #[error("{file}: {count} invalid row(s), nothing was imported:\n{}{}\nUse --skip-invalid REJECTS.csv to import the valid rows and write the rejected ones with their reasons to REJECTS.csv.",
        shown.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"),
        if *count > shown.len() as u64 { format!("\n  ... and more (stopped after {})", shown.len()) } else { String::new() })]
    InvalidRows { file: String, count: u64, shown: Vec<trailmap_ingest::RowError> },
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("{0}")]
    Invalid(String),
    /// A field of the request is wrong, named neutrally ("touchpoint", "min_count") so each front
    /// end can show it its own way (the CLI as its flag, `--touchpoint`).
    #[error("{field}{}: {reason}", value.as_ref().map(|v| format!(" {v:?}")).unwrap_or_default())]
    InvalidField { field: String, value: Option<String>, reason: String },
    /// A rule in the event rule language that does not read: the field that holds it, the text,
    /// and where (a 0-based character offset into the text) and why it stops making sense.
    #[error("{field} {rule:?}: {error}")]
    InvalidRule { field: String, rule: String, error: trailmap_model::RuleError },
    /// Something named by the request does not exist (or is not the caller's to see).
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request clashes with what is there (a taken name or email, the last owner).
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// The store's page cache outside big writes, in MiB.
pub(crate) const DEFAULT_CACHE_MIB: u64 = 256;

/// The page cache for a write expected to add about `expected_mib` to the store: room for all of
/// it, between the default and 8 GiB (a third of this 24 GiB machine; beyond that, the write
/// spills and slows down rather than exhausting memory).
pub(crate) fn big_write_cache_mib(expected_mib: u64) -> u64 {
    (expected_mib + expected_mib / 4).clamp(DEFAULT_CACHE_MIB, 8 * 1024)
}

/// Where the store lives when neither `--db` nor `TRAILMAP_DB` says: the user's data folder.
pub fn default_db_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("trailmap").join("trailmap.sqlite")
}

#[derive(Debug)]
pub struct App {
    store: AnyStore,
    /// Businesses' data shared with the other apps of the process, when the caller set a cache.
    journeys: Option<std::sync::Arc<journeys_cache::JourneysCache>>,
    /// This app's own, used when it shares none: within one command, the dashboard, insights
    /// and customer value read the business's data once.
    own: journeys_cache::JourneysCache,
}

impl App {
    /// Opens (or creates) the SQLite store at `db`; a fresh store gets the default business.
    pub fn open(db: &Path) -> Result<App> {
        App::open_at(&StoreLocation::Sqlite(db.to_path_buf()))
    }

    /// Opens (or creates) the store at `location`, of whichever backend it names; a fresh store
    /// gets the default business.
    pub fn open_at(location: &StoreLocation) -> Result<App> {
        // Every error of opening names the store once, without a password.
        let named = |error: StoreError| match error {
            StoreError::Open { .. } | StoreError::TooNew { .. } => error,
            other => StoreError::Open { path: location.to_string(), reason: other.to_string() },
        };
        let mut app = App { store: AnyStore::open(location).map_err(named)?, journeys: None, own: Default::default() };
        app.ensure_default_business().map_err(|error| match error {
            AppError::Store(error) => AppError::Store(named(error)),
            other => other,
        })?;
        Ok(app)
    }

    /// An app on an in-memory store, for tests.
    pub fn in_memory() -> Result<App> {
        let mut app = App { store: AnyStore::in_memory()?, journeys: None, own: Default::default() };
        app.ensure_default_business()?;
        Ok(app)
    }

    fn ensure_default_business(&mut self) -> Result<()> {
        if self.store.businesses()?.is_empty() {
            self.store.write::<StoreError>(&mut |w| {
                w.create_business(DEFAULT_BUSINESS, Currency::USD, "UTC").map(|_| ())
            })?;
        }
        Ok(())
    }

    /// The store, for the app's modules and tests. The server and the CLI do not depend on the
    /// store crate, so they go through the app's methods instead.
    pub fn store(&self) -> &AnyStore {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut AnyStore {
        &mut self.store
    }

    /// Where the store lives (no password shown), or None for one in memory, which another
    /// process or connection cannot open.
    pub fn location(&self) -> Option<StoreLocation> {
        match self.store.location() {
            StoreLocation::Sqlite(path) if path.as_os_str() == ":memory:" => None,
            location => Some(location),
        }
    }

    /// Where the store lives, as it may be shown and logged (a URL without its password).
    pub fn location_label(&self) -> String {
        self.location().map_or_else(|| "memory".to_string(), |location| location.to_string())
    }

    /// Where the businesses' events are read from: `store`, or `clickhouse` when they are kept
    /// there (`--events`), as [`App::engine_path`] says.
    pub fn events_from(&self) -> &'static str {
        self.engine_path().events_from()
    }

    /// The SQLite file the store is in, when it is one.
    pub fn db_path(&self) -> Option<&Path> {
        self.store.sqlite_path()
    }

    /// The business a command is about: the one named, or the default (the one chosen with
    /// [`App::use_business`], else the first created).
    pub fn business(&self, name: Option<&str>) -> Result<Business> {
        match name {
            Some(name) => self.store.business_by_name(name)?.ok_or_else(|| AppError::UnknownBusiness {
                name: name.to_string(),
                known: self.store.businesses().map(|bs| bs.into_iter().map(|b| b.name).collect()).unwrap_or_default(),
            }),
            None => {
                let businesses = self.store.businesses()?;
                let chosen = self.chosen_business()?;
                let found = chosen.and_then(|id| businesses.iter().find(|b| b.id == id).cloned());
                found.or_else(|| businesses.into_iter().next()).ok_or_else(|| AppError::Invalid("the store has no business".into()))
            }
        }
    }

    /// The business chosen as the default, if one was and it still exists.
    pub fn chosen_business(&self) -> Result<Option<BusinessId>> {
        let Some(text) = self.store.setting(DEFAULT_BUSINESS_SETTING)? else { return Ok(None) };
        // A value that does not read is as good as none: the first business is used.
        Ok(text.parse::<i64>().ok().map(BusinessId))
    }

    /// Makes the business named `name` the default of commands that name none, from now on and
    /// for every process using this store.
    pub fn use_business(&mut self, name: &str) -> Result<Business> {
        let business = self.business(Some(name))?;
        self.store.set_setting(DEFAULT_BUSINESS_SETTING, &business.id.to_string())?;
        Ok(business)
    }

    pub fn businesses(&self) -> Result<Vec<Business>> {
        Ok(self.store.businesses()?)
    }

    pub fn create_business(&mut self, name: &str, currency: &str, timezone: &str) -> Result<Business> {
        dashboard::check_timezone(timezone)?;
        let currency = Currency::parse(currency)
            .ok_or_else(|| AppError::Invalid(format!("currency {currency:?} is not a three-letter ISO 4217 code")))?;
        let mut created = None;
        self.store.write::<StoreError>(&mut |w| {
            created = Some(w.create_business(name, currency, timezone)?.0);
            Ok(())
        })?;
        created.ok_or_else(|| AppError::Invalid("the business was not created".into()))
    }

    /// Sets how the business's files write decimals (None: refuse every number whose reading
    /// depends on it); imports that declare no mark of their own read numbers with it.
    pub fn set_decimal_mark(&mut self, business: BusinessId, mark: Option<DecimalMark>) -> Result<Business> {
        self.store.write::<StoreError>(&mut |w| w.set_decimal_mark(business, mark))?;
        self.store
            .businesses()?
            .into_iter()
            .find(|b| b.id == business)
            .ok_or_else(|| AppError::NotFound(format!("business {business}")))
    }

    pub fn summary(&self, business: &Business) -> Result<BusinessSummary> {
        Ok(self.store.summary(business.id)?)
    }
}
