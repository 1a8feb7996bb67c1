//! The page `/b/{id}/feedback/import`: a multipart form with the file, its layout and an
//! optional survey; the import itself is `feedback_uploads`, which the JSON API shares.

use crate::auth::{self, SignedIn, require_edit, same_secret};
use crate::error::ApiError;
use crate::feedback_uploads::*;
use crate::state::ServerState;
use crate::web::layout::{Nav, csrf_field, page};
use crate::web::{PageResult, html_response};
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{Markup, html};
use trailmap_model::{Business, BusinessId};

fn form(business: BusinessId, csrf: &str, surveys: &[String]) -> Markup {
    html! {
        form method="post" action={ "/b/" (business) "/feedback/import" } enctype="multipart/form-data" class="stack card" data-testid="import-form" {
            (csrf_field(csrf))
            label { "File" input type="file" name="file" required; }
            label { "Layout" select name="layout" { @for (value, label) in LAYOUTS { option value=(value) { (label) } } } }
            label { "Survey (form exports only)"
                select name="survey" {
                    option value="" { "(the survey with the same questions, or a new one named after the file)" }
                    @for s in surveys { option value=(s) { (s) } }
                }
            }
            label class="check" {
                input type="checkbox" name="skip_invalid" value="on"; "Skip invalid rows (import the valid ones and list the others)"
            }
            button type="submit" { "Import" }
        }
    }
}

async fn editor(state: &ServerState, signed: &SignedIn, business: BusinessId) -> Result<(Business, Nav, Vec<String>), ApiError> {
    let membership = auth::membership(state, signed.user.id, business).await?;
    require_edit(membership.role)?;
    let nav = Nav::load(state, signed, Some(business)).await?;
    let b = membership.business.clone();
    let surveys = state.try_read(move |app| Ok(app.list_surveys(&b)?.into_iter().map(|s| s.name).collect::<Vec<_>>())).await?;
    Ok((membership.business, nav, surveys))
}

fn intro(business: BusinessId) -> Markup {
    html! {
        p { a href={ "/b/" (business) "/feedback" } { "← Feedback" } }
        h1 { "Import responses and feedback" }
        p class="muted" { "A file lands whole or not at all; importing the same file twice adds nothing. Up to "
            (MAX_UPLOAD_BYTES / (1024 * 1024)) " MiB." }
    }
}

/// GET `/b/{id}/feedback/import`: the upload form (editors only).
pub async fn show(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>) -> PageResult {
    let business = BusinessId(id);
    let (_, nav, surveys) = editor(&state, &signed, business).await?;
    let content = html! { (intro(business)) (form(business, &signed.csrf, &surveys)) };
    Ok(html_response(page(&nav, "Import feedback", content)))
}

/// Reads the multipart form: its fields, and the file with its name. A body over the limit is 413.
async fn read_multipart(mut multipart: Multipart) -> Result<(Vec<(String, String)>, Option<(String, Vec<u8>)>), ApiError> {
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE { too_large() } else { ApiError::invalid_input(format!("the form could not be read: {}", e.body_text())) }
    };
    let mut fields = Vec::new();
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(failed)? {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_UPLOAD_BYTES {
                    return Err(too_large());
                }
            }
            file = Some((file_name, bytes));
        } else {
            let value = field.text().await.map_err(failed)?;
            fields.push((name, value));
        }
    }
    Ok((fields, file))
}

/// POST `/b/{id}/feedback/import`: imports the uploaded file and shows what it did, or the form
/// again under the error (400) naming the file's line and column.
pub async fn upload(State(state): State<ServerState>, signed: SignedIn, Path(id): Path<i64>, multipart: Multipart) -> PageResult {
    let business = BusinessId(id);
    let (b, nav, surveys) = editor(&state, &signed, business).await?;
    let (fields, file) = read_multipart(multipart).await?;
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    if !same_secret(&get("csrf"), &signed.csrf) {
        return Err(ApiError::csrf_failed().into());
    }
    let layout = UploadLayout::parse(&get("layout"), "layout")?;
    let Some((file_name, bytes)) = file.filter(|(_, bytes)| !bytes.is_empty()) else {
        return Err(ApiError::invalid_input("`file`: choose a file to import (it was missing or empty)").into());
    };
    let survey = Some(get("survey")).filter(|s| !s.is_empty());
    let upload = Upload { file_name, bytes, layout, survey, skip_invalid: get("skip_invalid") == "on" };
    match import_upload(&state, b, upload).await {
        Ok(report) => {
            let content = html! {
                (intro(business))
                div class="card" data-testid="import-report" {
                    h2 { "Imported " (report.file) }
                    @if let Some(survey) = &report.survey {
                        p { "Survey: " a href={ "/b/" (business) "/surveys/" (report.survey_id.unwrap_or_default()) } { (survey) }
                            @if report.survey_created { " (created by this import)" } }
                    }
                    p { (report.records) " read: " strong { (report.added) " added" } ", " (report.duplicates) " already there, "
                        (report.rejected) " rejected"
                        @if report.texts_added > 0 { "; " (report.texts_added) " free-text answers also stored as feedback" }
                        @if report.new_customers > 0 { "; " (report.new_customers) " new customers" }
                        "." }
                    @if !report.rejects.is_empty() {
                        h3 { "Rejected rows" }
                        pre { @for line in &report.rejects { (line) "\n" } }
                    }
                }
                p { a href={ "/b/" (business) "/feedback" } { "See the feedback themes →" } }
                h2 { "Import another file" }
                (form(business, &signed.csrf, &surveys))
            };
            Ok(html_response(page(&nav, "Import feedback", content)))
        }
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            let content = html! {
                (intro(business))
                p class="error lines" data-code=(e.code) { (e.message) }
                p class="muted" { "Nothing was imported." }
                (form(business, &signed.csrf, &surveys))
            };
            Ok((StatusCode::BAD_REQUEST, html_response(page(&nav, "Import feedback", content))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
