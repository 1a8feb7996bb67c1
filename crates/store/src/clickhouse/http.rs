//! The small blocking client of ClickHouse's HTTP interface the backend speaks through: a statement
//! is POSTed to one shard, settings ride in the URL's query string, answers come back as text
//! (TabSeparated) or as RowBinary bytes read as they arrive, and a failure becomes a
//! [`ClickHouseError`] naming the shard's URL without the password. [`quote`] is the one way a
//! value enters SQL text, since no server-side query parameters exist on 18.16.

use super::{ClickHouseError, ClickHouseLocation};
use std::io::Read;
use std::time::Duration;

/// How long a connection may take: an unreachable server is reported within seconds.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long ClickHouse may run one query before it stops it with an error of its own
/// (`max_execution_time`), unless [`QueryLimits`] say otherwise.
pub const MAX_EXECUTION_SECONDS: u32 = 600;

/// The limits every query runs under, sent as settings with each one, so a query that would run
/// too long or take too much memory is stopped by ClickHouse with a message
/// ([`ClickHouseError::Limit`]) rather than leaving a page hanging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// `max_execution_time`, in seconds.
    pub seconds: u32,
    /// `max_memory_usage` per query on each server, in bytes; None keeps the server's profile.
    pub memory_bytes: Option<u64>,
}

impl Default for QueryLimits {
    fn default() -> QueryLimits {
        QueryLimits { seconds: MAX_EXECUTION_SECONDS, memory_bytes: None }
    }
}

/// The client of every shard of one location.
pub(crate) struct Http {
    agent: ureq::Agent,
    location: ClickHouseLocation,
    /// `Basic ...` when the location names a user.
    authorization: Option<String>,
    pub limits: QueryLimits,
}

impl Http {
    pub fn new(location: &ClickHouseLocation) -> Http {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        let authorization = location.user.as_ref().map(|user| {
            use base64::Engine;
            let pair = format!("{user}:{}", location.password().unwrap_or(""));
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
        });
        Http { agent, location: location.clone(), authorization, limits: QueryLimits::default() }
    }

    pub fn shards(&self) -> usize {
        self.location.shards.len()
    }

    /// Runs `sql` (its body) on shard `shard` and returns the whole answer as text.
    pub fn text(&self, shard: usize, sql: &str, settings: &[(&str, &str)]) -> Result<String, ClickHouseError> {
        let mut body = Vec::new();
        self.send(shard, None, sql.as_bytes(), settings)?.read_to_end(&mut body).map_err(|e| self.broken(shard, &e))?;
        String::from_utf8(body).map_err(|_| ClickHouseError::Decode(format!("{}: the answer is not UTF-8", self.shown(shard))))
    }

    /// Runs `sql` on shard `shard` and hands back the answer as a reader, read as it arrives.
    pub fn reader(&self, shard: usize, sql: &str, settings: &[(&str, &str)]) -> Result<impl Read + use<>, ClickHouseError> {
        self.send(shard, None, sql.as_bytes(), settings)
    }

    /// Runs the INSERT statement `sql` (in the URL) with `data` as its body.
    pub fn insert(&self, shard: usize, sql: &str, data: &[u8], settings: &[(&str, &str)]) -> Result<(), ClickHouseError> {
        let mut body = Vec::new();
        self.send(shard, Some(sql), data, settings)?.read_to_end(&mut body).map_err(|e| self.broken(shard, &e))?;
        Ok(())
    }

    /// The shard's URL as it may be shown.
    pub fn shown(&self, shard: usize) -> String {
        format!("{} (shard {} at {})", self.location, shard + 1, self.location.shards.get(shard).map_or("?", String::as_str))
    }

    fn send(&self, shard: usize, query: Option<&str>, body: &[u8], settings: &[(&str, &str)]) -> Result<impl Read + use<>, ClickHouseError> {
        let host = self.location.shards.get(shard).ok_or_else(|| ClickHouseError::Invalid(format!("{}: no shard {}", self.location, shard + 1)))?;
        let mut params = form_urlencoded::Serializer::new(String::new());
        params.append_pair("database", &self.location.database);
        params.append_pair("max_execution_time", &self.limits.seconds.to_string());
        if let Some(bytes) = self.limits.memory_bytes {
            params.append_pair("max_memory_usage", &bytes.to_string());
        }
        for (key, value) in settings {
            params.append_pair(key, value);
        }
        if let Some(query) = query {
            params.append_pair("query", query);
        }
        let url = format!("http://{host}/?{}", params.finish());
        // A statement's answer can take long (a funnel over billions of rows): ClickHouse's own
        // max_execution_time bounds it and says so; the client waits half a minute longer for
        // the answer to start, so only a server that stopped answering is cut off here.
        let wait = Duration::from_secs(u64::from(self.limits.seconds) + 30);
        let mut request = self.agent.post(&url).config().timeout_recv_response(Some(wait)).build();
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization);
        }
        let response = request.send(body).map_err(|e| ClickHouseError::Unreachable { url: self.shown(shard), reason: e.to_string() })?;
        let status = response.status().as_u16();
        let mut reader = response.into_body().into_reader();
        if status == 200 {
            return Ok(reader);
        }
        let mut text = String::new();
        // The answer of an error is ClickHouse's exception text; a few kilobytes say all of it.
        let _ = reader.by_ref().take(16 * 1024).read_to_string(&mut text);
        Err(server_error(self.shown(shard), status, text.trim()))
    }

    fn broken(&self, shard: usize, error: &std::io::Error) -> ClickHouseError {
        ClickHouseError::Unreachable { url: self.shown(shard), reason: format!("the answer broke off: {error}") }
    }
}

/// ClickHouse's exception turned into the error kind the caller can act on, by its code
/// (`Code: 60, e.displayText() = ...`): a missing table or database, a refused user, else the
/// server's own words.
fn server_error(url: String, status: u16, text: &str) -> ClickHouseError {
    let code = text.strip_prefix("Code: ").and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()).and_then(|n| n.parse::<u32>().ok());
    let message = text.split("e.displayText() = ").nth(1).map(|m| m.split(", e.what()").next().unwrap_or(m)).unwrap_or(text).trim().to_string();
    match code {
        // UNKNOWN_TABLE, UNKNOWN_DATABASE.
        Some(60 | 81) => ClickHouseError::MissingTable { url, message },
        // UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, IP_ADDRESS_NOT_ALLOWED, AUTHENTICATION_FAILED.
        Some(192 | 193 | 194 | 195 | 516) => ClickHouseError::Refused { url, message },
        // TIMEOUT_EXCEEDED, MEMORY_LIMIT_EXCEEDED, TOO_MANY_ROWS, TOO_MANY_BYTES.
        Some(159 | 241 | 158 | 307) => ClickHouseError::Limit { url, message },
        _ if status == 401 || status == 403 => ClickHouseError::Refused { url, message },
        _ => ClickHouseError::Server { url, message: if message.is_empty() { format!("HTTP status {status}") } else { message } },
    }
}

/// `text` as a ClickHouse string literal: quoted, with backslash and quote escaped and control
/// bytes written as escapes, the one way a value enters SQL text (18.16 has no server-side query
/// parameters). Any UTF-8 string is safe: the literal always ends where the value does.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_what_could_end_the_literal() {
        assert_eq!(quote("page_view"), "'page_view'");
        assert_eq!(quote("it's"), "'it\\'s'");
        assert_eq!(quote("a\\' OR 1=1 --"), "'a\\\\\\' OR 1=1 --'");
        assert_eq!(quote("tab\there\nnew\0"), "'tab\\there\\nnew\\0'");
        assert_eq!(quote("\u{1}é"), "'\\x01é'");
    }

    #[test]
    fn exceptions_become_kinds_by_their_code() {
        let missing = server_error("u".into(), 404, "Code: 60, e.displayText() = DB::Exception: Table db.events doesn't exist., e.what() = DB::Exception");
        assert!(matches!(&missing, ClickHouseError::MissingTable { message, .. } if message == "DB::Exception: Table db.events doesn't exist."));
        let refused = server_error("u".into(), 500, "Code: 193, e.displayText() = DB::Exception: Wrong password for user default, e.what() = DB::Exception");
        assert!(matches!(refused, ClickHouseError::Refused { .. }));
        assert!(matches!(server_error("u".into(), 500, "Code: 159, e.displayText() = DB::Exception: Timeout exceeded"), ClickHouseError::Limit { .. }));
        assert!(matches!(server_error("u".into(), 502, ""), ClickHouseError::Server { message, .. } if message == "HTTP status 502"));
    }
}
