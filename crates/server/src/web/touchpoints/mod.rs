//! The touchpoints pages. This module: the catalogue, the business's touchpoints in its own order,
//! each with its channel, stage, rule (as typed and in words), the events and customers it matched
//! in the chosen period and the map stages it sits on; editors move them up and down, edit and
//! delete them from here. `form` is the new/edit form with the live preview of a rule, and
//! `suggestions` the touchpoints proposed from the data, to accept or dismiss.

pub mod form;
pub mod suggestions;

use crate::auth::{self, PageForm, SignedIn, author, require_edit};
use crate::state::ServerState;
use crate::web::analysis::{MAX_GROUP_LINKED_CUSTOMERS, customers_href_up_to};
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::keys::Empty;
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, Query, State};
use maud::html;
use serde::Deserialize;
use trailmap_model::{BusinessId, TouchpointId};

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`, both days included; neither: all time.
use trailmap_app::query::CustomersQuery as PeriodQuery;

/// The links a touchpoints page shows under its title.
fn subnav(id: i64, can_edit: bool) -> maud::Markup {
    html! {
        p class="map-links" {
            a href={ "/b/" (id) "/touchpoints" } { "All touchpoints" }
            @if can_edit { a href={ "/b/" (id) "/touchpoints/new" } data-testid="new-touchpoint" { "New touchpoint" } }
            a href={ "/b/" (id) "/touchpoints/suggestions" } data-testid="suggestions-link" { "Suggestions from your data" }
        }
    }
}

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(query): Query<PeriodQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let can_edit = membership.role.can_edit();
    let b = membership.business.clone();
    let asked = query.clone();
    let catalogue = state
        .try_read(move |app| {
            // The maps' numbers form reads dates the same way (`day_span`), so both pages agree.
            let period = asked.span()?;
            app.touchpoint_catalogue(&b, period)
        })
        .await?;
    let last = catalogue.touchpoints.len();
    let content = html! {
        div class="page-head" { h1 { "Touchpoints" } }
        (subnav(id, can_edit))
        form class="inline" method="get" action={ "/b/" (id) "/touchpoints" } data-testid="period-form" {
            label { "From " input type="date" name="from" value=(query.from.clone().unwrap_or_default()); }
            label { "To " input type="date" name="to" value=(query.to.clone().unwrap_or_default()); }
            button type="submit" class="secondary" { "Count" }
        }
        p class="muted" data-testid="period" {
            @match catalogue.period {
                Some((from, to)) => { "Events from " (from.to_rfc3339()) " up to " (to.to_rfc3339()) "." }
                None => { "All events." }
            }
        }
        @if catalogue.touchpoints.is_empty() {
            p class="muted" data-testid="no-touchpoints" {
                "No touchpoints yet. "
                @if can_edit { a href={ "/b/" (id) "/touchpoints/new" } { "Make one" } " or " }
                a href={ "/b/" (id) "/touchpoints/suggestions" } { "see what your data suggests" } "."
            }
        } @else {
            div class="table-wrap" {
                table data-testid="touchpoints" {
                    thead { tr {
                        th class="num" { "#" } th { "Touchpoint" } th { "Channel" } th { "Stage" } th { "Rule" }
                        th class="num" { "Events" } th class="num" { "Customers (n)" } th { "On maps" }
                        @if can_edit { th { "Arrange" } }
                    } }
                    tbody {
                        @for t in &catalogue.touchpoints {
                            tr data-touchpoint=(t.touchpoint.0) data-name=(t.name) {
                                td class="num" { (t.position) }
                                td { strong { (t.name) } @if !t.description.is_empty() { br; span class="muted" { (t.description) } } }
                                td { (t.channel) }
                                td { (t.stage.as_deref().unwrap_or("–")) }
                                td {
                                    @if t.rule_text.is_empty() { span class="muted" { "no rule" } } @else { code data-testid="rule" { (t.rule_text) } }
                                    br; span class="muted" { (t.rule) }
                                }
                                td class="num" data-testid="events" { (t.events) }
                                td class="num" data-testid="customers" {
                                    @match customers_href_up_to(BusinessId(id), &t.customers.customers, MAX_GROUP_LINKED_CUSTOMERS) {
                                        Some(href) => a href=(href) { (t.customers.n) },
                                        None => (t.customers.n),
                                    }
                                }
                                td {
                                    @for (i, p) in t.placements.iter().enumerate() {
                                        @if i > 0 { ", " }
                                        a href={ "/b/" (id) "/maps/" (p.map) } { (p.map_name) } " / " (p.stage)
                                    }
                                }
                                @if can_edit {
                                    td class="actions" {
                                        a href={ "/b/" (id) "/touchpoints/" (t.touchpoint.0) "/edit" } data-testid="edit" { "Edit" }
                                        @for (label, to, title) in [("↑", t.position.saturating_sub(1), "Move up"), ("↓", t.position + 1, "Move down")] {
                                            @if to >= 1 && to <= last {
                                                form class="inline" method="post" action={ "/b/" (id) "/touchpoints/" (t.touchpoint.0) "/move" } {
                                                    (csrf_field(&signed.csrf))
                                                    input type="hidden" name="position" value=(to);
                                                    button type="submit" class="secondary move" title=(title) aria-label={ (title) ": " (t.name) } { (label) }
                                                }
                                            }
                                        }
                                        form class="inline" method="post" action={ "/b/" (id) "/touchpoints/" (t.touchpoint.0) "/delete" }
                                            data-confirm={ "Delete the touchpoint " (t.name) "? It is taken off every map." } {
                                            (csrf_field(&signed.csrf))
                                            button type="submit" class="danger" data-testid="delete" { "Delete" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(html_response(page(&nav, "Touchpoints", content)))
}

/// `position=N` (1-based) from the arrows.
#[derive(Debug, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    pub position: String,
}

/// Moves a touchpoint to the position posted, then back to the list.
pub async fn move_one(State(state): State<ServerState>, Path((id, touchpoint)): Path<(i64, i64)>, posted: PageForm<MoveForm>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let by = author(&posted.user.user);
    let position = posted.form.position.trim().parse::<usize>().map_err(|_| {
        crate::error::ApiError::invalid_input(format!("position: {:?} is not a whole number from 1", posted.form.position))
    })?;
    state
        .try_write(move |app| {
            let edit = trailmap_app::touchpoint_edits::TouchpointEdit { position: Some(position), ..Default::default() };
            app.edit_touchpoint(&business, TouchpointId(touchpoint), &edit, &by)
        })
        .await?;
    Ok(see_other(&format!("/b/{id}/touchpoints")))
}

/// Deletes a touchpoint (off every map); a refusal (a change or survey records it) shows its reason.
pub async fn delete(State(state): State<ServerState>, Path((id, touchpoint)): Path<(i64, i64)>, posted: PageForm<Empty>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let by = author(&posted.user.user);
    state.try_write(move |app| app.delete_touchpoint(&business, TouchpointId(touchpoint), &by)).await?;
    Ok(see_other(&format!("/b/{id}/touchpoints")))
}
