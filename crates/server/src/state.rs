//! What every handler shares: the one writer (a thread owning the app, see `writer`) and a small
//! pool of read-only apps on the same store file, so reads (pages, reports, API queries) run in
//! parallel beside the writer without waiting for it. SQLite's WAL mode lets readers see every
//! committed write while the writer works. An in-memory store (tests) cannot be opened twice, so
//! there reads go through the writer thread too. It also carries the web app's settings and the
//! in-memory throttle of password guesses (`auth`, `throttle`).

use crate::auth::AuthState;
use crate::cache::{AnswerCache, Recent};
use crate::error::ApiError;
use crate::writer::{WriteError, Writer};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use trailmap_app::journeys_cache::JourneysCache;
use trailmap_app::{App, AppError, StoreLocation};
use trailmap_model::BusinessId;

/// How old an answer `recent_read` serves while it is brought up to date: a few seconds behind a
/// website's tracking is current for a small business's dashboard, and a page kept longer than
/// this without a view is computed afresh when next asked.
pub const RECENT_ENOUGH: Duration = Duration::from_secs(15);

/// The state of the whole server; cheap to clone.
#[derive(Debug, Clone)]
pub struct ServerState {
    pub writer: Writer,
    readers: Arc<Readers>,
    /// Cookie settings, the password-guess throttle and API-key bookkeeping.
    pub auth: Arc<AuthState>,
    /// Answers kept while their business's data is unchanged (`cached_read`).
    cache: Arc<AnswerCache>,
    /// Where uploaded files are copied while they are imported: the system's temporary folder.
    pub upload_dir: PathBuf,
    /// The largest data import over HTTP, in bytes (`max-import-mib`).
    pub import_limit: u64,
    /// The delivery task's settings (the SMTP server) and wake-up call.
    pub delivery: Arc<crate::delivery::DeliveryHub>,
    /// How old an answer `recent_read` may serve ([`RECENT_ENOUGH`] unless set).
    recent_enough: Duration,
    /// The background refreshes `recent_read` started, for [`ServerState::refreshed`].
    refreshes: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

#[derive(Debug)]
struct Readers {
    /// Where the store is, or None for an in-memory store (reads then go through the writer).
    db: Option<StoreLocation>,
    idle: Mutex<Vec<App>>,
    /// Journeys every read app shares, so the next analysis of a business skips loading and
    /// grouping its events while they are unchanged.
    journeys: Arc<JourneysCache>,
}

/// Read connections kept open at most; more requests at once open a connection and close it after.
const IDLE_READERS: usize = 8;

impl ServerState {
    /// State around a writer already started on an app whose store is at `db` (":memory:" for an
    /// in-memory store).
    pub fn new(writer: Writer, db: PathBuf) -> ServerState {
        ServerState::at(writer, (db.as_os_str() != ":memory:").then_some(StoreLocation::Sqlite(db)))
    }

    /// State around a writer already started on an app whose store is at `location` (None: in
    /// memory, read through the writer).
    pub fn at(writer: Writer, db: Option<StoreLocation>) -> ServerState {
        ServerState {
            writer,
            readers: Arc::new(Readers { db, idle: Mutex::new(Vec::new()), journeys: Arc::new(JourneysCache::default()) }),
            auth: Arc::new(AuthState::new(false)),
            cache: Arc::new(AnswerCache::default()),
            upload_dir: std::env::temp_dir(),
            import_limit: crate::config::DEFAULT_MAX_IMPORT_MIB * 1024 * 1024,
            delivery: Arc::new(crate::delivery::DeliveryHub::default()),
            recent_enough: RECENT_ENOUGH,
            refreshes: Arc::default(),
        }
    }

    /// The same state sending e-mail through `smtp` (None: e-mails wait, failing with that reason).
    pub fn with_smtp(mut self, smtp: Option<trailmap_app::delivery::SmtpSettings>) -> ServerState {
        self.delivery = Arc::new(crate::delivery::DeliveryHub::new(trailmap_app::delivery::DeliverySettings { smtp }));
        self
    }

    /// The same state taking data imports of at most `bytes` over HTTP.
    pub fn with_import_limit(mut self, bytes: u64) -> ServerState {
        self.import_limit = bytes;
        self
    }

    /// The same state copying uploads under `dir` instead of the system's temporary folder.
    pub fn with_upload_dir(mut self, dir: PathBuf) -> ServerState {
        self.upload_dir = dir;
        self
    }

    /// The same state serving answers up to `age` old through `recent_read` (zero: always the
    /// current data); tests set a long one so that what they see does not depend on their speed.
    pub fn with_recent_enough(mut self, age: Duration) -> ServerState {
        self.recent_enough = age;
        self
    }

    /// Waits for the background refreshes started so far (tests and the benchmark: the next
    /// answer is then of the data as it was when they started).
    pub async fn refreshed(&self) {
        let running: Vec<_> = self.refreshes.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default();
        for refresh in running {
            let _ = refresh.await;
        }
    }

    /// The same state with cookies marked `Secure` (sent only over HTTPS) or not.
    pub fn with_secure_cookies(mut self, secure: bool) -> ServerState {
        self.auth = Arc::new(AuthState::new(secure));
        self
    }

    /// `read` for work that may fail in the app: its error becomes the matching HTTP error.
    pub async fn try_read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.read(work).await?.map_err(ApiError::from)
    }

    /// `try_read` for an answer about one business that is worth keeping (a dashboard): served
    /// from the cache while the business's data version is the one it was computed at, computed
    /// and kept otherwise. `key` names the question (kind and parameters) within the business.
    pub async fn cached_read<T: Send + Sync + 'static>(
        &self,
        business: BusinessId,
        key: String,
        work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
    ) -> Result<Arc<T>, ApiError> {
        let cache = self.cache.clone();
        self.try_read(move |app| {
            // The version is read before the data: if a write lands in between, the answer is
            // newer than its version says and is merely recomputed next time, never served stale.
            let version = app.data_version(business)?;
            cache.get_or_compute(business, &key, version, || work(app))
        })
        .await
    }

    /// `cached_read` for an answer that may lag the data by a few seconds (the dashboard): an
    /// answer computed less than [`RECENT_ENOUGH`] (or `with_recent_enough`) ago is served at
    /// once with its age while one refresh per key runs in the background (see `cache.rs`);
    /// otherwise, or when the caller asks for the `current` data, as `cached_read`. The age is
    /// None when the answer is of the current data.
    pub async fn recent_read<T: Send + Sync + 'static>(
        &self,
        business: BusinessId,
        key: String,
        current: bool,
        work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
    ) -> Result<(Arc<T>, Option<Duration>), ApiError> {
        if current {
            return Ok((self.cached_read(business, key, work).await?, None));
        }
        let version = self.try_read(move |app| app.data_version(business)).await?;
        match self.cache.recent::<T>(business, &key, version, self.recent_enough) {
            Recent::Current(answer) => Ok((answer, None)),
            Recent::Earlier { answer, age, refresh } => {
                if let Some(refresh) = refresh {
                    let (state, cache) = (self.clone(), self.cache.clone());
                    // A failed refresh is not kept: the next request computes and reports it.
                    let task = tokio::spawn(async move {
                        let _ = state.try_read(move |app| cache.fill(refresh, || work(app))).await;
                    });
                    if let Ok(mut running) = self.refreshes.lock() {
                        running.retain(|r| !r.is_finished());
                        running.push(task);
                    }
                }
                Ok((answer, Some(age)))
            }
            Recent::Missing => Ok((self.cached_read(business, key, work).await?, None)),
        }
    }

    /// (hits, misses) of the answer cache so far.
    pub fn cache_counts(&self) -> (u64, u64) {
        self.cache.counts()
    }

    /// (hits, misses) of the journeys the read apps share so far.
    pub fn journeys_counts(&self) -> (u64, u64) {
        self.readers.journeys.counts()
    }

    /// `write` for work that may fail in the app: its error becomes the matching HTTP error.
    pub async fn try_write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut App) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.write(work).await?.map_err(ApiError::from)
    }

    /// Runs `work` with a read-only view of the app on a blocking thread and returns its result.
    /// What `work` reads is what was committed when it started.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&App) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let Some(db) = self.readers.db.clone() else {
            return self.writer.run(move |app| work(app)).await.map_err(unavailable);
        };
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers.idle.lock().ok().and_then(|mut idle| idle.pop());
            let app = match pooled {
                Some(app) => app,
                None => App::open_at(&db)
                    .map_err(|e| ApiError::internal(format!("cannot open the store: {e}")))?
                    .with_journeys_cache(readers.journeys.clone()),
            };
            let answer = work(&app);
            if let Ok(mut idle) = readers.idle.lock()
                && idle.len() < IDLE_READERS
            {
                idle.push(app);
            }
            Ok(answer)
        })
        .await
        .map_err(|e| ApiError::internal(format!("a read failed: {e}")))?
    }

    /// Runs `work` on the writer thread with the app; what it writes is committed when it returns.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut App) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        self.writer.run(work).await.map_err(unavailable)
    }
}

fn unavailable(error: WriteError) -> ApiError {
    ApiError::unavailable(error.to_string())
}
