//! Answers kept between requests: a dashboard over a million events takes hundreds of
//! milliseconds to compute and a few microseconds to serve again. Each answer is stored with the
//! business's data version (see `Store::data_version`) read before it was computed, and served
//! only while the business is still at that version; so a write, from this server or from a CLI
//! import in another process, makes the next request compute afresh. Nothing is ever served stale.
//!
//! The cache is small and bounded (least recently used answers go first): it is for the pages
//! people are looking at now, not a second store.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use trailmap_model::BusinessId;

/// Answers kept at most. A dashboard of a large business is a few megabytes at most (the customer
/// ids behind each number), so this stays well under a gigabyte in the worst case.
pub const CACHED_ANSWERS: usize = 64;

#[derive(Debug, Default)]
pub struct AnswerCache {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<(BusinessId, String), Entry>,
    /// A counter for recency: the entry with the smallest `used` is evicted first.
    clock: u64,
    hits: u64,
    misses: u64,
}

struct Entry {
    version: i64,
    used: u64,
    value: Arc<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry").field("version", &self.version).field("used", &self.used).finish_non_exhaustive()
    }
}

impl AnswerCache {
    /// The answer stored under `key` for `business` when it was computed at `version`.
    pub fn get<T: Send + Sync + 'static>(&self, business: BusinessId, key: &str, version: i64) -> Option<Arc<T>> {
        let mut entries = self.inner.lock().ok()?;
        entries.clock += 1;
        let clock = entries.clock;
        let found = match entries.map.get_mut(&(business, key.to_string())) {
            Some(entry) if entry.version == version => {
                entry.used = clock;
                entry.value.clone().downcast::<T>().ok()
            }
            _ => None,
        };
        if found.is_some() {
            entries.hits += 1;
        } else {
            entries.misses += 1;
        }
        found
    }

    /// Keeps `value`, computed at `version`, in place of any older answer under the same key.
    pub fn put<T: Send + Sync + 'static>(&self, business: BusinessId, key: String, version: i64, value: Arc<T>) {
        let Ok(mut entries) = self.inner.lock() else { return };
        entries.clock += 1;
        let used = entries.clock;
        // Answers of an older version can never be served again: drop them first.
        entries.map.retain(|(b, _), entry| *b != business || entry.version >= version);
        if entries.map.len() >= CACHED_ANSWERS
            && let Some(oldest) = entries.map.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone())
        {
            entries.map.remove(&oldest);
        }
        entries.map.insert((business, key), Entry { version, used, value });
    }

    /// (hits, misses) so far: for tests and the load benchmark's report.
    pub fn counts(&self) -> (u64, u64) {
        self.inner.lock().map_or((0, 0), |e| (e.hits, e.misses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_served_only_at_its_version_and_the_oldest_goes_first() {
        let cache = AnswerCache::default();
        let shop = BusinessId(1);
        cache.put(shop, "dash".into(), 3, Arc::new(41_u32));
        assert_eq!(cache.get::<u32>(shop, "dash", 3).as_deref(), Some(&41));
        assert!(cache.get::<u32>(shop, "dash", 4).is_none(), "a newer version is a miss");
        assert!(cache.get::<u32>(BusinessId(2), "dash", 3).is_none(), "another business is a miss");
        assert!(cache.get::<String>(shop, "dash", 3).is_none(), "another type is a miss, not a panic");
        cache.put(shop, "other".into(), 4, Arc::new(7_u32));
        assert!(cache.get::<u32>(shop, "dash", 3).is_none(), "answers of older versions are dropped");

        for i in 0..CACHED_ANSWERS as i64 + 5 {
            cache.put(BusinessId(10 + i), "dash".into(), 0, Arc::new(i));
        }
        assert!(cache.get::<i64>(BusinessId(10), "dash", 0).is_none(), "the least recently used went");
        let last = CACHED_ANSWERS as i64 + 4;
        assert_eq!(cache.get::<i64>(BusinessId(10 + last), "dash", 0).as_deref(), Some(&last));
        assert!(cache.inner.lock().unwrap().map.len() <= CACHED_ANSWERS);
        let (hits, misses) = cache.counts();
        assert_eq!((hits, misses), (2, 5));
    }
}
