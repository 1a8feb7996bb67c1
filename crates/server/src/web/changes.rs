//! The change log pages: the business's changes newest first with the form to record one
//! (editors), and one change's impact: its KPI before and after over matched windows with the
//! verdict, the test's numbers, a chart, the difference-in-differences against an untouched
//! comparable, an A/B split when asked for, the method, and the customers behind each figure.
//!
//! A form the app refuses comes back with the reason beside the form and the values kept, so the
//! person fixes one field instead of starting again.

use trailmap_app::query::ImpactQuery;
use crate::auth::{self, PageForm, SignedIn, require_edit};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::analysis::{MAX_GROUP_LINKED_CUSTOMERS, customers_href_up_to};
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::{PageResult, html_response, parse_day, see_other};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use trailmap_app::changes::{ChangeRequest, ChangeView};
use trailmap_app::impact::{Impact, ImpactUnit, WindowValue};
use trailmap_app::{App, AppError};
use trailmap_model::{Business, BusinessId, CardRef, ChangeId, Currency, CustomerId, Lane, METRIC_FORMS};
use trailmap_render::{Bar, BarChart, ValueFormat};

/// The form to record a change, as posted (and as shown again when refused).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub description: String,
    /// Comma-separated names.
    #[serde(default)]
    pub touchpoints: String,
    #[serde(default)]
    pub stages: String,
    #[serde(default)]
    pub metric: String,
    #[serde(default)]
    pub kpi: String,
    #[serde(default)]
    pub owner: String,
    /// `MAP:CARD` by ids, from the select; empty for none.
    #[serde(default)]
    pub answers: String,
}

fn names(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim()).filter(|t| !t.is_empty()).map(str::to_string)
}

impl ChangeForm {
    /// The app's request; a field that does not read is an error naming it.
    fn request(&self, app: &App, business: &Business) -> Result<ChangeRequest, AppError> {
        let invalid = |field: &str, value: &str, reason: String| AppError::InvalidField { field: field.into(), value: Some(value.into()), reason };
        let date = parse_day("date", &self.date).map_err(|_| invalid("date", &self.date, "expected a day as YYYY-MM-DD".into()))?;
        let metric = optional(&self.metric)
            .map(|text| text.parse().map_err(|e: trailmap_model::MetricParseError| invalid("metric", &text, e.to_string())))
            .transpose()?;
        let answers = optional(&self.answers).map(|text| app.find_card(business, &text)).transpose()?;
        Ok(ChangeRequest {
            title: self.title.clone(),
            description: self.description.clone(),
            date,
            touchpoints: names(&self.touchpoints),
            stages: names(&self.stages),
            kpi: optional(&self.kpi),
            metric,
            owner: optional(&self.owner),
            answers,
        })
    }
}

/// A card a change can answer, for the form's select.
struct Answerable {
    card: CardRef,
    label: String,
}

/// What the list page shows.
struct ListData {
    changes: Vec<ChangeView>,
    answerable: Vec<Answerable>,
    touchpoints: Vec<String>,
    stages: Vec<String>,
}

fn list_data(app: &App, business: &Business, today: chrono::NaiveDate) -> Result<ListData, AppError> {
    let mut answerable = Vec::new();
    for summary in app.journey_maps(business, today)? {
        let map = app.journey_map(business, summary.id)?.map;
        for (stage, lane, card) in map.cards() {
            let kind = match lane {
                Lane::PainPoints => "Pain point",
                Lane::Opportunities if card.action.is_some() => "Action",
                Lane::Opportunities => "Opportunity",
                _ => continue,
            };
            answerable.push(Answerable { card: CardRef { map: map.id, card: card.id }, label: format!("{} · {} · {kind}: {}", map.name, stage.name, card.text) });
        }
    }
    let names = app.names(business.id)?;
    Ok(ListData {
        changes: app.changes(business)?,
        answerable,
        touchpoints: names.touchpoint_names(),
        stages: names.stages,
    })
}

pub async fn list(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>) -> PageResult {
    show_list(&state, &signed, id, &ChangeForm::default(), None).await
}

async fn show_list(state: &ServerState, signed: &SignedIn, id: i64, form: &ChangeForm, refused: Option<String>) -> PageResult {
    let membership = auth::membership(state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(state, signed, Some(membership.business.id)).await?;
    let can_edit = membership.role.can_edit();
    let b = membership.business.clone();
    let today = auth::now().date();
    let data = state.try_read(move |app| list_data(app, &b, today)).await?;
    let content = html! {
        div class="page-head" { h1 { "Changes" } }
        p class="muted" { "What the business changed, and whether it worked: each change's impact compares the KPI it watches over matched windows before and after its date." }
        @if data.changes.is_empty() {
            p class="muted" data-testid="no-changes" { "No change recorded yet." }
        } @else {
            div class="table-wrap" {
                table data-testid="changes" {
                    thead { tr { th { "Date" } th { "Change" } th { "KPI" } th { "Touches" } th { "Owner" } th { "Answers" } th {} } }
                    tbody {
                        @for c in &data.changes {
                            tr data-change=(c.id.0) {
                                td { (c.date) }
                                td { strong { (c.title) } @if !c.description.is_empty() { br; span class="muted" { (c.description) } } }
                                td { (c.kpi.clone().unwrap_or_else(|| "–".into())) @if let Some(m) = &c.metric_text { br; code class="muted" { (m) } } }
                                td { (c.touchpoints.iter().chain(&c.stages).cloned().collect::<Vec<_>>().join(", ")) }
                                td { (c.owner.clone().unwrap_or_default()) }
                                td {
                                    @if let Some(a) = &c.answers {
                                        a href={ "/b/" (id) "/maps/" (a.map) } { (a.kind.as_deref().unwrap_or("card").replace('_', " ")) ": " (a.text.as_deref().unwrap_or("(no longer on the map)")) }
                                    }
                                }
                                td { @if c.metric.is_some() { a href={ "/b/" (id) "/changes/" (c.id.0) } data-testid="impact-link" { "Impact" } } }
                            }
                        }
                    }
                }
            }
        }
        @if can_edit {
            h2 { "Record a change" }
            @if let Some(reason) = &refused { p class="error" data-testid="refused" { (reason) } }
            form class="stack card" method="post" action={ "/b/" (id) "/changes" } data-testid="change-form" {
                (csrf_field(&signed.csrf))
                label { "Title" input name="title" required value=(form.title); }
                label { "Date it took effect" input type="date" name="date" required value=(form.date); }
                label { "Description" input name="description" value=(form.description); }
                label { "Touchpoints (comma-separated)" input name="touchpoints" value=(form.touchpoints) placeholder=(data.touchpoints.join(", ")); }
                label { "Stages (comma-separated)" input name="stages" value=(form.stages) placeholder=(data.stages.join(", ")); }
                label { "Metric to measure" input name="metric" value=(form.metric) placeholder="conversion:checkout_started>purchase:7d"; span class="muted" { "One of: " (METRIC_FORMS) } }
                label { "KPI in your words (optional)" input name="kpi" value=(form.kpi); }
                label { "Owner (optional)" input name="owner" value=(form.owner); }
                label { "Answers (optional)"
                    select name="answers" {
                        option value="" { "—" }
                        @for a in &data.answerable {
                            @let value = format!("{}:{}", a.card.map, a.card.card);
                            option value=(value) selected[form.answers == value] { (a.label) }
                        }
                    }
                }
                div { button type="submit" { "Record" } }
            }
        }
    };
    let status = if refused.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok((status, html_response(page(&nav, "Changes", content))).into_response())
}

pub async fn create(State(state): State<ServerState>, Path(id): Path<i64>, posted: PageForm<ChangeForm>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let form = posted.form.clone();
    let added = state
        .try_write(move |app| {
            let request = form.request(app, &business)?;
            app.add_change(&business, request)
        })
        .await;
    match added {
        Ok(change) if change.metric.is_some() => Ok(see_other(&format!("/b/{id}/changes/{}", change.id.0))),
        Ok(_) => Ok(see_other(&format!("/b/{id}/changes"))),
        // The person fixes the field named; everything they typed stays in the form.
        Err(error) if error.status.is_client_error() && error.code == "invalid_input" => {
            show_list(&state, &posted.user, id, &posted.form, Some(error.message)).await
        }
        Err(error) => Err(error.into()),
    }
}


/// How a value of `unit` is written, and how a difference of it is.
fn format_of(unit: ImpactUnit, currency: &str) -> ValueFormat {
    match unit {
        ImpactUnit::Proportion => ValueFormat::Percent,
        ImpactUnit::Money => Currency::parse(currency).map_or(ValueFormat::Number, ValueFormat::Money),
        ImpactUnit::PerDay | ImpactUnit::Score => ValueFormat::Number,
    }
}

fn shown(unit: ImpactUnit, currency: &str, value: Option<f64>) -> String {
    match value {
        None => "–".into(),
        Some(v) => {
            let text = format_of(unit, currency).format(v);
            if unit == ImpactUnit::PerDay { format!("{text} per day") } else { text }
        }
    }
}

/// A difference: points for shares, the value's own format otherwise, always signed.
fn difference(unit: ImpactUnit, currency: &str, value: f64) -> String {
    let sign = if value >= 0.0 { "+" } else { "−" };
    match unit {
        ImpactUnit::Proportion => format!("{sign}{:.1} points", value.abs() * 100.0),
        _ => format!("{sign}{}", format_of(unit, currency).format(value.abs())),
    }
}

fn customers_link(id: i64, customers: &[CustomerId], n: u64) -> Markup {
    html! {
        @match customers_href_up_to(BusinessId(id), customers, MAX_GROUP_LINKED_CUSTOMERS) {
            Some(href) => a href=(href) { (n) },
            None => (n),
        }
    }
}

fn window_row(id: i64, name: &str, value: &WindowValue, impact: &Impact) -> Markup {
    html! {
        tr data-window=(name) {
            td { (name) }
            td { (value.window.from) " – " (value.window.to) }
            td class="num" data-testid="value" { (shown(impact.unit, &impact.currency, value.value)) }
            td class="num" { @if let Some(s) = value.successes { (s) " of " } (customers_link(id, &value.customers, value.n)) }
        }
    }
}

pub async fn impact(
    State(state): State<ServerState>,
    signed: SignedIn,
    Path((id, change)): Path<(i64, i64)>,
    Query(query): Query<ImpactQuery>,
) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let b = membership.business.clone();
    // The change itself is shown even when its impact cannot be measured, with the reason.
    let changes = state.try_read(move |app| app.changes(&b)).await?;
    let view = changes
        .into_iter()
        .find(|c| c.id.0 == change)
        .ok_or_else(|| ApiError::not_found(format!("{} has no change {change}", membership.business.name)))?;
    let measured: Result<Impact, ApiError> = match query.request() {
        Ok(request) => {
            let b = membership.business.clone();
            state.try_read(move |app| app.change_impact(&b, ChangeId(change), &request).map_err(ImpactQuery::field_names)).await
        }
        Err(error) => Err(error.into()),
    };
    let refused = match &measured {
        Err(error) if error.status.is_client_error() => Some(error.message.clone()),
        Err(error) => return Err(error.clone().into()),
        Ok(_) => None,
    };
    let content = html! {
        div class="page-head" { h1 { (view.title) } }
        p class="muted" {
            "From " (view.date)
            @if let Some(owner) = &view.owner { " · owner " (owner) }
            @if !view.touchpoints.is_empty() || !view.stages.is_empty() { " · touches " (view.touchpoints.iter().chain(&view.stages).cloned().collect::<Vec<_>>().join(", ")) }
            @if let Some(a) = &view.answers { " · answers " a href={ "/b/" (id) "/maps/" (a.map) } { (a.text.as_deref().unwrap_or("a card no longer on the map")) } }
        }
        @if !view.description.is_empty() { p { (view.description) } }
        form class="inline" method="get" action={ "/b/" (id) "/changes/" (change) } data-testid="impact-form" {
            label { "Days per window" input name="days" size="5" value=(query.days.clone().unwrap_or_default()); }
            label { "Ramp-up days" input name="ramp_up" size="5" value=(query.ramp_up.clone().unwrap_or_default()); }
            label { "Control metric" input name="control" value=(query.control.clone().unwrap_or_default()) placeholder="conversion:product_view>add_to_cart:7d"; }
            label { "A/B property" input name="split" size="10" value=(query.split.clone().unwrap_or_default()); }
            button type="submit" class="secondary" { "Measure" }
        }
        @if let Some(reason) = &refused { p class="error" data-testid="refused" { (reason) } }
        @if let Ok(impact) = &measured { (impact_body(id, impact)) }
        p { a href={ "/b/" (id) "/changes" } { "All changes" } }
    };
    let status = if refused.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok((status, html_response(page(&nav, &view.title, content))).into_response())
}

fn impact_body(id: i64, impact: &Impact) -> Markup {
    let format = format_of(impact.unit, &impact.currency);
    let chart = BarChart {
        title: impact.label.clone(),
        format,
        bars: [("Before", &impact.before), ("After", &impact.after)]
            .into_iter()
            .map(|(name, v)| Bar { label: name.into(), value: v.value.unwrap_or(0.0), comparison: None, n: Some(v.n), href: None })
            .collect(),
        width: Some(560.0),
        ..BarChart::default()
    }
    .render();
    html! {
        p class="notice" data-testid="verdict" { (impact.verdict) }
        h2 { (impact.label) }
        div class="table-wrap" {
            table data-testid="windows" {
                thead { tr { th { "Window" } th { "Days" } th class="num" { "Value" } th class="num" { "n (" (impact.n_means) ")" } } }
                tbody {
                    (window_row(id, "Before", &impact.before, impact))
                    (window_row(id, "After", &impact.after, impact))
                }
            }
        }
        figure class="chart" { (PreEscaped(chart.into_string())) }
        @if let Some(c) = &impact.comparison {
            table data-testid="comparison" {
                tbody {
                    tr { th { "Test" } td { (serde_json::to_value(c.test).ok().and_then(|v| v.as_str().map(|t| t.replace('_', " "))).unwrap_or_default()) } }
                    tr { th { "Difference" } td { (difference(impact.unit, &impact.currency, c.difference)) } }
                    tr { th { (format!("{:.0}% interval", c.confidence * 100.0)) } td { (difference(impact.unit, &impact.currency, c.ci.0)) " to " (difference(impact.unit, &impact.currency, c.ci.1)) } }
                    @if let Some(r) = &c.rate_ratio { tr { th { "Rate ratio" } td { (format!("{:.2} ({:.2} to {:.2})", r.ratio, r.ci.0, r.ci.1)) } } }
                    tr { th { "p-value" } td { (format!("{:.4}", c.p_value)) } }
                    tr { th { "n" } td { (c.n_before) " before, " (c.n_after) " after" } }
                }
            }
        }
        h2 { "Against an untouched comparable" }
        @match &impact.control {
            Some(control) => {
                p data-testid="control-verdict" { (control.verdict) }
                p class="muted" { (control.label) ": " (control.reason) }
                table data-testid="control" {
                    thead { tr { th { "Window" } th { "Days" } th class="num" { "Value" } th class="num" { "n" } } }
                    tbody {
                        tr { td { "Before" } td { (control.before.window.from) " – " (control.before.window.to) } td class="num" { (shown(impact.unit, &impact.currency, control.before.value)) } td class="num" { (customers_link(id, &control.before.customers, control.before.n)) } }
                        tr { td { "After" } td { (control.after.window.from) " – " (control.after.window.to) } td class="num" { (shown(impact.unit, &impact.currency, control.after.value)) } td class="num" { (customers_link(id, &control.after.customers, control.after.n)) } }
                    }
                }
                p { "Difference-in-differences: " (difference(impact.unit, &impact.currency, control.did.estimate)) " (" (format!("{:.0}%", control.did.confidence * 100.0)) " interval " (difference(impact.unit, &impact.currency, control.did.ci.0)) " to " (difference(impact.unit, &impact.currency, control.did.ci.1)) ", p = " (format!("{:.4}", control.did.p_value)) ", n = " (control.did.total_n()) ")" }
            }
            None => { p class="muted" data-testid="no-control" { (impact.control_note.clone().unwrap_or_else(|| "No untouched comparable.".into())) } }
        }
        @if let Some(split) = &impact.split {
            h2 { "A/B split by " code { (split.property) } }
            table data-testid="split" {
                thead { tr { th { "Variant" } th class="num" { "Value" } th class="num" { "n" } th { "Against " (split.baseline.variant) } } }
                tbody {
                    tr { td { (split.baseline.variant) " (baseline)" } td class="num" { (shown(impact.unit, &impact.currency, split.baseline.value.value)) } td class="num" { (customers_link(id, &split.baseline.value.customers, split.baseline.value.n)) } td {} }
                    @for (variant, _, verdict) in &split.variants {
                        tr { td { (variant.variant) } td class="num" { (shown(impact.unit, &impact.currency, variant.value.value)) } td class="num" { (customers_link(id, &variant.value.customers, variant.value.n)) } td { (verdict) } }
                    }
                }
            }
        }
        h2 { "How this was measured" }
        ul data-testid="method" { @for line in &impact.method { li { (line) } } }
    }
}
