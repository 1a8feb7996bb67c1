//! The server's settings and where they come from: flags, then `TRAILMAP_*` environment variables
//! (both read by the CLI), then an optional TOML file, then defaults. A bad file is an error naming
//! the file, the line and the key, so a typo never silently falls back to a default.

use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use trailmap_app::delivery::SmtpSettings;

/// The port when nothing says otherwise.
pub const DEFAULT_PORT: u16 = 8080;

/// The largest data import (events, customers, orders, spend) accepted over HTTP, in MiB, when
/// nothing says otherwise: about five seconds of the one writer at the measured import speed
/// (`bench/results/import.md`), during which the tracking API's writes wait. Bigger files go
/// through `trailmap import` or a larger `max-import-mib`.
pub const DEFAULT_MAX_IMPORT_MIB: u64 = 256;

/// The settings a config file may hold; the same keys as the flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    pub port: Option<u16>,
    pub bind: Option<IpAddr>,
    pub secure_cookies: Option<bool>,
    pub max_import_mib: Option<u64>,
    /// Where digests and alerts are e-mailed: `smtp://[USER[:PASSWORD]@]HOST[:PORT][?tls=none|starttls|tls&from=ADDRESS]`.
    pub smtp_url: Option<String>,
}

/// What the flags and environment said (None: not given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GivenConfig {
    pub port: Option<u16>,
    pub bind: Option<IpAddr>,
    pub secure_cookies: Option<bool>,
    pub max_import_mib: Option<u64>,
    pub smtp_url: Option<String>,
}

/// The settings the server runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    /// Cookies carry `Secure` (sent only over HTTPS). On by default unless bound to loopback,
    /// where a plain-HTTP browser on the same machine must still be able to sign in.
    pub secure_cookies: bool,
    /// The largest file a data import over HTTP takes, in bytes (413 `too_large` above it).
    pub max_import_bytes: u64,
    /// The SMTP server digests and alerts are sent through; None: e-mails wait in the outbox,
    /// failing with that reason, until one is configured.
    pub smtp: Option<SmtpSettings>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
            secure_cookies: false,
            max_import_bytes: DEFAULT_MAX_IMPORT_MIB * 1024 * 1024,
            smtp: None,
        }
    }
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read it: {source}")]
    Read { file: PathBuf, source: std::io::Error },
    #[error("{file}: line {line}, key {key}: {reason}")]
    Invalid { file: PathBuf, line: usize, key: String, reason: String },
}

impl FileConfig {
    /// Reads and checks the TOML file at `path`.
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { file: path.to_path_buf(), source })?;
        FileConfig::parse(&text).map_err(|(line, key, reason)| ConfigError::Invalid { file: path.to_path_buf(), line, key, reason })
    }

    /// Parses the text of a config file; an error is (line, key, reason).
    pub fn parse(text: &str) -> Result<FileConfig, (usize, String, String)> {
        toml::from_str(text).map_err(|e: toml::de::Error| {
            let offset = e.span().map_or(0, |s| s.start).min(text.len());
            let line = text[..offset].matches('\n').count() + 1;
            let line_text = text.lines().nth(line - 1).unwrap_or("");
            let key = match line_text.split_once('=') {
                Some((key, _)) => key.trim().trim_matches('"').to_string(),
                None => "(none)".to_string(),
            };
            (line, key, e.message().to_string())
        })
    }
}

impl ServerConfig {
    /// Flags and environment first, then the file, then defaults; a bad SMTP URL is an error
    /// naming where it came from.
    pub fn resolve_all(given: &GivenConfig, file: &FileConfig) -> Result<ServerConfig, String> {
        let mut config = ServerConfig::resolve(given, file);
        config.smtp = match (&given.smtp_url, &file.smtp_url) {
            (Some(url), _) => Some(SmtpSettings::parse(url).map_err(|e| format!("--smtp-url (or TRAILMAP_SMTP_URL): {e}"))?),
            (None, Some(url)) => Some(SmtpSettings::parse(url).map_err(|e| format!("smtp-url in the config file: {e}"))?),
            (None, None) => None,
        };
        Ok(config)
    }

    /// Flags and environment first, then the file, then defaults (the SMTP URL aside: see
    /// [`ServerConfig::resolve_all`]).
    pub fn resolve(given: &GivenConfig, file: &FileConfig) -> ServerConfig {
        let bind = given.bind.or(file.bind).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let port = given.port.or(file.port).unwrap_or(DEFAULT_PORT);
        let secure_cookies = given.secure_cookies.or(file.secure_cookies).unwrap_or(!bind.is_loopback());
        let max_import_mib = given.max_import_mib.or(file.max_import_mib).unwrap_or(DEFAULT_MAX_IMPORT_MIB);
        ServerConfig { addr: SocketAddr::new(bind, port), secure_cookies, max_import_bytes: max_import_mib.saturating_mul(1024 * 1024), smtp: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let file = FileConfig::parse("port = 9000\nbind = \"0.0.0.0\"\n").unwrap();
        let none = GivenConfig::default();
        let from_file = ServerConfig::resolve(&none, &file);
        assert_eq!(from_file.addr, "0.0.0.0:9000".parse().unwrap());
        assert!(from_file.secure_cookies, "not loopback: secure by default");
        let given = GivenConfig { port: Some(7000), bind: None, secure_cookies: Some(false), max_import_mib: Some(2), smtp_url: None };
        let flags = ServerConfig::resolve(&given, &file);
        assert_eq!(flags.addr, "0.0.0.0:7000".parse().unwrap());
        assert!(!flags.secure_cookies);
        assert_eq!(flags.max_import_bytes, 2 * 1024 * 1024);
        let limited = FileConfig::parse("max-import-mib = 64\n").unwrap();
        assert_eq!(ServerConfig::resolve(&none, &limited).max_import_bytes, 64 * 1024 * 1024);
        let defaults = ServerConfig::resolve(&none, &FileConfig::default());
        assert_eq!(defaults, ServerConfig::default());
    }

    #[test]
    fn the_smtp_url_comes_from_the_flag_or_the_file_and_a_bad_one_says_where() {
        let file = FileConfig::parse("smtp-url = \"smtp://mail.example:2525?tls=none\"\n").unwrap();
        let from_file = ServerConfig::resolve_all(&GivenConfig::default(), &file).unwrap();
        let smtp = from_file.smtp.unwrap();
        assert_eq!((smtp.host.as_str(), smtp.port, smtp.tls), ("mail.example", 2525, trailmap_app::delivery::TlsMode::None));
        let given = GivenConfig { smtp_url: Some("smtps://ann:s%40cret@relay.example".into()), ..GivenConfig::default() };
        let flagged = ServerConfig::resolve_all(&given, &file).unwrap().smtp.unwrap();
        assert_eq!((flagged.port, flagged.username.as_deref(), flagged.password.as_deref()), (465, Some("ann"), Some("s@cret")));
        let bad = FileConfig::parse("smtp-url = \"http://mail.example\"\n").unwrap();
        let message = ServerConfig::resolve_all(&GivenConfig::default(), &bad).unwrap_err();
        assert!(message.starts_with("smtp-url in the config file:") && message.contains("not smtp or smtps"), "{message}");
    }

    #[test]
    fn a_bad_file_names_the_line_and_key() {
        let (line, key, reason) = FileConfig::parse("port = 9000\n\nbind = \"not an address\"\n").unwrap_err();
        assert_eq!((line, key.as_str()), (3, "bind"), "{reason}");
        let (line, key, reason) = FileConfig::parse("# settings\nprot = 1\n").unwrap_err();
        assert_eq!((line, key.as_str()), (2, "prot"));
        assert!(reason.contains("unknown field"), "{reason}");
        let (line, key, _) = FileConfig::parse("port = \"eighty\"\n").unwrap_err();
        assert_eq!((line, key.as_str()), (1, "port"));
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "secure-cookies = 3\n").unwrap();
        let message = FileConfig::load(file.path()).unwrap_err().to_string();
        assert!(message.starts_with(&format!("{}: line 1, key secure-cookies:", file.path().display())), "{message}");
    }
}
