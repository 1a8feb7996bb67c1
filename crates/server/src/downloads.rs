//! Responses that are files to download, shared by the pages and the JSON API: an analysis's
//! export (SVG, PNG, CSV) and a journey map's export in any of its formats.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use trailmap_app::MapExportFormat;

/// A file to download: its media type, an attachment file name, never cached.
pub fn download(content_type: &'static str, filename: String, body: Vec<u8>) -> axum::response::Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A file name from a map's name: letters, digits and dashes.
pub fn file_name(name: &str, extension: &str) -> String {
    let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let slug = slug.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-");
    format!("{}.{extension}", if slug.is_empty() { "journey-map".to_string() } else { slug })
}

/// The export as a download: its media type and an attachment file name.
pub fn map_download(bytes: Vec<u8>, format: MapExportFormat, name: &str) -> axum::response::Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    let media = if format == MapExportFormat::Svg || format == MapExportFormat::Mermaid || format == MapExportFormat::Json {
        format!("{}; charset=utf-8", format.media_type())
    } else {
        format.media_type().to_string()
    };
    if let Ok(v) = HeaderValue::from_str(&media) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file_name(name, format.extension()))) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
