//! The action board as JSON: `GET /api/businesses/{id}/actions` lists every action card across
//! the business's maps (any member), filtered by `status`, `owner` and `map` and sorted by
//! `sort`, each with the pain point it answers, its status against today in the business's time
//! zone, and the change it led to with that change's verdict and n. The query is read by the
//! app's `ActionsRequest`, as the CLI's flags and the page's form are.

use super::{ApiPath, ApiResult, openapi::ErrorBody};
use crate::auth::{self, ApiUser};
use crate::state::ServerState;
use axum::Json;
use axum::extract::{RawQuery, State};
use trailmap_app::actions::{ActionBoard, ActionSort, ActionStatus, ActionsRequest};
use trailmap_app::query::{FromParams, Params};
use trailmap_model::BusinessId;

#[utoipa::path(get, path = "/api/businesses/{business_id}/actions", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"),
        ("status" = Option<ActionStatus>, Query, description = "open, done or overdue (past due and not done, today in the business's time zone)"),
        ("owner" = Option<String>, Query, description = "Only this owner's actions (ignoring case)"),
        ("map" = Option<String>, Query, description = "Only this map's actions: its id or name"),
        ("sort" = Option<ActionSort>, Query, description = "due (default), status, owner or map")),
    responses((status = 200, description = "The board: today, the counts over all actions (total, open, done, overdue), the owners, and the actions kept, each with its map, stage, card, text, the pain point it answers (from), owner, due, status, overdue, kpi, and the change with its verdict and n", body = ActionBoard),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn board(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<ActionBoard>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let request = ActionsRequest::from_params(&Params::parse(raw.as_deref()))?;
    let now = auth::now();
    Ok(Json(state.try_read(move |app| app.action_board(&business, &request, now)).await?))
}
