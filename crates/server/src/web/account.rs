//! The signed-in user's account security at `/account/security`: change the password (the current
//! one is asked; every other session ends), see every session with when it started and ends, end
//! one, or end all but this one. And `/reset/{token}`: the page a one-time password reset link
//! opens (issued by an owner on the members page or by `trailmap user reset-password`), which sets
//! a new password, ends every session of the user and signs them in afresh.

use crate::auth::{self, AnonymousForm, PageForm, SignedIn};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::layout::{Nav, bare, csrf_field, page, when};
use crate::web::login::start_session;
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use maud::html;
use serde::Deserialize;
use trailmap_app::App;
use trailmap_app::MIN_PASSWORD_CHARS;

#[derive(Debug, Deserialize, Default)]
pub struct Notice {
    /// What the last action did, shown once above the page.
    done: Option<String>,
}

/// GET `/account/security`.
pub async fn show(State(state): State<ServerState>, signed: SignedIn, Query(notice): Query<Notice>) -> PageResult {
    render(&state, &signed, notice.done.as_deref(), None).await
}

async fn render(state: &ServerState, signed: &SignedIn, done: Option<&str>, error: Option<&ApiError>) -> PageResult {
    let nav = Nav::load(state, signed, None).await?;
    let (user, at) = (signed.user.id, auth::now());
    let sessions = state.try_read(move |app| app.user_sessions(user, at)).await?;
    let this = App::session_id(&signed.token);
    let notice = match done {
        Some("password") => Some("Your password is changed; your other sessions have ended."),
        Some("others") => Some("Your other sessions have ended."),
        Some("ended") => Some("The session has ended."),
        _ => None,
    };
    let content = html! {
        h1 { "Account security" }
        @if let Some(text) = notice { p class="notice" role="status" data-testid="notice" { (text) } }
        h2 { "Password" }
        @if let Some(e) = error { p class="error" role="alert" data-code=(e.code) { (e.message) } }
        form class="card" method="post" action="/account/password" data-testid="change-password" {
            (csrf_field(&signed.csrf))
            label { "Current password " input type="password" name="current_password" required autocomplete="current-password"; }
            label { "New password " input type="password" name="new_password" required minlength=(MIN_PASSWORD_CHARS) autocomplete="new-password"; }
            button type="submit" { "Change password" }
            p class="muted" { "At least " (MIN_PASSWORD_CHARS) " characters. Changing it signs you out everywhere else." }
        }
        h2 { "Sessions (" (sessions.len()) ")" }
        div class="table-wrap" {
            table data-testid="sessions" {
                thead { tr { th { "Session" } th { "Started" } th { "Ends" } th {} } }
                tbody {
                    @for s in &sessions {
                        tr data-session=(s.id) {
                            td { code { (s.id) } @if s.id == this { span class="muted" { " (this one)" } } }
                            td { (when(s.created_at)) }
                            td { (when(s.expires_at)) }
                            td {
                                @if s.id != this {
                                    form class="inline" method="post" action={ "/account/sessions/" (s.id) "/end" } {
                                        (csrf_field(&signed.csrf))
                                        button type="submit" class="danger" { "End" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if sessions.len() > 1 {
            form method="post" action="/account/sessions/end-others" data-testid="end-others" {
                (csrf_field(&signed.csrf))
                button type="submit" class="secondary" { "End every other session" }
            }
        }
        p { a href="/account/keys" { "API keys" } " are listed and revoked on their own page." }
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok((status, html_response(page(&nav, "Account security", content))).into_response())
}

#[derive(Debug, Deserialize)]
pub struct PasswordChange {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// POST `/account/password`: a wrong current password or a short new one shows the page again
/// with the reason; otherwise every other session ends.
pub async fn change_password(State(state): State<ServerState>, posted: PageForm<PasswordChange>) -> PageResult {
    let PasswordChange { current_password, new_password } = posted.form;
    let (user, token) = (posted.user.user.clone(), posted.user.token.clone());
    let changed = state.try_write(move |app| app.change_password(&user, &current_password, &new_password, Some(&token))).await;
    match changed {
        Ok(_) => Ok(see_other("/account/security?done=password")),
        Err(e) if e.status.is_client_error() => render(&state, &posted.user, None, Some(&e)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

/// POST `/account/sessions/{id}/end`.
pub async fn end_session(State(state): State<ServerState>, Path(id): Path<String>, posted: PageForm<Empty>) -> PageResult {
    let user = posted.user.user.id;
    state.try_write(move |app| app.end_session_by_id(user, &id)).await?;
    Ok(see_other("/account/security?done=ended"))
}

/// POST `/account/sessions/end-others`.
pub async fn end_others(State(state): State<ServerState>, posted: PageForm<Empty>) -> PageResult {
    let (user, token) = (posted.user.user.id, posted.user.token.clone());
    state.try_write(move |app| app.end_other_sessions(user, Some(&token))).await?;
    Ok(see_other("/account/security?done=others"))
}

/// GET `/reset/{token}`: the new-password form, or why the link does not work.
pub async fn reset_form(State(state): State<ServerState>, headers: HeaderMap, Path(token): Path<String>) -> PageResult {
    let (lookup, at) = (token.clone(), auth::now());
    let user = state.try_read(move |app| app.password_reset_user(&lookup, at)).await?;
    let Some(user) = user else {
        return Err(ApiError::not_found("this reset link is unknown, used already or expired; ask an owner for a new one").into());
    };
    let (form_token, cookie) = auth::form_token(&state, &headers);
    let body = html! {
        main class="narrow" {
            h1 { "A new password for " (user.email) }
            form method="post" action={ "/reset/" (token) } data-testid="reset-password" {
                input type="hidden" name="csrf" value=(form_token);
                label { "New password " input type="password" name="new_password" required minlength=(MIN_PASSWORD_CHARS) autocomplete="new-password"; }
                button type="submit" { "Set the password and sign in" }
                p class="muted" { "At least " (MIN_PASSWORD_CHARS) " characters. Every session of this account ends." }
            }
        }
    };
    let mut response = html_response(bare("New password", body));
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct NewPassword {
    #[serde(default)]
    new_password: String,
}

/// POST `/reset/{token}`: sets the password, spends the link, ends every session, signs in.
pub async fn reset(State(state): State<ServerState>, Path(token): Path<String>, posted: AnonymousForm<NewPassword>) -> PageResult {
    let (password, at) = (posted.form.new_password, auth::now());
    let user = state.try_write(move |app| app.reset_password(&token, &password, at)).await?;
    start_session(&state, user.id, "/").await
}
