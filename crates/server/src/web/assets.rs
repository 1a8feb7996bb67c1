//! The web app's own stylesheet and script, compiled into the binary and served with cache headers.
//! Both are small and hand-written: there is no front-end build.

use axum::http::header;
use axum::response::IntoResponse;

const CSS: &str = include_str!("app.css");
const JS: &str = include_str!("app.js");
const MAPS_JS: &str = include_str!("maps.js");
const TOUCHPOINTS_JS: &str = include_str!("touchpoints.js");
const ONBOARDING_JS: &str = include_str!("onboarding.js");
const IMPORTS_JS: &str = include_str!("imports.js");

/// An hour: long enough to spare requests, short enough that an upgrade shows within it.
const CACHE: &str = "public, max-age=3600";

pub async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, CACHE)], CSS)
}

pub async fn js() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, CACHE)], JS)
}

/// The map editor's script, loaded by the editor page only.
pub async fn maps_js() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, CACHE)], MAPS_JS)
}

/// The touchpoint form's live preview, loaded by that form only.
pub async fn touchpoints_js() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, CACHE)], TOUCHPOINTS_JS)
}

/// The onboarding checklist's and write keys page's script: keeps them current.
pub async fn onboarding_js() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, CACHE)], ONBOARDING_JS)
}

/// The Import page's upload progress.
pub async fn imports_js() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, CACHE)], IMPORTS_JS)
}
