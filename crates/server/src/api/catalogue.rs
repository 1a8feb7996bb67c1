//! The business's touchpoint catalogue as JSON, the same answer the touchpoints page shows:
//! `GET /api/businesses/{id}/touchpoints?from&to` (each touchpoint with its rule in words, the
//! events and customers it matched in the period, and its map stages). Any member may read.
//! Persona cards are in `personas`.

use super::{ApiPath, ApiResult, openapi::ErrorBody};
use crate::auth::{self, ApiUser};
use crate::error::ApiError;
use crate::state::ServerState;
use trailmap_app::query::CustomersQuery;
use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use trailmap_model::BusinessId;
use utoipa::ToSchema;

fn json<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::internal(format!("the answer cannot be written as JSON: {e}")))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TouchpointsOut {
    pub business_id: i64,
    /// The catalogue: business, period ([from, to) in ms, or null for all time), and touchpoints
    /// (touchpoint, name, channel, description, rule in words, rule_text in the event rule
    /// language, stage, position, events, customers {n, customers}, placements), in the
    /// business's order.
    #[schema(value_type = Object)]
    pub catalogue: serde_json::Value,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/touchpoints", tag = "touchpoints",
    params(("business_id" = i64, Path, description = "The business"),
        ("from" = Option<String>, Query, description = "First day (YYYY-MM-DD), with `to`"),
        ("to" = Option<String>, Query, description = "Last day, included (YYYY-MM-DD), with `from`")),
    responses((status = 200, body = TouchpointsOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn touchpoints(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, Query(query): Query<CustomersQuery>) -> ApiResult<Json<TouchpointsOut>> {
    let b = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let catalogue = state
        .try_read(move |app| {
            // The page reads its dates the same way, so page and API agree.
            let period = query.span()?;
            app.touchpoint_catalogue(&b, period)
        })
        .await?;
    Ok(Json(TouchpointsOut { business_id: id, catalogue: json(&catalogue)? }))
}
