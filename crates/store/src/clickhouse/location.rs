//! Where a business's events live in ClickHouse: the `clickhouse://` URL read once into its parts,
//! shown everywhere (Display, Debug, every error) without its password.
//!
//! The form is `clickhouse://[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT...]/DATABASE[?cluster=NAME&user=U&password=P]`.
//! Each `HOST:PORT` is the HTTP interface of one shard, the first one the node that queries go to.
//! Every shard is listed because the schema is created on each shard by Trailmap itself: `ON
//! CLUSTER` DDL needs ZooKeeper or Keeper, which a small cluster may not run, and the HTTP ports of
//! the other shards cannot be read from `system.clusters` (it holds their native ports). Without
//! `cluster` there is one server and no Distributed table.

use super::ClickHouseError;

/// The parsed `clickhouse://` URL. The password is kept for the requests and never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct ClickHouseLocation {
    /// `host:port` of each shard's HTTP interface; never empty.
    pub shards: Vec<String>,
    /// The database the tables live in, the same on every shard.
    pub database: String,
    /// The `remote_servers` cluster the Distributed tables span, when there is one.
    pub cluster: Option<String>,
    pub user: Option<String>,
    password: Option<String>,
}

impl ClickHouseLocation {
    /// Reads a `clickhouse://` URL; refuses anything else with the reason, showing the URL
    /// without its password.
    pub fn parse(text: &str) -> Result<ClickHouseLocation, ClickHouseError> {
        let invalid = |reason: &str| ClickHouseError::Invalid(format!("{}: {reason}", redact(text)));
        let rest = strip_scheme(text).ok_or_else(|| invalid("a ClickHouse location starts with clickhouse://"))?;
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, database) = before_query.split_once('/').ok_or_else(|| invalid("the URL names no database (clickhouse://HOST:PORT/DATABASE)"))?;
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => (Some(userinfo), hosts),
            None => (None, authority),
        };
        let mut user = None;
        let mut password = None;
        if let Some(userinfo) = userinfo {
            let (name, secret) = userinfo.split_once(':').map_or((userinfo, None), |(n, p)| (n, Some(p)));
            user = Some(decode(name));
            password = secret.map(decode);
        }
        let mut cluster = None;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "cluster" => cluster = Some(value.into_owned()),
                "user" => user = Some(value.into_owned()),
                "password" => password = Some(value.into_owned()),
                other => return Err(invalid(&format!("unknown parameter {other:?} (known: cluster, user, password)"))),
            }
        }
        let shards: Vec<String> = hosts.split(',').map(str::to_string).collect();
        for shard in &shards {
            let port = shard.rsplit_once(':');
            match port {
                Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {}
                _ => return Err(invalid(&format!("{shard:?} is not HOST:PORT (the HTTP port, 8123 by default)"))),
            }
        }
        if !is_identifier(database) {
            return Err(invalid(&format!("the database {database:?} must be letters, digits and _")));
        }
        if let Some(name) = &cluster
            && !is_identifier(name)
        {
            return Err(invalid(&format!("the cluster {name:?} must be letters, digits and _")));
        }
        if cluster.is_none() && shards.len() > 1 {
            return Err(invalid("several shards need the cluster that joins them (?cluster=NAME)"));
        }
        Ok(ClickHouseLocation { shards, database: database.to_string(), cluster, user, password })
    }

    /// The password, for the requests only.
    pub(crate) fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// This location with another database (the tests make one per test).
    pub fn with_database(&self, database: &str) -> ClickHouseLocation {
        ClickHouseLocation { database: database.to_string(), ..self.clone() }
    }
}

impl std::fmt::Display for ClickHouseLocation {
    /// The URL as it may be shown and logged: the password replaced by `***`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "clickhouse://{}/{}", self.shards.join(","), self.database)?;
        let mut separator = '?';
        let mut param = |f: &mut std::fmt::Formatter<'_>, key: &str, value: &str| {
            let result = write!(f, "{separator}{key}={value}");
            separator = '&';
            result
        };
        if let Some(cluster) = &self.cluster {
            param(f, "cluster", cluster)?;
        }
        if let Some(user) = &self.user {
            param(f, "user", &form_urlencoded::byte_serialize(user.as_bytes()).collect::<String>())?;
        }
        if self.password.is_some() {
            param(f, "password", "***")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for ClickHouseLocation {
    /// As Display: a Debug print can reach a log, so it never holds the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClickHouseLocation({self})")
    }
}

fn strip_scheme(text: &str) -> Option<&str> {
    let (scheme, rest) = text.split_once("://")?;
    scheme.eq_ignore_ascii_case("clickhouse").then_some(rest)
}

fn decode(text: &str) -> String {
    // Userinfo is percent-encoded like a query value (a password may hold '@' or ':').
    form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Letters, digits and `_`, not starting with a digit: names put into SQL need no quoting then.
pub(crate) fn is_identifier(name: &str) -> bool {
    !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `text` with any password in it (userinfo or `password=` parameter) replaced, for errors about
/// a URL that could not be parsed.
fn redact(text: &str) -> String {
    let mut shown = crate::any::redact(text);
    if let Some(at) = shown.find("password=") {
        let end = shown[at..].find('&').map_or(shown.len(), |e| at + e);
        shown.replace_range(at + "password=".len()..end, "***");
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_read_into_its_parts_and_shown_without_its_password() {
        let location = ClickHouseLocation::parse("clickhouse://127.0.0.1:8123,10.0.0.2:8124/events?cluster=two&user=tm&password=s%26cret").unwrap();
        assert_eq!(location.shards, ["127.0.0.1:8123", "10.0.0.2:8124"]);
        assert_eq!(location.database, "events");
        assert_eq!(location.cluster.as_deref(), Some("two"));
        assert_eq!(location.user.as_deref(), Some("tm"));
        assert_eq!(location.password(), Some("s&cret"));
        let shown = location.to_string();
        assert_eq!(shown, "clickhouse://127.0.0.1:8123,10.0.0.2:8124/events?cluster=two&user=tm&password=***");
        assert!(!format!("{location:?}").contains("cret"));
    }

    #[test]
    fn userinfo_gives_the_user_and_password() {
        let location = ClickHouseLocation::parse("clickhouse://tm:p%40ss@h:8123/db").unwrap();
        assert_eq!((location.user.as_deref(), location.password()), (Some("tm"), Some("p@ss")));
        assert_eq!(location.to_string(), "clickhouse://h:8123/db?user=tm&password=***");
    }

    #[test]
    fn bad_urls_are_refused_with_the_reason_and_no_password() {
        for (text, reason) in [
            ("postgres://h/db", "starts with clickhouse://"),
            ("clickhouse://h:8123", "names no database"),
            ("clickhouse://h/db", "is not HOST:PORT"),
            ("clickhouse://h:99999/db", "is not HOST:PORT"),
            ("clickhouse://h:1/d-b", "letters, digits"),
            ("clickhouse://h:1/db?cluster=x;y", "letters, digits"),
            ("clickhouse://h:1,g:2/db", "need the cluster"),
            ("clickhouse://u:secret@h:1/db?colour=red&password=secret", "unknown parameter"),
        ] {
            let error = ClickHouseLocation::parse(text).unwrap_err().to_string();
            assert!(error.contains(reason), "{text}: {error}");
            assert!(!error.contains("secret"), "{text}: {error}");
        }
    }
}
