//! The personas page: one card per persona of the business (initials or photo, demographics,
//! goals, frustrations, behaviours, quote), its segment rule in words and how many customers it
//! covers, with a link to the first thousand of them.

use crate::auth::{self, SignedIn};
use crate::state::ServerState;
use crate::web::analysis::{MAX_GROUP_LINKED_CUSTOMERS, customers_href_up_to};
use crate::web::layout::{Nav, page};
use crate::web::{PageResult, html_response};
use axum::extract::{Path, State};
use maud::{Markup, html};
use trailmap_app::PersonaCoverage;
use trailmap_app::touchpoints::customer_rule_in_words;
use trailmap_model::{BusinessId, Persona};

/// Up to two letters from the name's words, for the avatar.
pub fn initials(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().find(|c| c.is_alphanumeric())).take(2).flat_map(char::to_uppercase).collect()
}

fn list(title: &str, items: &[String]) -> Markup {
    html! {
        @if !items.is_empty() {
            h3 { (title) }
            ul { @for item in items { li { (item) } } }
        }
    }
}

fn card(business: BusinessId, persona: &Persona, coverage: Option<&PersonaCoverage>) -> Markup {
    let href = coverage.and_then(|c| customers_href_up_to(business, &c.customers, MAX_GROUP_LINKED_CUSTOMERS));
    html! {
        article class="card persona" data-testid="persona" data-persona=(persona.id.0) {
            div class="persona-head" {
                @match &persona.photo {
                    Some(photo) => img class="avatar" src=(photo) alt={ "Photo of " (persona.name) } width="56" height="56";,
                    None => span class="avatar initials" aria-hidden="true" { (initials(&persona.name)) },
                }
                h2 { (persona.name) }
            }
            @if !persona.demographics.is_empty() {
                dl class="demographics" { @for (key, value) in &persona.demographics { dt { (key) } dd { (value) } } }
            }
            @if let Some(quote) = &persona.quote { blockquote { "“" (quote) "”" } }
            (list("Goals", &persona.goals))
            (list("Frustrations", &persona.frustrations))
            (list("Behaviours", &persona.behaviours))
            p class="rule" { "Segment: " (persona.segment.as_ref().map_or_else(|| "no rule yet (covers nobody)".to_string(), customer_rule_in_words)) }
            p class="coverage" data-testid="coverage" {
                @match coverage {
                    Some(c) if c.n > 0 => {
                        "Covers "
                        a href=[href.as_deref()] { span data-testid="coverage-n" { (c.n) } " customers" }
                        @if c.n > MAX_GROUP_LINKED_CUSTOMERS { " (the link lists the first " (MAX_GROUP_LINKED_CUSTOMERS) ")" }
                    }
                    _ => { "Covers " span data-testid="coverage-n" { "0" } " customers" }
                }
            }
        }
    }
}

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let b = membership.business.clone();
    let (personas, coverage, not_counted) = state
        .try_read(move |app| app.personas_with_coverage(&b))
        .await?;
    let content = html! {
        div class="page-head" { h1 { "Personas" } }
        @if personas.is_empty() {
            p class="muted" data-testid="no-personas" { "No personas yet." }
        } @else {
            @if let Some(reason) = &not_counted { p class="muted" data-testid="not-counted" { "Coverage not counted: " (reason) "." } }
            p class="muted" { "Each customer belongs to the first persona whose segment rule matches them." }
            div class="persona-cards" {
                @for p in &personas { (card(membership.business.id, p, coverage.iter().find(|c| c.persona == p.id))) }
            }
        }
    };
    Ok(html_response(page(&nav, "Personas", content)))
}
