//! Trailmap's HTTP side, the only crate that knows HTTP: the Segment-compatible tracking API under
//! `/v1` (`tracking`), the web app and its accounts, and the JSON API under `/api`. Everything it
//! reads or stores goes through the app: writes on the one writer thread (`writer`), reads on a
//! pool of read-only connections (`state`). Every error is an `ApiError`, answered as
//! `{"error": {"code", "message"}}` with a stable code.

mod error;
mod keys;
mod serve;
mod state;
mod tracking;
mod writer;

pub use error::ApiError;
pub use keys::{from_basic_auth, generate as generate_write_key, hash as hash_write_key};
pub use serve::{ServerError, serve_blocking};
pub use state::ServerState;
pub use tracking::{MAX_BATCH_BYTES, router as tracking_router};
pub use writer::{WriteError, Writer};

use axum::Router;
use axum::http::Uri;

/// The whole server's router: the tracking API, the web app and the JSON API over one state.
pub fn router(state: ServerState) -> Router {
    tracking_router(state.writer.clone()).fallback(|uri: Uri| async move {
        ApiError::not_found(format!("no such endpoint: {}", uri.path()))
    })
}
