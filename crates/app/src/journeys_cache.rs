//! A business's events grouped into journeys, kept between analyses: what the engine benchmark
//! calls "data loaded". Loading and grouping cost far more than a funnel over the grouped table
//! (at ten million events about 0.5 s against 0.05 s), so the server gives every app it opens one
//! shared cache, and the next funnel, path or retention query on the same business reuses the
//! journeys while the business's data version is unchanged. One business's journeys are kept at
//! a time: every column but the properties, about 50 bytes an event (50 MB for a million events).
//! Journeys with the properties column, which is large and only some queries read, are not kept.
//! Two requests missing at once both load; the later one's journeys are kept.

use crate::{App, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use trailmap_analytics::Journeys;
use trailmap_model::{BusinessId, EventColumns};
use trailmap_store::Store;

/// Journeys shared by the apps of one process; see the module.
#[derive(Debug, Default)]
pub struct JourneysCache {
    kept: Mutex<Option<Kept>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Debug)]
struct Kept {
    business: BusinessId,
    /// The business's data version when the events were read.
    version: i64,
    journeys: Arc<Journeys>,
}

impl JourneysCache {
    /// (hits, misses) so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    fn get(&self, business: BusinessId, version: i64) -> Option<Arc<Journeys>> {
        let kept = self.kept.lock().ok()?;
        kept.as_ref().filter(|k| k.business == business && k.version == version).map(|k| k.journeys.clone())
    }

    fn put(&self, business: BusinessId, version: i64, journeys: Arc<Journeys>) {
        if let Ok(mut kept) = self.kept.lock() {
            *kept = Some(Kept { business, version, journeys });
        }
    }
}

impl App {
    /// This app with a cache of journeys shared with other apps of the process.
    pub fn with_journeys_cache(mut self, cache: Arc<JourneysCache>) -> App {
        self.journeys = Some(cache);
        self
    }

    /// Whether this app keeps journeys between analyses.
    pub(crate) fn keeps_journeys(&self) -> bool {
        self.journeys.is_some()
    }

    /// The business's events (the `columns` asked for) grouped into journeys: from the cache when
    /// it holds them at the business's current data version, otherwise loaded, grouped and kept.
    /// Without a cache, or with the properties column, loaded every time.
    pub(crate) fn journeys(&self, business: BusinessId, columns: EventColumns) -> Result<Arc<Journeys>> {
        let load = || -> Result<Arc<Journeys>> { Ok(Arc::new(Journeys::new(self.store().load_events(business, columns)?))) };
        let Some(cache) = self.journeys.as_ref().filter(|_| !columns.properties) else {
            return load();
        };
        // The version is read before the events: if a write lands in between, the journeys are
        // newer than their version says and are merely loaded again next time, never served stale.
        let version = self.data_version(business)?;
        if let Some(journeys) = cache.get(business, version) {
            cache.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(journeys);
        }
        cache.misses.fetch_add(1, Ordering::Relaxed);
        let journeys = load()?;
        cache.put(business, version, journeys.clone());
        Ok(journeys)
    }
}
