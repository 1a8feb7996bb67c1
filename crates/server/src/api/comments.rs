//! Comments on map cards as JSON: `/api/businesses/{id}/maps/{map}/comments` (every comment of the
//! map) and `.../cards/{card}/comments` (list, create; edit and delete one by id). Every member
//! reads and comments, viewers included; only the author edits, and the author or an owner
//! deletes (else 403 `forbidden`). The rules are the app's (`trailmap_app::comments`); share links
//! never show comments.

use super::{ApiPath, ApiResult, JsonBody, openapi::ErrorBody};
use crate::auth::{self, ApiUser};
use crate::state::ServerState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use trailmap_app::Comment;
use trailmap_app::comments::{may_delete_comment, may_edit_comment};
use trailmap_model::{BusinessId, CardRef, MapId, Membership, Timestamp, UserId};
use utoipa::ToSchema;

/// A comment on a card.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommentOut {
    pub id: i64,
    pub map: i64,
    pub card: u32,
    pub author_id: i64,
    pub author_name: String,
    pub text: String,
    /// RFC 3339.
    pub created: String,
    /// When the text was last changed (RFC 3339); none: never.
    pub edited: Option<String>,
    /// Whether the caller may edit it (they wrote it).
    pub may_edit: bool,
    /// Whether the caller may delete it (they wrote it, or they own the business).
    pub may_delete: bool,
}

impl CommentOut {
    fn new(c: &Comment, caller: &Membership, user: UserId) -> CommentOut {
        CommentOut {
            id: c.id,
            map: c.map.0,
            card: c.card,
            author_id: c.author.0,
            author_name: c.author_name.clone(),
            text: c.text.clone(),
            created: c.created_at.to_rfc3339(),
            edited: c.edited_at.map(Timestamp::to_rfc3339),
            may_edit: may_edit_comment(c, user),
            may_delete: may_delete_comment(c, user, caller.role),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CommentText {
    /// 1 to 5,000 characters.
    pub text: String,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/maps/{map_id}/comments", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map")),
    responses((status = 200, body = [CommentOut], description = "Every comment of the map, by card then oldest first"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn of_map(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map)): ApiPath<(i64, i64)>) -> ApiResult<Json<Vec<CommentOut>>> {
    let member = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    let business = member.business.clone();
    let comments = state.try_read(move |app| app.map_comments(&business, MapId(map))).await?;
    Ok(Json(comments.iter().map(|c| CommentOut::new(c, &member, caller.user.id)).collect()))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/maps/{map_id}/cards/{card_id}/comments", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map"),
        ("card_id" = u32, Path, description = "A card of the map")),
    responses((status = 200, body = [CommentOut], description = "The card's comments, oldest first"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map, card)): ApiPath<(i64, i64, u32)>) -> ApiResult<Json<Vec<CommentOut>>> {
    let member = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    let business = member.business.clone();
    let comments = state.try_read(move |app| app.card_comments(&business, CardRef { map: MapId(map), card })).await?;
    Ok(Json(comments.iter().map(|c| CommentOut::new(c, &member, caller.user.id)).collect()))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/maps/{map_id}/cards/{card_id}/comments", tag = "maps", request_body = CommentText,
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map"),
        ("card_id" = u32, Path, description = "A card of the map")),
    responses((status = 201, body = CommentOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath((id, map, card)): ApiPath<(i64, i64, u32)>,
    JsonBody(body): JsonBody<CommentText>,
) -> ApiResult<Response> {
    let member = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    let (business, user, now) = (member.business.clone(), caller.user.id, auth::now());
    let made = state.try_write(move |app| app.add_comment(&business, CardRef { map: MapId(map), card }, user, &body.text, now)).await?;
    Ok((StatusCode::CREATED, Json(CommentOut::new(&made, &member, user))).into_response())
}

#[utoipa::path(patch, path = "/api/businesses/{business_id}/maps/{map_id}/cards/{card_id}/comments/{comment_id}", tag = "maps",
    request_body = CommentText,
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map"),
        ("card_id" = u32, Path, description = "A card of the map"), ("comment_id" = i64, Path, description = "One of the caller's comments on it")),
    responses((status = 200, body = CommentOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Someone else's comment"), (status = 404, body = ErrorBody)))]
pub async fn edit(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath((id, map, card, comment)): ApiPath<(i64, i64, u32, i64)>,
    JsonBody(body): JsonBody<CommentText>,
) -> ApiResult<Json<CommentOut>> {
    let member = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    let (business, user, now) = (member.business.clone(), caller.user.id, auth::now());
    let edited = state.try_write(move |app| app.edit_comment(&business, CardRef { map: MapId(map), card }, comment, user, &body.text, now)).await?;
    Ok(Json(CommentOut::new(&edited, &member, user)))
}

#[utoipa::path(delete, path = "/api/businesses/{business_id}/maps/{map_id}/cards/{card_id}/comments/{comment_id}", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map"),
        ("card_id" = u32, Path, description = "A card of the map"), ("comment_id" = i64, Path, description = "A comment on it")),
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "Someone else's comment, and the caller is not an owner"), (status = 404, body = ErrorBody)))]
pub async fn delete(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map, card, comment)): ApiPath<(i64, i64, u32, i64)>) -> ApiResult<StatusCode> {
    let member = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    let (business, user) = (member.business, caller.user.id);
    state.try_write(move |app| app.delete_comment(&business, CardRef { map: MapId(map), card }, comment, user)).await?;
    Ok(StatusCode::NO_CONTENT)
}
