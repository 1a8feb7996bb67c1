//! Write keys: 32 random bytes shown once as hex, stored only as their SHA-256, and read from a
//! request the two ways Segment's clients send them (HTTP Basic auth with the key as the user name,
//! or `writeKey` in the body); and the website snippet that carries a new key, shown with it by
//! the web app and the API.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new write key: 32 bytes in lower-case hex, from rand's thread generator (a cryptographically
/// secure generator seeded by the operating system).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The SHA-256 of a key in lower-case hex: what the store keeps and looks up.
pub fn hash(key: &str) -> String {
    hex(&Sha256::digest(key.trim().as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key in an `Authorization: Basic base64("<key>:")` header, if the header is one.
pub fn from_basic_auth(header: &str) -> Option<String> {
    let encoded = header.trim().strip_prefix("Basic ").or_else(|| header.trim().strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let key = text.split(':').next().unwrap_or("").trim();
    (!key.is_empty()).then(|| key.to_string())
}

/// Makes a write key named `name` for `business`: the key (to show once) and how it is listed.
/// What the web app and the API both do.
pub(crate) async fn create_for(
    state: &crate::state::ServerState,
    business: trailmap_model::Business,
    name: String,
) -> Result<(trailmap_app::WriteKey, String), crate::error::ApiError> {
    let key = generate();
    let key_hash = hash(&key);
    let stored = state.try_write(move |app| app.create_write_key(&business, &name, &key_hash)).await?;
    Ok((stored, key))
}

/// Revokes a write key of `business` and makes the tracking API forget the keys it knows, so the
/// key is refused from its very next request. What the web app and the API both do.
pub(crate) async fn revoke_for(
    state: &crate::state::ServerState,
    business: trailmap_model::Business,
    key: i64,
) -> Result<trailmap_app::WriteKey, crate::error::ApiError> {
    let at = crate::auth::now();
    let revoked = state.try_write(move |app| app.revoke_write_key(&business, key, at)).await?;
    state.writer.forget_keys();
    Ok(revoked)
}

/// The address websites reach this server at, as the request that asks for a snippet names it
/// (its Host header; https when cookies are marked Secure, that is when HTTPS is in front).
pub fn site_origin(headers: &axum::http::HeaderMap, secure: bool) -> String {
    let forwarded = headers.get("x-forwarded-host").and_then(|v| v.to_str().ok());
    let host = forwarded
        .or_else(|| headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok()))
        .map(str::trim)
        // Only a host name and port: anything else in the header would land in the page's script.
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')))
        .unwrap_or("YOUR-TRAILMAP-HOST");
    format!("{}://{host}", if secure { "https" } else { "http" })
}

/// The two script tags a website adds to every page to send page views with `key`.
pub fn snippet(origin: &str, key: &str) -> String {
    format!("<script src=\"{origin}/t.js\"></script>\n<script>trailmap.init(\"{key}\", {{ host: \"{origin}\" }});</script>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_hex_and_hash_stably() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        // The SHA-256 of "abc", a published test vector.
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn the_snippet_names_the_host_the_request_came_to_and_never_echoes_markup() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::HOST, "stats.example.com:8080".parse().unwrap());
        let origin = site_origin(&headers, true);
        assert_eq!(origin, "https://stats.example.com:8080");
        assert_eq!(
            snippet(&origin, "k1"),
            "<script src=\"https://stats.example.com:8080/t.js\"></script>\n<script>trailmap.init(\"k1\", { host: \"https://stats.example.com:8080\" });</script>"
        );
        headers.insert(axum::http::header::HOST, "x\"></script>".parse().unwrap());
        assert_eq!(site_origin(&headers, false), "http://YOUR-TRAILMAP-HOST");
    }

    #[test]
    fn basic_auth_carries_the_key_as_user_name() {
        let header = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("k123:"));
        assert_eq!(from_basic_auth(&header).as_deref(), Some("k123"));
        assert_eq!(from_basic_auth("Bearer x"), None);
        assert_eq!(from_basic_auth("Basic !!!"), None);
    }
}
