//! Accepting an invitation link: a signed-in user joins with one click; anyone else signs in or
//! creates an account on the same page, then joins. The link works once and until it expires.

use crate::auth::{self, AnonymousForm, SignedIn};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::layout::csrf_field;
use crate::web::{PageResult, html_response, layout, login};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use trailmap_app::AppError;

pub async fn show(
    State(state): State<ServerState>,
    headers: HeaderMap,
    signed: Result<SignedIn, Response>,
    Path(token): Path<String>,
) -> PageResult {
    let lookup = token.clone();
    let invitation = state.try_read(move |app| app.invitation(&lookup, auth::now())).await?;
    let Some(invitation) = invitation else {
        return Err(ApiError::not_found("this invitation link is unknown, used or expired; ask for a new one").into());
    };
    let (form_token, cookie) = auth::form_token(&state, &headers);
    let action = format!("/invite/{token}");
    let body = html! {
        main class="narrow" {
            h1 { "Join " (invitation.business.name) }
            p class="muted" { "You are invited as " strong { (invitation.role) } "." }
            @if let Ok(signed) = &signed {
                form class="stack card" method="post" action=(action) {
                    (csrf_field(&signed.csrf))
                    input type="hidden" name="action" value="join";
                    p { "Signed in as " (signed.user.email) "." }
                    button type="submit" { "Join " (invitation.business.name) }
                }
            } @else {
                h2 { "I have an account" }
                form class="stack card" method="post" action=(action) {
                    input type="hidden" name="csrf" value=(form_token);
                    input type="hidden" name="action" value="signin";
                    label { "Email" input type="email" name="email" value=[invitation.email.as_deref()] required autocomplete="username"; }
                    label { "Password" input type="password" name="password" required autocomplete="current-password"; }
                    button type="submit" { "Sign in and join" }
                }
                h2 { "I am new here" }
                form class="stack card" method="post" action=(action) {
                    input type="hidden" name="csrf" value=(form_token);
                    input type="hidden" name="action" value="signup";
                    label { "Your name" input type="text" name="name" required autocomplete="name"; }
                    label { "Email" input type="email" name="email" value=[invitation.email.as_deref()] required autocomplete="username"; }
                    label { "Password (at least " (trailmap_app::MIN_PASSWORD_CHARS) " characters)"
                        input type="password" name="password" required minlength=(trailmap_app::MIN_PASSWORD_CHARS) autocomplete="new-password"; }
                    button type="submit" { "Create account and join" }
                }
            }
        }
    };
    let mut response = html_response(layout::bare("Invitation", body)).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    pub action: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
}

pub async fn accept(State(state): State<ServerState>, Path(token): Path<String>, posted: AnonymousForm<AcceptForm>) -> PageResult {
    let at = auth::now();
    let AcceptForm { action, name, email, password } = posted.form;
    let (user, new_session) = match (action.as_str(), posted.signed_in) {
        ("join", Some(signed)) => (signed.user.id, false),
        ("join", None) => return Ok(auth::login_redirect(&format!("/invite/{token}"))),
        ("signin", _) => {
            let keys = crate::throttle::sign_in_keys(&email, &posted.address);
            if let Err(wait) = state.auth.throttle.check(&keys, at) {
                return Err(ApiError::rate_limited(wait).into());
            }
            let lookup = email.clone();
            let Some(user) = state.try_read(move |app| app.authenticate(&lookup, &password)).await? else {
                state.auth.throttle.record_failure(&keys, at);
                return Err(ApiError::unauthenticated("wrong email or password; go back and try again").into());
            };
            (user.id, true)
        }
        ("signup", _) => {
            // The link is checked before the account is made, so a dead link creates no account.
            let check = token.clone();
            let user = state
                .try_write(move |app| {
                    if app.invitation(&check, at)?.is_none() {
                        return Err(AppError::NotFound("this invitation link is unknown, used or expired; ask for a new one".into()));
                    }
                    app.create_user(&email, &name, &password, at)
                })
                .await?;
            (user.id, true)
        }
        (other, _) => return Err(ApiError::invalid_input(format!("action: {other:?} is not join, signin or signup")).into()),
    };
    let membership = state.try_write(move |app| app.accept_invitation(&token, user, at)).await?;
    let to = format!("/b/{}/", membership.business.id);
    if new_session { login::start_session(&state, user, &to).await } else { Ok(crate::web::see_other(&to)) }
}
