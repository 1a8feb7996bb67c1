//! Answers kept between requests: a dashboard over a million events takes hundreds of
//! milliseconds to compute and a few microseconds to serve again. Each answer is stored with the
//! business's data version (see `Store::data_version`) read before it was computed, and served
//! as current only while the business is still at that version; so a write, from this server or
//! from a CLI import in another process, makes the next request compute afresh.
//!
//! Each answer is computed once however many ask at once ("single flight"): the first request for
//! a key and version computes, the others wait for its answer instead of computing the same thing
//! side by side on the same two cores. A failed computation is not kept; each waiter then computes
//! for itself, so an error is reported to every caller as its own.
//!
//! A business that tracks its website changes version many times a second, so a page that always
//! waited for the current version would wait for a recomputation on nearly every view. The
//! answers that may lag a little (the dashboard and its default period) are asked through
//! [`AnswerCache::recent`]: an answer computed less than `max_age` ago is served at once, marked
//! with its age, while one refresh per key brings it up to date in the background; an older one,
//! or none, is computed and waited for as above. Every other answer is only ever served at its
//! own version.
//!
//! The cache is small and bounded (least recently used answers go first): it is for the pages
//! people are looking at now, not a second store.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use trailmap_model::BusinessId;

/// Answers kept at most. A dashboard of a large business is a few megabytes at most (the customer
/// ids behind each number), so this stays well under a gigabyte in the worst case.
pub const CACHED_ANSWERS: usize = 64;

type Answer = Arc<dyn Any + Send + Sync>;
/// The slot of one answer: empty while it is computed, then the answer, or None if it failed.
type Slot = Arc<OnceLock<Option<Answer>>>;

#[derive(Debug, Default)]
pub struct AnswerCache {
    inner: Mutex<Entries>,
    /// Callers waiting for another caller's computation right now (for tests and reports).
    waiting: AtomicU64,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<(BusinessId, String), Entry>,
    /// A counter for recency: the entry with the smallest `used` is evicted first.
    clock: u64,
    hits: u64,
    misses: u64,
}

#[derive(Debug)]
struct Entry {
    version: i64,
    used: u64,
    slot: Slot,
    /// The newest answer computed for this key at any version up to `version`, for
    /// [`AnswerCache::recent`].
    latest: Option<Done>,
    /// Whether a refresh handed out by `recent` has not finished yet (one at a time).
    refreshing: bool,
}

/// An answer that was computed: at which version, and when its computation started (the data it
/// read is at least that recent).
#[derive(Debug, Clone)]
struct Done {
    version: i64,
    answer: Answer,
    started: Instant,
}

/// What [`AnswerCache::recent`] found.
pub enum Recent<T> {
    /// The answer at the version asked.
    Current(Arc<T>),
    /// An answer of an earlier version, computed `age` ago; with a [`Refresh`] when this caller
    /// is to bring it up to date (no other computation of the key is under way).
    Earlier { answer: Arc<T>, age: Duration, refresh: Option<Refresh> },
    /// Nothing recent enough: compute and wait ([`AnswerCache::get_or_compute`]).
    Missing,
}

/// The computation of one key at one version that [`AnswerCache::recent`] handed to one caller,
/// to run (in the background) through [`AnswerCache::fill`]. No slot is made for it until it
/// starts, so nobody waits for a computation that has not begun (a waiter could hold the very
/// thread the refresh is queued for).
pub struct Refresh {
    business: BusinessId,
    key: String,
    version: i64,
}

impl AnswerCache {
    /// The answer for `key` of `business` at `version`: kept, being computed by another caller
    /// (then this one waits for it), or computed here by `work` and kept.
    pub fn get_or_compute<T: Send + Sync + 'static, E>(
        &self,
        business: BusinessId,
        key: &str,
        version: i64,
        work: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        let (slot, made_here) = self.slot(business, key, version);
        if made_here {
            return self.compute(business, key, version, &slot, work);
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let answer = slot.wait().clone();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match answer.and_then(|a| a.downcast::<T>().ok()) {
            Some(value) => Ok(value),
            // The computation waited for failed (or kept another type under this key): compute
            // here, without keeping it.
            None => work().map(Arc::new),
        }
    }

    /// Runs `work` for the slot this caller made: the slot filled (with nothing if `work`
    /// fails or panics, so no waiter waits forever), the key's latest answer moved on.
    fn compute<T: Send + Sync + 'static, E>(
        &self,
        business: BusinessId,
        key: &str,
        version: i64,
        slot: &Slot,
        work: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        let started = Instant::now();
        let guard = FillOnDrop(slot.clone());
        let result = work().map(Arc::new);
        let _ = slot.set(result.as_ref().ok().map(|value| value.clone() as Answer));
        drop(guard);
        match &result {
            Ok(value) => self.remember(business, key, Done { version, answer: value.clone() as Answer, started }),
            Err(_) => self.forget(business, key, slot),
        }
        result
    }

    /// Keeps `done` as the key's latest answer unless a newer one is there already.
    fn remember(&self, business: BusinessId, key: &str, done: Done) {
        if let Ok(mut entries) = self.inner.lock()
            && let Some(entry) = entries.map.get_mut(&(business, key.to_string()))
            && entry.latest.as_ref().is_none_or(|latest| latest.version <= done.version)
        {
            entry.latest = Some(done);
        }
    }

    /// The answer for `key` of `business` at `version` if it is there; else an earlier one
    /// computed less than `max_age` ago, with the refresh to run when no computation of the key
    /// is under way (see the module documentation); else [`Recent::Missing`].
    pub fn recent<T: Send + Sync + 'static>(&self, business: BusinessId, key: &str, version: i64, max_age: Duration) -> Recent<T> {
        let Ok(mut entries) = self.inner.lock() else { return Recent::Missing };
        entries.clock += 1;
        let used = entries.clock;
        let Some(entry) = entries.map.get_mut(&(business, key.to_string())) else { return Recent::Missing };
        let computing = entry.slot.get().is_none() || entry.refreshing;
        if entry.version == version
            && let Some(Some(answer)) = entry.slot.get()
            && let Ok(answer) = answer.clone().downcast::<T>()
        {
            entry.used = used;
            entries.hits += 1;
            return Recent::Current(answer);
        }
        let Some(latest) = entry.latest.clone().filter(|l| l.version <= version && l.started.elapsed() <= max_age) else { return Recent::Missing };
        let Ok(answer) = latest.answer.downcast::<T>() else { return Recent::Missing };
        entry.used = used;
        let refresh = (!computing && entry.version < version).then(|| {
            entry.refreshing = true;
            Refresh { business, key: key.to_string(), version }
        });
        entries.hits += 1;
        Recent::Earlier { answer, age: latest.started.elapsed(), refresh }
    }

    /// Runs the refresh [`AnswerCache::recent`] handed out: `work` computes the key at the
    /// reserved version, as [`AnswerCache::get_or_compute`] would.
    pub fn fill<T: Send + Sync + 'static, E>(&self, refresh: Refresh, work: impl FnOnce() -> Result<T, E>) -> Result<Arc<T>, E> {
        // Whatever happens, even a panic in `work`, the next caller may refresh again.
        let _done = RefreshDone { cache: self, business: refresh.business, key: &refresh.key };
        self.get_or_compute(refresh.business, &refresh.key, refresh.version, work)
    }

    /// The slot for the key at `version`, and whether this caller made it (and so computes);
    /// a slot of an older version is replaced.
    fn slot(&self, business: BusinessId, key: &str, version: i64) -> (Slot, bool) {
        let Ok(mut entries) = self.inner.lock() else {
            // A poisoned lock (a panic elsewhere while holding it) must not stop answers: compute
            // without the cache.
            return (Arc::new(OnceLock::new()), true);
        };
        entries.clock += 1;
        let used = entries.clock;
        if let Some(entry) = entries.map.get_mut(&(business, key.to_string()))
            && entry.version == version
        {
            entry.used = used;
            let slot = entry.slot.clone();
            // A slot still being computed counts as a miss: this caller waits for it.
            if slot.get().is_some() {
                entries.hits += 1;
            } else {
                entries.misses += 1;
            }
            return (slot, false);
        }
        entries.misses += 1;
        let slot: Slot = Arc::new(OnceLock::new());
        if let Some(entry) = entries.map.get_mut(&(business, key.to_string())) {
            // An older version's slot is replaced; its latest answer stays for `recent`.
            entry.version = version;
            entry.used = used;
            entry.slot = slot.clone();
            return (slot, true);
        }
        if entries.map.len() >= CACHED_ANSWERS
            && let Some(oldest) = entries.map.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone())
        {
            entries.map.remove(&oldest);
        }
        entries.map.insert((business, key.to_string()), Entry { version, used, slot: slot.clone(), latest: None, refreshing: false });
        (slot, true)
    }

    /// Drops a failed slot, so the next caller computes again.
    fn forget(&self, business: BusinessId, key: &str, slot: &Slot) {
        if let Ok(mut entries) = self.inner.lock() {
            let k = (business, key.to_string());
            match entries.map.get_mut(&k) {
                // The key's latest answer stays for `recent`; the next caller computes again.
                Some(entry) if Arc::ptr_eq(&entry.slot, slot) && entry.latest.is_some() => entry.version = i64::MIN,
                Some(entry) if Arc::ptr_eq(&entry.slot, slot) => {
                    entries.map.remove(&k);
                }
                _ => {}
            }
        }
    }

    /// (hits, misses) so far: for tests and the load benchmark's report. A caller that waited
    /// for another's computation counts as a miss.
    pub fn counts(&self) -> (u64, u64) {
        self.inner.lock().map_or((0, 0), |e| (e.hits, e.misses))
    }

    /// Callers waiting for another caller's computation right now (the single-flight test
    /// waits for this to be one).
    #[cfg(test)]
    pub fn waiting(&self) -> u64 {
        self.waiting.load(Ordering::SeqCst)
    }
}

/// Ends a refresh of `recent` when dropped: the key may be refreshed again.
struct RefreshDone<'c> {
    cache: &'c AnswerCache,
    business: BusinessId,
    key: &'c str,
}

impl Drop for RefreshDone<'_> {
    fn drop(&mut self) {
        if let Ok(mut entries) = self.cache.inner.lock()
            && let Some(entry) = entries.map.get_mut(&(self.business, self.key.to_string()))
        {
            entry.refreshing = false;
        }
    }
}

/// Fills a slot with "no answer" when dropped before it was filled (its computation panicked).
struct FillOnDrop(Slot);

impl Drop for FillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.set(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn get(cache: &AnswerCache, business: i64, key: &str, version: i64, value: u32) -> Arc<u32> {
        cache.get_or_compute::<u32, Infallible>(BusinessId(business), key, version, || Ok(value)).unwrap_or_else(|e| match e {})
    }

    #[test]
    fn an_answer_is_served_only_at_its_version_and_the_oldest_goes_first() {
        let cache = AnswerCache::default();
        assert_eq!(*get(&cache, 1, "dash", 3, 41), 41);
        assert_eq!(*get(&cache, 1, "dash", 3, 99), 41, "kept at its version");
        assert_eq!(*get(&cache, 1, "dash", 4, 42), 42, "a newer version computes");
        assert_eq!(*get(&cache, 2, "dash", 4, 7), 7, "another business computes");
        let other_type = cache.get_or_compute::<String, Infallible>(BusinessId(1), "dash", 4, || Ok("text".into()));
        assert_eq!(other_type.ok().as_deref().map(String::as_str), Some("text"), "another type is computed, not a panic");
        for i in 0..CACHED_ANSWERS as i64 + 5 {
            get(&cache, 10 + i, "dash", 0, i as u32);
        }
        assert_eq!(*get(&cache, 10, "dash", 0, 1000), 1000, "the least recently used went");
        assert!(cache.inner.lock().unwrap().map.len() <= CACHED_ANSWERS);
    }

    #[test]
    fn a_failed_computation_is_not_kept() {
        let cache = AnswerCache::default();
        let failed = cache.get_or_compute::<u32, &str>(BusinessId(1), "dash", 1, || Err("the store is busy"));
        assert_eq!(failed.err(), Some("the store is busy"));
        assert_eq!(*get(&cache, 1, "dash", 1, 5), 5, "the next caller computes again");
    }

    /// While one caller computes, a second caller of the same key and version waits for that
    /// answer instead of computing its own. The computing caller is held inside its work until
    /// the second is known to be waiting (the cache counts its waiters), so the order is fixed,
    /// with no sleeps.
    #[test]
    fn concurrent_callers_share_one_computation() {
        let cache = Arc::new(AnswerCache::default());
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let first = {
            let cache = cache.clone();
            std::thread::spawn(move || {
                cache.get_or_compute::<u32, Infallible>(BusinessId(1), "dash", 1, || {
                    started_tx.send(()).unwrap();
                    gate_rx.recv().unwrap();
                    Ok(11)
                })
            })
        };
        started_rx.recv().unwrap();
        let second_ran = Arc::new(AtomicU64::new(0));
        let second = {
            let (cache, ran) = (cache.clone(), second_ran.clone());
            std::thread::spawn(move || {
                cache.get_or_compute::<u32, Infallible>(BusinessId(1), "dash", 1, || {
                    ran.fetch_add(1, Ordering::SeqCst);
                    Ok(22)
                })
            })
        };
        while cache.waiting() == 0 {
            std::thread::yield_now();
        }
        gate_tx.send(()).unwrap();
        assert_eq!(first.join().unwrap().ok().as_deref(), Some(&11));
        assert_eq!(second.join().unwrap().ok().as_deref(), Some(&11), "the second caller got the first's answer");
        assert_eq!(second_ran.load(Ordering::SeqCst), 0, "and did not compute");
    }

    fn earlier(found: Recent<u32>) -> (u32, Option<Refresh>) {
        match found {
            Recent::Earlier { answer, refresh, .. } => (*answer, refresh),
            Recent::Current(answer) => panic!("current {answer}, not an earlier answer"),
            Recent::Missing => panic!("missing, not an earlier answer"),
        }
    }

    /// After a write, the answer of the version before is served at once while exactly one
    /// caller refreshes it; then the refreshed answer is current. A failed refresh is tried
    /// again by the next caller, and an answer older than asked is not served.
    #[test]
    fn a_recent_answer_is_served_while_one_refresh_runs() {
        let cache = AnswerCache::default();
        let hour = Duration::from_secs(3600);
        assert!(matches!(cache.recent::<u32>(BusinessId(1), "dash", 1, hour), Recent::Missing), "nothing computed yet");
        assert_eq!(*get(&cache, 1, "dash", 1, 10), 10);
        assert!(matches!(cache.recent::<u32>(BusinessId(1), "dash", 1, hour), Recent::Current(a) if *a == 10));

        let (answer, refresh) = earlier(cache.recent::<u32>(BusinessId(1), "dash", 2, hour));
        assert_eq!(answer, 10);
        let refresh = refresh.expect("the first caller after the write refreshes");
        let (answer, second) = earlier(cache.recent::<u32>(BusinessId(1), "dash", 2, hour));
        assert_eq!((answer, second.is_none()), (10, true), "one refresh at a time");
        // A version newer still, while the refresh runs: the same answer, no second refresh.
        assert!(earlier(cache.recent::<u32>(BusinessId(1), "dash", 3, hour)).1.is_none());
        let failed = cache.fill::<u32, &str>(refresh, || Err("the store is busy"));
        assert_eq!(failed.err(), Some("the store is busy"));
        let (answer, retry) = earlier(cache.recent::<u32>(BusinessId(1), "dash", 3, hour));
        assert_eq!(answer, 10, "a failed refresh leaves the earlier answer");
        let retry = retry.expect("and the next caller refreshes again");
        assert_eq!(cache.fill::<u32, Infallible>(retry, || Ok(30)).ok().as_deref(), Some(&30));
        assert!(matches!(cache.recent::<u32>(BusinessId(1), "dash", 3, hour), Recent::Current(a) if *a == 30));
        // Waiting for the current answer still works beside it.
        assert_eq!(*get(&cache, 1, "dash", 3, 99), 30);

        // An answer older than allowed is not served: the caller computes.
        assert!(matches!(cache.recent::<u32>(BusinessId(1), "dash", 4, Duration::ZERO), Recent::Missing));
        assert_eq!(*get(&cache, 1, "dash", 4, 40), 40);
        // Nor is an answer of another type, or of a version after the one asked.
        assert!(matches!(cache.recent::<String>(BusinessId(1), "dash", 5, hour), Recent::Missing));
        assert!(matches!(cache.recent::<u32>(BusinessId(1), "dash", 3, hour), Recent::Missing));
    }
}
