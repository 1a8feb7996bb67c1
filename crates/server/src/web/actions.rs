//! The action board page (`/b/{id}/actions`): every action card across the business's maps in
//! one table, with the pain point it answers, its owner and due day, its status (overdue ones
//! flagged: past due and not done, today in the business's time zone), and the change it led to
//! with that change's verdict and n. Filters (status, owner, map) and the sort are a GET form
//! and column links read by the app's `ActionsRequest`, as the API's query is.

use crate::auth::{self, SignedIn};
use crate::state::ServerState;
use crate::web::{PageResult, html_response};
use crate::web::layout::{Nav, page};
use axum::extract::{Path, RawQuery, State};
use maud::html;
use trailmap_app::actions::{ActionStatus, ActionsRequest};
use trailmap_app::query::{FromParams, Params};
use trailmap_model::BusinessId;

/// GET `/b/{id}/actions`.
pub async fn board(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, RawQuery(raw): RawQuery) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let params = Params::parse(raw.as_deref());
    let request = ActionsRequest::from_params(&params)?;
    let b = membership.business.clone();
    let now = auth::now();
    let (board, maps) = state
        .try_read(move |app| {
            let board = app.action_board(&b, &request, now)?;
            let maps = app.journey_maps(&b, board.today)?.into_iter().map(|m| (m.id.0, m.name)).collect::<Vec<_>>();
            Ok((board, maps))
        })
        .await?;
    let chosen = |name: &str| params.get(name).unwrap_or("").to_string();
    let sort_href = |sort: &str| {
        let mut kept: Vec<(String, String)> = params.0.iter().filter(|(k, _)| k != "sort").cloned().collect();
        kept.push(("sort".into(), sort.into()));
        format!("/b/{id}/actions?{}", form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish())
    };
    let content = html! {
        div class="page-head" { h1 { "Actions" } }
        p class="muted" data-testid="action-counts" {
            (crate::web::analysis::counted(board.total, "action card")) " across the maps (n): " (board.open) " open, " (board.overdue) " overdue, " (board.done) " done, on "
            (board.today) " (" (board.time_zone) "). An action is overdue when its due day has passed and it is not done."
        }
        form method="get" action={ "/b/" (id) "/actions" } class="inline" data-testid="action-filters" {
            label { "Status" select name="status" {
                option value="" { "(any)" }
                @for s in ActionStatus::NAMES { option value=(s) selected[chosen("status") == s] { (s) } }
            } }
            label { "Owner" select name="owner" {
                option value="" { "(anyone)" }
                @for o in &board.owners { option value=(o) selected[chosen("owner").eq_ignore_ascii_case(o)] { (o) } }
            } }
            label { "Map" select name="map" {
                option value="" { "(all maps)" }
                @for (map_id, name) in &maps { option value=(map_id) selected[chosen("map") == map_id.to_string()] { (name) } }
            } }
            @if let Some(sort) = params.get("sort") { input type="hidden" name="sort" value=(sort); }
            button type="submit" class="secondary" { "Show" }
        }
        @if board.items.is_empty() {
            p class="muted" data-testid="no-actions" {
                @if board.total == 0 { "No action yet: turn a pain point into an opportunity on a map, then give it an owner and a due day." }
                @else { "No action matches these filters." }
            }
        } @else {
            div class="table-wrap" tabindex="0" role="region" aria-label="Actions (scrolls sideways)" {
                table data-testid="actions" {
                    thead { tr {
                        th { a href=(sort_href("map")) { "Map" } }
                        th { "Action" }
                        th { "Answers (pain point)" }
                        th { a href=(sort_href("owner")) { "Owner" } }
                        th { a href=(sort_href("due")) { "Due" } }
                        th { a href=(sort_href("status")) { "Status" } }
                        th { "Change and verdict" }
                    } }
                    tbody {
                        @for a in &board.items {
                            tr data-card=(a.card) data-status=(a.status.as_str()) class=[a.overdue.then_some("overdue")] {
                                td { a href={ "/b/" (id) "/maps/" (a.map.0) } { (a.map_name) } br; span class="muted" { (a.stage) } }
                                td { (a.text) @if let Some(k) = &a.kpi { br; span class="muted" { "KPI: " (k) } } }
                                td { @if let Some(p) = &a.from { (p.text) } @else { span class="muted" { "–" } } }
                                td { (a.owner) }
                                td { (a.due.map(|d| d.to_string()).unwrap_or_else(|| "–".into())) }
                                td { @if a.overdue { strong class="overdue-flag" { "Overdue" } } @else { (a.status.as_str()) } }
                                td {
                                    @if let Some(c) = &a.change {
                                        a href={ "/b/" (id) "/changes/" (c.id.0) } { (c.title.clone().unwrap_or_else(|| format!("change {}", c.id.0))) }
                                        @if let Some(v) = &c.verdict { br; (v) }
                                        @if let (Some(before), Some(after)) = (c.n_before, c.n_after) {
                                            br; span class="muted" { "n = " (before) " before, " (after) " after (" (c.n_means.clone().unwrap_or_default()) ")" }
                                        }
                                        @if let Some(note) = &c.note { br; span class="muted" { (note) } }
                                    } @else { span class="muted" { "no change yet" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(html_response(page(&nav, "Actions", content)))
}
