//! The touchpoint catalogue page: the business's touchpoints grouped by channel, each with its
//! rule in words, the events and customers it matched in the chosen period, and the map stages it
//! sits on.

use crate::auth::{self, SignedIn};
use crate::state::ServerState;
use crate::web::analysis::{MAX_GROUP_LINKED_CUSTOMERS, customers_href_up_to};
use crate::web::layout::{Nav, page};
use crate::web::maps::NumbersQuery;
use crate::web::{PageResult, html_response};
use axum::extract::{Path, Query, State};
use maud::html;
use serde::Deserialize;
use trailmap_model::BusinessId;

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`, both days included; neither: all time.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PeriodQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(query): Query<PeriodQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let b = membership.business.clone();
    let asked = query.clone();
    let catalogue = state
        .try_read(move |app| {
            // The maps' numbers form reads dates the same way; reuse it so both pages agree.
            let period = NumbersQuery { from: asked.from, to: asked.to, persona: None }.request(app, &b)?.period;
            app.touchpoint_catalogue(&b, period)
        })
        .await?;
    let mut channels: Vec<&str> = catalogue.touchpoints.iter().map(|t| t.channel.as_str()).collect();
    channels.dedup();
    let content = html! {
        div class="page-head" { h1 { "Touchpoints" } }
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
            p class="muted" data-testid="no-touchpoints" { "No touchpoints yet." }
        }
        @for channel in &channels {
            h2 { (channel) }
            div class="table-wrap" {
                table data-testid="touchpoints" data-channel=(channel) {
                    thead { tr { th { "Touchpoint" } th { "Rule" } th class="num" { "Events" } th class="num" { "Customers" } th { "On maps" } } }
                    tbody {
                        @for t in catalogue.touchpoints.iter().filter(|t| t.channel == *channel) {
                            tr data-touchpoint=(t.touchpoint.0) {
                                td { (t.name) @if !t.description.is_empty() { br; span class="muted" { (t.description) } } }
                                td { (t.rule) }
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
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(html_response(page(&nav, "Touchpoints", content)))
}
