//! The research library and live card evidence as JSON: `GET /api/businesses/{id}/research` lists
//! every quote with the library's filters and counts, `POST .../research/{feedback}/tags` adds
//! and removes an item's tags, `POST .../maps/{map}/cards/{card}/quotes` attaches quotes to a
//! card, and `GET .../maps/{map}/evidence` answers every card's evidence computed live for a
//! period and persona. Any member reads; editors and owners write (else 403 `forbidden`).

use super::maps::AnyJson;
use super::{ApiPath, ApiResult, JsonBody, editor, openapi::ErrorBody};
use crate::auth::{self, ApiUser, author};
use crate::error::ApiError;
use crate::state::ServerState;
use axum::Json;
use axum::extract::{Query, RawQuery, State};
use serde::{Deserialize, Serialize};
use trailmap_app::query::NumbersQuery;
use trailmap_app::research::{ResearchLibrary, ResearchQuery};
use trailmap_app::{FromParams, Params};
use trailmap_model::{BusinessId, FeedbackId, MapId};
use utoipa::ToSchema;

#[utoipa::path(get, path = "/api/businesses/{business_id}/research", tag = "research",
    params(("business_id" = i64, Path, description = "The business"),
        ("tag" = Option<String>, Query, description = "Only items with this tag"),
        ("kind" = Option<String>, Query, description = "interview, focus_group, survey, review or social"),
        ("persona" = Option<String>, Query, description = "A persona by name or id: items of its customers"),
        ("touchpoint" = Option<String>, Query, description = "A touchpoint by name or id"),
        ("stage" = Option<String>, Query, description = "A business stage by name"),
        ("sentiment" = Option<String>, Query, description = "negative, neutral or positive (VADER compound ≤ -0.05, between, ≥ 0.05)"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (with to)"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD, included"),
        ("source" = Option<String>, Query, description = "One session or survey, by its source"),
        ("search" = Option<String>, Query, description = "Words the text contains"),
        ("limit" = Option<usize>, Query, description = "Items per page, 1-1000 (default 50)"),
        ("offset" = Option<usize>, Query, description = "Items skipped")),
    responses((status = 200, description = "The matching items (newest first), n, the tag and kind counts, and where each item is cited", body = ResearchLibrary),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<ResearchLibrary>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let query = ResearchQuery::from_params(&Params::parse(raw.as_deref()))?;
    Ok(Json(state.try_read(move |app| app.research(&business, &query)).await?))
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct TagChange {
    /// Tags to add (letters, digits, - and _; up to 40 characters).
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TagsOut {
    /// The item's tags after the change.
    pub tags: Vec<String>,
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/research/{feedback_id}/tags", tag = "research", request_body = TagChange,
    params(("business_id" = i64, Path, description = "The business"), ("feedback_id" = i64, Path, description = "The item (a feedback id)")),
    responses((status = 200, body = TagsOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn tags(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath((id, feedback)): ApiPath<(i64, i64)>,
    JsonBody(change): JsonBody<TagChange>,
) -> ApiResult<Json<TagsOut>> {
    let business = editor(&state, &caller, id).await?;
    let tags = state.try_write(move |app| app.tag_research(&business, FeedbackId(feedback), &change.add, &change.remove)).await?;
    Ok(Json(TagsOut { tags }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CiteQuotes {
    /// The items (feedback ids) to cite on the card.
    pub feedback: Vec<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CitedOut {
    /// How many of the quotes were new on the card (those it cited already are kept once).
    pub added: usize,
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/maps/{map_id}/cards/{card_id}/quotes", tag = "research", request_body = CiteQuotes,
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "A map of it"), ("card_id" = u32, Path, description = "A card of the map")),
    responses((status = 200, body = CitedOut, description = "The quotes are cited by the card, in one new version of the map"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cite(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath((id, map, card)): ApiPath<(i64, i64, u32)>,
    JsonBody(body): JsonBody<CiteQuotes>,
) -> ApiResult<Json<CitedOut>> {
    let business = editor(&state, &caller, id).await?;
    let by = author(&caller.user);
    let quotes: Vec<FeedbackId> = body.feedback.into_iter().map(FeedbackId).collect();
    let added = state.try_write(move |app| app.cite_quotes(&business, MapId(map), card, &quotes, &by)).await?;
    Ok(Json(CitedOut { added }))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/maps/{map_id}/evidence", tag = "research",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "A map of it"),
        ("from" = Option<String>, Query, description = "First day (YYYY-MM-DD); with `to`, else every recorded day"),
        ("to" = Option<String>, Query, description = "Last day, included (YYYY-MM-DD)"),
        ("persona" = Option<String>, Query, description = "Only this persona's customers: its id or name")),
    responses((status = 200, body = AnyJson, description = "Per card (by id): its evidence resolved (quotes with source and date, strongest first; answers; survey scores with n and interval; metrics with value, n and trend against the days before, or the reason they cannot be computed; notes), the changes answering it with their verdicts; and how many cards rest on evidence"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn evidence(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map)): ApiPath<(i64, i64)>, Query(query): Query<NumbersQuery>) -> ApiResult<Json<AnyJson>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let evidence = crate::map_answers::map_evidence(&state, &business, map, &query).await?;
    let value = serde_json::to_value(&*evidence).map_err(|e| ApiError::internal(format!("the answer cannot be written as JSON: {e}")))?;
    Ok(Json(AnyJson(value)))
}
