//! The report in the web app (`/b/{id}/report?period=2026-10`: choose a period, read the report in
//! the page, download the PDF), the business's digests and alerts (`/b/{id}/settings/delivery`:
//! scheduled digests with "send now", alert rules with "test", what fired, and the send log with
//! each attempt's outcome), and the agency's portfolio (`/portfolio`: every business the user can
//! see with its key numbers and trend, stale maps and open alerts, sortable by any column).
//! Sending never happens in a request: a send queues the delivery and wakes the delivery task.

use crate::auth::{self, PageForm, SignedIn, require_edit};
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page, when};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use trailmap_app::alerts::NewAlertRule;
use trailmap_app::portfolio::{PORTFOLIO_METRICS, PortfolioRow, PortfolioSort};
use trailmap_model::{BusinessId, Membership};
use trailmap_render::report::Block;
use trailmap_render::{Size, Sparkline};

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    pub period: Option<String>,
}

/// The report page: a month picker (or any `FROM..TO`), the report as the HTML export lays it out,
/// and the PDF and HTML downloads.
pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(q): Query<ReportQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let nav = Nav::load(&state, &signed, Some(membership.business.id)).await?;
    let report = crate::reports::report_for(&state, &membership.business, q.period.as_deref()).await?;
    let branding = state.try_read(|app| app.branding()).await?;
    let document = report.document();
    let period_text = q.period.clone().filter(|p| !p.trim().is_empty()).unwrap_or_else(|| format!("{}..{}", report.period.from, report.period.to));
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("period", &period_text).finish();
    let month = report.period.from.format("%Y-%m").to_string();
    let content = html! {
        div class="page-head" { h1 { "Report" } }
        form class="inline" method="get" action={ "/b/" (id) "/report" } data-testid="report-period" {
            label { "Month " input type="month" name="period" value=(month); }
            button type="submit" class="secondary" { "Show" }
            span class="muted" { " or any period as FROM..TO in the address, e.g. ?period=2026-09-01..2026-10-31" }
        }
        p {
            a class="button" href={ "/b/" (id) "/report.pdf?" (query) } data-testid="report-pdf" { "Download PDF" }
            " "
            a href={ "/api/businesses/" (id) "/report?format=html&" (query) } data-testid="report-html" { "Download HTML" }
            " · "
            a href={ "/b/" (id) "/settings/delivery" } { "Digests and alerts" }
        }
        article class="card report" data-testid="report" {
            @if let Some(logo) = &branding.logo {
                img class="agency-logo" src=(logo) alt=(branding.name.clone().unwrap_or_else(|| "Agency logo".into()));
            }
            h2 { (document.title) }
            @if let Some(sub) = &document.subtitle { p class="muted" data-testid="report-subtitle" { (sub) } }
            @for block in &document.blocks { (block_markup(block)) }
            p class="muted" { (document.footer) }
        }
    };
    Ok(html_response(page(&nav, "Report", content)))
}

/// One block of the report document as HTML inside the app's page.
fn block_markup(block: &Block) -> Markup {
    match block {
        Block::Heading(text) => html! { h3 { (text) } },
        Block::Paragraph(text) => html! { p { @for (i, line) in text.lines().enumerate() { @if i > 0 { br; } (line) } } },
        Block::Note(text) => html! { p class="muted" { (text) } },
        Block::Table(table) => html! {
            div class="table-wrap" {
                table {
                    thead { tr { @for (i, c) in table.columns.iter().enumerate() { th class=[right(table, i)] { (c) } } } }
                    tbody {
                        @for row in &table.rows {
                            tr { @for (i, cell) in row.iter().enumerate() { td class=[right(table, i)] { @for (j, line) in cell.lines().enumerate() { @if j > 0 { br; } (line) } } } }
                        }
                    }
                }
            }
        },
        Block::Figure(figure) => html! {
            figure class="chart" {
                (PreEscaped(figure.svg.as_str()))
                figcaption { (figure.caption) " · n = " (figure.n) }
            }
        },
    }
}

fn right(table: &trailmap_render::report::Table, i: usize) -> Option<&'static str> {
    table.right_aligned.get(i).copied().unwrap_or(false).then_some("num")
}

/// The report as a PDF download.
pub async fn pdf(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(q): Query<ReportQuery>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    let report = crate::reports::report_for(&state, &membership.business, q.period.as_deref()).await?;
    Ok(crate::reports::pdf_download(&report)?)
}

/// A message shown above the digests and alerts after a form.
enum Notice {
    Done(String),
    Failed(String),
}

/// The digests and alerts page.
pub async fn delivery(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>) -> PageResult {
    let membership = auth::membership(&state, signed.user.id, BusinessId(id)).await?;
    render_delivery(&state, &signed, membership, None).await
}

async fn render_delivery(state: &ServerState, signed: &SignedIn, membership: Membership, notice: Option<Notice>) -> PageResult {
    let id = membership.business.id;
    let nav = Nav::load(state, signed, Some(id)).await?;
    let can_edit = membership.role.can_edit();
    let business = membership.business.clone();
    let (digests, rules, fired, log) = state
        .try_read(move |app| Ok((app.digests(&business)?, app.alert_rules(&business)?, app.alert_firings(&business, 50)?, app.delivery_log(business.id, 50)?)))
        .await?;
    let smtp = state.delivery.settings.smtp.as_ref().map(|s| s.shown());
    let failed = matches!(notice, Some(Notice::Failed(_)));
    let csrf = &signed.csrf;
    let content = html! {
        div class="page-head" { h1 { "Digests and alerts" } }
        @match &notice {
            Some(Notice::Done(text)) => { p class="notice" role="status" data-testid="notice" { (text) } }
            Some(Notice::Failed(text)) => { p class="error" role="alert" data-testid="form-error" { (text) } }
            None => {}
        }
        p class="muted" {
            @match &smtp {
                Some(s) => { "E-mail goes through " code { (s) } "." }
                None => { "No SMTP server is configured: e-mails wait in the send log until the server runs with TRAILMAP_SMTP_URL (or --smtp-url)." }
            }
            " Sending runs in the background; a failure is retried with a doubling wait and shown below."
        }
        h2 { "Digests" }
        @if digests.is_empty() { p class="muted" { "No digest yet." } } @else {
            div class="table-wrap" {
                table data-testid="digests" {
                    thead { tr { th { "Cadence" } th { "Recipients" } th { "Since" } th {} } }
                    tbody {
                        @for d in &digests {
                            tr {
                                td { (d.cadence.as_str()) }
                                td { (d.recipients.join(", ")) }
                                td { (when(d.created_at)) }
                                td {
                                    @if can_edit {
                                        form class="inline" method="post" action={ "/b/" (id) "/settings/delivery/digests/" (d.id) "/send" } {
                                            (csrf_field(csrf)) button type="submit" class="secondary" { "Send now" }
                                        }
                                        form class="inline" method="post" action={ "/b/" (id) "/settings/delivery/digests/" (d.id) "/remove" } {
                                            (csrf_field(csrf)) button type="submit" class="link" { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if can_edit {
            form class="inline card" method="post" action={ "/b/" (id) "/settings/delivery/digests" } data-testid="digest-form" {
                (csrf_field(csrf))
                label { "Every " select name="cadence" { option value="weekly" { "week" } option value="monthly" { "month" } } }
                label { "to " input type="text" name="recipients" placeholder="owner@example.com, partner@example.com" required maxlength="2000"; }
                button type="submit" { "Schedule digest" }
            }
            p class="muted" { "A digest holds the key numbers against the period before (each with its n), the changes and their verdicts, the top insights and the maps past their review date, with the PDF report attached." }
        }

        h2 { "Alerts" }
        @if rules.is_empty() { p class="muted" { "No alert rule yet." } } @else {
            div class="table-wrap" {
                table data-testid="alerts" {
                    thead { tr { th { "KPI" } th { "Fires when" } th { "Periods" } th { "Sent to" } th {} } }
                    tbody {
                        @for r in &rules {
                            tr {
                                td { (r.label) br; code { (r.kpi) } }
                                td { (r.when) }
                                td { (r.cadence.as_str()) }
                                td { (format!("{:?}", r.channel).to_lowercase()) ": " (r.target) }
                                td {
                                    @if can_edit {
                                        form class="inline" method="post" action={ "/b/" (id) "/settings/delivery/alerts/" (r.id) "/test" } {
                                            (csrf_field(csrf)) button type="submit" class="secondary" { "Test" }
                                        }
                                        form class="inline" method="post" action={ "/b/" (id) "/settings/delivery/alerts/" (r.id) "/remove" } {
                                            (csrf_field(csrf)) button type="submit" class="link" { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if can_edit {
            form class="card stack" method="post" action={ "/b/" (id) "/settings/delivery/alerts" } data-testid="alert-form" {
                (csrf_field(csrf))
                label { "KPI " input type="text" name="kpi" placeholder="conversion:add_to_cart>purchase:7d" required maxlength="300"; }
                p class="muted" { "conversion:FROM>TO[:Nd], new-customers[:CHANNEL], nps, csat[:TOUCHPOINT], revenue, volume:TOUCHPOINT" }
                label { "Fires when " input type="text" name="when" value="significant" maxlength="100"; }
                p class="muted" { "significant (the test a change's impact uses, 95%), rise, drop, above:X or below:X (2% for a share)" }
                label { "Compare " select name="cadence" { option value="weekly" { "week against week" } option value="monthly" { "month against month" } } }
                label { "Send by " select name="channel" { option value="email" { "e-mail" } option value="webhook" { "webhook (signed POST)" } } }
                label { "To " input type="text" name="target" placeholder="owner@example.com or https://hooks.example.com/trailmap" required maxlength="2000"; }
                button type="submit" { "Add alert" }
            }
        }

        h2 { "What fired" }
        @if fired.is_empty() { p class="muted" data-testid="no-firings" { "Nothing fired yet." } } @else {
            ul data-testid="firings" {
                @for f in &fired { li { (when(f.fired_at)) " · " (f.period) ": " (f.message) } }
            }
        }

        h2 { "Send log" }
        @if log.is_empty() { p class="muted" { "Nothing sent yet." } } @else {
            div class="table-wrap" {
                table data-testid="send-log" {
                    thead { tr { th { "Queued" } th { "What" } th { "To" } th { "Status" } th { "Attempts" } th { "Last error" } } }
                    tbody {
                        @for d in &log {
                            tr data-status=(d.status) {
                                td { (when(d.created_at)) }
                                td { (d.subject) }
                                td { (d.channel) ": " (d.target) }
                                td {
                                    (d.status)
                                    @if let Some(next) = d.next_attempt_at { @if d.status == "pending" { br; span class="muted" { "next try " (when(next)) } } }
                                }
                                td class="num" { (d.attempts) }
                                td { @if let Some(e) = &d.last_error { span class="error" { (e) } } }
                            }
                        }
                    }
                }
            }
        }
    };
    let response = html_response(page(&nav, "Digests and alerts", content));
    Ok(if failed { (StatusCode::BAD_REQUEST, response).into_response() } else { response })
}

#[derive(Debug, Deserialize)]
pub struct DigestForm {
    pub cadence: String,
    pub recipients: String,
}

pub async fn create_digest(State(state): State<ServerState>, Path(id): Path<i64>, posted: PageForm<DigestForm>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let smtp = state.delivery.settings.smtp.clone();
    let DigestForm { cadence, recipients } = posted.form;
    let checked = tokio::task::spawn_blocking(move || trailmap_app::digests::check_digest(&cadence, &recipients, smtp.as_ref()))
        .await
        .map_err(|e| crate::error::ApiError::internal(e.to_string()))?;
    let notice = match checked {
        Err(e) => Notice::Failed(e.to_string()),
        Ok((cadence, recipients)) => {
            let (business, now) = (membership.business.clone(), auth::now());
            let digest = state.try_write(move |app| app.save_digest(&business, cadence, &recipients, now)).await?;
            Notice::Done(format!("Scheduled a {} digest to {}.", digest.cadence.as_str(), digest.recipients.join(", ")))
        }
    };
    render_delivery(&state, &posted.user, membership, Some(notice)).await
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn remove_digest(State(state): State<ServerState>, Path((id, digest)): Path<(i64, i64)>, posted: PageForm<Empty>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    state.try_write(move |app| app.remove_digest(&business, digest)).await?;
    Ok(see_other(&format!("/b/{id}/settings/delivery")))
}

pub async fn send_digest(State(state): State<ServerState>, Path((id, digest)): Path<(i64, i64)>, posted: PageForm<Empty>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let (business, now) = (membership.business.clone(), auth::now());
    // The report and its PDF are made on a reader; the writer only queues them.
    let email = state.try_read(move |app| app.digest_now(&business, digest, now)).await?;
    let queued = state.try_write(move |app| app.queue_delivery(&email, now)?.ok_or_else(|| trailmap_app::AppError::Invalid("the e-mail was not queued".into()))).await?;
    state.delivery.wake();
    let notice = Notice::Done(format!("Queued \"{}\" to {}: it is being sent; the send log shows how it went.", queued.subject, queued.target));
    render_delivery(&state, &posted.user, membership, Some(notice)).await
}

#[derive(Debug, Deserialize)]
pub struct AlertForm {
    pub kpi: String,
    #[serde(default)]
    pub when: String,
    #[serde(default)]
    pub cadence: String,
    #[serde(default)]
    pub channel: String,
    pub target: String,
}

pub async fn create_alert(State(state): State<ServerState>, Path(id): Path<i64>, posted: PageForm<AlertForm>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let AlertForm { kpi, when, cadence, channel, target } = posted.form;
    let new = NewAlertRule { kpi, cadence, when, channel, target };
    let (business, now) = (membership.business.clone(), auth::now());
    // Checking measures the KPI once: on a reader, never the writer.
    let checked = state.read(move |app| app.check_alert_rule(&business, &new, now)).await?;
    let saved = match checked {
        Ok(checked) => state.write(move |app| app.save_alert_rule(checked)).await?,
        Err(e) => Err(e),
    };
    let notice = match saved {
        Ok(rule) => Notice::Done(match &rule.secret {
            Some(secret) => format!("Added the alert on {}. Its webhook signing secret, shown only now: {secret}", rule.label),
            None => format!("Added the alert on {}.", rule.label),
        }),
        Err(e) => Notice::Failed(e.to_string()),
    };
    render_delivery(&state, &posted.user, membership, Some(notice)).await
}

pub async fn remove_alert(State(state): State<ServerState>, Path((id, alert)): Path<(i64, i64)>, posted: PageForm<Empty>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    state.try_write(move |app| app.remove_alert_rule(&business, alert)).await?;
    Ok(see_other(&format!("/b/{id}/settings/delivery")))
}

pub async fn test_alert(State(state): State<ServerState>, Path((id, alert)): Path<(i64, i64)>, posted: PageForm<Empty>) -> PageResult {
    let membership = auth::membership(&state, posted.user.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let (business, now) = (membership.business.clone(), auth::now());
    let judged = business.clone();
    let check = state.try_read(move |app| app.check_alert(&judged, alert, None, now)).await?;
    let queued_check = check.clone();
    state.try_write(move |app| app.queue_alert_test(&business, &queued_check, now)).await?;
    state.delivery.wake();
    let verdict = if check.fires { "it would fire" } else { "it would not fire" };
    let notice = Notice::Done(format!("{} to {}: {verdict}. {} A test was queued to its target.", check.period.from, check.period.to, check.reason));
    render_delivery(&state, &posted.user, membership, Some(notice)).await
}

#[derive(Debug, Default, Deserialize)]
pub struct PortfolioQuery {
    pub sort: Option<String>,
}

/// The portfolio page: every business the user can see, one row each.
pub async fn portfolio(State(state): State<ServerState>, signed: SignedIn, Query(q): Query<PortfolioQuery>) -> PageResult {
    let nav = Nav::load(&state, &signed, None).await?;
    let sort = PortfolioSort::parse(q.sort.as_deref().unwrap_or("name"))?;
    let user = signed.user.id;
    let now = auth::now();
    let (rows, branding) = state
        .try_read(move |app| {
            let businesses: Vec<_> = app.memberships(user)?.into_iter().map(|m| m.business).collect();
            Ok((app.portfolio(&businesses, sort, now)?, app.branding()?))
        })
        .await?;
    let header = |key: &str, label: &str| {
        let current = sort.as_str() == key;
        html! {
            th scope="col" aria-sort=[current.then_some(if key == "name" { "ascending" } else { "descending" })] {
                a href={ "/portfolio?sort=" (key) } data-testid={ "sort-" (key) } { (label) @if current { " ▾" } }
            }
        }
    };
    let content = html! {
        div class="page-head" {
            @if let Some(logo) = &branding.logo { img class="agency-logo" src=(logo) alt=(branding.name.clone().unwrap_or_else(|| "Agency logo".into())); }
            h1 { @if let Some(name) = &branding.name { (name) ": " } "Portfolio" }
        }
        p class="muted" { "Every business you can see, each over its dashboard's default period against the one before. n is the number of customers, orders or answers behind a figure. Click a column to sort." }
        div class="table-wrap" {
            table data-testid="portfolio" {
                thead {
                    tr {
                        (header("name", "Business"))
                        (header("new_customers", "New customers"))
                        (header("conversion_rate", "Conversion"))
                        (header("revenue", "Revenue"))
                        (header("revenue_change", "Revenue change"))
                        (header("nps", "NPS"))
                        (header("stale_maps", "Stale maps"))
                        (header("open_alerts", "Open alerts"))
                    }
                }
                tbody {
                    @for row in &rows { (portfolio_row(row)) }
                }
            }
        }
    };
    Ok(html_response(page(&nav, "Portfolio", content)))
}

fn portfolio_row(row: &PortfolioRow) -> Markup {
    let id = row.business.0;
    let currency = trailmap_model::Currency::parse(&row.currency);
    let cell = |key: &str| {
        let Some(m) = row.metric(key) else { return html! { td class="num muted" { "–" } } };
        let value = match (m.current.value, m.unit) {
            (None, _) => "–".to_string(),
            (Some(v), trailmap_analytics::kpi::Unit::Rate) => format!("{:.1}%", v * 100.0),
            (Some(v), trailmap_analytics::kpi::Unit::Money) => match currency {
                Some(c) => trailmap_render::ValueFormat::Money(c).format(v / c.minor_per_major() as f64),
                None => format!("{v:.0}"),
            },
            (Some(v), trailmap_analytics::kpi::Unit::Score) => format!("{v:+.0}"),
            (Some(v), _) => trailmap_render::ValueFormat::Count.format(v),
        };
        html! {
            td class="num" data-metric=(key) {
                a href={ "/b/" (id) "/customers?metric=" (key) "&from=" (row.period.from) "&to=" (row.period.to) } { (value) }
                br;
                span class="muted" { "n = " (m.current.n) }
                (PreEscaped(Sparkline {
                    title: format!("{} trend", m.label),
                    values: m.trend.iter().map(|t| t.value.unwrap_or(f64::NAN)).collect(),
                    href: None,
                    size: Some(Size { width: 90.0, height: 22.0 }),
                }.render().into_string()))
            }
        }
    };
    let revenue_change = row.metric("revenue").and_then(|m| m.change_in_words()).unwrap_or_else(|| "–".into());
    debug_assert!(PORTFOLIO_METRICS.contains(&"revenue"));
    html! {
        tr data-business=(row.name) {
            th scope="row" {
                a href={ "/b/" (id) "/" } { (row.name) }
                br;
                span class="muted" { (row.period.from) " to " (row.period.to) }
                @if let Some(note) = &row.note { br; span class="muted" { (note) } }
            }
            (cell("new_customers"))
            (cell("conversion_rate"))
            (cell("revenue"))
            td class="num" data-testid="revenue-change" { (revenue_change) }
            (cell("nps"))
            td class="num" {
                a href={ "/b/" (id) "/maps" } data-testid="stale-maps" { (row.stale_maps.len()) " of " (row.maps) }
                @if !row.stale_maps.is_empty() { br; span class="muted" { (row.stale_maps.join(", ")) } }
            }
            td class="num" {
                a href={ "/b/" (id) "/settings/delivery" } data-testid="open-alerts" { (row.open_alerts.len()) }
                @for a in row.open_alerts.iter().take(2) { br; span class="muted" { (a) } }
            }
        }
    }
}
