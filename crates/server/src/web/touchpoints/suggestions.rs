//! The touchpoints suggested from the business's data, in one list: one per traffic channel seen,
//! key pages found in page paths, email events, offline kinds, referral links and surveys asked at
//! no touchpoint, each with its volume and the customers behind it. Editors accept one (it becomes
//! a touchpoint on its default stage, placed on the maps showing that stage), accept all, or
//! dismiss one (kept dismissed).

use crate::auth::{self, PageForm, SignedIn, author, require_edit};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::analysis::{MAX_GROUP_LINKED_CUSTOMERS, customers_href_up_to};
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, Query, State};
use maud::html;
use serde::Deserialize;
use trailmap_model::BusinessId;

/// `?accepted=N&dismissed=N`: what the last choice did, said once at the top.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    pub accepted: Option<String>,
    pub dismissed: Option<usize>,
}

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(done): Query<Done>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let can_edit = membership.role.can_edit();
    let b = membership.business.clone();
    let found = state.try_read(move |app| app.touchpoint_suggestions(&b)).await?;
    let content = html! {
        div class="page-head" { h1 { "Suggested touchpoints" } }
        (super::subnav(id, can_edit))
        @if let Some(names) = &done.accepted { p class="notice" data-testid="accepted" { "Added " (names) "." } }
        @if let Some(n) = done.dismissed { p class="notice" data-testid="dismissed" { "Dismissed " (n) "; it will not be suggested again." } }
        p class="muted" {
            "From the " (found.events) " events " (found.business) " has received: the channels they came from, key pages, email, "
            "offline touchpoints, referral links and surveys. Accepting one makes it a touchpoint on its stage; a dismissed one is not suggested again"
            @if found.dismissed > 0 { " (" (found.dismissed) " dismissed so far)" } "."
        }
        @if found.suggestions.is_empty() {
            p class="muted" data-testid="no-suggestions" { "Nothing to suggest: every channel, page and offline kind in the data already has a touchpoint, or was dismissed." }
        } @else {
            @if can_edit {
                form class="inline" method="post" action={ "/b/" (id) "/touchpoints/suggestions" } {
                    (csrf_field(&signed.csrf))
                    input type="hidden" name="action" value="accept_all";
                    button type="submit" class="secondary" data-testid="accept-all" { "Accept all " (found.suggestions.len()) }
                }
            }
            div class="table-wrap" {
                table data-testid="suggestions" {
                    thead { tr {
                        th { "Touchpoint" } th { "Channel" } th { "Stage" } th { "Rule" } th class="num" { "Volume" } th class="num" { "Customers (n)" } th { "Why" }
                        @if can_edit { th {} }
                    } }
                    tbody {
                        @for s in &found.suggestions {
                            tr data-key=(s.key) {
                                td { strong { (s.name) } br; span class="muted" { (format!("{:?}", s.kind).to_lowercase()) } }
                                td { (s.channel) }
                                td { (s.stage.as_deref().unwrap_or("–")) }
                                td { @if s.rule.is_empty() { span class="muted" { "none (survey answers)" } } @else { code { (s.rule) } } }
                                td class="num" data-testid="volume" data-volume=(s.volume) { (s.volume_in_words()) }
                                td class="num" {
                                    @match customers_href_up_to(BusinessId(id), &s.customers.customers, MAX_GROUP_LINKED_CUSTOMERS) {
                                        Some(href) => a href=(href) { (s.customers.n) },
                                        None => (s.customers.n),
                                    }
                                }
                                td class="muted" { (s.why) }
                                @if can_edit {
                                    td class="actions" {
                                        form class="inline" method="post" action={ "/b/" (id) "/touchpoints/suggestions" } {
                                            (csrf_field(&signed.csrf))
                                            input type="hidden" name="key" value=(s.key);
                                            button type="submit" name="action" value="accept" data-testid="accept" { "Accept" }
                                            button type="submit" name="action" value="dismiss" class="secondary" data-testid="dismiss" { "Dismiss" }
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
    Ok(html_response(page(&nav, "Suggested touchpoints", content)))
}

/// `action=accept|dismiss` with `key`, or `action=accept_all`.
#[derive(Debug, Default, Deserialize)]
pub struct ChoiceForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub key: String,
}

pub async fn choose(State(state): State<ServerState>, Path(id): Path<i64>, posted: PageForm<ChoiceForm>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let by = author(&posted.user.user);
    let key = posted.form.key.clone();
    let back = format!("/b/{id}/touchpoints/suggestions");
    match posted.form.action.as_str() {
        "accept" | "accept_all" => {
            let keys = if posted.form.action == "accept" { vec![key] } else { Vec::new() };
            if keys.iter().any(|k| k.trim().is_empty()) {
                return Err(ApiError::invalid_input("key: name the suggestion to accept").into());
            }
            let made = state.try_write(move |app| app.accept_touchpoint_suggestions(&business, &keys, &by)).await?;
            let names = made.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ");
            let query = form_urlencoded::Serializer::new(String::new()).append_pair("accepted", &names).finish();
            Ok(see_other(&format!("{back}?{query}")))
        }
        "dismiss" => {
            state.try_write(move |app| app.choose_touchpoint_suggestions(&business, &[], &[key], &by)).await?;
            Ok(see_other(&format!("{back}?dismissed=1")))
        }
        other => Err(ApiError::invalid_input(format!("action: {other:?} is not accept, accept_all or dismiss")).into()),
    }
}
