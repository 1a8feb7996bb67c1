//! The one-time setup page, open only while the store has no user: it creates the first owner,
//! makes them owner of every business already in the store (the demo's, or what the CLI imported),
//! and names their first business. The check and the creation run in one job on the writer thread,
//! so two visitors cannot both become the first owner.

use crate::auth::{self, AnonymousForm};
use crate::state::ServerState;
use crate::web::{PageResult, html_response, layout, login, see_other};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use maud::html;
use serde::Deserialize;
use trailmap_app::{AppError, DEFAULT_BUSINESS};

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    pub name: String,
    pub email: String,
    pub password: String,
    /// The first business's name; empty keeps the businesses already there as they are.
    #[serde(default)]
    pub business: String,
}

pub async fn show(State(state): State<ServerState>, headers: HeaderMap) -> PageResult {
    if state.try_read(|app| app.user_count()).await? > 0 {
        return Ok(see_other("/login"));
    }
    let existing = state.try_read(|app| app.businesses()).await?;
    let (token, cookie) = auth::form_token(&state, &headers);
    let only_default = existing.len() == 1 && existing[0].name == DEFAULT_BUSINESS;
    let body = html! {
        main class="narrow" {
            h1 { "Set up Trailmap" }
            p class="muted" { "Create the first account. It becomes the owner of every business in this store." }
            @if !only_default {
                p class="notice" {
                    "Businesses already here: "
                    @for (i, b) in existing.iter().enumerate() { @if i > 0 { ", " } strong { (b.name) } }
                }
            }
            form class="stack card" method="post" action="/setup" {
                input type="hidden" name="csrf" value=(token);
                label { "Your name" input type="text" name="name" required autocomplete="name"; }
                label { "Email" input type="email" name="email" required autocomplete="username"; }
                label { "Password (at least " (trailmap_app::MIN_PASSWORD_CHARS) " characters)"
                    input type="password" name="password" required minlength=(trailmap_app::MIN_PASSWORD_CHARS) autocomplete="new-password"; }
                label { "Your business's name" @if !only_default { " (optional: adds a new business)" }
                    input type="text" name="business" required[only_default] placeholder="Bean There Coffee"; }
                button type="submit" { "Create account" }
            }
        }
    };
    let mut response = html_response(layout::bare("Set up", body)).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

pub async fn submit(State(state): State<ServerState>, posted: AnonymousForm<SetupForm>) -> PageResult {
    let SetupForm { name, email, password, business } = posted.form;
    let at = auth::now();
    let (user, first) = state
        .try_write(move |app| {
            if app.user_count()? > 0 {
                return Err(AppError::Conflict("setup is done: the store already has an account; sign in instead".into()));
            }
            let user = app.create_user(&email, &name, &password, at)?;
            app.adopt_unowned_businesses(user.id)?;
            let business = business.trim();
            let businesses = app.businesses()?;
            // A fresh store's placeholder business, still empty, is renamed rather than kept beside
            // the real one.
            let placeholder = businesses
                .iter()
                .find(|b| b.name == DEFAULT_BUSINESS)
                .filter(|_| businesses.len() == 1)
                .map(|b| app.summary(b).map(|s| (b.id, s.events == 0 && s.customers == 0 && s.orders == 0)))
                .transpose()?;
            let first = match (business.is_empty(), placeholder) {
                (true, _) => businesses.first().map(|b| b.id),
                (false, Some((id, true))) => Some(app.rename_business(id, business)?.id),
                (false, _) => Some(app.create_business_owned(user.id, business, "USD", "UTC")?.id),
            };
            Ok((user, first))
        })
        .await?;
    tracing::info!(user = %user.id, "setup: first owner created");
    let to = first.map_or_else(|| "/businesses".to_string(), |id| format!("/b/{id}/"));
    login::start_session(&state, user.id, &to).await
}
