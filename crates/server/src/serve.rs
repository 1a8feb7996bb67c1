//! Running the server: bind, serve the whole router (tracking API, web app, JSON API) until
//! Ctrl-C or SIGTERM, let requests in flight finish, and hand back the app once the writer has
//! committed everything it acknowledged.

use crate::config::ServerConfig;
use crate::state::ServerState;
use crate::writer::Writer;
use std::net::SocketAddr;
use trailmap_app::App;

/// Errors of running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the writer thread panicked")]
    WriterPanicked,
}

/// Runs the server on `listen` until Ctrl-C or SIGTERM, then lets requests in flight finish,
/// commits what they sent, and returns the app. `on_ready` gets the address actually bound (useful
/// with port 0). Blocks the calling thread; runs its own tokio runtime.
pub fn serve_blocking(app: App, listen: SocketAddr, on_ready: impl FnOnce(SocketAddr)) -> Result<App, ServerError> {
    let secure_cookies = !listen.ip().is_loopback();
    serve_with(app, ServerConfig { addr: listen, secure_cookies, ..ServerConfig::default() }, on_ready)
}

/// `serve_blocking` with every setting of `config`.
pub fn serve_with(app: App, config: ServerConfig, on_ready: impl FnOnce(SocketAddr)) -> Result<App, ServerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let location = app.location();
    let (writer, writer_thread) = Writer::start(app);
    let state = ServerState::at(writer, location)
        .with_secure_cookies(config.secure_cookies)
        .with_import_limit(config.max_import_bytes)
        .with_smtp(config.smtp.clone());
    let listen = config.addr;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|source| ServerError::Listen { addr: listen, source })?;
        on_ready(listener.local_addr()?);
        // Raw events past each business's retention are removed now and every hour, and the
        // small segments of every business merged; the task ends with the runtime.
        tokio::spawn(upkeep_hourly(state.writer.clone()));
        // Digests and alerts are planned and sent in the background, retried with backoff.
        tokio::spawn(crate::delivery::run(state.clone()));
        // The client's address reaches handlers (the throttle of password guesses counts failures per address).
        let service = crate::router(state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, service).with_graceful_shutdown(shutdown_signal()).await?;
        Ok::<(), ServerError>(())
    })?;
    drop(runtime);
    writer_thread.join().map_err(|_| ServerError::WriterPanicked)
}

/// How often the server removes raw events past their business's retention and merges small
/// segments everywhere.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// At once and then every hour, on the writer thread like every other write: removes the raw
/// events past each business's retention, then merges the small segments of every business (those
/// other processes wrote too), one merge a job so tracking writes go in between. Stops when the
/// writer does.
async fn upkeep_hourly(writer: crate::Writer) {
    let mut every = tokio::time::interval(UPKEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if !expire_events(&writer).await || !merge_everywhere(&writer).await {
            return;
        }
    }
}

/// Merges small segments in every business until none is left; false when the writer stopped.
async fn merge_everywhere(writer: &crate::Writer) -> bool {
    let (mut merges, mut segments) = (0u64, 0u64);
    loop {
        match writer.run(|app| app.merge_small_segments(true)).await {
            Ok(Ok(Some(merged))) => {
                merges += 1;
                segments += merged.segments;
            }
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "merging small segments failed; trying again in an hour");
                break;
            }
            Err(_) => return false,
        }
    }
    if merges > 0 {
        tracing::info!(merges, segments, "merged small event segments");
    }
    true
}

/// Removes the raw events past each business's retention; false when the writer stopped.
async fn expire_events(writer: &crate::Writer) -> bool {
    let now = crate::auth::now();
    match writer.run(move |app| app.expire_all_events(now)).await {
        Ok(Ok(done)) => {
            for (business, expiry) in done.iter().filter(|(_, e)| e.events > 0) {
                tracing::info!(business = %business.name, events = expiry.events, bytes_freed = expiry.bytes_freed, "removed raw events past the retention");
            }
        }
        Ok(Err(e)) => tracing::error!(error = %e, "removing raw events past the retention failed; trying again in an hour"),
        Err(_) => return false,
    }
    true
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    eprintln!("trailmap serve: shutting down; finishing the requests in flight");
}
