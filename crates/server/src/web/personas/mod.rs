//! The personas pages. This module: the board, one card per persona of the business (photo or
//! initials, demographics, quote, goals, frustrations, behaviours), its segment rule as text and in
//! words, and its real coverage: the customers it covers out of all the business's customers, the
//! customers its rule matches, and which earlier personas took the rest (how overlaps are
//! resolved is said on the page), each count linking to the customers behind it. `form` makes and
//! edits cards (plain forms, a rule built from rows or typed as text, a live count);
//! `suggestions` proposes personas from behaviour clusters to start a card from.

pub mod form;
pub mod suggestions;

use crate::auth::{self, SignedIn};
use crate::personas::{customer_facts, photo_path};
use crate::state::ServerState;
use crate::web::analysis::{MAX_GROUP_LINKED_CUSTOMERS, customers_href_up_to};
use crate::web::layout::{Nav, page};
use crate::web::{PageResult, html_response};
use axum::extract::{Path, State};
use maud::{Markup, html};
use trailmap_app::CustomerCount;
use trailmap_app::personas::PersonaCard;
use trailmap_model::BusinessId;

fn list(title: &str, items: &[String]) -> Markup {
    html! {
        @if !items.is_empty() {
            h3 { (title) }
            ul { @for item in items { li { (item) } } }
        }
    }
}

/// `n` customers, linked to them when there are any.
pub(crate) fn customers_link(business: BusinessId, count: &CustomerCount, testid: &str) -> Markup {
    let href = customers_href_up_to(business, &count.customers, MAX_GROUP_LINKED_CUSTOMERS);
    html! {
        @match href {
            Some(href) => a href=(href) { span data-testid=(testid) { (count.n) } " customer" @if count.n != 1 { "s" } },
            None => { span data-testid=(testid) { (count.n) } " customers" },
        }
    }
}

/// The photo, or the initials in a circle.
pub(crate) fn avatar(business: BusinessId, card: &PersonaCard) -> Markup {
    html! {
        @if card.has_photo {
            img class="avatar" src=(photo_path(business, card.id)) alt={ "Photo of " (card.name) } width="64" height="64" data-testid="photo";
        } @else {
            span class="avatar initials" aria-hidden="true" data-testid="initials" { (card.initials) }
        }
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn card(business: BusinessId, persona: &PersonaCard, customers: usize, can_edit: bool) -> Markup {
    html! {
        article class="card persona" id={ "persona-" (persona.id) } data-testid="persona" data-persona=(persona.id.0) {
            div class="persona-head" {
                (avatar(business, persona))
                div {
                    h2 { (persona.name) }
                    span class="muted rank" title="The order overlapping rules are resolved in" { (ordinal(persona.rank)) " in order" }
                }
                @if can_edit {
                    a class="edit" href={ "/b/" (business) "/personas/" (persona.id) "/edit" } data-testid="edit" { "Edit" }
                }
            }
            @if !persona.demographics.is_empty() {
                dl class="demographics" { @for d in &persona.demographics { dt { (d.label) } dd { (d.value) } } }
            }
            @if let Some(quote) = &persona.quote { blockquote { "“" (quote) "”" } }
            (list("Goals", &persona.goals))
            (list("Frustrations", &persona.frustrations))
            (list("Behaviours", &persona.behaviours))
            div class="segment" {
                h3 { "Segment" }
                @match &persona.rule {
                    Some(rule) => {
                        code data-testid="rule" { (rule) }
                        p class="muted" { (persona.rule_in_words) }
                    }
                    None => p class="muted" data-testid="rule" { "No rule yet: it covers nobody until it has one." },
                }
                p class="coverage" data-testid="coverage" {
                    "Covers " (customers_link(business, &persona.covers, "coverage-n")) " of " (customers) "."
                    @if persona.covers.n > MAX_GROUP_LINKED_CUSTOMERS { " (The link lists the first " (MAX_GROUP_LINKED_CUSTOMERS) ".)" }
                }
                @if !persona.counted_earlier.is_empty() {
                    p class="muted" data-testid="overlap" {
                        "Its rule matches " (customers_link(business, &persona.matches, "matches-n")) "; "
                        @for (k, o) in persona.counted_earlier.iter().enumerate() {
                            @if k > 0 { ", " }
                            (customers_link(business, &CustomerCount { n: o.n, customers: o.customers.clone() }, "overlap-n"))
                            " count for " strong { (o.name) }
                        }
                        ", which comes first."
                    }
                }
            }
        }
    }
}

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let can_edit = membership.role.can_edit();
    let b = membership.business.clone();
    let facts = customer_facts(&state, &b).await?;
    let board = state.try_read(move |app| app.persona_board_with(&b, &facts)).await?;
    let business = membership.business.id;
    let content = html! {
        div class="page-head" {
            h1 { "Personas" }
            @if can_edit {
                div class="actions" {
                    a class="button" href={ "/b/" (id) "/personas/new" } data-testid="new-persona" { "New persona" }
                    a class="button secondary" href={ "/b/" (id) "/personas/suggestions" } data-testid="suggest" { "Suggest from data" }
                }
            }
        }
        @if board.personas.is_empty() {
            p class="muted" data-testid="no-personas" {
                "No personas yet. "
                @if can_edit { "Make one with a rule over your customers, or start from one suggested by their behaviour." }
            }
        } @else {
            p class="muted" data-testid="precedence" { (board.precedence) }
            p data-testid="board-summary" {
                (board.customers) " customers; "
                (board.customers - board.unassigned.n) " covered by a persona, "
                (customers_link(business, &board.unassigned, "unassigned-n")) " by none."
            }
            div class="persona-cards" {
                @for p in &board.personas { (card(business, p, board.customers, can_edit)) }
            }
        }
    };
    Ok(html_response(page(&nav, "Personas", content)))
}
