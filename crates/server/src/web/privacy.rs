//! A customer's data on their request, in the customer page, for owners: a download of everything
//! held about them (`trailmap.customer-export` JSON) and their erasure, behind a confirmation box.
//! Editors and viewers do not see the section, and the routes answer them 403: handing over or
//! deleting a person's data is the owner's decision. The same as `trailmap customer` and the API.

use crate::auth::{self, PageForm, SignedIn, require_manage};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::downloads::download;
use crate::web::layout::{Nav, page};
use crate::web::{PageResult, html_response};
use axum::extract::{Path, State};
use maud::{Markup, html};
use serde::Deserialize;
use trailmap_model::{BusinessId, CustomerId, Role};

/// The customer page's privacy section (owners only; nothing for other roles).
pub fn section(business: BusinessId, customer: CustomerId, role: Role, csrf: &str) -> Markup {
    if !role.can_manage() {
        return html! {};
    }
    html! {
        section class="privacy" data-testid="privacy" {
            h2 { "This customer's data" }
            p class="muted" { "On their request: everything Trailmap holds about them, or its erasure everywhere (events, orders, survey answers, feedback, identities). An erased person's records are refused if an old file is imported again." }
            p { a href={ "/b/" (business) "/customers/" (customer) "/export" } data-testid="export-customer" { "Download their data (JSON)" } }
            form method="post" action={ "/b/" (business) "/customers/" (customer) "/erase" } data-testid="erase-customer" {
                input type="hidden" name="csrf" value=(csrf);
                label class="check" { input type="checkbox" name="confirm" value="yes" required; " Yes, erase this customer everywhere; this cannot be undone" }
                button type="submit" class="danger" { "Erase customer" }
            }
        }
    }
}

/// GET `/b/{id}/customers/{customer}/export`: the document, as a download.
pub async fn export(State(state): State<ServerState>, signed: SignedIn, Path((id, customer)): Path<(i64, i64)>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    require_manage(membership.role)?;
    let (business, now) = (membership.business, auth::now());
    let export = state.try_read(move |app| app.export_customer(&business, CustomerId(customer), now)).await?;
    let body = serde_json::to_vec_pretty(&export).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(download("application/json", format!("customer-{customer}.json"), body))
}

#[derive(Debug, Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    confirm: String,
}

/// POST `/b/{id}/customers/{customer}/erase`: erases them once the box is ticked, and says what was removed.
pub async fn erase(State(state): State<ServerState>, Path((id, customer)): Path<(i64, i64)>, posted: PageForm<EraseForm>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_manage(membership.role)?;
    if posted.form.confirm != "yes" {
        return Err(ApiError::invalid_input("confirm: tick the box to erase this customer; nothing was erased").into());
    }
    let nav = Nav::load(&state, &posted.user, Some(membership.business.id)).await?;
    let (business, now) = (membership.business, auth::now());
    let summary = state.try_write(move |app| app.erase_customer(&business, CustomerId(customer), now)).await?;
    let content = html! {
        h1 { "Customer erased" }
        p data-testid="erased" {
            "Removed " (summary.events) " events, " (summary.orders) " orders, " (summary.survey_responses) " survey answers, "
            (summary.feedback) " pieces of feedback and " (summary.identities) " identities of " (summary.customers) " customer record(s). "
            "Only the count is kept; their records are refused if imported again."
        }
        p { a href={ "/b/" (id) "/customers" } { "Back to the customers" } }
    };
    Ok(html_response(page(&nav, "Customer erased", content)))
}
