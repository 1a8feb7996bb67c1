//! Connections to the PostgreSQL server: a small pool of clients (reads take one for a call and
//! give it back; each write holds one for its transaction), opened with a connect timeout so a
//! wrong address fails in seconds, and the URL as it may be shown (without its password).

use crate::{Result, StoreError};
use postgres::{Client, Config, NoTls};
use std::sync::Mutex;
use std::time::Duration;

/// How long opening a connection may take before it fails (an unreachable host, a firewall that
/// drops packets): long enough for a loaded server, short enough that a wrong address is
/// reported while someone is still looking.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Idle connections kept for the next call; more are opened when calls overlap, and closed when
/// given back beyond this.
const IDLE_CONNECTIONS: usize = 8;

/// The connections of one store.
pub(crate) struct Pool {
    config: Config,
    /// The URL without its password, for messages.
    shown: String,
    idle: Mutex<Vec<Client>>,
    /// The connection of an open snapshot (see `PgStore::begin_read_snapshot`), inside its read
    /// transaction: every read of the store runs on it while it is there.
    pinned: Mutex<Option<Client>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("url", &self.shown).finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool for `url` (`postgres://user:password@host:port/database` or the `key=value` form);
    /// nothing is connected yet.
    pub(crate) fn new(url: &str) -> Result<Pool> {
        let shown = without_password(url);
        let mut config: Config =
            url.parse().map_err(|e: postgres::Error| StoreError::Open { path: shown.clone(), reason: format!("not a PostgreSQL URL: {e}") })?;
        config.connect_timeout(CONNECT_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("trailmap");
        }
        Ok(Pool { config, shown, idle: Mutex::new(Vec::new()), pinned: Mutex::new(None) })
    }

    /// Pins `client` (inside a snapshot's read transaction): every read runs on it until
    /// [`Pool::unpin`].
    pub(crate) fn pin(&self, client: Client) -> Result<()> {
        *self.pinned.lock().map_err(|_| StoreError::Corrupt("the connection pool was poisoned".into()))? = Some(client);
        Ok(())
    }

    /// Takes the pinned connection back, ending the pin.
    pub(crate) fn unpin(&self) -> Option<Client> {
        self.pinned.lock().ok().and_then(|mut pinned| pinned.take())
    }

    /// Whether a snapshot's connection is pinned (one in use by a read counts too).
    pub(crate) fn is_pinned(&self) -> bool {
        match self.pinned.try_lock() {
            Ok(pinned) => pinned.is_some(),
            Err(_) => true,
        }
    }

    /// An idle connection or a new one, owned by the caller until it gives it back.
    pub(crate) fn take(&self) -> Result<Client> {
        let idle = self.idle.lock().map_err(|_| StoreError::Corrupt("the connection pool was poisoned".into()))?.pop();
        match idle {
            Some(client) if !client.is_closed() => Ok(client),
            _ => self.connect(),
        }
    }

    /// The URL without its password.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// A new connection; a failure is `StoreError::Open` naming the URL without its password.
    /// The driver's own timeout covers only the TCP connection, not a server that accepts it and
    /// then never answers (a wrong port of another service, a hung server), so the whole
    /// handshake runs on a thread of its own and is given up after [`CONNECT_TIMEOUT`] (the thread
    /// ends when the driver does).
    pub(crate) fn connect(&self) -> Result<Client> {
        let config = self.config.clone();
        let (done, outcome) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("postgres-connect".into())
            .spawn(move || {
                // The receiver may have given up already; the connection is then dropped.
                let _ = done.send(config.connect(NoTls));
            })
            .map_err(|e| StoreError::Open { path: self.shown.clone(), reason: format!("cannot start connecting: {e}") })?;
        match outcome.recv_timeout(CONNECT_TIMEOUT + Duration::from_millis(500)) {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(StoreError::Open { path: self.shown.clone(), reason: connect_reason(&e) }),
            Err(_) => Err(StoreError::Open {
                path: self.shown.clone(),
                reason: format!("the server did not complete a connection within {} seconds", CONNECT_TIMEOUT.as_secs()),
            }),
        }
    }

    /// An idle connection, or a new one; in a snapshot's view, its one connection.
    pub(crate) fn get(&self) -> Result<Pooled<'_>> {
        // A read while another read holds the snapshot's connection would wait for itself; it is
        // a mistake of the caller, reported rather than hung.
        let guard = self.pinned.try_lock().map_err(|_| StoreError::Invalid("a snapshot's connection is used by two reads at once".into()))?;
        if guard.is_some() {
            return Ok(Pooled { pool: self, client: None, pinned: Some(guard) });
        }
        drop(guard);
        Ok(Pooled { pool: self, client: Some(self.take()?), pinned: None })
    }

    pub(crate) fn give_back(&self, client: Client) {
        // A connection left inside a transaction (a panic between BEGIN and COMMIT) or closed by
        // the server is not reused.
        if client.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_CONNECTIONS
        {
            idle.push(client);
        }
    }
}

/// A connection taken from the pool; it goes back when dropped.
pub(crate) struct Pooled<'p> {
    pool: &'p Pool,
    client: Option<Client>,
    pinned: Option<std::sync::MutexGuard<'p, Option<Client>>>,
}

impl Pooled<'_> {
    /// Whether this is a snapshot's connection, inside its read transaction already.
    pub(crate) fn in_snapshot(&self) -> bool {
        self.pinned.is_some()
    }

    /// Closes this connection instead of giving it back (its state is not known to be clean).
    pub(crate) fn discard(&mut self) {
        self.client = None;
    }
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        match (&self.client, &self.pinned) {
            (Some(client), _) => client,
            (None, Some(pinned)) => match pinned.as_ref() {
                Some(client) => client,
                None => unreachable!("a pinned connection is there while its guard is held"),
            },
            (None, None) => unreachable!("a pooled connection is present until dropped"),
        }
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        match (&mut self.client, &mut self.pinned) {
            (Some(client), _) => client,
            (None, Some(pinned)) => match pinned.as_mut() {
                Some(client) => client,
                None => unreachable!("a pinned connection is there while its guard is held"),
            },
            (None, None) => unreachable!("a pooled connection is present until dropped"),
        }
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            if std::thread::panicking() {
                return;
            }
            self.pool.give_back(client);
        }
    }
}

/// Why a connection failed, in words: the server's own message when it answered (a wrong
/// password, a missing database), else the cause (refused, timed out).
fn connect_reason(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !reason.contains(&text) {
            reason = format!("{reason}: {text}");
        }
        source = s.source();
    }
    reason
}

/// The URL with its password left out, as it may be shown in messages and logs:
/// `postgres://user:secret@host/db` becomes `postgres://user@host/db`, and `password=...` of the
/// `key=value` form and of a query string is dropped.
pub(crate) fn without_password(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("postgres://").map(|r| ("postgres://", r)).or_else(|| url.strip_prefix("postgresql://").map(|r| ("postgresql://", r))) {
        let (scheme, rest) = rest;
        let (authority, tail) = match rest.find(['/', '?']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        let authority = match authority.rfind('@') {
            Some(at) => {
                let (userinfo, host) = authority.split_at(at);
                let user = userinfo.split(':').next().unwrap_or("");
                format!("{user}{host}")
            }
            None => authority.to_string(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let kept: Vec<&str> = query.split('&').filter(|p| !p.to_ascii_lowercase().starts_with("password=")).collect();
                if kept.is_empty() { path.to_string() } else { format!("{path}?{}", kept.join("&")) }
            }
            None => tail.to_string(),
        };
        return format!("{scheme}{authority}{tail}");
    }
    // The key=value form: values may be quoted; a password's value is dropped with its key.
    let mut shown = Vec::new();
    let mut rest = url.trim();
    while !rest.is_empty() {
        let (pair, after) = split_pair(rest);
        if !pair.trim_start().to_ascii_lowercase().starts_with("password") {
            shown.push(pair.trim().to_string());
        }
        rest = after.trim_start();
    }
    shown.join(" ")
}

/// The first `key=value` pair of a `key=value` connection string (a quoted value may hold spaces)
/// and the rest.
fn split_pair(text: &str) -> (&str, &str) {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '\'' => quoted = !quoted,
            c if c.is_whitespace() && !quoted && text[..i].contains('=') && !text[..i].trim_end().ends_with('=') => {
                return (&text[..i], &text[i..]);
            }
            _ => {}
        }
    }
    (text, "")
}

/// A PostgreSQL error as the store's own: a database error (the neutral variant of
/// [`StoreError`]).
pub(crate) fn database(e: postgres::Error) -> StoreError {
    StoreError::Database(format!("{e}{}", e.as_db_error().map(|d| format!(": {}", d.message())).unwrap_or_default()))
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        database(e)
    }
}

/// Whether `e` is the violation of a unique constraint (a taken name or key).
pub(crate) fn is_unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// Whether `e` is the violation of a foreign key (a missing user, map or business; a row still
/// pointed at).
pub(crate) fn is_foreign_key_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::FOREIGN_KEY_VIOLATION)
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn passwords_are_left_out_of_shown_urls() {
        assert_eq!(without_password("postgres://tm:secret@db.example:5432/trailmap"), "postgres://tm@db.example:5432/trailmap");
        assert_eq!(without_password("postgresql://tm@localhost/x?password=s&sslmode=disable"), "postgresql://tm@localhost/x?sslmode=disable");
        assert_eq!(without_password("postgres://localhost/x"), "postgres://localhost/x");
        assert_eq!(without_password("postgres://tm:p%40ss@h"), "postgres://tm@h");
        assert_eq!(without_password("host=h user=tm password='a b' dbname=x"), "host=h user=tm dbname=x");
    }
}
