//! The analysis pages: funnel, flows (a Sankey of paths), attribution by model, retention cohorts
//! (a heatmap) and customer value by group. Each question is one module implementing [`Analysis`]:
//! how to read its parameters from the query string, how to ask the app, how to show the answer
//! as a chart (drawn by `trailmap-render`) and a table. This module holds what they share: the
//! generic page handler (a GET form, the chart inline, the table under it), the exports (the same
//! URL with `format=svg|png|csv`) and the index page. The JSON API (`api::analysis`) asks the app
//! the same typed requests.
//!
//! Parameters are read by the app's typed requests (`trailmap_app::query`) from the raw query (an
//! empty field means "the default"), so a bad value is never an extractor rejection but an
//! `invalid_input` error naming the parameter.

pub mod attribution;
pub mod clv;
pub mod flows;
pub mod funnel;
pub mod funnel_customers;
pub mod retention;

use crate::auth::{self, SignedIn};
use crate::downloads::download;
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::layout::{Nav, page};
use crate::web::{PageError, PageResult, html_response};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{Markup, PreEscaped, html};
use trailmap_app::{App, RecordedSpan};
use trailmap_model::{Business, BusinessId, CustomerId};
use trailmap_render::{Svg, ValueFormat};

/// Customer links carry at most this many ids: a GET link must stay a reasonable length, and the
/// customer list page shows a first page anyway. The table's n always counts all of them.
pub const MAX_LINKED_CUSTOMERS: usize = 200;

/// Pages that link a whole group (a persona's coverage, a touchpoint's customers, a change's
/// windows, an insight) carry at most this many ids.
pub const MAX_GROUP_LINKED_CUSTOMERS: usize = 1_000;

/// The query string's parameters, read by the app's typed requests.
pub use trailmap_app::Params as Query;

/// One cell of a table: its text and, when there are customers behind it, a link to them.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), href: None }
    }

    pub fn linked(text: impl Into<String>, href: Option<String>) -> Cell {
        Cell { text: text.into(), href }
    }
}

/// The numbers under a chart, also the CSV export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(columns: &[&str]) -> Table {
        Table { columns: columns.iter().map(|c| c.to_string()).collect(), rows: Vec::new() }
    }

    /// RFC 4180 CSV: a header line, then one line per row, fields quoted when they need it.
    pub fn csv(&self) -> String {
        let field = |text: &str| {
            if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
        };
        let mut out = String::new();
        for line in std::iter::once(self.columns.clone()).chain(self.rows.iter().map(|r| r.iter().map(|c| c.text.clone()).collect())) {
            out.push_str(&line.iter().map(|t| field(t)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// What a page shows for one answer.
#[derive(Debug, Clone)]
pub struct View {
    /// One sentence in an owner's words that answers the page's question, with its n, shown
    /// above the chart ("Referral brings the most conversions: 24 % of 5,123 ...").
    pub summary: String,
    pub svg: Svg,
    pub table: Table,
    /// How the numbers are computed: the models' names and formulas, the definitions of the
    /// rates and the engine's caveats, folded under the table as "How this is computed".
    pub notes: Vec<String>,
}

/// One field of a page's GET form.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// What the field shows: the asked value, or the default the answer used.
    pub value: String,
    /// A select's choices (value, label); `None` for a text field.
    pub options: Option<Vec<(&'static str, &'static str)>>,
    pub hint: &'static str,
}

impl Field {
    pub fn text(name: &'static str, label: &'static str, value: impl Into<String>, hint: &'static str) -> Field {
        Field { name, label, value: value.into(), options: None, hint }
    }

    pub fn select(name: &'static str, label: &'static str, value: impl Into<String>, options: &[(&'static str, &'static str)]) -> Field {
        Field { name, label, value: value.into(), options: Some(options.to_vec()), hint: "" }
    }
}

/// A select of choices in groups, each choice a value and what a person reads.
#[derive(Debug, Clone, Default)]
pub struct Picker {
    /// The parameter the choice is sent as.
    pub name: &'static str,
    pub label: &'static str,
    pub groups: Vec<(String, Vec<(String, String)>)>,
}

/// One analysis question, as a page, its exports and its JSON route.
pub trait Analysis {
    /// The app's answer, as computed on a read thread.
    type Answer: Send + 'static;
    /// The last segment of the page's path and of the API route.
    const SLUG: &'static str;
    const TITLE: &'static str;
    /// One sentence for the index page.
    const ABOUT: &'static str;
    /// Parameters the page opens with when the address does not give them, where the page's
    /// question differs from the request's default (attribution opens on new customers).
    const PAGE_DEFAULTS: &'static [(&'static str, &'static str)] = &[];

    /// Reads the parameters into the app's typed request (`trailmap_app::query`: defaults for
    /// absent ones, bad ones `invalid_input` errors naming the parameter) and asks the app.
    fn compute(app: &App, business: &Business, query: &Query) -> Result<Self::Answer, ApiError>;
    /// The chart and the table.
    fn view(answer: &Self::Answer, business: &Business) -> View;
    /// The form's fields, filled from the query or, once answered, the values the answer used.
    fn fields(query: &Query, answer: Option<&Self::Answer>) -> Vec<Field>;
    /// A figure shown apart under the summary, with a link to its customers: what belongs to no
    /// row of the table (the conversions with no recorded touch, on the attribution page).
    fn aside(_answer: &Self::Answer, _business: &Business) -> Option<Cell> {
        None
    }
    /// A list to pick a value from that depends on the business, added to the form: the funnel's
    /// stages, touchpoints and events with their customers. Picking one and showing the answer
    /// adds it (the form's `add_step` parameter), so it works without JavaScript.
    fn picker(_app: &App, _business: &Business) -> Result<Option<Picker>, trailmap_app::AppError> {
        Ok(None)
    }
    /// The period the answer covers and why, when it is not every recorded day (the customer
    /// value page values customers as of its calibration end).
    fn period(_answer: &Self::Answer) -> Option<String> {
        None
    }
}

/// The period an analysis over every recorded day covers, and why: no period is chosen on the
/// analysis pages, so they read the whole record.
pub fn whole_record(span: Option<&RecordedSpan>) -> String {
    match span {
        Some(span) => format!(
            "Period: every recorded day, {} to {} ({} events and orders), since this page looks at the whole record.",
            span.period.from,
            span.period.to,
            count(span.records)
        ),
        None => "Period: nothing is recorded yet.".to_string(),
    }
}

/// A whole number with thousands separators, as every page writes counts: 12,345.
pub fn count(n: u64) -> String {
    ValueFormat::Count.format(n as f64)
}

/// A count and its noun, singular for one: "1 customer", "2,000 customers".
pub fn counted(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{} {noun}s", count(n)) }
}

/// An amount in minor units (cents) in the business's currency, as the dashboard writes money.
pub fn money_minor(business: &Business, minor: f64) -> String {
    ValueFormat::Money(business.currency).format(minor / business.currency.minor_per_major() as f64)
}

/// A link to the customers behind a number, or `None` when there are none. The link lists ids in
/// the URL (no POST needed), so only the first `MAX_LINKED_CUSTOMERS` are included.
pub fn customers_href(business: BusinessId, ids: &[CustomerId]) -> Option<String> {
    customers_href_up_to(business, ids, MAX_LINKED_CUSTOMERS)
}

/// [`customers_href`] with the first `limit` ids.
pub fn customers_href_up_to(business: BusinessId, ids: &[CustomerId], limit: usize) -> Option<String> {
    if ids.is_empty() {
        return None;
    }
    let list: Vec<String> = ids.iter().take(limit).map(|id| id.to_string()).collect();
    Some(format!("/b/{business}/customers?ids={}", list.join(",")))
}

/// A rate as a percentage with one decimal.
pub fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// Which export a request asks for, from its `format` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Svg,
    Png,
    Csv,
}

fn export_of(query: &Query) -> Result<Option<Export>, ApiError> {
    match query.get("format") {
        None | Some("html") => Ok(None),
        Some("svg") => Ok(Some(Export::Svg)),
        Some("png") => Ok(Some(Export::Png)),
        Some("csv") => Ok(Some(Export::Csv)),
        Some(other) => Err(ApiError::invalid_input(format!("format: {other:?} is not one of html, svg, png, csv"))),
    }
}

/// The membership check and the computation every analysis route starts with.
pub async fn answer<A: Analysis>(state: &ServerState, user: trailmap_model::UserId, id: i64, query: &Query) -> Result<(trailmap_model::Membership, A::Answer), ApiError> {
    let membership = auth::membership(state, user, BusinessId(id)).await?;
    let business = membership.business.clone();
    let asked = query.clone();
    let answer = state.read(move |app| A::compute(app, &business, &asked)).await??;
    Ok((membership, answer))
}

/// The page of analysis `A`: the form, the chart, the table and export links; or, with `format`,
/// the export itself. Bad parameters show the form again with the error, as a 400.
pub async fn show<A: Analysis>(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, RawQuery(raw): RawQuery) -> PageResult {
    // As asked (the export links repeat it), and with the page's own opening choices where they
    // differ from the API's and the CLI's defaults (what is computed and shown in the form).
    let asked_query = Query::parse(raw.as_deref());
    let mut query = asked_query.clone();
    for (name, value) in A::PAGE_DEFAULTS {
        if query.get(name).is_none() {
            query.0.push((name.to_string(), value.to_string()));
        }
    }
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let export = export_of(&query)?;
    let business = membership.business.clone();
    let asked = query.clone();
    let result = state.read(move |app| A::compute(app, &business, &asked)).await?;
    let filename = |ext: &str| format!("{}-{}.{ext}", A::SLUG, membership.business.id);
    if let Some(export) = export {
        let answer = result?;
        let view = A::view(&answer, &membership.business);
        return Ok(match export {
            Export::Svg => download("image/svg+xml", filename("svg"), view.svg.into_string().into_bytes()),
            Export::Png => {
                let png = trailmap_render::to_png(&view.svg, 2.0).map_err(|e| PageError(ApiError::internal(format!("drawing the PNG: {e}"))))?;
                download("image/png", filename("png"), png)
            }
            Export::Csv => download("text/csv; charset=utf-8", filename("csv"), view.table.csv().into_bytes()),
        });
    }
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let spanned = membership.business.clone();
    let span = state.try_read(move |app| app.recorded_span(&spanned)).await?;
    // The picker reads every event of the business (a touchpoint's customers): kept per data
    // version, which touchpoint edits (that also place them on stages) raise too, so a page view
    // after no write reuses it.
    let listed = membership.business.clone();
    let picker = state.cached_read(listed.id, format!("picker:{}", A::SLUG), move |app| A::picker(app, &listed)).await?;
    let (answer, error) = match result {
        Ok(answer) => (Some(answer), None),
        Err(error) if error.status.is_client_error() => (None, Some(error)),
        Err(error) => return Err(PageError(error)),
    };
    let view = answer.as_ref().map(|a| A::view(a, &membership.business));
    let aside = answer.as_ref().and_then(|a| A::aside(a, &membership.business));
    let fields = A::fields(&query, answer.as_ref());
    let base = format!("/b/{id}/analysis/{}", A::SLUG);
    let content = html! {
        p class="muted" { a href={ "/b/" (id) "/analysis/" } { "Analysis" } " / " (A::TITLE) }
        h1 { (A::TITLE) }
        form method="get" action=(base) class="analysis-form" {
            @for field in &fields {
                label {
                    span { (field.label) }
                    @match &field.options {
                        Some(options) => {
                            select name=(field.name) {
                                @for (value, label) in options {
                                    option value=(value) selected[*value == field.value] { (label) }
                                }
                            }
                        }
                        None => { input type="text" name=(field.name) value=(field.value) placeholder=(field.hint); }
                    }
                }
            }
            @if let Some(picker) = picker.as_ref().as_ref() {
                label {
                    span { (picker.label) }
                    select name=(picker.name) data-testid={ "picker-" (picker.name) } {
                        option value="" { "—" }
                        @for (group, choices) in &picker.groups {
                            optgroup label=(group) {
                                @for (value, shown) in choices { option value=(value) { (shown) } }
                            }
                        }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        @if let Some(error) = &error {
            p class="error" data-code=(error.code) { (error.message) }
        }
        @if let Some(view) = &view {
            p class="answer" data-testid="analysis-summary" { (view.summary) }
            p class="muted" data-testid="analysis-period" {
                (answer.as_ref().and_then(A::period).unwrap_or_else(|| whole_record(span.as_ref())))
            }
            @if let Some(aside) = &aside {
                p data-testid="analysis-aside" {
                    @match &aside.href { Some(href) => a href=(href) { (aside.text) }, None => (aside.text) }
                }
            }
            p class="exports" {
                "Export: "
                a href={ (base) "?" (asked_query.with_format(Some("svg"))) } download { "SVG" } " · "
                a href={ (base) "?" (asked_query.with_format(Some("png"))) } download { "PNG" } " · "
                a href={ (base) "?" (asked_query.with_format(Some("csv"))) } download { "CSV" }
            }
            div class="chart" { (PreEscaped(view.svg.as_str())) }
            (table(&view.table))
            @if !view.notes.is_empty() {
                details class="how" data-testid="analysis-how" {
                    summary { "How this is computed" }
                    @for note in &view.notes {
                        p { (note) }
                    }
                }
            }
        }
    };
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let title = format!("{} · {}", A::TITLE, membership.business.name);
    Ok((status, html_response(page(&nav, &title, content))).into_response())
}

fn table(table: &Table) -> Markup {
    html! {
        table class="analysis-table" data-testid="analysis-table" {
            thead { tr { @for c in &table.columns { th { (c) } } } }
            tbody {
                @for row in &table.rows {
                    tr {
                        @for cell in row {
                            td {
                                @match &cell.href {
                                    Some(href) => { a href=(href) { (cell.text) } }
                                    None => { (cell.text) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The analysis index: a link to each question's page.
pub async fn index(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let pages: [(&str, &str, &str); 5] = [
        (funnel::Funnel::SLUG, funnel::Funnel::TITLE, funnel::Funnel::ABOUT),
        (flows::Flows::SLUG, flows::Flows::TITLE, flows::Flows::ABOUT),
        (attribution::Attribution::SLUG, attribution::Attribution::TITLE, attribution::Attribution::ABOUT),
        (retention::Retention::SLUG, retention::Retention::TITLE, retention::Retention::ABOUT),
        (clv::Clv::SLUG, clv::Clv::TITLE, clv::Clv::ABOUT),
    ];
    let content = html! {
        h1 { "Analysis" }
        ul class="analysis-index" {
            @for (slug, title, about) in pages {
                li { a href={ "/b/" (id) "/analysis/" (slug) } { (title) } " — " span class="muted" { (about) } }
            }
        }
    };
    Ok(html_response(page(&nav, &format!("Analysis · {}", membership.business.name), content)))
}

/// `/b/{id}/analysis` without the slash goes to the index.
pub async fn index_without_slash(Path(id): Path<i64>) -> PageResult {
    Ok(crate::web::see_other(&format!("/b/{id}/analysis/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it_and_links_carry_at_most_their_limit() {
        let mut t = Table::new(&["a", "b"]);
        t.rows.push(vec![Cell::text("x,y"), Cell::text("say \"hi\"")]);
        assert_eq!(t.csv(), "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n");
        let ids: Vec<CustomerId> = (1..=300).map(CustomerId).collect();
        let href = customers_href(BusinessId(3), &ids).unwrap_or_default();
        assert!(href.starts_with("/b/3/customers?ids=1,2,"), "{href}");
        assert_eq!(href.split(',').count(), MAX_LINKED_CUSTOMERS);
        assert_eq!(customers_href(BusinessId(3), &[]), None);
    }
}
