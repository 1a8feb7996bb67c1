//! A fresh ClickHouse database per test, on every shard of the cluster `TRAILMAP_TEST_CLICKHOUSE`
//! names (`clickhouse://HOST:PORT[,HOST:PORT...]/DB?cluster=NAME`; `.ci/run` starts a two-shard
//! rig and sets it, see `.ci/clickhouse.sh`). Databases are made and dropped over each shard's HTTP
//! interface with `curl`, so the tests need no client of their own. Without the variable the tests
//! that need one are skipped, with a line saying so, except under `CI=1`, where a missing server
//! is a failure: CI must run every backend.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// The variable naming the cluster's URL.
pub const CLICKHOUSE_VARIABLE: &str = "TRAILMAP_TEST_CLICKHOUSE";

/// A database made on every shard for one test and dropped on each when this is dropped.
#[derive(Debug)]
pub struct ClickHouseDatabase {
    shards: Vec<String>,
    name: String,
    url: String,
}

impl ClickHouseDatabase {
    /// A new empty database on every shard, or None (after printing why) when no cluster is
    /// configured outside CI.
    pub fn fresh(test: &str) -> Option<ClickHouseDatabase> {
        let Ok(admin) = std::env::var(CLICKHOUSE_VARIABLE) else {
            assert!(std::env::var_os("CI").is_none(), "{test}: {CLICKHOUSE_VARIABLE} is not set; CI runs every backend (.ci/run starts ClickHouse)");
            eprintln!("{test}: skipped on ClickHouse ({CLICKHOUSE_VARIABLE} is not set; .ci/run sets it)");
            return None;
        };
        Some(ClickHouseDatabase::fresh_at(&admin))
    }

    /// A new empty database on every shard of the cluster `admin` names (a
    /// `clickhouse://HOST:PORT[,HOST:PORT...]/DB?cluster=NAME` URL whose database is ignored), for
    /// callers given a URL of their own, such as `trailmap-bench clickhouse --url`.
    pub fn fresh_at(admin: &str) -> ClickHouseDatabase {
        let (shards, base, query) = parts(admin).unwrap_or_else(|| panic!("{admin:?} is not clickhouse://HOST:PORT[,...]/DB[?...]"));
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("tm_{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), nanos());
        for shard in &shards {
            run(shard, &format!("CREATE DATABASE {name}"));
        }
        let url = format!("{base}/{name}{query}");
        ClickHouseDatabase { shards, name, url }
    }

    /// The database's URL, for `ClickHouseLocation::parse`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `host:port` of each shard's HTTP interface.
    pub fn shards(&self) -> &[String] {
        &self.shards
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs one statement on shard `shard` (0-based) and returns its answer; panics with
    /// ClickHouse's words when it fails. For tests that look at one shard's own tables.
    pub fn run_on(&self, shard: usize, statement: &str) -> String {
        run(&self.shards[shard], statement)
    }
}

impl Drop for ClickHouseDatabase {
    fn drop(&mut self) {
        for shard in &self.shards {
            let _ = curl(shard, &format!("DROP DATABASE IF EXISTS {}", self.name));
        }
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() % 1_000_000).unwrap_or(0)
}

/// The shards, the URL before the database, and the query string (with its `?`).
fn parts(url: &str) -> Option<(Vec<String>, String, String)> {
    let rest = url.strip_prefix("clickhouse://")?;
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, format!("?{query}")),
        None => (rest, String::new()),
    };
    let (authority, _database) = before_query.split_once('/')?;
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, hosts)| hosts);
    let shards = hosts.split(',').map(str::to_string).collect();
    Some((shards, format!("clickhouse://{authority}"), query))
}

fn curl(shard: &str, statement: &str) -> std::io::Result<std::process::Output> {
    Command::new("curl")
        .args(["-sS", "--fail-with-body", "--max-time", "60", "--data-binary", statement, &format!("http://{shard}/")])
        .output()
}

/// Runs one statement on a shard; panics with ClickHouse's words when it fails.
fn run(shard: &str, statement: &str) -> String {
    match curl(shard, statement) {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => panic!("ClickHouse at {shard}: {statement}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        Err(e) => panic!("ClickHouse at {shard}: {statement}: cannot run curl: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::parts;

    #[test]
    fn a_cluster_url_gives_its_shards() {
        let (shards, base, query) = parts("clickhouse://127.0.0.1:8123,127.0.0.1:8133/default?cluster=trailmap").unwrap();
        assert_eq!(shards, ["127.0.0.1:8123", "127.0.0.1:8133"]);
        assert_eq!(base, "clickhouse://127.0.0.1:8123,127.0.0.1:8133");
        assert_eq!(query, "?cluster=trailmap");
        assert!(parts("postgres://h/db").is_none());
    }
}
