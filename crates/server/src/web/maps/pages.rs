//! The pages around one map: its versions with the diff between any two, the "as is" and "to be"
//! maps side by side (and making the "to be" from an "as is"), the export downloads, and the
//! share links (create with an optional password and expiry, list, revoke).

use super::editor::{GridContext, emotion_curve, grid};
use super::{author, kind_label, map_id, summaries};
use crate::auth::{self, PageForm, SignedIn, require_edit};
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page, secret_box, when};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, Query, State};
use maud::html;
use serde::Deserialize;
use std::collections::HashMap;
use trailmap_app::{MapExportFormat, NewShareLink};
use trailmap_model::{BusinessId, MapVersionKind};

#[derive(Debug, Default, Deserialize)]
pub struct VersionsQuery {
    pub from: Option<u32>,
    pub to: Option<u32>,
}

pub async fn versions(State(state): State<ServerState>, signed: SignedIn, Path((id, map)): Path<(i64, i64)>, Query(query): Query<VersionsQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let business = membership.business.clone();
    let (current, list, diff) = state
        .try_read(move |app| {
            let current = app.journey_map(&business, map_id(map))?;
            let list = app.map_versions(&business, map_id(map))?;
            // By default: what the newest version changed.
            let to = query.to.unwrap_or(current.version);
            let from = query.from.unwrap_or(to.saturating_sub(1).max(1));
            let diff = app.diff_map_versions(&business, map_id(map), from, to)?;
            Ok((current, list, diff))
        })
        .await?;
    let base = format!("/b/{id}/maps/{map}");
    let content = html! {
        div class="page-head" { h1 { "Versions of " (current.map.name) } }
        p { a href=(base) { "Back to the map" } }
        form class="inline card" method="get" action={ (base) "/versions" } data-testid="diff-form" {
            label { "Compare version " select name="from" { @for v in &list { option value=(v.version) selected[v.version == diff.from] { (v.version) } } } }
            label { " with " select name="to" { @for v in &list { option value=(v.version) selected[v.version == diff.to] { (v.version) } } } }
            button type="submit" class="secondary" { "Show changes" }
        }
        section class="card" data-testid="diff" {
            h2 { "From version " (diff.from) " to " (diff.to) }
            @if diff.changes.is_empty() {
                p class="muted" { "No changes." }
            } @else {
                ul { @for change in &diff.changes { li { (change.describe()) } } }
            }
        }
        div class="table-wrap" {
            table data-testid="versions" {
                thead { tr { th class="num" { "Version" } th { "By" } th { "When" } } }
                tbody {
                    @for v in list.iter().rev() {
                        tr { td class="num" { (v.version) } td { (v.author) } td { (when(v.created_at)) } }
                    }
                }
            }
        }
    };
    Ok(html_response(page(&nav, "Versions", content)))
}

/// The "as is" map beside its "to be" map: for a "to be" map, the map it improves on; for an
/// "as is" map, its newest "to be" map, or the button to make one.
pub async fn compare(State(state): State<ServerState>, signed: SignedIn, Path((id, map)): Path<(i64, i64)>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let list = summaries(&state, &membership.business).await?;
    let business = membership.business.clone();
    let (this, other, touchpoints, personas) = state
        .try_read(move |app| {
            let this = app.journey_map(&business, map_id(map))?.map;
            let other_id = match this.kind {
                MapVersionKind::ToBe => this.as_is,
                MapVersionKind::AsIs => list.iter().filter(|m| m.as_is == Some(this.id)).map(|m| m.id).max_by_key(|m| m.0),
            };
            let other = match other_id {
                Some(o) => Some(app.journey_map(&business, o)?.map),
                None => None,
            };
            let names = app.names(business.id)?;
            let touchpoints: HashMap<_, _> = names.touchpoints.into_iter().collect();
            let personas: HashMap<_, _> = names.personas.into_iter().collect();
            Ok((this, other, touchpoints, personas))
        })
        .await?;
    let (as_is, to_be) = match this.kind {
        MapVersionKind::AsIs => (Some(&this), other.as_ref()),
        MapVersionKind::ToBe => (other.as_ref(), Some(&this)),
    };
    let ctx = GridContext { business: BusinessId(id), touchpoints: &touchpoints, personas: &personas, numbers: None, csrf: None, link_customers: true, comments: None, evidence: None };
    let content = html! {
        div class="page-head" { h1 { "As is and to be" } }
        p { a href={ "/b/" (id) "/maps/" (map) } { "Back to the map" } }
        div class="compare" data-testid="compare" {
            @for (label, shown) in [("As is", as_is), ("To be", to_be)] {
                section class="compare-side" data-testid={ "compare-" (label.to_lowercase().replace(' ', "-")) } {
                    h2 { (label) }
                    @match shown {
                        Some(m) => {
                            p { a href={ "/b/" (id) "/maps/" (m.id) } { (m.name) } " (" (kind_label(m.kind)) ")" }
                            (grid(m, &ctx))
                            (emotion_curve(m, &personas))
                        }
                        None => {
                            @if this.kind == MapVersionKind::AsIs && membership.role.can_edit() {
                                p class="muted" { "This map has no \"to be\" map yet." }
                                form method="post" action={ "/b/" (id) "/maps/" (map) "/to-be" } data-testid="create-to-be" {
                                    (csrf_field(&signed.csrf))
                                    button type="submit" { "Create the \"to be\" map from this one" }
                                }
                            } @else {
                                p class="muted" { "No map on this side." }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(html_response(crate::web::layout::wide_page(&nav, "As is and to be", content)))
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn create_to_be(State(state): State<ServerState>, Path((id, map)): Path<(i64, i64)>, posted: PageForm<Empty>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let (business, by) = (membership.business, author(&posted.user.user));
    let created = state.try_write(move |app| app.create_to_be_map(&business, map_id(map), &by)).await?;
    Ok(see_other(&format!("/b/{id}/maps/{}/compare", created.id)))
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    pub format: Option<String>,
}

pub async fn export(State(state): State<ServerState>, signed: SignedIn, Path((id, map)): Path<(i64, i64)>, Query(query): Query<ExportQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let format = MapExportFormat::parse(query.format.as_deref().unwrap_or("svg"))?;
    let business = membership.business;
    let (name, bytes) = state
        .try_read(move |app| {
            let name = app.journey_map(&business, map_id(map))?.map.name;
            Ok((name, app.export_map(&business, map_id(map), format, None)?))
        })
        .await?;
    Ok(crate::downloads::map_download(bytes, format, &name))
}

pub async fn share(State(state): State<ServerState>, signed: SignedIn, Path((id, map)): Path<(i64, i64)>) -> PageResult {
    share_page(&state, &signed, id, map, None).await
}

async fn share_page(state: &ServerState, signed: &SignedIn, id: i64, map: i64, made: Option<NewShareLink>) -> PageResult {
    let membership = auth::membership(state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(state, signed, Some(membership.business.id)).await?;
    let business = membership.business.clone();
    let (name, links) = state
        .try_read(move |app| Ok((app.journey_map(&business, map_id(map))?.map.name, app.share_links(&business, map_id(map))?)))
        .await?;
    let can_edit = membership.role.can_edit();
    let now = auth::now();
    let base = format!("/b/{id}/maps/{map}");
    let content = html! {
        div class="page-head" { h1 { "Share links of " (name) } }
        p { a href=(base) { "Back to the map" } }
        p class="muted" { "A share link shows the map's newest version read-only to anyone who has it, without signing in: no numbers, no customers." }
        @if let Some(made) = &made {
            (secret_box("The new share link.", &made.path))
            p { a href=(made.path) data-testid="new-share-link" { "Open it" } }
        }
        @if links.is_empty() {
            p class="muted" data-testid="no-links" { "No share links." }
        } @else {
            div class="table-wrap" {
                table data-testid="share-links" {
                    thead { tr { th { "Made by" } th { "When" } th { "Password" } th { "Expires" } th {} } }
                    tbody {
                        @for link in &links {
                            tr {
                                td { (link.created_by) }
                                td { (when(link.created_at)) }
                                td { @if link.password_hash.is_some() { "yes" } @else { "no" } }
                                td {
                                    @match link.expires_at {
                                        Some(t) => { (when(t)) @if t <= now { " " span class="badge stale" { "expired" } } }
                                        None => { "never" }
                                    }
                                }
                                td {
                                    @if can_edit {
                                        form class="inline" method="post" action={ (base) "/share/" (link.token_hash) "/revoke" } data-confirm="Revoke this link? Whoever has it loses access." {
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
        @if can_edit {
            h2 { "New share link" }
            form class="card share-form" method="post" action={ (base) "/share" } data-testid="share-form" {
                (csrf_field(&signed.csrf))
                label { "Password (optional, at least 8 characters) " input type="password" name="password" autocomplete="new-password"; }
                label { "Works until the end of (optional) " input type="date" name="expires"; }
                label { "May be embedded in the pages of (optional, e.g. https://intranet.example) " input type="text" name="embed_on" placeholder="https://intranet.example"; }
                button type="submit" { "Create link" }
            }
        }
    };
    Ok(html_response(page(&nav, "Share links", content)))
}

#[derive(Debug, Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub expires: String,
    /// Origins whose pages may embed the map, separated by spaces or commas.
    #[serde(default)]
    pub embed_on: String,
}

use trailmap_app::query::link_expiry as expiry_of;

pub async fn create_share(State(state): State<ServerState>, Path((id, map)): Path<(i64, i64)>, posted: PageForm<ShareForm>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let expires = expiry_of("expires", &posted.form.expires)?;
    let password = Some(posted.form.password.clone()).filter(|p| !p.is_empty());
    let (business, by, now) = (membership.business, author(&posted.user.user), auth::now());
    let origins: Vec<String> = posted.form.embed_on.split([' ', ',']).filter(|o| !o.trim().is_empty()).map(str::to_string).collect();
    let embed_on = trailmap_app::check_embed_origins(&origins)?;
    let made = state
        .try_write(move |app| {
            let made = app.create_share_link(&business, map_id(map), password.as_deref(), expires, &by, now)?;
            if !embed_on.is_empty() {
                app.set_share_link_embedding(&business, map_id(map), &made.token, &embed_on)?;
            }
            Ok(made)
        })
        .await?;
    share_page(&state, &posted.user, id, map, Some(made)).await
}

pub async fn revoke_share(State(state): State<ServerState>, Path((id, map, hash)): Path<(i64, i64, String)>, posted: PageForm<Empty>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    state.try_write(move |app| app.revoke_share_link_by_hash(&business, map_id(map), &hash)).await?;
    Ok(see_other(&format!("/b/{id}/maps/{map}/share")))
}
