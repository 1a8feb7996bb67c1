//! The signed-in user's API keys for scripts: create one (the raw key is shown once), list them by
//! prefix, revoke. A key acts as its user, with the user's roles in each business.

use crate::auth::{PageForm, SignedIn};
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page, secret_box, when};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, State};
use maud::html;
use serde::Deserialize;

pub async fn show(State(state): State<ServerState>, signed: SignedIn) -> PageResult {
    render(&state, &signed, None).await
}

async fn render(state: &ServerState, signed: &SignedIn, new_key: Option<String>) -> PageResult {
    let nav = Nav::load(state, signed, None).await?;
    let user = signed.user.id;
    let keys = state.try_read(move |app| app.api_keys(user)).await?;
    let content = html! {
        h1 { "API keys" }
        p class="muted" { "A key lets a script use the JSON API under /api as you: send it as " code { "Authorization: Bearer tm_..." } ". The API is described at " a href="/api/openapi.json" { "/api/openapi.json" } "." }
        @if let Some(key) = &new_key { (secret_box("Your new API key.", key)) }
        @if keys.is_empty() {
            p class="muted" { "No keys yet." }
        } @else {
            div class="table-wrap" {
                table data-testid="keys" {
                    thead { tr { th { "Name" } th { "Key" } th { "Created" } th { "Last used" } th {} } }
                    tbody {
                        @for key in &keys {
                            tr {
                                td { (key.name) }
                                td { code { (key.prefix) "…" } }
                                td { (when(key.created)) }
                                td { @match key.last_used { Some(t) => { (when(t)) } None => { span class="muted" { "never" } } } }
                                td {
                                    @match key.revoked {
                                        Some(t) => { span class="muted" { "revoked " (when(t)) } }
                                        None => {
                                            form class="inline" method="post" action={ "/account/keys/" (key.id) "/revoke" }
                                                data-confirm={ "Revoke " (key.name) "? Scripts using it stop working." } {
                                                (csrf_field(&signed.csrf))
                                                button type="submit" class="danger" { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Create a key" }
        form class="inline card" method="post" action="/account/keys" {
            (csrf_field(&signed.csrf))
            input type="text" name="name" placeholder="What it is for, e.g. nightly export" aria-label="Name" required;
            button type="submit" { "Create key" }
        }
    };
    Ok(html_response(page(&nav, "API keys", content)))
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    pub name: String,
}

pub async fn create(State(state): State<ServerState>, posted: PageForm<CreateForm>) -> PageResult {
    let user = posted.user.user.id;
    let name = posted.form.name;
    let at = crate::auth::now();
    let (_, raw) = state.try_write(move |app| app.create_api_key(user, name.trim(), at)).await?;
    render(&state, &posted.user, Some(raw)).await
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn revoke(State(state): State<ServerState>, Path(id): Path<i64>, posted: PageForm<Empty>) -> PageResult {
    let user = posted.user.user.id;
    let at = crate::auth::now();
    state.try_write(move |app| app.revoke_api_key(user, id, at)).await?;
    Ok(see_other("/account/keys"))
}
