//! The user's businesses in one list with their role (what an agency works from), creating a
//! business, renaming one (owners), and `/`, which opens the business used last (or the first).

use crate::auth::{self, LAST_BUSINESS_COOKIE, PageForm, SignedIn, require_manage};
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use maud::html;
use serde::Deserialize;
use trailmap_model::BusinessId;

/// `/`: the business opened last if the user still belongs to it, else the first, else the list.
pub async fn root(State(state): State<ServerState>, headers: HeaderMap, signed: Result<SignedIn, axum::response::Response>) -> PageResult {
    let signed = match signed {
        Ok(s) => s,
        Err(_) if state.try_read(|app| app.user_count()).await? == 0 => return Ok(see_other("/setup")),
        Err(redirect) => return Ok(redirect),
    };
    let user = signed.user.id;
    let memberships = state.try_read(move |app| app.memberships(user)).await?;
    let last = auth::cookie_value(&headers, LAST_BUSINESS_COOKIE).and_then(|v| v.parse::<i64>().ok());
    let chosen = memberships.iter().find(|m| Some(m.business.id.0) == last).or(memberships.first());
    Ok(match chosen {
        Some(m) => see_other(&format!("/b/{}/", m.business.id)),
        None => see_other("/businesses"),
    })
}

pub async fn list(State(state): State<ServerState>, signed: SignedIn) -> PageResult {
    let nav = Nav::load(&state, &signed, None).await?;
    let content = html! {
        h1 { "Businesses" }
        @if nav.memberships.is_empty() {
            p class="muted" { "You do not belong to any business yet. Create one, or ask an owner for an invitation link." }
        } @else {
            div class="table-wrap" {
                table data-testid="businesses" {
                    thead { tr { th { "Business" } th { "Your role" } th { "Currency" } th {} } }
                    tbody {
                        @for m in &nav.memberships {
                            tr {
                                td { a href={ "/b/" (m.business.id) "/" } { (m.business.name) } }
                                td { (m.role) }
                                td { (m.business.currency) }
                                td {
                                    @if m.role.can_manage() {
                                        form class="inline" method="post" action={ "/businesses/" (m.business.id) "/rename" } {
                                            (csrf_field(&nav.csrf))
                                            input type="text" name="name" value=(m.business.name) aria-label="New name" required;
                                            button type="submit" class="secondary" { "Rename" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Create a business" }
        form class="inline card" method="post" action="/businesses" {
            (csrf_field(&nav.csrf))
            input type="text" name="name" placeholder="Name" aria-label="Name" required;
            input type="text" name="currency" value="USD" size="4" aria-label="Currency (ISO 4217)";
            input type="text" name="timezone" value="UTC" aria-label="Time zone (IANA)";
            button type="submit" { "Create" }
        }
    };
    Ok(html_response(page(&nav, "Businesses", content)))
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    pub name: String,
    pub currency: Option<String>,
    pub timezone: Option<String>,
}

pub async fn create(State(state): State<ServerState>, posted: PageForm<CreateForm>) -> PageResult {
    let user = posted.user.user.id;
    let CreateForm { name, currency, timezone } = posted.form;
    let currency = currency.filter(|c| !c.trim().is_empty()).unwrap_or_else(|| "USD".into());
    let timezone = timezone.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| "UTC".into());
    let business = state.try_write(move |app| app.create_business_owned(user, name.trim(), currency.trim(), timezone.trim())).await?;
    Ok(see_other(&format!("/b/{}/", business.id)))
}

#[derive(Debug, Deserialize)]
pub struct RenameForm {
    pub name: String,
}

pub async fn rename(State(state): State<ServerState>, Path(id): Path<i64>, posted: PageForm<RenameForm>) -> PageResult {
    let business = BusinessId(id);
    let membership = auth::membership(&state, posted.user.user.id, business).await?;
    require_manage(membership.role)?;
    let name = posted.form.name;
    state.try_write(move |app| app.rename_business(business, name.trim())).await?;
    Ok(see_other("/businesses"))
}
