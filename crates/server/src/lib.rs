//! Trailmap's HTTP side, the only crate that knows HTTP: the Segment-compatible tracking API under
//! `/v1` (`tracking`), the web app's pages (`web`), its accounts and access rules (`auth`), and the
//! JSON API under `/api` with its OpenAPI document (`api`). Everything it reads or stores goes
//! through the app: writes on the one writer thread (`writer`), reads on a pool of read-only
//! connections (`state`). Every error is an `ApiError`, answered as `{"error": {"code", "message"}}`
//! with a stable code from `ERROR_CODES` (pages show the same as HTML).

pub mod api;
pub mod auth;
mod cache;
mod dashboard_data;
pub mod delivery;
mod downloads;
mod feedback_uploads;
pub mod config;
mod error;
pub mod imports;
pub(crate) mod headers;
mod keys;
mod links;
mod map_answers;
mod personas;
mod rejections;
mod reports;
mod serve;
mod state;
mod throttle;
mod tracking;
pub mod web;
mod writer;

pub use config::{ConfigError, FileConfig, GivenConfig, ServerConfig};
pub use error::{ApiError, ERROR_CODES, ErrorCode};
pub use headers::CONTENT_SECURITY_POLICY;
pub use keys::{from_basic_auth, generate as generate_write_key, hash as hash_write_key};
pub use serve::{ServerError, serve_blocking, serve_with};
pub use state::ServerState;
pub use tracking::{MAX_BATCH_BYTES, router as tracking_router};
pub use tracking::{TrackingOptions, router_with as tracking_router_with};
pub use writer::{WriteError, Writer};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

/// The whole server's router: the tracking API, the web app and the JSON API over one state, with
/// errors in one shape (`rejections`), the security headers (`headers`) and one log line per
/// request.
pub fn router(state: ServerState) -> Router {
    let app = Router::new().merge(web::routes()).merge(api::routes()).fallback(fallback).with_state(state.clone());
    tracking_router(state.writer.clone())
        .merge(app)
        .layer(middleware::from_fn(rejections::uniform_errors))
        .layer(middleware::from_fn_with_state(state, headers::security_headers))
        .layer(middleware::from_fn(log_request))
}

/// An unknown address: a page for a browser (it asks for HTML), JSON for everything else.
async fn fallback(uri: Uri, headers: HeaderMap) -> Response {
    let error = ApiError::not_found(format!("no such endpoint: {}", uri.path()));
    let wants_html = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    if wants_html && !uri.path().starts_with("/api/") { web::error_page(error) } else { error.into_response() }
}

/// Logs method, path, status and milliseconds of every request. Never the query, headers, cookies
/// or body; invitation tokens in paths are cut off, since the path is a secret there.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = loggable_path(request.uri().path());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(method = %method, path = %path, status = response.status().as_u16(), ms = format_args!("{ms:.1}"), "request");
    response
}

fn loggable_path(path: &str) -> String {
    // Invitation and password-reset tokens live in their paths.
    for secret in ["/invite/", "/reset/"] {
        if path.starts_with(secret) {
            return format!("{secret}…");
        }
    }
    path.to_string()
}

/// Sends `tracing` events (one line each, INFO and above) to stderr; for the `trailmap` binary.
/// Does nothing when a subscriber is already set (tests).
pub fn init_logging() {
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_max_level(tracing::Level::INFO)
        .try_init();
}
