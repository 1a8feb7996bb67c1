//! The security headers of every response, set in one place so no route can forget them.
//!
//! The pages load only the app's own files (a share link may name sites whose pages may embed it:
//! its page's policy then lists them in `frame-ancestors`): scripts and styles from `/static` (no inline script or
//! style, no `style` attribute), images from the app or `data:` URLs (persona photos), and form
//! posts and `fetch` calls to the app itself. No page may be framed by another site, nor sniffed as
//! another content type; a link followed to another site tells it nothing of the page it came from
//! (share and invitation tokens live in paths). Behind HTTPS (secure cookies), browsers are told to
//! keep using HTTPS.
//!
//! The tracking API's script (`/t.js`) and pixel are loaded by customers' own sites; these headers
//! only govern how the browser treats our responses, so they do not stand in their way.

use crate::state::ServerState;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The policy of every response: only the app's own scripts, styles, images, fonts and
/// connections; no plugins, no framing, no `<base>`, forms posted only to the app.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The policy of a page that the pages of `origins` may embed (besides the app's own).
pub fn policy_embeddable_in(origins: &[String]) -> String {
    CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", &format!("frame-ancestors 'self' {}", origins.join(" ")))
}

/// One year, in seconds: how long a browser keeps to HTTPS once told.
const HSTS: &str = "max-age=31536000";

/// Adds the security headers to a response that does not set its own.
pub async fn security_headers(State(state): State<ServerState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A response with a policy of its own (a share link its owner lets some sites embed) keeps
    // it, and X-Frame-Options would contradict its frame-ancestors.
    let own_policy = headers.contains_key(header::CONTENT_SECURITY_POLICY);
    let mut set = |name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    if !own_policy {
        set(header::X_FRAME_OPTIONS, "DENY");
    }
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    set(HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    if state.auth.secure_cookies {
        set(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}
