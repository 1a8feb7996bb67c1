//! The one writer: a thread that owns the app (and so the store) and commits every tracking request
//! that is waiting in one transaction (group commit), then answers each. Other writes (accounts,
//! businesses, maps) run on the same thread one by one as closures over the app, so there is only
//! ever one writing connection. A handler's request is answered
//! only after `Store::write` returned, so a 200 means the events are on disk. While one
//! transaction syncs, the next requests queue up and go together into the next one: the cost of
//! the sync is shared by everything that arrived during it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use trailmap_app::{App, AppError, StoreError, TrackingWrite};
use trailmap_model::{Business, Timestamp};

/// Requests waiting at most; beyond it handlers wait to send, which slows clients down instead of
/// growing memory.
const QUEUE: usize = 1024;
/// Requests in one transaction at most, so one commit's latency stays bounded.
const GROUP: usize = 256;

enum Job {
    /// Which business a write key (by hash) sends to, and the key's id.
    Lookup { key_hash: String, reply: oneshot::Sender<Result<Option<(Business, i64)>, String>> },
    /// Commit these messages; the reply comes after the commit. The handler keeps the other
    /// reference, so the messages are freed on its thread rather than on this busy one.
    Write { write: Arc<TrackingWrite>, reply: oneshot::Sender<Result<(), Refusal>> },
    /// Any other write: the closure runs on the writer thread and sends its own reply.
    Run(Box<dyn FnOnce(&mut App) + Send>),
}

/// Why a request could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the writer has stopped")]
    Stopped,
    #[error("the store refused the write: {0}")]
    Store(String),
    /// A store the events go to (ClickHouse) cannot be reached: nothing was written.
    #[error("nothing was written: {0}")]
    Unavailable(String),
    /// The request's write key was revoked after it was looked up; nothing was written.
    #[error("the write key was revoked")]
    KeyRevoked,
}

/// Why one request of a group commit was not written.
enum Refusal {
    Store(String),
    Unavailable(String),
    KeyRevoked,
}

/// The handlers' side of the writer; cheap to clone. The writer thread ends when every clone is
/// dropped, and hands back the app.
#[derive(Debug, Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    /// Keys already looked up (hash -> business and key id), so most requests need no round
    /// trip to the writer for auth. A key revoked in this process is forgotten at once
    /// (`forget_keys`); one revoked by another process is caught by the commit, which checks
    /// every key it writes for, and is forgotten then.
    keys: Arc<Mutex<HashMap<String, (Business, i64)>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Lookup { .. } => f.write_str("Lookup"),
            Job::Write { write, .. } => write!(f, "Write({} messages)", write.messages.len()),
            Job::Run(_) => f.write_str("Run"),
        }
    }
}

impl Writer {
    /// Starts the writer thread on `app`. Join the handle to get the app back after the last
    /// tracker is dropped.
    pub fn start(app: App) -> (Writer, std::thread::JoinHandle<App>) {
        let (jobs, receiver) = mpsc::channel(QUEUE);
        let handle = std::thread::Builder::new()
            .name("trailmap-writer".into())
            .spawn(move || run(app, receiver))
            .unwrap_or_else(|e| panic!("cannot start the writer thread: {e}"));
        (Writer { jobs, keys: Arc::new(Mutex::new(HashMap::new())) }, handle)
    }

    /// The business of a live write key given by its hash, and the key's id; None when no such
    /// key exists or it was revoked.
    pub async fn business_for_key(&self, key_hash: &str) -> Result<Option<(Business, i64)>, WriteError> {
        if let Some(b) = self.keys.lock().map_err(|_| WriteError::Stopped)?.get(key_hash) {
            return Ok(Some(b.clone()));
        }
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Lookup { key_hash: key_hash.to_string(), reply })
            .await
            .map_err(|_| WriteError::Stopped)?;
        let found = answer.await.map_err(|_| WriteError::Stopped)?.map_err(WriteError::Store)?;
        if let Some(b) = &found {
            self.keys.lock().map_err(|_| WriteError::Stopped)?.insert(key_hash.to_string(), b.clone());
        }
        Ok(found)
    }

    /// Runs `work` on the writer thread with the app and returns its result: how the web app
    /// writes (accounts, businesses, maps). Whatever `work` writes is committed when it returns,
    /// since every app write is one store transaction.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce(&mut App) -> T + Send + 'static) -> Result<T, WriteError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Run(Box::new(move |app: &mut App| {
            let _ = reply.send(work(app));
        }));
        self.jobs.send(job).await.map_err(|_| WriteError::Stopped)?;
        answer.await.map_err(|_| WriteError::Stopped)
    }

    /// Forgets the cached business of every write key, after a key is revoked or a business
    /// changes, so the next request looks it up again.
    pub fn forget_keys(&self) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.clear();
        }
    }

    /// Writes one request's messages; returns once they are committed.
    pub async fn write(&self, write: TrackingWrite) -> Result<(), WriteError> {
        let (reply, answer) = oneshot::channel();
        let write = Arc::new(write);
        self.jobs.send(Job::Write { write: write.clone(), reply }).await.map_err(|_| WriteError::Stopped)?;
        let answer = answer.await.map_err(|_| WriteError::Stopped)?.map_err(|refusal| match refusal {
            Refusal::Store(message) => WriteError::Store(message),
            Refusal::Unavailable(message) => WriteError::Unavailable(message),
            Refusal::KeyRevoked => {
                // Revoked elsewhere (the CLI): no request may pass the cache with it again.
                self.forget_keys();
                WriteError::KeyRevoked
            }
        });
        drop(write);
        answer
    }
}

fn run(mut app: App, mut jobs: mpsc::Receiver<Job>) -> App {
    while let Some(first) = jobs.blocking_recv() {
        let mut writes = Vec::new();
        let mut replies = Vec::new();
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Lookup { key_hash, reply } => {
                    let found = app.live_write_key(&key_hash).map(|k| k.map(|(key, business)| (business, key.id)));
                    let _ = reply.send(found.map_err(|e| e.to_string()));
                }
                Job::Write { write, reply } => {
                    writes.push(write);
                    replies.push(reply);
                }
                // A closure runs at once, before the group's commit: it commits its own
                // transaction, and the tracking writes gathered so far do not depend on it.
                Job::Run(work) => work(&mut app),
            }
            if writes.len() < GROUP {
                next = jobs.try_recv().ok();
            }
        }
        if writes.is_empty() {
            continue;
        }
        let now = now();
        match app.write_tracking(&writes, now) {
            Ok(commit) => {
                // Let go of the messages before answering, so the handler holds the last
                // reference and frees them.
                let keys: Vec<Option<i64>> = writes.iter().map(|w| w.key).collect();
                drop(writes);
                for (key, reply) in keys.into_iter().zip(replies) {
                    let refused = key.is_some_and(|k| commit.refused_keys.contains(&k));
                    let _ = reply.send(if refused { Err(Refusal::KeyRevoked) } else { Ok(()) });
                }
                merge_if_due(&mut app);
            }
            Err(AppError::Store(StoreError::Unavailable(message))) => {
                // Where the events go cannot be reached: every request of the group fails alike,
                // nothing was written, and each sender is told to try again.
                eprintln!("trailmap serve: a group write of {} requests failed: {message}", writes.len());
                drop(writes);
                for reply in replies {
                    let _ = reply.send(Err(Refusal::Unavailable(message.clone())));
                }
            }
            Err(group_error) => {
                // (No merge after a failed group: the next good one catches up.)
                // One request the store refuses must not fail the others: write them one by one.
                eprintln!("trailmap serve: a group write of {} requests failed ({group_error}); retrying them one by one", writes.len());
                for (write, reply) in writes.into_iter().zip(replies) {
                    let result = match app.write_tracking(std::slice::from_ref(&write), now) {
                        Ok(commit) if commit.refused_keys.is_empty() => Ok(()),
                        Ok(_) => Err(Refusal::KeyRevoked),
                        Err(AppError::Store(StoreError::Unavailable(message))) => Err(Refusal::Unavailable(message)),
                        Err(e) => Err(Refusal::Store(e.to_string())),
                    };
                    drop(write);
                    let _ = reply.send(result);
                }
            }
        }
    }
    app
}

/// One merge of small segments when the writes have left enough of them, after a group was
/// answered. A failed merge changes nothing (it is one transaction) and is tried again after the
/// next group.
fn merge_if_due(app: &mut App) {
    if !app.merge_due() {
        return;
    }
    match app.merge_small_segments(false) {
        Ok(Some(merged)) => tracing::debug!(business = merged.business.0, segments = merged.segments, rows = merged.rows, "merged small segments"),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "merging small segments failed; trying again after the next write"),
    }
}

/// The wall clock in milliseconds: the time a group commit records as its keys' last use.
fn now() -> Timestamp {
    Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    )
}
