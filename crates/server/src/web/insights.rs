//! The insights page: the business's findings ranked by the value at stake, each with the
//! numbers behind it and their n, how the value was estimated, a link to its evidence (the page
//! that shows the same numbers) and to the customers behind it.

use trailmap_app::query::InsightsQuery;
use crate::auth::{self, SignedIn};
use crate::state::ServerState;
use crate::web::analysis::{MAX_GROUP_LINKED_CUSTOMERS, customers_href_up_to};
use crate::web::layout::{Nav, page};
use crate::web::{PageResult, html_response};
use axum::extract::{Path, Query, State};
use maud::html;
use trailmap_model::{BusinessId, Currency};
use trailmap_render::ValueFormat;

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(query): Query<InsightsQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let mut request = query.request(auth::now().date())?;
    // Without dates, the dashboard's period, with why it was chosen and a fuller one to offer.
    let choice = if request.period.is_none() {
        let asked = trailmap_app::query::CustomersQuery::default();
        let (period, choice) = crate::web::dashboard::explained_period(&state, &membership.business, &asked).await?;
        request.period = Some(period);
        choice
    } else {
        None
    };
    let b = membership.business.clone();
    let insights = state.try_read(move |app| app.insights(&b, &request)).await?;
    let currency = Currency::parse(&insights.currency);
    let money = |minor: i64| match currency {
        Some(c) => ValueFormat::Money(c).format(minor as f64 / c.minor_per_major() as f64),
        None => ValueFormat::Number.format(minor as f64 / 100.0),
    };
    let content = html! {
        div class="page-head" { h1 { "Insights" } }
        form class="inline" method="get" action={ "/b/" (id) "/insights" } data-testid="period-form" {
            label { "From " input type="date" name="from" value=(query.from.clone().unwrap_or_default()); }
            label { "To " input type="date" name="to" value=(query.to.clone().unwrap_or_default()); }
            button type="submit" class="secondary" { "Look" }
        }
        @if let Some(choice) = &choice {
            (crate::web::dashboard::period_explanation(choice, &format!("/b/{id}/insights")))
        }
        p class="muted" data-testid="period" { "Findings for " (insights.period.from) " to " (insights.period.to) ", the largest value at stake first." }
        @if insights.findings.is_empty() {
            p class="muted" data-testid="no-insights" { "Nothing to report: there are too few data for any finding in this period." }
        }
        ol class="insights" data-testid="insights" {
            @for f in &insights.findings {
                li class="card insight" data-kind=(serde_json::to_value(f.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()) {
                    h3 { (f.title) }
                    p { (f.detail) }
                    p {
                        @match f.value_at_stake_minor {
                            Some(v) => { strong data-testid="value" { (money(v)) " at stake" } " · " span class="muted" { (f.value_basis) } }
                            None => { span class="muted" { (f.value_basis) } }
                        }
                    }
                    p class="muted" {
                        "n = " (f.n)
                        " · " a href={ "/b/" (id) "/" (f.evidence.page) } data-testid="evidence" { (f.evidence.label) }
                        @if let Some(href) = customers_href_up_to(BusinessId(id), &f.customers, MAX_GROUP_LINKED_CUSTOMERS) {
                            " · " a href=(href) data-testid="customers" {
                                (f.customers.len()) " customers"
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(html_response(page(&nav, "Insights", content)))
}
