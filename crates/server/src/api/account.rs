//! The caller's account security as JSON: `GET /api/me/sessions` (every live session, the
//! caller's own marked when they came with its cookie), `DELETE /api/me/sessions/{session_id}`,
//! `POST /api/me/password` (the current password and a new one; every other session ends), and
//! for owners `POST /api/businesses/{id}/members/{user_id}/password-reset`, a member's one-time
//! reset link (valid a day), as the members page issues it.

use super::{ApiPath, ApiResult, JsonBody, openapi::ErrorBody};
use crate::auth::{self, ApiUser, SESSION_COOKIE, require_manage};
use crate::state::ServerState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use trailmap_app::App;
use trailmap_model::{BusinessId, Timestamp, UserId};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionOut {
    /// A short id made from the session token's hash (never the token).
    pub id: String,
    /// RFC 3339.
    pub created: String,
    pub expires: String,
    /// The session this request came with.
    pub current: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PasswordChangeIn {
    pub current_password: String,
    /// At least 10 characters.
    #[schema(min_length = 10)]
    pub new_password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PasswordChangeOut {
    /// The caller's other sessions that ended.
    pub sessions_ended: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PasswordResetOut {
    pub email: String,
    /// The one-time link (this server's address as the request used it).
    pub link: String,
    /// RFC 3339: when the link stops working.
    pub expires: String,
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    auth::cookie_value(headers, SESSION_COOKIE)
}

#[utoipa::path(get, path = "/api/me/sessions", tag = "account",
    responses((status = 200, body = [SessionOut]), (status = 401, body = ErrorBody)))]
pub async fn sessions(caller: ApiUser, State(state): State<ServerState>, headers: HeaderMap) -> ApiResult<Json<Vec<SessionOut>>> {
    let (user, at) = (caller.user.id, auth::now());
    let found = state.try_read(move |app| app.user_sessions(user, at)).await?;
    let current = session_token(&headers).map(|t| App::session_id(&t));
    Ok(Json(
        found
            .into_iter()
            .map(|s| SessionOut {
                current: current.as_deref() == Some(s.id.as_str()),
                id: s.id,
                created: s.created_at.to_rfc3339(),
                expires: s.expires_at.to_rfc3339(),
            })
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/me/sessions/{session_id}", tag = "account",
    params(("session_id" = String, Path, description = "A session's id as listed")),
    responses((status = 204, description = "Ended"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn end_session(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<String>) -> ApiResult<Response> {
    let user = caller.user.id;
    state.try_write(move |app| app.end_session_by_id(user, &id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(post, path = "/api/me/password", tag = "account", request_body = PasswordChangeIn,
    responses((status = 200, body = PasswordChangeOut), (status = 400, body = ErrorBody, description = "A wrong current password or a short new one"),
        (status = 401, body = ErrorBody)))]
pub async fn change_password(
    caller: ApiUser,
    State(state): State<ServerState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PasswordChangeIn>,
) -> ApiResult<Json<PasswordChangeOut>> {
    let (user, keep) = (caller.user.clone(), session_token(&headers));
    let ended = state.try_write(move |app| app.change_password(&user, &body.current_password, &body.new_password, keep.as_deref())).await?;
    Ok(Json(PasswordChangeOut { sessions_ended: ended }))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/members/{user_id}/password-reset", tag = "members",
    params(("business_id" = i64, Path, description = "The business"), ("user_id" = i64, Path, description = "One of its members")),
    responses((status = 201, body = PasswordResetOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn issue_reset(
    caller: ApiUser,
    State(state): State<ServerState>,
    headers: HeaderMap,
    ApiPath((id, member)): ApiPath<(i64, i64)>,
) -> ApiResult<Response> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_manage(membership.role)?;
    let member = UserId(member);
    auth::membership(&state, member, BusinessId(id)).await?;
    let (owner, at) = (caller.user.id, auth::now());
    let reset = state.try_write(move |app| app.issue_password_reset(Some(owner), member, at)).await?;
    let link = format!("{}{}", crate::links::base_url(&state, &headers), reset.path());
    let out = PasswordResetOut { email: reset.user.email, link, expires: Timestamp::to_rfc3339(reset.expires) };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}
