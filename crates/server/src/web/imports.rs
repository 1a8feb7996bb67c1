//! The Import page of a business (`/b/{id}/import`): upload events, customers, orders or spend
//! (CSV, NDJSON or Parquet), see how the file will be read, fix the mapping, import.
//!
//! 1. `GET /b/{id}/import`: the upload form (a plain multipart form; `imports.js` sends it with
//!    XHR to show upload progress, and without script the browser posts it as it is), with the
//!    Shopify and Stripe export steps.
//! 2. `POST /b/{id}/import`: the file is streamed to disk (see `crate::imports`), then 303 to its
//!    preview page, so the file is uploaded once however often the mapping changes.
//! 3. `GET /b/{id}/import/{upload}`: the preview: format, detected layout, options in use, a
//!    mapping table with a select per field to override, and the first rows as they will be
//!    read, bad rows highlighted with their line, column and reason.
//! 4. `POST /b/{id}/import/{upload}` (a plain form): `action=preview` saves the settings and shows
//!    the preview again; `action=import` imports on the app's writer in one transaction and
//!    shows the counts, with a link to the rejects file when bad rows were skipped. A refused
//!    import (422) shows its rows and the form again; nothing landed.
//!
//! Editors and owners only (403 for viewers), as every import.

use crate::auth::{self, PageForm, SignedIn, require_edit};
use crate::error::ApiError;
use crate::imports::{ImportFields, ImportReportOut, Upload, receive_multipart};
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::{PageResult, html_response, see_other};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;
use trailmap_app::{ImportPreview, RecordKind};
use trailmap_model::{Business, BusinessId};

/// The kinds the page imports, with what people see.
const KINDS: [(&str, &str); 4] =
    [("orders", "Orders"), ("customers", "Customers"), ("events", "Events (visits, sign-ups, purchases...)"), ("spend", "Marketing spend")];

/// The Shopify and Stripe export steps, for the page and the onboarding checklist.
pub fn export_steps(business: BusinessId) -> Markup {
    html! {
        details class="howto" {
            summary { "From Shopify" }
            ol {
                li { "In Shopify admin, open " strong { "Orders" } " and click " strong { "Export" } "." }
                li { "Choose " strong { "All orders" } " and " strong { "CSV for Excel, Numbers, or other spreadsheet programs" } ", then " strong { "Export orders" } "; Shopify emails the file." }
                li { "Upload it as it comes on the " a href={ "/b/" (business) "/import?kind=orders" } { "Import page" } " (the layout is recognised)." }
            }
        }
        details class="howto" {
            summary { "From Stripe" }
            ol {
                li { "In the Stripe Dashboard, open " strong { "Payments" } " and click " strong { "Export" } "." }
                li { "Pick the date range and the " strong { "Default" } " columns (id, Created date (UTC), Amount, Currency, Customer Email, Status), then " strong { "Export" } "." }
                li { "Upload it as it comes on the " a href={ "/b/" (business) "/import?kind=orders" } { "Import page" } "." }
            }
        }
    }
}

/// The column names an import recognises for each field, per kind of file: what a file's header
/// may say for the preview to match it without help.
pub fn recognised_columns() -> Markup {
    html! {
        @for kind in [RecordKind::Orders, RecordKind::Customers, RecordKind::Events, RecordKind::Spend] {
            details class="howto" data-testid={ "columns-" (kind.as_str()) } {
                summary { "Column names recognised in " (kind.as_str()) " files" }
                table {
                    thead { tr { th { "Field" } th { "Required" } th { "Column names recognised, best first" } } }
                    tbody {
                        @for spec in trailmap_app::import_fields(kind) {
                            tr {
                                td { (spec.name) }
                                td { @if spec.required { "yes" } }
                                td { (spec.aliases.join(", ")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn editor(state: &ServerState, signed: &SignedIn, business: BusinessId) -> Result<(Business, Nav), ApiError> {
    let membership = auth::membership(state, signed.user.id, business).await?;
    require_edit(membership.role)?;
    let nav = Nav::load(state, signed, Some(business)).await?;
    Ok((membership.business, nav))
}

fn intro(business: BusinessId, limit: u64) -> Markup {
    html! {
        h1 { "Import data" }
        p class="muted" {
            "CSV, NDJSON or Parquet, up to " (crate::imports::size_text(limit)) ". You see how the file will be read before anything is imported; "
            "an import lands whole or not at all, and importing the same file twice adds nothing. "
            "Survey answers and reviews go through " a href={ "/b/" (business) "/feedback/import" } { "Import feedback" } "."
        }
    }
}

fn option(value: &str, label: &str, chosen: &str) -> Markup {
    html! { option value=(value) selected[value == chosen] { (label) } }
}

/// The reading options every form carries: decimal mark, delimiter, encoding, bad rows.
fn reading_options(fields: &ImportFields, open: bool) -> Markup {
    html! {
        details class="options" open[open] {
            summary { "Reading options" }
            div class="option-grid" {
                label { "Decimal mark"
                    select name="decimal" {
                        (option("", "From the file's layout or the business", &fields.decimal))
                        (option("point", "Point: 1,234.56", &fields.decimal))
                        (option("comma", "Comma: 1.234,56", &fields.decimal))
                    }
                }
                label { "Delimiter (CSV)" input type="text" name="delimiter" value=(fields.delimiter) maxlength="3" placeholder=", ; | or tab"; }
                label { "Encoding" input type="text" name="encoding" value=(fields.encoding) placeholder="UTF-8 (or windows-1252, latin1...)"; }
            }
        }
        label class="check" {
            input type="checkbox" name="skip_bad_rows" value="true" checked[fields.skip_bad_rows];
            "Skip bad rows: import the good ones and give me the bad ones as a file"
        }
    }
}

fn upload_form(business: BusinessId, csrf: &str, fields: &ImportFields, limit: u64) -> Markup {
    let kind = if fields.kind.is_empty() { "orders" } else { fields.kind.as_str() };
    html! {
        form method="post" action={ "/b/" (business) "/import" } enctype="multipart/form-data" class="stack card" data-testid="upload-form" id="upload-form"
            data-max-bytes=(limit) {
            (csrf_field(csrf))
            label { "What the file holds"
                select name="kind" data-testid="kind" { @for (value, label) in KINDS { (option(value, label, kind)) } }
            }
            (reading_options(fields, false))
            // The file comes last: the server reads the settings before it.
            label { "File" input type="file" name="file" required accept=".csv,.tsv,.txt,.ndjson,.jsonl,.json,.parquet" data-testid="file"; }
            div class="upload-progress" hidden data-testid="upload-progress" {
                progress max="100" value="0" {}
                span class="muted" {}
            }
            div { button type="submit" { "Upload and preview" } }
        }
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct KindQuery {
    pub kind: Option<String>,
}

/// GET `/b/{id}/import`: the upload form.
pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, Query(query): Query<KindQuery>) -> PageResult {
    let business = BusinessId(id);
    let (b, nav) = editor(&state, &signed, business).await?;
    let fields = ImportFields { kind: query.kind.unwrap_or_default(), ..ImportFields::default() };
    Ok(html_response(upload_page(&nav, &b, &signed.csrf, &fields, None, state.import_limit)))
}

fn upload_page(nav: &Nav, business: &Business, csrf: &str, fields: &ImportFields, error: Option<&ApiError>, limit: u64) -> Markup {
    let content = html! {
        (intro(business.id, limit))
        @if let Some(e) = error {
            p class="error lines" data-code=(e.code) data-testid="import-error" { (e.message) }
            p class="muted" { "Nothing was imported." }
        }
        (upload_form(business.id, csrf, fields, limit))
        h2 { "Exports that are recognised as they come" }
        (export_steps(business.id))
        p class="muted" { "Any other file works too: columns are matched by name (the names recognised are below), and the preview lets you pick a column for any field." }
        (recognised_columns())
        script src="/static/imports.js" defer {}
    };
    page(nav, "Import data", content)
}

/// POST `/b/{id}/import`: receives the file and sends to its preview; a file refused on arrival
/// (too large, empty, a forged form) shows the form again under the error.
pub async fn upload(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, headers: HeaderMap, multipart: Multipart) -> PageResult {
    let business = BusinessId(id);
    let (b, nav) = editor(&state, &signed, business).await?;
    // A body declared larger than the limit (the file and a few small fields) is refused unread.
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let received = match declared {
        Some(n) if n > state.import_limit + crate::imports::MAX_FIELD_BYTES as u64 => Err(crate::imports::too_large(state.import_limit)),
        _ => receive_multipart(&state, business, multipart, ImportFields::default(), Some(&signed.csrf)).await,
    };
    match received {
        Ok(upload) => Ok(see_other(&format!("/b/{id}/import/{}", upload.id))),
        Err(e) if e.code == "csrf_failed" => Err(e.into()),
        Err(e) => {
            let status = e.status;
            Ok((status, html_response(upload_page(&nav, &b, &signed.csrf, &ImportFields::default(), Some(&e), state.import_limit))).into_response())
        }
    }
}

/// GET `/b/{id}/import/{upload}`: the preview of an uploaded file.
pub async fn preview(State(state): State<ServerState>, signed: SignedIn, Path((id, upload_id)): Path<(i64, String)>) -> PageResult {
    let business = BusinessId(id);
    let (b, nav) = editor(&state, &signed, business).await?;
    let upload = Upload::find(&state, business, &upload_id)?;
    preview_response(&state, &nav, b, &signed.csrf, &upload, None).await
}

/// The preview page of `upload`, under `refused` (an import that did not land) when there is one.
async fn preview_response(state: &ServerState, nav: &Nav, b: Business, csrf: &str, upload: &Upload, refused: Option<ApiError>) -> PageResult {
    let business = b.id;
    let previewed = upload.preview(state, b).await;
    let status = match (&refused, &previewed) {
        (Some(e), _) | (None, Err(e)) => e.status,
        _ => StatusCode::OK,
    };
    let title = format!("Import {}", upload.name);
    let content = html! {
        p { a href={ "/b/" (business) "/import" } { "← Upload another file" } }
        h1 { "Import " (upload.name) }
        @if let Some(e) = &refused { (refusal(e)) }
        @match &previewed {
            Ok(p) => { (preview_body(business, csrf, upload, p)) }
            Err(e) => {
                p class="error lines" data-code=(e.code) data-testid="import-error" { (e.message) }
                p class="muted" { "Change the settings below (the kind, the delimiter, the encoding) to read it, or upload another file." }
                (settings_form(business, csrf, upload, None))
            }
        }
    };
    Ok((status, html_response(page(nav, &title, content))).into_response())
}

/// An import that was refused: its reason and, for bad rows, each row's place and why.
fn refusal(e: &ApiError) -> Markup {
    let rows = e.details.as_ref().and_then(|d| d.get("rows")).and_then(|r| r.as_array()).cloned().unwrap_or_default();
    html! {
        div class="card refused" data-testid="import-refused" data-code=(e.code) {
            @if rows.is_empty() {
                p class="error lines" { (e.message) }
            } @else {
                p class="error" { strong { "Nothing was imported: " } (e.details.as_ref().and_then(|d| d.get("count")).and_then(|c| c.as_u64()).unwrap_or(rows.len() as u64)) " row(s) cannot be read." }
                ul {
                    @for row in &rows {
                        li { "Line " (row["line"]) @if let Some(c) = row["column"].as_str() { ", column " code { (c) } } ": " (row["reason"].as_str().unwrap_or("")) }
                    }
                }
                p class="muted" { "Fix them in the file, map another column below, or tick " strong { "Skip bad rows" } " to import the others and download these." }
            }
        }
    }
}

fn layout_name(layout: &str) -> &str {
    match layout {
        "shopify-orders" => "Shopify orders export",
        "stripe-payments" => "Stripe payments export",
        _ => "generic",
    }
}

fn preview_body(business: BusinessId, csrf: &str, upload: &Upload, p: &ImportPreview) -> Markup {
    let bad = p.rows.iter().filter(|r| r.error.is_some()).count();
    html! {
        div class="card import-summary" data-testid="preview-summary" {
            p {
                strong { (p.format.to_uppercase()) } " file of " strong { (p.kind) } ", layout "
                strong data-testid="layout" { (layout_name(&p.layout)) } @if p.layout_detected { " (detected)" } @else { " (chosen)" }
                @if let Some(d) = &p.delimiter { "; delimiter " (delimiter_name(d)) }
                "; " (p.encoding)
                "; decimals: "
                @match &p.decimal_mark {
                    Some(mark) => { (mark) " (from the " (p.decimal_mark_from) ")" }
                    None => { "not declared, so a number such as 12,50 is refused: choose the decimal mark below" }
                }
                "."
            }
            @if !p.missing.is_empty() {
                p class="error" data-testid="missing" {
                    "No column fills "
                    @for (i, m) in p.missing.iter().enumerate() { @if i > 0 { "; " } strong { (m.field) } }
                    ": pick one in the mapping below."
                }
            }
        }
        h2 { "The first rows as they will be read" }
        p class="muted" {
            (p.rows.len()) " shown" @if p.more { " (the file has more)" } "; "
            @if bad == 0 { "all read." } @else { strong class="error" { (bad) " with an error" } ", highlighted." }
        }
        // A file's many columns scroll sideways: the box takes the keyboard's focus so arrow keys
        // scroll it, and is a region named for a screen reader.
        div class="table-wrap" tabindex="0" role="region" aria-label="The first rows (scrolls sideways)" {
            table class="preview-rows" data-testid="preview-rows" {
                thead { tr { th { (p.position) } @for f in &p.row_fields { th { (f) } } @if bad > 0 { th { "as in the file" } } th { "error" } } }
                tbody {
                    @for row in &p.rows {
                        tr class=[row.error.as_ref().map(|_| "row-error")] {
                            td { (row.line) }
                            @for v in &row.values { td { @if let Some(v) = v { (v) } } }
                            @if bad > 0 { td class="raw" { @if let Some(raw) = &row.raw { code { (raw) } } } }
                            td class="error" {
                                @if let Some(e) = &row.error {
                                    @if let Some(c) = &e.column { "column " code { (c) } ": " }
                                    (e.reason)
                                }
                            }
                        }
                    }
                }
            }
        }
        (settings_form(business, csrf, upload, Some(p)))
    }
}

/// A delimiter in words, so a lone comma in the summary's sentence reads as what it is.
fn delimiter_name(d: &str) -> Markup {
    let name = match d {
        "," => Some("comma"),
        ";" => Some("semicolon"),
        "|" => Some("bar"),
        _ => None,
    };
    html! {
        @match name {
            Some(name) => { (name) }
            None => { code { (d) } }
        }
    }
}

/// The settings and the column mapping, with the buttons that preview again and import.
fn settings_form(business: BusinessId, csrf: &str, upload: &Upload, p: Option<&ImportPreview>) -> Markup {
    let f = &upload.fields;
    let override_of = |field: &str| f.map.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)).map(|(_, c)| c.as_str());
    html! {
        form method="post" action={ "/b/" (business) "/import/" (upload.id) } class="stack card" data-testid="settings-form" id="settings-form" {
            (csrf_field(csrf))
            div class="option-grid" {
                label { "What the file holds"
                    select name="kind" { @for (value, label) in KINDS { (option(value, label, &f.kind)) } }
                }
                label { "Layout"
                    select name="layout" {
                        (option("", "Detect", &f.layout))
                        (option("generic", "Generic", &f.layout))
                        (option("shopify", "Shopify orders export", &f.layout))
                        (option("stripe", "Stripe payments export", &f.layout))
                    }
                }
            }
            (reading_options(f, !(f.decimal.is_empty() && f.delimiter.is_empty() && f.encoding.is_empty())))
            @if let Some(p) = p {
                div {
                    h2 class="columns-head" { "Columns" }
                    p class="muted columns-note" { "Each field is filled from the column shown; pick another, or none." }
                }
                @let shown = |m: &&trailmap_app::FieldMapping| m.required || m.column.is_some() || override_of(&m.field).is_some();
                (mapping_table(p.mapping.iter().filter(shown), &p.columns, &override_of, "mapping"))
                @let others: Vec<&trailmap_app::FieldMapping> = p.mapping.iter().filter(|m| !shown(m)).collect();
                @if !others.is_empty() {
                    details class="options" {
                        summary { (others.len()) " more fields no column fills" }
                        (mapping_table(others.into_iter(), &p.columns, &override_of, "mapping-more"))
                    }
                }
            }
            div class="actions" {
                button type="submit" name="action" value="preview" class="secondary" data-testid="preview-again" { "Preview again" }
                @if p.is_some_and(|p| p.missing.is_empty()) {
                    button type="submit" name="action" value="import" data-testid="import" { "Import" }
                }
            }
            p class="import-running muted" hidden { "Importing… the file lands whole or not at all." }
        }
        script src="/static/imports.js" defer {}
    }
}

/// A table of fields, each with a select of the file's columns: detected (the default), one
/// column, or none.
fn mapping_table<'a>(
    mapping: impl Iterator<Item = &'a trailmap_app::FieldMapping>,
    columns: &[String],
    override_of: &dyn Fn(&str) -> Option<&'a str>,
    testid: &str,
) -> Markup {
    html! {
        div class="table-wrap" tabindex="0" role="region" aria-label="Each field's column (scrolls sideways)" {
            table class="mapping" data-testid=(testid) {
                thead { tr { th { "Field" } th { "Column in the file" } th { "What it is" } } }
                tbody {
                    @for m in mapping {
                        @let chosen = override_of(&m.field);
                        @let lacking = m.required && m.column.is_none();
                        tr class=[lacking.then_some("row-error")] data-field=(m.field) {
                            td { code { (m.field) } @if m.required { " " span class="badge" { "required" } } }
                            td {
                                select name={ "map." (m.field) } aria-label={ "Column for " (m.field) } {
                                    @let detected = if m.source == "detected" { m.column.clone() } else { None };
                                    option value="" selected[chosen.is_none()] {
                                        @match &detected { Some(c) => { (c) " (detected)" } None => { "— none found —" } }
                                    }
                                    @for c in columns { option value=(c) selected[chosen == Some(c.as_str())] { (c) } }
                                    option value="-" selected[chosen == Some("")] { "(none)" }
                                }
                            }
                            td class="muted" { (m.description) }
                        }
                    }
                }
            }
        }
    }
}

/// POST `/b/{id}/import/{upload}`: saves the settings, then previews again or imports.
pub async fn submit(State(state): State<ServerState>, Path((id, upload_id)): Path<(i64, String)>, form: PageForm<Vec<(String, String)>>) -> PageResult {
    let business = BusinessId(id);
    let signed = form.user;
    let (b, nav) = editor(&state, &signed, business).await?;
    let mut upload = Upload::find(&state, business, &upload_id)?;
    let mut fields = ImportFields { file: upload.fields.file.clone(), format: upload.fields.format.clone(), ..ImportFields::default() };
    let mut action = String::new();
    for (name, value) in &form.form {
        match (name.as_str(), name.strip_prefix("map.")) {
            ("csrf", _) => {}
            ("action", _) => action = value.clone(),
            (_, Some(field)) => match value.as_str() {
                "" => {}
                "-" => fields.put_map(field.to_string(), String::new()),
                column => fields.put_map(field.to_string(), column.to_string()),
            },
            (name, None) => fields.set(name, value)?,
        }
    }
    upload.fields = fields;
    upload.save()?;
    if action != "import" {
        return Ok(see_other(&format!("/b/{id}/import/{upload_id}")));
    }
    match upload.import(&state, b.clone()).await {
        Ok(report) => {
            upload.discard();
            Ok(html_response(page(&nav, "Imported", report_body(business, &report))))
        }
        Err(e) if e.status.is_client_error() => preview_response(&state, &nav, b, &signed.csrf, &upload, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

fn report_body(business: BusinessId, r: &ImportReportOut) -> Markup {
    html! {
        p { a href={ "/b/" (business) "/import" } { "← Import another file" } }
        h1 { "Imported " (r.file) }
        div class="figures" data-testid="import-report" {
            div class="figure" { div class="value" data-testid="rows-read" { (r.rows_read) } div class="label" { (r.kind) " read from the file" } }
            div class="figure" { div class="value" data-testid="landed" { (r.landed) } div class="label" { "new " (r.kind) " landed" } }
            div class="figure" { div class="value" data-testid="duplicates" { (r.duplicates) } div class="label" { "already there, skipped" } }
            div class="figure" { div class="value" data-testid="rejected" { (r.rejected) } div class="label" { "rejected" } }
        }
        div class="card import-summary" {
            p { "Layout: " (layout_name(&r.layout)) ". "
                (r.new_customers) " new customer(s)"
                @if r.merged_customers > 0 { ", " (r.merged_customers) " merged into others" }
                ". Took " (format!("{:.1}", r.seconds)) " s." }
            @if !r.dropped.is_empty() {
                p class="muted" { "Left out on purpose: "
                    @for (i, d) in r.dropped.iter().enumerate() { @if i > 0 { ", " } (d.rows) " " (d.reason.replace('_', " ")) }
                    "." }
            }
            @if let Some(rejects) = &r.rejects {
                p { strong { (rejects.rows) " bad row(s) were skipped. " }
                    a href=(rejects.url) download data-testid="rejects-link" { "Download them" }
                    " (CSV with each row's line, column and reason; kept for a day)." }
            }
        }
        p { a href={ "/b/" (business) "/" } { "See the dashboard →" } }
    }
}
