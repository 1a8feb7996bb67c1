//! Surveys and feedback as JSON: the business's surveys with their response counts and public
//! links, creating a survey from a JSON definition (the format of `trailmap survey create`), a
//! survey's NPS, CSAT and CES results, and the feedback's themes and sentiment. Any member reads;
//! creating and importing need an editor (403 otherwise). Every score and theme carries its n.
//! `POST .../feedback/import` takes a file as the raw body (see `web::surveys::import`).

use super::{ApiPath, ApiResult, JsonBody, openapi::ErrorBody};
use crate::auth::{self, ApiUser, require_edit};
use crate::state::ServerState;
use trailmap_app::query::score_grouping as grouping;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trailmap_app::surveys::SurveyDefinition;
use trailmap_app::voice::{SurveyResultsRequest, ThemesRequest};
use trailmap_model::{BusinessId, SurveyId};
use utoipa::ToSchema;

/// One survey as listed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SurveyOut {
    pub id: i64,
    pub name: String,
    pub touchpoint: Option<String>,
    pub stage: Option<String>,
    pub questions: usize,
    /// Responses stored: the n of the survey's results.
    pub responses: u64,
    /// The public page's path (`/s/{token}`), when the survey has a link.
    pub public_path: Option<String>,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/surveys", tag = "surveys",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = [SurveyOut]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<SurveyOut>>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let surveys = state
        .try_read(move |app| {
            let mut out = Vec::new();
            for s in app.list_surveys(&business)? {
                let token = app.survey_link(&business, SurveyId(s.id))?;
                out.push(SurveyOut {
                    id: s.id,
                    name: s.name,
                    touchpoint: s.touchpoint,
                    stage: s.stage,
                    questions: s.questions,
                    responses: s.responses,
                    public_path: token.map(|t| format!("/s/{t}")),
                });
            }
            Ok(out)
        })
        .await?;
    Ok(Json(surveys))
}

/// A created survey.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedSurvey {
    pub id: i64,
    pub name: String,
    pub questions: usize,
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/surveys", tag = "surveys",
    params(("business_id" = i64, Path, description = "The business")),
    request_body(content = Object, description = "A survey definition: name, touchpoint and/or stage (by name), questions [{text, kind, required, options, max, skip_if: {question, values}}]"),
    responses((status = 201, body = CreatedSurvey), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(definition): JsonBody<SurveyDefinition>,
) -> ApiResult<(StatusCode, Json<CreatedSurvey>)> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let survey = state.try_write(move |app| app.create_survey_from_definition(&business, &definition, "the request body")).await?;
    Ok((StatusCode::CREATED, Json(CreatedSurvey { id: survey.id.0, name: survey.name, questions: survey.questions.len() })))
}

#[derive(Debug, Deserialize, Default)]
pub struct ResultsQuery {
    pub by: Option<String>,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/surveys/{survey_id}/results", tag = "surveys",
    params(("business_id" = i64, Path, description = "The business"), ("survey_id" = i64, Path, description = "The survey"),
        ("by" = Option<String>, Query, description = "touchpoint, stage, persona or month")),
    responses((status = 200, description = "The app's survey results: per NPS, CSAT or CES question the score, its 95% interval, n, counts and customers, and per group when asked", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn results(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath((id, sid)): ApiPath<(i64, i64)>,
    Query(query): Query<ResultsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let by = grouping(query.by.as_deref())?;
    let report = state
        .try_read(move |app| {
            // The survey must be this business's: a survey id of another business is a 404.
            app.survey_link(&business, SurveyId(sid))?;
            app.survey_results(&business, &SurveyResultsRequest { survey: Some(sid.to_string()), by, ..Default::default() })
        })
        .await?;
    Ok(Json(serde_json::to_value(report).map_err(|e| crate::error::ApiError::internal(e.to_string()))?))
}

#[derive(Debug, Deserialize, Default)]
pub struct ThemesQuery {
    pub touchpoint: Option<String>,
    pub stage: Option<String>,
    pub persona: Option<String>,
    pub stop_words: Option<String>,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/feedback/themes", tag = "surveys",
    params(("business_id" = i64, Path, description = "The business"),
        ("touchpoint" = Option<String>, Query, description = "Only feedback at this touchpoint (by name)"),
        ("stage" = Option<String>, Query, description = "Only feedback at a touchpoint of this stage (by name)"),
        ("persona" = Option<String>, Query, description = "Only feedback of the customers this persona's segment rule covers (by name)"),
        ("stop_words" = Option<String>, Query, description = "Extra words that never make a theme alone, separated by commas (on top of order, product, item, thing, really, ...)")),
    responses((status = 200, description = "Themes, the most negative first, each with its count (n), negative count, average sentiment, quotes and text ids; 400 `invalid_input` names a bad field (touchpoint, stage, persona)", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn themes(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, Query(query): Query<ThemesQuery>) -> ApiResult<Json<serde_json::Value>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let mut request = ThemesRequest {
        touchpoint: query.touchpoint.filter(|t| !t.trim().is_empty()),
        stage: query.stage.filter(|s| !s.trim().is_empty()),
        persona: query.persona.filter(|p| !p.trim().is_empty()),
        ..ThemesRequest::default()
    };
    request.options.stop_words = trailmap_app::query::stop_word_list(query.stop_words.as_deref());
    let report = state.try_read(move |app| app.feedback_themes(&business, &request)).await?;
    Ok(Json(serde_json::to_value(report).map_err(|e| crate::error::ApiError::internal(e.to_string()))?))
}

#[derive(Debug, Deserialize, Default)]
pub struct SentimentQuery {
    pub limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/feedback/sentiment", tag = "surveys",
    params(("business_id" = i64, Path, description = "The business"),
        ("limit" = Option<usize>, Query, description = "Texts listed, the most negative first; default 50")),
    responses((status = 200, description = "Counts of negative, neutral and positive texts with their n and average, and the texts", body = Object),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn sentiment(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, Query(query): Query<SentimentQuery>) -> ApiResult<Json<serde_json::Value>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let limit = query.limit.unwrap_or(50);
    let report = state.try_read(move |app| app.feedback_sentiment(&business, Some(limit))).await?;
    Ok(Json(serde_json::to_value(report).map_err(|e| crate::error::ApiError::internal(e.to_string()))?))
}

#[derive(Debug, Deserialize, Default)]
pub struct ImportQuery {
    pub layout: Option<String>,
    pub survey: Option<String>,
    pub file: Option<String>,
    pub skip_invalid: Option<bool>,
}

/// Imports the request body as a file: survey responses exported by Google Forms or Typeform,
/// interview notes, or reviews. Without `layout`, a JSON body is taken as reviews.
#[utoipa::path(post, path = "/api/businesses/{business_id}/feedback/import", tag = "surveys",
    params(("business_id" = i64, Path, description = "The business"),
        ("layout" = Option<String>, Query, description = "google-forms, typeform, notes or reviews; default reviews for a JSON body"),
        ("survey" = Option<String>, Query, description = "Form exports: the survey receiving the answers, by name; default the survey with the same questions, or a new one named after `file`"),
        ("file" = Option<String>, Query, description = "The file's name, used in error messages and as a new survey's name"),
        ("skip_invalid" = Option<bool>, Query, description = "Import the valid rows and list the rejected ones, instead of refusing the whole file")),
    request_body(content = String, description = "The file's bytes, at most 20 MiB (text/csv, application/json, text/markdown)"),
    responses((status = 200, body = crate::feedback_uploads::UploadReport), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn import(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    Query(query): Query<ImportQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Json<crate::feedback_uploads::UploadReport>> {
    use crate::feedback_uploads::{MAX_UPLOAD_BYTES, Upload, UploadLayout, import_upload, too_large};
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let content_type = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    let json = content_type.starts_with("application/json");
    let layout = match query.layout.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(layout) => UploadLayout::parse(layout, "layout")?,
        None if json => UploadLayout::Reviews,
        None => return Err(crate::error::ApiError::invalid_input("`layout`: say google-forms, typeform, notes or reviews (only a JSON body defaults to reviews)")),
    };
    let bytes = axum::body::to_bytes(body, MAX_UPLOAD_BYTES).await.map_err(|_| too_large())?;
    if bytes.is_empty() {
        return Err(crate::error::ApiError::invalid_input("the request body is empty: send the file's bytes as the body"));
    }
    let file_name = query.file.unwrap_or_else(|| if json { "upload.json".into() } else { "upload.csv".into() });
    let upload = Upload { file_name, bytes: bytes.to_vec(), layout, survey: query.survey, skip_invalid: query.skip_invalid.unwrap_or(false) };
    Ok(Json(import_upload(&state, membership.business, upload).await?))
}
