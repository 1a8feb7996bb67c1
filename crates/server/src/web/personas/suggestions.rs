//! Personas suggested from data: `/b/{id}/personas/suggestions` clusters the customers with an
//! order by behaviour (the app's seeded k-means, as `trailmap personas suggest`), and shows each
//! cluster with its customers, its description and the segment rule that approximates it, with a
//! link that starts a new persona card from it (`/b/{id}/personas/new?suggestion=N&k=K&seed=S`,
//! the same clustering again, so the card gets that cluster). Editors only: it leads to a form.

use super::customers_link;
use crate::auth::{self, SignedIn, require_edit};
use crate::personas::SuggestionsQuery;
use crate::state::ServerState;
use crate::web::layout::{Nav, page};
use crate::web::{PageResult, html_response};
use axum::extract::{Path, Query, State};
use maud::html;
use trailmap_app::{AppError, CustomerCount};
use trailmap_model::BusinessId;

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(query): Query<SuggestionsQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let b = membership.business.clone();
    let asked = query.clone();
    // A business without enough orders to cluster gets the reason on the page, not an error page.
    let report = state
        .try_read(move |app| match app.suggest_personas(&b, &asked.request(app)?) {
            Ok(report) => Ok(Ok(report)),
            Err(AppError::Invalid(reason)) => Ok(Err(reason)),
            Err(other) => Err(other),
        })
        .await?;
    let business = membership.business.id;
    let content = html! {
        p { a href={ "/b/" (id) "/personas" } { "← Personas" } }
        h1 { "Suggested personas" }
        p class="muted" { "Customers with an order, grouped by how they buy (orders, spend per order, recency, tenure, items per order, channels). Start a card from a group, then give it a face and words." }
        form class="inline" method="get" action={ "/b/" (id) "/personas/suggestions" } {
            label { "Groups " input name="k" size="3" value=(query.k.clone().unwrap_or_default()) placeholder="auto"; }
            label { "Seed " input name="seed" size="5" value=(query.seed.clone().unwrap_or_default()) placeholder="42"; }
            button type="submit" class="secondary" { "Group again" }
        }
        @match &report {
            Err(reason) => p class="muted" data-testid="no-suggestions" { "No suggestions yet: " (reason) "." },
            Ok(report) => {
                p class="muted" { (report.customers) " customers with an order, " (report.k) " groups (" (report.k_rule) ", seed " (report.seed) ")." }
                ol class="suggestions" data-testid="suggestions" {
                    @for c in &report.clusters {
                        li class="card" data-testid="suggestion" {
                            h2 { (c.name) }
                            p { (c.description) }
                            p class="muted" { "The group: " (customers_link(business, &CustomerCount { n: c.customers, customers: c.customer_ids.clone() }, "suggestion-n")) "." }
                            p { "Rule: " code { (c.rule_text) } }
                            a class="button" data-testid="use-suggestion"
                                href={ "/b/" (id) "/personas/new?suggestion=" (c.cluster) "&k=" (report.k) "&seed=" (report.seed) } { "Start a persona from this" }
                        }
                    }
                }
            }
        }
    };
    Ok(html_response(page(&nav, "Suggested personas", content)))
}
