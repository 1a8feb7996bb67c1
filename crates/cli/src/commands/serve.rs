//! `trailmap serve`: runs the Segment-compatible tracking API (the web app will join it) until
//! Ctrl-C or SIGTERM. Logs go to stderr; the first line names the address it listens on.

use std::net::SocketAddr;
use trailmap_app::App;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address and port to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    listen: SocketAddr,
}

pub fn run(app: App, args: ServeArgs) -> anyhow::Result<()> {
    let mut keys = 0;
    for business in app.businesses()? {
        keys += app.write_keys(&business)?.len();
    }
    if keys == 0 {
        eprintln!("trailmap serve: no write keys yet, so every request will be refused; create one with `trailmap source create NAME`");
    }
    let db = app.db_path().display().to_string();
    trailmap_server::serve_blocking(app, args.listen, |addr| {
        eprintln!("trailmap serve: listening on http://{addr} (store {db}); tracking API at /v1/batch, /v1/track, /v1/page, /v1/screen, /v1/identify, /v1/group, /v1/alias");
    })?;
    eprintln!("trailmap serve: stopped; everything acknowledged is in the store");
    Ok(())
}
