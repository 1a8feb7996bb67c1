//! Businesses' data kept between analyses ([`BusinessData`]: journeys, orders, answers,
//! feedback) and brought up to date from what was written since, instead of read again. Loading
//! and grouping cost far more than a funnel over the grouped table (at ten million events about
//! 0.5 s against 0.05 s), and reading a business's orders and answers again after every tracking
//! event made each page wait seconds; so the server gives every app it opens one shared cache,
//! and each answer (dashboard, insights, map numbers, customer value, funnels, paths, retention)
//! starts from the kept data, refreshed by the rows written since its mark (see
//! `business_data`). An app without a shared cache (a command-line run) keeps its own.
//!
//! Each business has its own slot, so one business's refresh never waits for another's; callers
//! asking for the same business at once wait for the one refresh (single flight). A few
//! businesses are kept, least recently used first to go, within a bound on the rows kept (about
//! 50 bytes an event): [`KEPT_BUSINESSES`], [`KEPT_ROWS`]. Journeys with the properties column,
//! which is large and only some queries read, are not kept.
//!
//! Beside the data, the last few customer value models are kept with the exact inputs they were
//! computed from (`value_model`): an answer whose inputs equal a kept model's reuses it.

use crate::business_data::{BusinessData, Refresh};
use crate::value_model::{ClvModel, KEPT_MODELS, KEPT_MODEL_ROWS, ModelInputs};
use crate::{App, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use trailmap_analytics::Journeys;
use trailmap_model::{BusinessId, EventColumns};
use trailmap_store::Store;

/// Businesses whose data is kept at most.
pub const KEPT_BUSINESSES: usize = 4;

/// Rows (events, orders, answers, feedback) kept at most over all businesses but the one used
/// last, which is always kept: about a gigabyte.
pub const KEPT_ROWS: usize = 20_000_000;

type Slot = Arc<Mutex<Option<Arc<BusinessData>>>>;

/// Data shared by the apps of one process; see the module.
#[derive(Debug, Default)]
pub struct JourneysCache {
    slots: Mutex<Slots>,
    hits: AtomicU64,
    misses: AtomicU64,
    refreshes: AtomicU64,
    /// Whether every answer reads the store afresh instead (the benchmark's "before").
    disabled: AtomicBool,
    /// Customer value models, the one used last first (see `value_model`).
    models: Mutex<Vec<Arc<ClvModel>>>,
}

#[derive(Debug, Default)]
struct Slots {
    by_business: HashMap<BusinessId, (u64, Slot)>,
    clock: u64,
}

impl JourneysCache {
    /// (hits, misses) so far: a miss read something from the store (a whole load or the rows
    /// written since).
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// Misses that were refreshes (rows written since read), not whole loads.
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// With `true`, nothing is kept: every answer loads the business's data afresh, as before the
    /// cache was kept up to date (for the benchmark's comparison).
    pub fn set_disabled(&self, disabled: bool) {
        self.disabled.store(disabled, Ordering::Relaxed);
        if disabled && let Ok(mut slots) = self.slots.lock() {
            slots.by_business.clear();
        }
        if disabled && let Ok(mut models) = self.models.lock() {
            models.clear();
        }
    }

    /// The kept customer value model computed from exactly `inputs`, if there is one.
    pub(crate) fn kept_model(&self, inputs: &ModelInputs) -> Option<Arc<ClvModel>> {
        let mut models = self.models.lock().ok()?;
        let at = models.iter().position(|m| m.inputs == *inputs)?;
        let model = models.remove(at);
        models.insert(0, model.clone());
        Some(model)
    }

    /// Keeps a customer value model, the oldest beyond [`KEPT_MODELS`] going.
    pub(crate) fn keep_model(&self, model: Arc<ClvModel>) {
        if self.disabled.load(Ordering::Relaxed) {
            return;
        }
        if let Ok(mut models) = self.models.lock() {
            models.insert(0, model);
            // The newest always stays; older ones within the bounds.
            let mut rows = 0;
            let keep = models
                .iter()
                .position(|m| {
                    rows += m.inputs.transactions.len();
                    rows > KEPT_MODEL_ROWS
                })
                .map_or(models.len(), |at| at.max(1));
            models.truncate(keep.min(KEPT_MODELS));
        }
    }

    fn slot(&self, business: BusinessId) -> Option<Slot> {
        let mut slots = self.slots.lock().ok()?;
        slots.clock += 1;
        let clock = slots.clock;
        let entry = slots.by_business.entry(business).or_insert_with(|| (clock, Slot::default()));
        entry.0 = clock;
        Some(entry.1.clone())
    }

    /// Drops the least recently used businesses beyond the bounds, never `keep`.
    fn evict(&self, keep: BusinessId) {
        let Ok(mut slots) = self.slots.lock() else { return };
        loop {
            let rows: usize = slots
                .by_business
                .values()
                .filter_map(|(_, slot)| slot.try_lock().ok().and_then(|s| s.as_ref().map(|d| d.rows())))
                .sum();
            if slots.by_business.len() <= KEPT_BUSINESSES && rows <= KEPT_ROWS {
                return;
            }
            let oldest = slots.by_business.iter().filter(|(b, _)| **b != keep).min_by_key(|(_, (used, _))| *used).map(|(b, _)| *b);
            match oldest {
                Some(b) => {
                    slots.by_business.remove(&b);
                }
                None => return,
            }
        }
    }

    /// The business's data at its current version: kept, refreshed or loaded (see the module).
    fn data(&self, app: &App, business: BusinessId) -> Result<(Arc<BusinessData>, Option<Refresh>)> {
        if self.disabled.load(Ordering::Relaxed) {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return Ok((Arc::new(BusinessData::load(app.store(), business)?), None));
        }
        let Some(slot) = self.slot(business) else {
            return Ok((Arc::new(BusinessData::load(app.store(), business)?), None));
        };
        let answer = {
            let Ok(mut kept) = slot.lock() else {
                // A panic while refreshing: the slot's data is not trusted.
                return Ok((Arc::new(BusinessData::load(app.store(), business)?), None));
            };
            // One statement when nothing changed: the version, read before anything else.
            let version = app.data_version(business)?;
            if let Some(data) = kept.as_ref().filter(|d| d.mark().version == version) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Ok((data.clone(), None));
            }
            self.misses.fetch_add(1, Ordering::Relaxed);
            let (data, refresh) = match kept.take() {
                Some(old) => {
                    self.refreshes.fetch_add(1, Ordering::Relaxed);
                    // Moved out when no answer still reads it; copied otherwise.
                    let old = Arc::try_unwrap(old).unwrap_or_else(|shared| (*shared).clone());
                    let (data, refresh) = old.refreshed(app.store())?;
                    (data, Some(refresh))
                }
                None => (BusinessData::load(app.store(), business)?, None),
            };
            let data = Arc::new(data);
            *kept = Some(data.clone());
            (data, refresh)
        };
        self.evict(business);
        Ok(answer)
    }
}

impl App {
    /// This app with a cache of businesses' data shared with other apps of the process.
    pub fn with_journeys_cache(mut self, cache: Arc<JourneysCache>) -> App {
        self.journeys = Some(cache);
        self
    }

    /// Whether this app shares kept data with other apps (a server's); a command-line app keeps
    /// its own for the length of its one command.
    pub(crate) fn keeps_journeys(&self) -> bool {
        self.journeys.is_some()
    }

    /// The business's data at its current version (see `business_data`): from the shared cache
    /// when the app has one, else from the app's own.
    pub fn business_data(&self, business: BusinessId) -> Result<Arc<BusinessData>> {
        Ok(self.journeys.as_deref().unwrap_or(&self.own).data(self, business)?.0)
    }

    /// The business's events (the `columns` asked for) grouped into journeys: the kept ones
    /// (every column but the properties) when this app shares a cache, otherwise, or with the
    /// properties column, loaded.
    pub(crate) fn journeys(&self, business: BusinessId, columns: EventColumns) -> Result<Arc<Journeys>> {
        if self.journeys.is_none() || columns.properties {
            return Ok(Arc::new(Journeys::new(self.store().load_events(business, columns)?)));
        }
        Ok(self.business_data(business)?.journeys().clone())
    }
}
