//! Signing in and out. Sign-in failures are counted per email together with the client's address,
//! and per address (`throttle`); past the free tries each further one waits a growing delay (429
//! with Retry-After), so a guesser is slowed down without locking the real owner out. Passwords are
//! never logged or echoed back.

use crate::auth::{self, AnonymousForm, PageForm, SESSION_COOKIE, SESSION_TTL_MS, SignedIn, safe_next};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::throttle;
use crate::web::{PageResult, html_response, layout, see_other};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    pub next: Option<String>,
}

/// The sign-in form; with no user yet, the setup page instead.
pub async fn show(
    State(state): State<ServerState>,
    headers: HeaderMap,
    signed: Result<SignedIn, Response>,
    Query(query): Query<NextQuery>,
) -> PageResult {
    if signed.is_ok() {
        return Ok(see_other(&safe_next(query.next.as_deref())));
    }
    if state.try_read(|app| app.user_count()).await? == 0 {
        return Ok(see_other("/setup"));
    }
    Ok(form(&state, &headers, query.next.as_deref(), "", None, StatusCode::OK))
}

fn form(state: &ServerState, headers: &HeaderMap, next: Option<&str>, email: &str, error: Option<&str>, status: StatusCode) -> Response {
    let (token, cookie) = auth::form_token(state, headers);
    let body = html! {
        main class="narrow" {
            h1 { "Sign in" }
            @if let Some(error) = error { p class="error" role="alert" { (error) } }
            form class="stack card" method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(safe_next(next));
                label { "Email" input type="email" name="email" value=(email) required autocomplete="username" autofocus; }
                label { "Password" input type="password" name="password" required autocomplete="current-password"; }
                button type="submit" { "Sign in" }
            }
        }
    };
    let mut response = (status, html_response(layout::bare("Sign in", body))).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Checks the password, starts a session and goes to `next`.
pub async fn submit(State(state): State<ServerState>, headers: HeaderMap, posted: AnonymousForm<LoginForm>) -> PageResult {
    let LoginForm { email, password, next } = posted.form;
    let at = auth::now();
    let keys = throttle::sign_in_keys(&email, &posted.address);
    if let Err(wait) = state.auth.throttle.check(&keys, at) {
        tracing::warn!(network = %throttle::masked(&posted.address), "sign-in refused: too many failures");
        return Err(ApiError::rate_limited(wait).into());
    }
    let lookup = email.clone();
    let user = state.try_read(move |app| app.authenticate(&lookup, &password)).await?;
    let Some(user) = user else {
        state.auth.throttle.record_failure(&keys, at);
        return Ok(form(&state, &headers, next.as_deref(), &email, Some("Wrong email or password."), StatusCode::UNAUTHORIZED));
    };
    state.auth.throttle.forget(&throttle::sign_in_key(&email, &posted.address));
    start_session(&state, user.id, &safe_next(next.as_deref())).await
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

/// Ends the session (a POST form, so another site cannot sign a user out with a link).
pub async fn logout(State(state): State<ServerState>, posted: PageForm<Empty>) -> PageResult {
    let token = posted.user.token.clone();
    state.try_write(move |app| app.end_session(&token)).await?;
    let mut response = see_other("/login");
    response.headers_mut().append(header::SET_COOKIE, state.auth.clear_cookie(SESSION_COOKIE));
    Ok(response)
}

/// Starts a session for a user just created or just signed in, and goes to `to`.
pub async fn start_session(state: &ServerState, user: trailmap_model::UserId, to: &str) -> PageResult {
    let at = auth::now();
    let session = state.try_write(move |app| app.create_session(user, at, SESSION_TTL_MS)).await?;
    let mut response = see_other(to);
    response.headers_mut().append(header::SET_COOKIE, state.auth.session_cookie(&session.token));
    Ok(response)
}

