//! The business's persona cards and touchpoint catalogue as JSON, the same answers the personas
//! and touchpoints pages show: `GET /api/businesses/{id}/personas` (each card with the customers
//! it covers, n and ids) and `GET /api/businesses/{id}/touchpoints?from&to` (each touchpoint with
//! its rule in words, the events and customers it matched in the period, and its map stages).
//! Any member may read.

use super::{ApiPath, ApiResult, openapi::ErrorBody};
use crate::auth::{self, ApiUser};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::web::maps::NumbersQuery;
use crate::web::touchpoints::PeriodQuery;
use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use trailmap_model::BusinessId;
use utoipa::ToSchema;

fn json<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::internal(format!("the answer cannot be written as JSON: {e}")))
}

/// One persona card and the customers it covers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonaOut {
    /// The card as stored: id, name, photo, demographics, goals, frustrations, behaviours, quote,
    /// segment (the rule over customers).
    #[schema(value_type = Object)]
    pub persona: serde_json::Value,
    /// The customers the persona covers (each customer counts for the first persona they match).
    pub n: usize,
    pub customers: Vec<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonasOut {
    pub business_id: i64,
    /// Why coverage was not counted (a business without data yet); every n is then 0.
    pub not_counted: Option<String>,
    pub personas: Vec<PersonaOut>,
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

#[utoipa::path(get, path = "/api/businesses/{business_id}/personas", tag = "personas",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = PersonasOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn personas(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<PersonasOut>> {
    let b = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let (personas, coverage, not_counted) = state
        .try_read(move |app| app.personas_with_coverage(&b))
        .await?;
    let personas = personas
        .iter()
        .map(|p| {
            let covered = coverage.iter().find(|c| c.persona == p.id);
            Ok(PersonaOut {
                persona: json(p)?,
                n: covered.map_or(0, |c| c.n),
                customers: covered.map(|c| c.customers.iter().map(|c| c.0).collect()).unwrap_or_default(),
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Json(PersonasOut { business_id: id, not_counted, personas }))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/touchpoints", tag = "touchpoints",
    params(("business_id" = i64, Path, description = "The business"),
        ("from" = Option<String>, Query, description = "First day (YYYY-MM-DD), with `to`"),
        ("to" = Option<String>, Query, description = "Last day, included (YYYY-MM-DD), with `from`")),
    responses((status = 200, body = TouchpointsOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn touchpoints(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, Query(query): Query<PeriodQuery>) -> ApiResult<Json<TouchpointsOut>> {
    let b = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let catalogue = state
        .try_read(move |app| {
            // The page reads its dates the same way, so page and API agree.
            let period = NumbersQuery { from: query.from, to: query.to, persona: None }.request(app, &b)?.period;
            app.touchpoint_catalogue(&b, period)
        })
        .await?;
    Ok(Json(TouchpointsOut { business_id: id, catalogue: json(&catalogue)? }))
}
