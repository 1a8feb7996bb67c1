//! One customer's data on their request, for owners: `GET .../customers/{customer_id}/export` answers
//! everything held about the person as one JSON document (`trailmap.customer-export`),
//! `DELETE .../customers/{customer_id}` erases them everywhere and answers what was removed, and
//! `GET .../erasures` lists the business's erasures (when, how many of each kind; never whose).
//! `{customer_id}` is a customer id, an email or the business's own customer id. And the
//! retention of raw events: `GET .../retention` (any member) and `PUT .../retention` (owners). Editors and viewers get
//! 403 `forbidden`: handing over or deleting a person's data is the owner's decision.

use super::{ApiPath, ApiResult, JsonBody, openapi::ErrorBody};
use crate::auth::{self, ApiUser, require_manage};
use crate::state::ServerState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use trailmap_app::ErasureSummary;
use trailmap_model::BusinessId;
use utoipa::ToSchema;

/// What an erasure removed (the person's data is not kept, only these counts).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErasureOut {
    /// RFC 3339.
    pub erased_at: String,
    /// Customer rows: the person and every customer merged into them.
    pub customers: u64,
    pub identities: u64,
    pub events: u64,
    pub orders: u64,
    pub survey_responses: u64,
    pub feedback: u64,
}

impl From<&ErasureSummary> for ErasureOut {
    fn from(e: &ErasureSummary) -> ErasureOut {
        ErasureOut {
            erased_at: e.erased_at.to_rfc3339(),
            customers: e.customers,
            identities: e.identities,
            events: e.events,
            orders: e.orders,
            survey_responses: e.survey_responses,
            feedback: e.feedback,
        }
    }
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/customers/{customer_id}/export", tag = "privacy",
    params(("business_id" = i64, Path, description = "The business"), ("customer_id" = String, Path, description = "A customer id, an email or your own customer id")),
    responses((status = 200, body = Object, description = "The trailmap.customer-export document: customer, identities, events, orders, survey_responses, feedback, personas"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, who)): ApiPath<(i64, String)>) -> ApiResult<Json<serde_json::Value>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_manage(membership.role)?;
    let (business, now) = (membership.business, auth::now());
    let export = state
        .try_read(move |app| {
            let customer = app.find_customer(&business, &who)?;
            app.export_customer(&business, customer, now)
        })
        .await?;
    Ok(Json(serde_json::to_value(export).map_err(|e| crate::error::ApiError::internal(e.to_string()))?))
}

#[utoipa::path(delete, path = "/api/businesses/{business_id}/customers/{customer_id}", tag = "privacy",
    params(("business_id" = i64, Path, description = "The business"), ("customer_id" = String, Path, description = "A customer id, an email or your own customer id")),
    responses((status = 200, body = ErasureOut, description = "What was removed"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn erase(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, who)): ApiPath<(i64, String)>) -> ApiResult<Json<ErasureOut>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_manage(membership.role)?;
    let (business, now) = (membership.business, auth::now());
    let summary = state
        .try_write(move |app| {
            let customer = app.find_customer(&business, &who)?;
            app.erase_customer(&business, customer, now)
        })
        .await?;
    Ok(Json(ErasureOut::from(&summary)))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/erasures", tag = "privacy",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = [ErasureOut]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn erasures(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<ErasureOut>>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_manage(membership.role)?;
    let business = membership.business;
    let found = state.try_read(move |app| app.erasures(&business)).await?;
    Ok(Json(found.iter().map(ErasureOut::from).collect()))
}

/// How long a business keeps its raw events.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RetentionOut {
    /// Days raw events are kept (1 to 3650); none: for ever. Orders, survey answers and feedback
    /// are kept regardless.
    #[schema(minimum = 1, maximum = 3650)]
    pub days: Option<u32>,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/retention", tag = "privacy",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = RetentionOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retention(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<RetentionOut>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let days = state.try_read(move |app| app.event_retention(&business)).await?;
    Ok(Json(RetentionOut { days }))
}

#[utoipa::path(put, path = "/api/businesses/{business_id}/retention", tag = "privacy", request_body = RetentionOut,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = RetentionOut, description = "The retention set; older events are removed within the hour"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_retention(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<RetentionOut>,
) -> ApiResult<Json<RetentionOut>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_manage(membership.role)?;
    let business = membership.business;
    let days = state
        .try_write(move |app| {
            app.set_event_retention(&business, body.days)?;
            app.event_retention(&business)
        })
        .await?;
    Ok(Json(RetentionOut { days }))
}
