//! Who is asking and what they may do: the session cookie, the extractors for a signed-in user
//! (`SignedIn` for pages, `ApiUser` for the JSON API), CSRF checks, the throttle of password guesses, and the
//! access rule of every business route (a non-member gets 404, so ids do not leak; a member whose
//! role does not allow the action gets 403).
//!
//! Sessions: the raw token lives only in the `trailmap_session` cookie (HttpOnly, SameSite=Lax,
//! Path=/, Secure per config); the store keeps its hash. CSRF: every signed-in form carries the
//! session's CSRF token in a hidden `csrf` field (synchronizer token); cookie-authenticated API calls
//! that change something carry it in `X-CSRF-Token`; API-key calls need none, since a browser never
//! sends an API key by itself. Forms used before signing in (login, setup, invitation sign-up) use
//! a double-submit cookie instead, as there is no session yet.

use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::error_page;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use crate::throttle::Throttle;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use trailmap_app::Session;
use trailmap_model::{BusinessId, Membership, Role, Timestamp, User, UserId};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "trailmap_session";
/// The pre-session CSRF cookie of the login, setup and invitation forms.
pub const FORM_COOKIE: &str = "trailmap_form";
/// The business a user last opened, so `/` can take them back to it.
pub const LAST_BUSINESS_COOKIE: &str = "trailmap_business";
/// How long a session lasts: 14 days.
pub const SESSION_TTL_MS: i64 = 14 * Timestamp::MS_PER_DAY;
/// The header a cookie-authenticated API call carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An API key's last use is written at most this often.
const KEY_TOUCH_EVERY_MS: i64 = Timestamp::MS_PER_MINUTE;

/// The current time.
pub fn now() -> Timestamp {
    Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    )
}

/// What the server keeps in memory about authentication.
#[derive(Debug)]
pub struct AuthState {
    pub secure_cookies: bool,
    /// Failed sign-ins and share-link passwords (`throttle`).
    pub throttle: Throttle,
    /// When each API key (by hash) was last written as used.
    key_touches: Mutex<HashMap<String, i64>>,
}

impl AuthState {
    pub fn new(secure_cookies: bool) -> AuthState {
        AuthState { secure_cookies, throttle: Throttle::default(), key_touches: Mutex::new(HashMap::new()) }
    }

    /// A `Set-Cookie` value with the attributes every cookie of ours has.
    pub fn cookie(&self, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}");
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("trailmap_invalid=1"))
    }

    pub fn session_cookie(&self, token: &str) -> HeaderValue {
        self.cookie(SESSION_COOKIE, token, SESSION_TTL_MS / 1000)
    }

    pub fn clear_cookie(&self, name: &str) -> HeaderValue {
        self.cookie(name, "", 0)
    }
}

/// A random token of 32 bytes in hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && !a.is_empty() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The client's address as the connection gave it ("unknown" in-process, in tests). Forwarded
/// headers are not trusted: anyone can send them.
pub fn client_address(parts_extensions: &axum::http::Extensions) -> String {
    parts_extensions.get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string())
}

async fn session_of(state: &ServerState, headers: &HeaderMap) -> Result<Option<(String, Session)>, ApiError> {
    let Some(token) = cookie_value(headers, SESSION_COOKIE) else { return Ok(None) };
    let lookup = token.clone();
    let session = state.try_read(move |app| app.session(&lookup, now())).await?;
    Ok(session.map(|s| (token, s)))
}

/// The signed-in user of a page. Without a session the page answers 303 to `/login?next=...`.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// The raw session token (to end it at logout).
    pub token: String,
}

/// Where to send a visitor who must sign in first, coming back to `path` afterwards.
pub fn login_redirect(path_and_query: &str) -> Response {
    let next: String = form_urlencoded::byte_serialize(path_and_query.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// Only local paths are followed after sign-in, so a link cannot send a user elsewhere.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n.to_string(),
        _ => "/".to_string(),
    }
}

impl FromRequestParts<ServerState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, Self::Rejection> {
        match session_of(state, &parts.headers).await {
            Ok(Some((token, session))) => Ok(SignedIn { user: session.user, csrf: session.csrf, token }),
            Ok(None) => Err(login_redirect(parts.uri.path_and_query().map_or("/", |p| p.as_str()))),
            Err(e) => Err(error_page(e)),
        }
    }
}

/// A signed-in user's form post: the session is checked, then the form's `csrf` field against the
/// session's token (403 `csrf_failed` if it differs), then the form is read into `T`.
#[derive(Debug)]
pub struct PageForm<T> {
    pub user: SignedIn,
    pub form: T,
}

/// Reads a urlencoded body of at most 64 KiB into its pairs and `T`.
async fn read_form<T: DeserializeOwned>(parts: Parts, body: axum::body::Body, state: &ServerState) -> Result<(Vec<(String, String)>, T), Response> {
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| error_page(ApiError::invalid_input("the form is larger than 64 KiB")))?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
    let request = Request::from_parts(parts, axum::body::Body::from(bytes));
    let axum::Form(form) = axum::Form::<T>::from_request(request, state)
        .await
        .map_err(|e| error_page(ApiError::invalid_input(format!("the form is not valid: {}", e.body_text()))))?;
    Ok((pairs, form))
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

impl<T: DeserializeOwned + Send> FromRequest<ServerState> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &ServerState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let user = SignedIn::from_request_parts(&mut parts, state).await?;
        let (pairs, form) = read_form::<T>(parts, body, state).await?;
        if !same_secret(field(&pairs, "csrf"), &user.csrf) {
            return Err(error_page(ApiError::csrf_failed()));
        }
        Ok(PageForm { user, form })
    }
}

/// A form posted before signing in (login, setup, invitation sign-up): its `csrf` field must equal
/// the `trailmap_form` cookie set when the form was shown (double-submit).
#[derive(Debug)]
pub struct AnonymousForm<T> {
    pub form: T,
    /// The client's address, for the throttle of password guesses.
    pub address: String,
    /// The session, when the visitor is in fact signed in.
    pub signed_in: Option<SignedIn>,
}

impl<T: DeserializeOwned + Send> FromRequest<ServerState> for AnonymousForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &ServerState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let address = client_address(&parts.extensions);
        let signed_in = match session_of(state, &parts.headers).await.map_err(error_page)? {
            Some((token, s)) => Some(SignedIn { user: s.user, csrf: s.csrf, token }),
            None => None,
        };
        let cookie = cookie_value(&parts.headers, FORM_COOKIE).unwrap_or_default();
        let (pairs, form) = read_form::<T>(parts, body, state).await?;
        let given = field(&pairs, "csrf");
        let matches_session = signed_in.as_ref().is_some_and(|s| same_secret(given, &s.csrf));
        if !same_secret(given, &cookie) && !matches_session {
            return Err(error_page(ApiError::csrf_failed()));
        }
        Ok(AnonymousForm { form, address, signed_in })
    }
}

/// The token for a form shown before signing in: the visitor's `trailmap_form` cookie, or a new one
/// with the `Set-Cookie` value to send.
pub fn form_token(state: &ServerState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    match cookie_value(headers, FORM_COOKIE) {
        Some(token) if token.len() == 64 => (token, None),
        _ => {
            let token = random_token();
            let cookie = state.auth.cookie(FORM_COOKIE, &token, 24 * 3600);
            (token, Some(cookie))
        }
    }
}

/// The caller of a JSON API route: by API key (`Authorization: Bearer tm_...`) or by session
/// cookie. Without either the route answers 401 `unauthenticated`; a cookie-authenticated call that
/// changes something without `X-CSRF-Token` answers 403 `csrf_failed`.
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub user: User,
    pub by_key: bool,
}

impl FromRequestParts<ServerState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, Self::Rejection> {
        if let Some(authorization) = parts.headers.get(header::AUTHORIZATION) {
            let text = authorization.to_str().unwrap_or("");
            let Some(key) = text.strip_prefix("Bearer ").map(str::trim).filter(|k| k.starts_with("tm_")) else {
                return Err(ApiError::unauthenticated("the Authorization header must be \"Bearer tm_...\" with an API key"));
            };
            let key = key.to_string();
            let lookup = key.clone();
            let Some(user) = state.try_read(move |app| app.user_for_api_key(&lookup)).await? else {
                return Err(ApiError::unauthenticated("the API key is unknown or revoked"));
            };
            touch_key(state, key).await;
            return Ok(ApiUser { user, by_key: true });
        }
        let Some((_, session)) = session_of(state, &parts.headers).await? else {
            return Err(ApiError::unauthenticated("sign in, or send an API key as \"Authorization: Bearer tm_...\""));
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !same_secret(given, &session.csrf) {
                return Err(ApiError::csrf_failed());
            }
        }
        Ok(ApiUser { user: session.user, by_key: false })
    }
}

/// Records an API key's use, at most once a minute per key, so reads do not all become writes.
async fn touch_key(state: &ServerState, key: String) {
    let hash: String = Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let at = now();
    let due = match state.auth.key_touches.lock() {
        Ok(mut touches) => {
            let last = touches.get(&hash).copied().unwrap_or(i64::MIN);
            let due = at.0.saturating_sub(last) >= KEY_TOUCH_EVERY_MS;
            if due {
                touches.insert(hash, at.0);
            }
            due
        }
        Err(_) => false,
    };
    if due {
        // A failed touch only loses a "last used" time; the request goes on.
        let _ = state.try_write(move |app| app.touch_api_key(&key, at)).await;
    }
}

/// The user's membership of `business`: 404 when they are not a member, as if it did not exist.
pub async fn membership(state: &ServerState, user: UserId, business: BusinessId) -> Result<Membership, ApiError> {
    let memberships = state.try_read(move |app| app.memberships(user)).await?;
    memberships
        .into_iter()
        .find(|m| m.business.id == business)
        .ok_or_else(|| ApiError::not_found(format!("no business with id {business}")))
}

/// 403 unless `role` may change the business's data.
pub fn require_edit(role: Role) -> Result<(), ApiError> {
    if role.can_edit() { Ok(()) } else { Err(ApiError::forbidden(format!("a {role} cannot change this business"))) }
}

/// The name a person's edits are signed with (map versions): their name, or their email when
/// they gave none.
pub fn author(user: &User) -> String {
    if user.name.trim().is_empty() { user.email.clone() } else { user.name.clone() }
}

/// 403 unless `role` may manage the business (members, name).
pub fn require_manage(role: Role) -> Result<(), ApiError> {
    if role.can_manage() { Ok(()) } else { Err(ApiError::forbidden(format!("only an owner can do this; you are a {role}"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_secrets() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; trailmap_session=abc; b=2"));
        assert_eq!(cookie_value(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie_value(&headers, "c"), None);
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("", ""));
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/b/1/")), "/b/1/");
        let secure = AuthState::new(true).session_cookie("t");
        assert_eq!(secure, "trailmap_session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=1209600; Secure");
    }
}
