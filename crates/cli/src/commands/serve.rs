//! `trailmap serve`: runs the web app, the JSON API under /api and the Segment-compatible tracking
//! API until Ctrl-C or SIGTERM. Settings come from flags, then `TRAILMAP_*` environment variables,
//! then the optional `--config FILE` (TOML with the same keys: port, bind, secure-cookies, max-import-mib, smtp-url), then
//! defaults. Logs go to stderr, one line per request.

use anyhow::Context;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use trailmap_app::App;
use trailmap_server::{FileConfig, GivenConfig, ServerConfig};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The port to listen on (0 picks a free one). Default 8080.
    #[arg(long, env = "TRAILMAP_PORT")]
    port: Option<u16>,
    /// The address to listen on. Default 127.0.0.1; 0.0.0.0 for every interface.
    #[arg(long, env = "TRAILMAP_BIND", value_name = "ADDR")]
    bind: Option<IpAddr>,
    /// The address and port together (older form of --bind and --port).
    #[arg(long, value_name = "ADDR:PORT", conflicts_with_all = ["port", "bind"])]
    listen: Option<SocketAddr>,
    /// A TOML file with port, bind, secure-cookies, max-import-mib and smtp-url; flags and environment variables win over it.
    #[arg(long, env = "TRAILMAP_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Mark cookies Secure (sent only over HTTPS): on by default unless listening on loopback.
    /// `--secure-cookies=false` turns it off, e.g. on a private network without HTTPS.
    #[arg(long, env = "TRAILMAP_SECURE_COOKIES", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    secure_cookies: Option<bool>,
    /// The largest file a data import over HTTP (the web app's Import page, POST .../imports)
    /// takes, in MiB. Default 256; bigger files go through `trailmap import`.
    #[arg(long, env = "TRAILMAP_MAX_IMPORT_MIB", value_name = "MIB")]
    max_import_mib: Option<u64>,
    /// The SMTP server digests and alerts are sent through:
    /// smtp://[USER[:PASSWORD]@]HOST[:PORT][?tls=none|starttls|tls&from=ADDRESS] (smtps:// for TLS on connect).
    #[arg(long, env = "TRAILMAP_SMTP_URL", value_name = "URL")]
    smtp_url: Option<String>,
}

impl ServeArgs {
    /// The settings the server runs with.
    pub fn resolve(&self) -> anyhow::Result<ServerConfig> {
        let file = match &self.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let given = GivenConfig {
            port: self.port.or(self.listen.map(|l| l.port())),
            bind: self.bind.or(self.listen.map(|l| l.ip())),
            secure_cookies: self.secure_cookies,
            max_import_mib: self.max_import_mib,
            smtp_url: self.smtp_url.clone(),
        };
        ServerConfig::resolve_all(&given, &file).map_err(anyhow::Error::msg)
    }
}

pub fn run(app: App, args: ServeArgs) -> anyhow::Result<()> {
    run_with_banner(app, args, None)
}

/// Serves like `run`, and prints `banner` (the demo's sign-in) with the address once listening.
pub fn run_with_banner(app: App, args: ServeArgs, banner: Option<String>) -> anyhow::Result<()> {
    let config = args.resolve()?;
    trailmap_server::init_logging();
    let users = app.user_count()?;
    if users == 0 && banner.is_none() {
        eprintln!("trailmap serve: no account yet; open the address below and create the first one at /setup (or run `trailmap user create`)");
    }
    let db = app.location_label();
    let secure = if config.secure_cookies { "Secure cookies (HTTPS in front)" } else { "cookies without Secure (plain HTTP)" };
    trailmap_server::serve_with(app, config, |addr| {
        eprintln!("trailmap serve: listening on http://{addr} (store {db}; {secure}); web app at /, JSON API at /api (OpenAPI at /api/openapi.json), tracking API at /v1");
        if let Some(banner) = &banner {
            eprintln!("trailmap demo: open http://{addr}/ and {banner}. Ctrl-C stops the server.");
        }
    })
    .context("running the server")?;
    eprintln!("trailmap serve: stopped; everything acknowledged is in the store");
    Ok(())
}
