//! The customers behind a funnel's count, a page at a time: `GET
//! /b/{id}/analysis/funnel/customers` takes the funnel's parameters and `customers_at` (the step),
//! `customers_who=dropped`, `customers_group`, `limit` and `offset`, read by the app's typed
//! funnel request, and lists that page of customers with links to the previous and next pages.
//! The funnel page links each step's count (and each drop) here.

use super::Query;
use crate::auth::{self, SignedIn};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::PageResult;
use crate::web::dashboard::customer_table;
use crate::web::html_response;
use crate::web::layout::{Nav, page};
use axum::extract::{Path, RawQuery, State};
use maud::html;
use trailmap_app::{FromParams, FunnelRequest};
use trailmap_model::BusinessId;

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, RawQuery(raw): RawQuery) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let query = Query::parse(raw.as_deref());
    let request = FunnelRequest::from_params(&query)?;
    if request.customers.is_none() {
        return Err(ApiError::bad_request("invalid_input", "customers_at: name the step whose customers to list (1 for the first)").into());
    }
    let business = membership.business.clone();
    // A business without events has no funnel yet: its page says so (as the funnel page does)
    // rather than refusing the steps it cannot have.
    let counted = business.clone();
    if state.try_read(move |app| Ok(app.summary(&counted)?.events)).await? == 0 {
        let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
        let content = html! {
            h1 { "Funnel customers" }
            p class="muted" data-testid="customer-count" { "No customers: this business has no events yet, so no funnel step has any. "
                a href={ "/b/" (id) "/analysis/funnel" } { "Back to the funnel" } }
        };
        return Ok(html_response(page(&nav, "Funnel customers", content)));
    }
    let (answer, listed) = state
        .try_read(move |app| {
            let answer = app.funnel(&business, &request)?;
            let ids = answer.customers.as_ref().map_or(&[][..], |p| &p.customers[..]);
            let listed = app.customers_by_id(&business, ids, ids.len())?;
            Ok::<_, trailmap_app::AppError>((answer, listed))
        })
        .await?;
    let Some(shown) = answer.customers else {
        return Err(ApiError::internal("the funnel answered without the customers asked for").into());
    };
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let what = if shown.dropped { "dropping at" } else { "reaching" };
    let group = shown.group.as_ref().map(|g| format!(" ({g})")).unwrap_or_default();
    let title = format!("Customers {what} step {}: {}{group}", shown.step, shown.label);
    // Another page is the same query with another offset.
    let page_href = |offset: usize| {
        let mut params = query.clone();
        params.0.retain(|(k, _)| k != "offset" && k != "format");
        params.0.push(("offset".to_string(), offset.to_string()));
        format!("/b/{id}/analysis/funnel/customers?{}", params.with_format(None))
    };
    let end = shown.offset + shown.customers.len();
    let previous = (shown.offset > 0).then(|| page_href(shown.offset.saturating_sub(shown.limit)));
    let next = (end < shown.total).then(|| page_href(end));
    let mut back = query.clone();
    back.0.retain(|(k, _)| !["customers_at", "customers_who", "customers_group", "limit", "offset"].contains(&k.as_str()));
    let content = html! {
        h1 { (title) }
        p class="muted" data-testid="customer-count" {
            (shown.total) " customers"
            @if shown.customers.is_empty() && shown.total > 0 { "; none from " (shown.offset + 1) }
            @else if shown.total > 0 { "; " (shown.offset + 1) " to " (end) " listed" }
            ". "
            a href={ "/b/" (id) "/analysis/funnel?" (back.with_format(None)) } { "Back to the funnel" }
        }
        (customer_table(id, &listed))
        nav class="pages" data-testid="customer-pages" {
            @if let Some(href) = &previous { a href=(href) rel="prev" data-testid="previous-page" { "Previous " (shown.limit) } " " }
            @if let Some(href) = &next { a href=(href) rel="next" data-testid="next-page" { "Next " (shown.limit.min(shown.total - end)) } }
        }
    };
    Ok(html_response(page(&nav, "Funnel customers", content)))
}
