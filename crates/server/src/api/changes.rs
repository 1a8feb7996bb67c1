//! The change log as JSON: `GET /api/businesses/{id}/changes` lists the business's changes newest
//! first (any member), `POST` records one (editors and owners), and
//! `GET .../changes/{change_id}/impact` measures one (any member). Both answer the app's
//! `ChangeView`s, so the API, the CLI and the app agree; a bad field is a 400 `invalid_input`
//! whose message starts with the field's name.

use super::{ApiPath, ApiResult, JsonBody, openapi::ErrorBody};
use crate::auth::{self, ApiUser, require_edit};
use crate::error::ApiError;
use crate::state::ServerState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use trailmap_app::changes::{ChangeRequest, ChangeView};
use trailmap_app::impact::Impact;
use trailmap_model::{BusinessId, CardRef, ChangeId, ChangeMetric};
use utoipa::ToSchema;

/// A change to record. Touchpoints, stages and names inside the metric are matched
/// case-insensitively.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewChange {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The day the change took effect (YYYY-MM-DD).
    pub date: String,
    /// Touchpoint names.
    #[serde(default)]
    pub touchpoints: Vec<String>,
    /// Stage names.
    #[serde(default)]
    pub stages: Vec<String>,
    /// The KPI in the person's words; the metric's label is shown when absent.
    pub kpi: Option<String>,
    /// The KPI the engine computes: a text form (`conversion:checkout_started>purchase:7d`,
    /// `reach:STAGE`, `repeat-rate`, `aov`, `revenue-per-customer`, `nps`, `csat[:TOUCHPOINT]`,
    /// `new-customers[:CHANNEL]`) or the object a listed change carries in `metric`.
    #[schema(value_type = Option<Object>)]
    pub metric: Option<serde_json::Value>,
    pub owner: Option<String>,
    /// The pain point or action card it answers: `{"map": ID, "card": ID}`, or the text
    /// `MAP:CARD` (map by id or name, card by id or text).
    #[schema(value_type = Option<Object>)]
    pub answers: Option<serde_json::Value>,
}

fn metric(value: serde_json::Value) -> ApiResult<ChangeMetric> {
    match value {
        serde_json::Value::String(text) => {
            text.parse().map_err(|e: trailmap_model::MetricParseError| ApiError::invalid_input(format!("metric {text:?}: {e}")))
        }
        other => serde_json::from_value(other).map_err(|e| ApiError::invalid_input(format!("metric: {e}"))),
    }
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/changes", tag = "changes",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, description = "The changes, newest first: id, title, description, date, touchpoints and stages (names), kpi (the label), metric (data) and metric_text, owner, answers (map, card, map_name, kind, stage, text)", body = [Object]),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<ChangeView>>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    Ok(Json(state.try_read(move |app| app.changes(&business)).await?))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/changes", tag = "changes", request_body = NewChange,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 201, description = "The change as listed", body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<NewChange>,
) -> ApiResult<(StatusCode, Json<ChangeView>)> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let date = NaiveDate::parse_from_str(body.date.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::invalid_input(format!("date {:?}: expected a day as YYYY-MM-DD", body.date)))?;
    let metric = body.metric.map(metric).transpose()?;
    // A card named in text needs the business's maps, so it is found with the write.
    let (answers, answers_text) = match body.answers {
        None | Some(serde_json::Value::Null) => (None, None),
        Some(serde_json::Value::String(text)) => (None, Some(text)),
        Some(other) => {
            (Some(serde_json::from_value::<CardRef>(other).map_err(|e| ApiError::invalid_input(format!("answers: {e}")))?), None)
        }
    };
    let mut request = ChangeRequest {
        title: body.title,
        description: body.description,
        date,
        touchpoints: body.touchpoints,
        stages: body.stages,
        kpi: body.kpi,
        metric,
        owner: body.owner,
        answers,
    };
    let change = state
        .try_write(move |app| {
            if let Some(text) = &answers_text {
                request.answers = Some(app.find_card(&business, text)?);
            }
            app.add_change(&business, request)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(change)))
}

pub use trailmap_app::query::ImpactQuery;

#[utoipa::path(get, path = "/api/businesses/{business_id}/changes/{change_id}/impact", tag = "changes",
    params(("business_id" = i64, Path, description = "The business"), ("change_id" = i64, Path, description = "The change"), ImpactQuery),
    responses((status = 200, description = "The impact: the metric before and after over matched windows (value, n, customers), the comparison (test, difference, interval, p-value), the verdict with its n, the difference-in-differences against an untouched comparable when there is one, the A/B split when asked, and the method", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn impact(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath((id, change)): ApiPath<(i64, i64)>,
    axum::extract::Query(query): axum::extract::Query<ImpactQuery>,
) -> ApiResult<Json<Impact>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let request = query.request()?;
    Ok(Json(state.try_read(move |app| app.change_impact(&business, ChangeId(change), &request).map_err(ImpactQuery::field_names)).await?))
}
