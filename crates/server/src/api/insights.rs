//! Insights as JSON: `GET /api/businesses/{id}/insights?from=&to=` answers the business's
//! findings ranked by the value at stake, each with its n, its evidence and its customers, for
//! any member. Without a period the app takes the business's default one.

use super::{ApiPath, ApiResult, openapi::ErrorBody};
use crate::auth::{self, ApiUser};
use crate::state::ServerState;
use axum::Json;
use axum::extract::{Query, State};
use trailmap_app::insights::Insights;
use trailmap_app::query::InsightsQuery;
use trailmap_model::BusinessId;

#[utoipa::path(get, path = "/api/businesses/{business_id}/insights", tag = "insights",
    params(("business_id" = i64, Path, description = "The business"), InsightsQuery),
    responses((status = 200, description = "The findings, the largest value at stake first: kind, title, detail (with n), value_at_stake_minor and how it was estimated, n, evidence (page and command) and the customers behind it", body = Insights),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, Query(query): Query<InsightsQuery>) -> ApiResult<Json<Insights>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let request = query.request(auth::now().date())?;
    Ok(Json(state.try_read(move |app| app.insights(&business, &request)).await?))
}
