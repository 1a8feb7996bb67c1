//! The dashboard of a business (its home page): the few numbers an owner watches for a period
//! against the previous one, each with its sample size, its trend as a sparkline and a link to the
//! customers behind it; new customers by first channel as bars; and the customer pages those links
//! open: a list of the customers behind a number, and one customer's whole journey as a timeline.

use crate::auth::{self, LAST_BUSINESS_COOKIE, SignedIn};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::layout::{Nav, page, when};
use crate::web::onboarding;
use crate::dashboard_data::{customers_behind, load_dashboard, period};
use crate::web::{PageResult, html_response, see_other};
use trailmap_app::query::CustomersQuery as PeriodQuery;
use axum::extract::{Path, Query, State};
use axum::http::header;
use chrono::NaiveDate;
use maud::{Markup, PreEscaped, html};
use std::sync::Arc;
use trailmap_analytics::kpi::{Metric, Unit};
use trailmap_app::{Dashboard, DayRange};
use trailmap_model::{BusinessId, Currency, CustomerId};
use trailmap_render::{Bar, BarChart, EventKind, Size, Sparkline, Timeline, TimelineEvent, ValueFormat};

/// Customers listed on one page at most; the page says how many there are in all.
const LIST_LIMIT: usize = 200;

/// The period asked for, or the default one with why it was chosen (and a fuller period to offer
/// when it holds far less data than the 30 days before it).
pub(crate) async fn explained_period(
    state: &ServerState,
    business: &trailmap_model::Business,
    query: &PeriodQuery,
) -> Result<(DayRange, Option<Arc<trailmap_app::PeriodChoice>>), ApiError> {
    if query.asks_period() {
        return Ok((period(state, business, query, false).await?, None));
    }
    let b = business.clone();
    let today = auth::now().date();
    let (choice, _) = state.recent_read(business.id, format!("default_period_explained:{today}"), false, move |app| app.default_period_explained(&b, today)).await?;
    Ok((choice.period, Some(choice)))
}

fn money_format(currency: &str) -> ValueFormat {
    Currency::parse(currency).map_or(ValueFormat::Number, ValueFormat::Money)
}

/// A metric's value as shown: counts whole, rates as percentages, money in major units.
fn shown(metric: &Metric, value: Option<f64>, currency: &str) -> String {
    let Some(value) = value else { return "–".to_string() };
    match metric.unit {
        Unit::Count => ValueFormat::Count.format(value),
        Unit::Rate => ValueFormat::Percent.format(value),
        Unit::Money => money_format(currency).format(value / minor_per_major(currency)),
        Unit::Score => format!("{value:+.0}"),
    }
}

fn minor_per_major(currency: &str) -> f64 {
    Currency::parse(currency).map_or(100.0, |c| c.minor_per_major() as f64)
}

/// Why a default period was chosen and, when it holds far less data than the 30 days before it,
/// a notice offering those in one click (`page` plus `?from&to`): the dashboard and insights.
pub(crate) fn period_explanation(choice: &trailmap_app::PeriodChoice, page: &str) -> Markup {
    html! {
        p class="muted" data-testid="period-why" { "Showing " (choice.why) "; pick other dates above." }
        @if let Some(fuller) = &choice.fuller {
            p class="notice" role="status" data-testid="sparse-period" {
                "These 30 days hold far less data (n = " (choice.records) " events and orders) than the 30 days to "
                (fuller.period.to) " (n = " (fuller.records) "): a late or stray event may have moved the period. "
                a href={ (page) "?" (period_query(fuller.period)) } data-testid="fuller-period" { "Show " (fuller.period.from) " to " (fuller.period.to) }
            }
        }
    }
}

fn period_query(period: DayRange) -> String {
    format!("from={}&to={}", period.from, period.to)
}

pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(query): Query<PeriodQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let business = membership.business.clone();
    let onboarding = {
        let b = business.clone();
        state.try_read(move |app| app.onboarding(&b)).await?
    };
    // A business with no data yet gets the checklist alone: empty numbers tell nobody anything.
    if onboarding.empty && onboarding.shown {
        let content = html! {
            div class="page-head" { h1 data-testid="business-name" { (membership.business.name) } }
            (onboarding::checklist(&membership, &onboarding, &signed.csrf, auth::now()))
            script src="/static/onboarding.js" defer {}
        };
        return Ok(with_last_business(&state, html_response(page(&nav, &membership.business.name, content)), membership.business.id));
    }
    let (period, choice) = explained_period(&state, &business, &query).await?;
    let (board, age) = load_dashboard(&state, &business, period, false).await?;
    let base = format!("/b/{id}");
    let q = period_query(period);
    let currency = board.currency.clone();
    let content = html! {
        div class="page-head" {
            h1 data-testid="business-name" { (membership.business.name) }
            (period_form(&base, period))
        }
        @if onboarding.shown {
            (onboarding::checklist(&membership, &onboarding, &signed.csrf, auth::now()))
            script src="/static/onboarding.js" defer {}
        } @else if onboarding.hidden_at.is_some() && onboarding.done < onboarding.total && membership.role.can_edit() {
            (onboarding::show_again(&membership, &onboarding, &signed.csrf))
        }
        @if let Some(choice) = &choice {
            (period_explanation(choice, &format!("{base}/")))
        }
        p class="muted" data-testid="period" {
            (period.from) " to " (period.to) " (" (period.days()) " days), against " (board.previous.from) " to " (board.previous.to) "."
            @if board.orders_other_currency > 0 { " " (board.orders_other_currency) " orders in other currencies are left out." }
            @if board.path == trailmap_app::PathTaken::PushedDown { " Events counted in ClickHouse." }
            " " a href={ (base) "/dashboard.csv?" (q) } data-testid="dashboard-csv" { "Download as CSV" }
        }
        @if let Some(age) = age {
            p class="muted" data-testid="counted-ago" {
                "Counted " (age.as_secs()) " s ago; the newest events are being counted now. " a href={ (base) "/?" (q) } { "Reload" } " to see them."
            }
        }
        div class="figures dashboard" data-testid="metrics" {
            @for metric in &board.report.metrics {
                @let href = format!("{base}/customers?metric={}&{q}", metric.key);
                div class="figure" data-metric=(metric.key) {
                    div class="label" { (metric.label) }
                    a class="value" href=(href) data-testid={ "metric-" (metric.key) } { (shown(metric, metric.current.value, &currency)) }
                    div class="sub" {
                        "n = " (metric.current.n) " " (metric.n_means())
                        @if let Some(c) = metric.change_in_words() { " · " span class="change" { (c) } }
                    }
                    div class="sub muted" { "before: " (shown(metric, metric.previous.value, &currency)) " (n = " (metric.previous.n) ")" }
                    (PreEscaped(Sparkline {
                        title: format!("{} by {}", metric.label, if board.bucket == trailmap_app::Bucket::Day { "day" } else { "week" }),
                        values: metric.trend.iter().map(|m| m.value.unwrap_or(f64::NAN)).collect(),
                        href: Some(href.clone()),
                        size: Some(Size { width: 180.0, height: 36.0 }),
                    }.render().into_string()))
                }
            }
        }
        (crate::web::maps::stale_section(&state, &membership.business).await)
        section class="card" {
            @let chart = BarChart {
                title: "New customers by first channel".into(),
                format: ValueFormat::Count,
                bars: board.report.new_by_channel.iter().map(|c| Bar {
                    label: c.channel.clone(),
                    value: c.current as f64,
                    comparison: Some(c.previous as f64),
                    n: Some(c.current),
                    href: Some(format!("{base}/customers?metric=new_customers&channel={}&{q}", urlencode(&c.channel))),
                }).collect(),
                value_name: "This period".into(),
                comparison_name: "Previous period".into(),
                width: Some(720.0),
            };
            div class="chart" data-testid="channels" { (PreEscaped(chart.render().into_string())) }
        }
    };
    Ok(with_last_business(&state, html_response(page(&nav, &membership.business.name, content)), membership.business.id))
}

/// The response with the cookie that makes `/` open this business next time.
fn with_last_business(state: &ServerState, mut response: axum::response::Response, business: BusinessId) -> axum::response::Response {
    let cookie = state.auth.cookie(LAST_BUSINESS_COOKIE, &business.to_string(), 365 * 24 * 3600);
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// The dashboard's numbers as CSV, one line per metric and span: the period, the previous
/// period, then each trend bucket; every value with its n.
pub async fn csv(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(query): Query<PeriodQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let business = membership.business.clone();
    let period = period(&state, &business, &query, false).await?;
    let (board, _) = load_dashboard(&state, &business, period, false).await?;
    Ok(crate::downloads::download(
        "text/csv; charset=utf-8",
        format!("dashboard-{}-{}-{}.csv", id, period.from, period.to),
        dashboard_csv(&board).into_bytes(),
    ))
}

/// The CSV body of `csv`. Money is in major units (dollars, not cents), rates as fractions.
pub(crate) fn dashboard_csv(board: &Dashboard) -> String {
    let mut table = crate::web::analysis::Table::new(&["metric", "label", "unit", "span", "from", "to", "value", "n"]);
    let per_major = minor_per_major(&board.currency);
    let step = if board.bucket == trailmap_app::Bucket::Day { 0 } else { 6 };
    for metric in &board.report.metrics {
        let value = |v: Option<f64>| match (v, metric.unit) {
            (None, _) => String::new(),
            (Some(v), Unit::Money) => format!("{:.2}", v / per_major),
            (Some(v), _) => format!("{v}"),
        };
        let unit = match metric.unit {
            Unit::Count => "count".to_string(),
            Unit::Rate => "rate".to_string(),
            Unit::Money => board.currency.clone(),
            Unit::Score => "score".to_string(),
        };
        let mut line = |span: &str, from: NaiveDate, to: NaiveDate, m: &trailmap_analytics::kpi::Measure| {
            table.rows.push(
                [metric.key, metric.label, &unit, span, &from.to_string(), &to.to_string(), &value(m.value), &m.n.to_string()]
                    .into_iter()
                    .map(crate::web::analysis::Cell::text)
                    .collect(),
            );
        };
        line("period", board.period.from, board.period.to, &metric.current);
        line("previous", board.previous.from, board.previous.to, &metric.previous);
        for (day, m) in board.buckets.iter().zip(&metric.trend) {
            // A bucket's figures count only what falls inside the period, so its span is cut to it.
            let from = (*day).max(board.period.from);
            let to = (*day + chrono::Duration::days(step)).min(board.period.to);
            line("bucket", from, to, m);
        }
    }
    table.csv()
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The period picker: two dates and a button; works without JavaScript.
fn period_form(action: &str, period: DayRange) -> Markup {
    html! {
        form class="period" method="get" action={ (action) "/" } {
            label { "From " input type="date" name="from" value=(period.from.to_string()); }
            label { "to " input type="date" name="to" value=(period.to.to_string()); }
            button type="submit" class="secondary" { "Show" }
        }
    }
}

pub async fn without_slash(Path(id): Path<i64>) -> PageResult {
    Ok(see_other(&format!("/b/{id}/")))
}

/// The customers behind a number: a metric's (for a period, optionally one first channel), or a
/// list of ids from an analysis page.
pub async fn customers(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(query): Query<PeriodQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let business = membership.business.clone();
    let (title, ids) = customers_behind(&state, &business, &query).await?;
    let total = ids.len();
    let b = business.clone();
    let listed = state.try_read(move |app| app.customers_by_id(&b, &ids, LIST_LIMIT)).await?;
    let content = html! {
        h1 { (title) }
        p class="muted" data-testid="customer-count" {
            (total) " customers"
            @if total > listed.len() { "; the first " (listed.len()) " are listed" }
            "."
        }
        (customer_table(id, &listed))
    };
    Ok(html_response(page(&nav, "Customers", content)))
}

/// Customers as a table: each one's name (or id in the business's systems) linking to their
/// journey, their email and when they were first seen.
pub(crate) fn customer_table(business: i64, listed: &[trailmap_model::Customer]) -> Markup {
    html! {
        table data-testid="customers" {
            thead { tr { th { "Customer" } th { "Email" } th { "First seen" } } }
            tbody {
                @for c in listed {
                    tr {
                        td { a href={ "/b/" (business) "/customers/" (c.id) } { (c.name.clone().or_else(|| c.external_id.clone()).unwrap_or_else(|| format!("Customer {}", c.id))) } }
                        td { (c.email.clone().unwrap_or_default()) }
                        td { (when(c.first_seen)) }
                    }
                }
            }
        }
    }
}

/// One customer's whole journey: a timeline chart and every entry in a table.
pub async fn customer(State(state): State<ServerState>, signed: SignedIn, Path((id, customer)): Path<(i64, i64)>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let business = membership.business.clone();
    let timeline = state.try_read(move |app| app.customer_timeline(&business, CustomerId(customer))).await?;
    let c = &timeline.customer;
    let name = c.name.clone().or_else(|| c.email.clone()).or_else(|| c.external_id.clone()).unwrap_or_else(|| format!("Customer {}", c.id));
    let chart = Timeline {
        title: format!("{name}'s journey"),
        events: timeline
            .entries
            .iter()
            .map(|e| TimelineEvent {
                at: e.time,
                kind: match e.kind {
                    "order" => EventKind::Order,
                    "survey" => EventKind::SurveyAnswer,
                    "feedback" => EventKind::Feedback,
                    _ if e.title.contains("visit") || e.title == "page_view" => EventKind::Visit,
                    _ => EventKind::Touchpoint,
                },
                label: e.title.clone(),
                href: None,
            })
            .collect(),
        utc_offset_minutes: 0,
        width: Some(900.0),
    };
    let content = html! {
        h1 data-testid="customer-name" { (name) }
        p class="muted" {
            @if let Some(email) = &c.email { (email) " · " }
            "first seen " (when(c.first_seen)) " · " (timeline.entries.len()) " entries"
        }
        @let traits = trailmap_app::property_rows(&c.properties);
        @if !traits.is_empty() || c.external_id.is_some() {
            h2 { "About" }
            table class="properties" data-testid="customer-properties" {
                tbody {
                    @if let Some(external) = &c.external_id { tr { th scope="row" { "Customer id in your systems" } td { (external) } } }
                    @for (key, value) in &traits { tr { th scope="row" { (key) } td { (value) } } }
                }
            }
        }
        div class="chart" data-testid="timeline" { (PreEscaped(chart.render().into_string())) }
        table data-testid="entries" {
            thead { tr { th { "When" } th { "What" } th { "Channel" } th { "Details" } } }
            tbody {
                @for e in &timeline.entries {
                    tr data-kind=(e.kind) {
                        td { (when(e.time)) }
                        td { (e.title) }
                        td { (e.channel.clone().unwrap_or_default()) }
                        td class="detail" {
                            (e.detail)
                            @if !e.properties.is_empty() {
                                dl class="event-properties" {
                                    @for (key, value) in &e.properties { dt { (key) } dd { (value) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        (super::privacy::section(BusinessId(id), c.id, membership.role, &signed.csrf))
    };
    Ok(html_response(page(&nav, &name, content)))
}
