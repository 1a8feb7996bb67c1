//! What the links the server hands out share, for the pages and the JSON API alike: the
//! server's own address as the browser used it, and how long an invitation link works.

use crate::state::ServerState;
use axum::http::{HeaderMap, header};
use trailmap_model::Timestamp;

/// How long an invitation link works: 7 days.
pub const INVITATION_TTL_MS: i64 = 7 * Timestamp::MS_PER_DAY;

/// The address of this server as the browser used it, for links shown to copy.
pub fn base_url(state: &ServerState, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if state.auth.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}
