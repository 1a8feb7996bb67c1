//! The journey map pages: the list of a business's maps with the "new map from a template" form,
//! and the editor of one map (`editor`), its versions and diff, "as is" beside "to be", exports
//! and share links (`pages`). The editor draws the map as an HTML grid of stages × lanes; every
//! control is a plain form that works without JavaScript, and `maps.js` turns those same forms
//! into JSON edits posted to the API without a page reload.
//!
//! Viewers get the same pages without any edit control; their posts are 403 all the same.

pub mod comments;
pub mod editor;
pub mod numbers;
pub mod pages;

use crate::auth::{self, PageForm, SignedIn, require_edit};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, State};
use maud::{Markup, html};
use serde::Deserialize;
use trailmap_app::{MapSummary, MapTemplate};
use trailmap_model::{Business, BusinessId, MapId, MapVersionKind};

pub use trailmap_app::query::NumbersQuery;


/// The map id of a path, as a `MapId`; the business is checked by the app on every read.
pub(crate) fn map_id(id: i64) -> MapId {
    MapId(id)
}

pub(crate) use crate::auth::author;

pub(crate) fn kind_label(kind: MapVersionKind) -> &'static str {
    match kind {
        MapVersionKind::AsIs => "as is",
        MapVersionKind::ToBe => "to be",
    }
}

/// The business's maps, for the list and the dashboard's staleness flag.
pub(crate) async fn summaries(state: &ServerState, business: &Business) -> Result<Vec<MapSummary>, ApiError> {
    let b = business.clone();
    let today = auth::now().date();
    state.try_read(move |app| app.journey_maps(&b, today)).await
}

/// The dashboard's short section: maps past their review date, each a link to its editor. Empty
/// when no map is stale, so the dashboard stays as it was for businesses without maps.
pub async fn stale_section(state: &ServerState, business: &Business) -> Markup {
    let b = business.clone();
    let today = auth::now().date();
    // The dashboard must not fail because of the maps: a failed read shows nothing.
    let stale = state.try_read(move |app| app.stale_maps(&b, today)).await.unwrap_or_default();
    html! {
        @if !stale.is_empty() {
            section class="card stale-maps" data-testid="stale-maps" {
                h2 { "Journey maps to review (" (stale.len()) ")" }
                ul {
                    @for m in &stale {
                        li {
                            a href={ "/b/" (business.id) "/maps/" (m.id) } { (m.name) }
                            " · review was due " (m.review_date.map(|d| d.to_string()).unwrap_or_default())
                            @if let Some(owner) = &m.owner { " · owner " (owner) }
                        }
                    }
                }
            }
        }
    }
}

pub async fn list(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let maps = summaries(&state, &membership.business).await?;
    let can_edit = membership.role.can_edit();
    let content = html! {
        div class="page-head" { h1 { "Journey maps" } }
        @if maps.is_empty() {
            p class="muted" data-testid="no-maps" { "No journey maps yet." }
        } @else {
            div class="table-wrap" {
                table data-testid="maps" {
                    thead { tr { th { "Name" } th { "Kind" } th { "Owner" } th { "Review by" } th class="num" { "Stages" } th class="num" { "Assumptions" } th { "Last change" } } }
                    tbody {
                        @for m in &maps {
                            tr data-map=(m.id) {
                                td {
                                    a href={ "/b/" (id) "/maps/" (m.id) } { (m.name) }
                                    @if m.stale { " " span class="badge stale" data-testid="stale" title="The review date has passed" { "STALE" } }
                                }
                                td { (kind_label(m.kind)) }
                                td { (m.owner.clone().unwrap_or_default()) }
                                td { (m.review_date.map(|d| d.to_string()).unwrap_or_default()) }
                                td class="num" { (m.stages) }
                                td class="num" { (m.assumptions) " of " (m.cards) }
                                td { "v" (m.version) " by " (m.updated_by) ", " (crate::web::layout::when(m.updated_at)) }
                            }
                        }
                    }
                }
            }
        }
        @if can_edit {
            h2 { "New map from a template" }
            form class="card new-map" method="post" action={ "/b/" (id) "/maps" } data-testid="new-map" {
                (csrf_field(&signed.csrf))
                label { "Name " input type="text" name="name" required maxlength="200" placeholder="e.g. First visit to first repeat"; }
                fieldset {
                    legend { "Template" }
                    @for (i, t) in MapTemplate::ALL.iter().enumerate() {
                        label class="template" {
                            input type="radio" name="template" value=(t.as_str()) checked[i == 0];
                            strong { (template_title(*t)) } " " span class="muted" { (t.description()) }
                        }
                    }
                }
                button type="submit" { "Create map" }
            }
        }
    };
    Ok(html_response(page(&nav, "Journey maps", content)))
}

pub(crate) fn template_title(t: MapTemplate) -> &'static str {
    match t {
        MapTemplate::CoffeeShop => "Coffee shop",
        MapTemplate::WebShop => "Web shop",
        MapTemplate::Services => "Services",
        MapTemplate::Blank => "Blank",
    }
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    pub name: String,
    pub template: Option<String>,
}

pub async fn create(State(state): State<ServerState>, Path(id): Path<i64>, posted: PageForm<CreateForm>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let template = MapTemplate::parse(posted.form.template.as_deref().unwrap_or("blank"))?;
    let (business, name, by) = (membership.business, posted.form.name, author(&posted.user.user));
    let map = state.try_write(move |app| app.create_map(&business, &name, template, &by)).await?;
    Ok(see_other(&format!("/b/{id}/maps/{}", map.id)))
}
