//! Data imports in the JSON API: `POST /api/businesses/{id}/imports?kind=...` takes a file as the
//! raw body (its Content-Type naming the format) or as multipart form data (a `file` part and the
//! settings as fields), and answers the import's report, or with `dry_run=true` the preview of
//! how the file would be read. `GET .../imports/rejects/{id}` downloads the rows an import with
//! `skip_bad_rows` refused. Editors and owners only (403 for viewers). The work is shared with
//! the Import page in `crate::imports`.

use super::openapi::ErrorBody;
use super::{ApiPath, ApiResult};
use crate::auth::{self, ApiUser, require_edit};
use crate::error::ApiError;
use crate::imports::{ImportFields, ImportPreviewOut, ImportReportOut, Receiving, format_of_content_type, read_rejects, receive_multipart, too_large};
use crate::state::ServerState;
use axum::Json;
use axum::extract::{FromRequest, Multipart, RawQuery, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde::Serialize;
use trailmap_model::BusinessId;
use utoipa::ToSchema;

/// The answer of an import request: the preview (`dry_run=true`) or the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportAnswer {
    pub dry_run: bool,
    /// With `dry_run=true`: how the file would be read.
    pub preview: Option<ImportPreviewOut>,
    /// Otherwise: what the import did.
    pub report: Option<ImportReportOut>,
}

/// Imports the file in the body, or previews it with `dry_run=true`.
///
/// The file comes as the raw body, its Content-Type naming the format (`text/csv`,
/// `application/x-ndjson` (or `application/json`, read as NDJSON), `application/vnd.apache.parquet`
/// or `application/octet-stream`, both read as Parquet and checked for its magic bytes), or as
/// `multipart/form-data` with a `file` part (its format from its name and first bytes) and the
/// settings as fields before it. Settings are query parameters (or form fields): column
/// overrides as `map.FIELD=COLUMN` (an empty column leaves the field unfilled) or `map` with a
/// JSON object. The import lands whole, in one transaction, or with `skip_bad_rows=true` the
/// valid rows land and the refused ones can be downloaded; the same file imported twice lands
/// nothing new.
#[utoipa::path(post, path = "/api/businesses/{business_id}/imports", tag = "imports",
    params(("business_id" = i64, Path, description = "The business"),
        ("kind" = String, Query, description = "What the file holds: events, customers, orders or spend (or feedback)"),
        ("layout" = Option<String>, Query, description = "generic, shopify or stripe; default detected from the columns"),
        ("decimal" = Option<String>, Query, description = "point or comma: how the file writes decimals; default the layout's (Shopify and Stripe write points), else the business's, else a number such as 12,50 is refused"),
        ("delimiter" = Option<String>, Query, description = "A CSV file's delimiter: one character such as ; or |, or tab; default comma"),
        ("encoding" = Option<String>, Query, description = "The file's text encoding (windows-1252, latin1, utf-16le...); default UTF-8"),
        ("format" = Option<String>, Query, description = "csv, ndjson or parquet; default from the Content-Type, else the file's name and first bytes"),
        ("file" = Option<String>, Query, description = "The file's name, used in messages"),
        ("skip_bad_rows" = Option<bool>, Query, description = "Import the valid rows and keep the refused ones for download, instead of refusing the whole file"),
        ("dry_run" = Option<bool>, Query, description = "Import nothing: answer the preview (layout, mapping, the first rows as they will be read)"),
        ("map.FIELD" = Option<String>, Query, description = "The column that fills FIELD (e.g. map.time=Placed At); empty for none"),
        ("map" = Option<String>, Query, description = "Column overrides as a JSON object of field to column")),
    request_body(content = String, description = "The file: CSV, NDJSON or Parquet as the raw body, or multipart/form-data with a `file` part; at most the server's max-import-mib (256 MiB by default)",
        content_type = "text/csv"),
    responses((status = 200, body = ImportAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, description = "`wrong_format`: the body is not the format it claims", body = ErrorBody),
        (status = 422, description = "`invalid_file` (a required column is missing...) or `invalid_rows` (with `rows`: line, column, reason); nothing was imported", body = ErrorBody)))]
pub async fn create(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(query): RawQuery, request: Request) -> ApiResult<Json<ImportAnswer>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let mut fields = ImportFields::default();
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        fields.set(&name, &value)?;
    }
    let limit = state.import_limit;
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let upload = if content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(request, &state).await.map_err(|e| ApiError::invalid_input(format!("the form could not be read: {}", e.body_text())))?;
        receive_multipart(&state, business.id, multipart, fields, None).await?
    } else {
        // The settings are checked before the body is read, so a wrong one costs no upload (a
        // form's come with its file, and are checked once it is read).
        fields.form().parse().map_err(ApiError::from)?;
        if fields.format.is_empty()
            && let Some(format) = format_of_content_type(&content_type)?
        {
            fields.format = format.to_string();
        }
        let name = fields.file.clone();
        let mut receiving = Receiving::start(&state, business.id, &name, fields)?;
        let mut body = request.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| ApiError::invalid_input(format!("the body could not be read: {e}")))?;
            if let Ok(data) = frame.into_data() {
                receiving.push(&data)?;
            }
        }
        receiving.finish()?
    };
    let answer = if upload.fields.dry_run {
        let preview = upload.preview(&state, business).await;
        ImportAnswer { dry_run: true, preview: Some(preview.map(ImportPreviewOut::from)?), report: None }
    } else {
        let report = upload.import(&state, business).await;
        ImportAnswer { dry_run: false, preview: None, report: Some(report?) }
    };
    upload.discard();
    Ok(Json(answer))
}

/// The rows an import with `skip_bad_rows` refused, as CSV: line (a Parquet file's row number),
/// column, reason, and the row as it was. Kept for a day.
#[utoipa::path(get, path = "/api/businesses/{business_id}/imports/rejects/{rejects_id}", tag = "imports",
    params(("business_id" = i64, Path, description = "The business"), ("rejects_id" = String, Path, description = "The id an import's report gave")),
    responses((status = 200, description = "The rejects file (text/csv)", body = String, content_type = "text/csv"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rejects(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, rejects_id)): ApiPath<(i64, String)>) -> ApiResult<Response> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let bytes = read_rejects(&state, BusinessId(id), &rejects_id)?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"rejects-{rejects_id}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
