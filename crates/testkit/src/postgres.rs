//! A fresh PostgreSQL database per test, on the server that `TRAILMAP_TEST_POSTGRES` names (an
//! admin URL; `.ci/run` starts a throw-away cluster and sets it, see `.ci/postgres.sh`). Databases
//! are made and dropped with Debian's `psql` client, so the tests need no driver of their own.
//! Without the variable the tests that need one are skipped, with a line saying so, except under
//! `CI=1`, where a missing server is a failure: CI must run every backend.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// The variable naming the server's admin URL.
pub const POSTGRES_VARIABLE: &str = "TRAILMAP_TEST_POSTGRES";

/// A database made for one test and dropped when this is dropped.
#[derive(Debug)]
pub struct PostgresDatabase {
    admin: String,
    name: String,
    url: String,
}

impl PostgresDatabase {
    /// A new empty database, or None (after printing why) when no server is configured outside CI.
    pub fn fresh(test: &str) -> Option<PostgresDatabase> {
        let Ok(admin) = std::env::var(POSTGRES_VARIABLE) else {
            assert!(std::env::var_os("CI").is_none(), "{test}: {POSTGRES_VARIABLE} is not set; CI runs every backend (.ci/run starts PostgreSQL)");
            eprintln!("{test}: skipped on PostgreSQL ({POSTGRES_VARIABLE} is not set; .ci/run sets it)");
            return None;
        };
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("tm_{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), nanos());
        psql(&admin, &format!("CREATE DATABASE {name}"));
        let url = with_database(&admin, &name);
        Some(PostgresDatabase { admin, name, url })
    }

    /// The database's URL, for `--db` and `StoreLocation::parse`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // FORCE ends connections a test left open (a server it killed, a pool not yet dropped).
        let _ = Command::new("psql").args(["-X", "-q", "-d", &self.admin, "-c", &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)]).output();
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() % 1_000_000).unwrap_or(0)
}

/// Runs one statement as the admin; panics with psql's words when it fails.
fn psql(admin: &str, statement: &str) {
    let output = Command::new("psql").args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin, "-c", statement]).output();
    match output {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("psql {statement}: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => panic!("psql {statement}: cannot run psql: {e}"),
    }
}

/// `admin` with its database (the URL's path) replaced by `database`.
fn with_database(admin: &str, database: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin, String::new()),
    };
    let authority_end = base.find("://").map(|at| at + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    format!("{base}/{database}{query}")
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_an_admin_url_is_replaced() {
        assert_eq!(with_database("postgres://u:p@127.0.0.1:5432/postgres", "tm_1"), "postgres://u:p@127.0.0.1:5432/tm_1");
        assert_eq!(with_database("postgres://u@h/postgres?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
