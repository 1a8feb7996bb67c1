//! The JSON API under `/api`: everything the web app does, for scripts and other surfaces. Callers
//! authenticate with the session cookie (plus `X-CSRF-Token` on writes) or an API key
//! (`Authorization: Bearer tm_...`). Errors are `{"error": {"code", "message"}}` with the stable
//! codes of `ERROR_CODES`. The OpenAPI 3.1 document at `/api/openapi.json` is generated from the
//! handlers' `#[utoipa::path]` attributes and the types' `ToSchema` derives (`openapi`).
//!
//! To add a route: a handler with `#[utoipa::path]`, its line in `routes`, its name in
//! `openapi::ApiDoc`'s paths, and its row in the access test's table.

pub mod account;
pub mod actions;
pub mod analysis;
pub mod dashboard;
pub mod maps;
pub mod catalogue;
pub mod changes;
pub mod comments;
pub mod imports;
pub mod insights;
pub mod openapi;
pub mod params;
pub mod personas;
pub mod privacy;
pub mod research;
pub mod reports;
pub mod sources;
pub mod surveys;
pub mod touchpoints;

use crate::auth::{self, ApiUser, require_manage};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::links::INVITATION_TTL_MS;
use axum::Router;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, put};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use trailmap_model::{ApiKeyInfo, BusinessId, Membership, Role, Timestamp, User, UserId};
use utoipa::ToSchema;

/// Every route of the JSON API.
pub fn routes() -> Router<ServerState> {
    Router::new()
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/me", get(me))
        .route("/api/me/sessions", get(account::sessions))
        .route("/api/me/sessions/{session_id}", axum::routing::delete(account::end_session))
        .route("/api/me/password", axum::routing::post(account::change_password))
        .route("/api/businesses/{business_id}/members/{user_id}/password-reset", axum::routing::post(account::issue_reset))
        .route("/api/businesses", get(list_businesses).post(create_business))
        .route("/api/businesses/{business_id}", patch(rename_business))
        .route("/api/businesses/{business_id}/summary", get(summary))
        .route("/api/businesses/{business_id}/members", get(members))
        .route("/api/businesses/{business_id}/dashboard", get(dashboard::dashboard))
        .route("/api/businesses/{business_id}/customers", get(dashboard::customers))
        .route("/api/businesses/{business_id}/customers/{customer_id}", get(dashboard::customer).delete(privacy::erase))
        .route("/api/businesses/{business_id}/analysis/funnel", get(analysis::funnel))
        .route("/api/businesses/{business_id}/analysis/flows", get(analysis::flows))
        .route("/api/businesses/{business_id}/analysis/attribution", get(analysis::attribution))
        .route("/api/businesses/{business_id}/analysis/retention", get(analysis::retention))
        .route("/api/businesses/{business_id}/analysis/clv", get(analysis::clv))
        .route("/api/businesses/{business_id}/members/{user_id}", put(set_member).delete(remove_member))
        .route("/api/businesses/{business_id}/invitations", axum::routing::post(create_invitation))
        .route("/api/businesses/{business_id}/actions", get(actions::board))
        .route("/api/businesses/{business_id}/maps", get(maps::list).post(maps::create))
        .route("/api/businesses/{business_id}/maps/import", axum::routing::post(maps::import))
        .route("/api/businesses/{business_id}/maps/{map_id}", get(maps::get_map))
        .route("/api/businesses/{business_id}/maps/{map_id}/edits", axum::routing::post(maps::edit))
        .route("/api/businesses/{business_id}/maps/{map_id}/versions", get(maps::versions))
        .route("/api/businesses/{business_id}/maps/{map_id}/diff", get(maps::diff))
        .route("/api/businesses/{business_id}/maps/{map_id}/export", get(maps::export))
        .route("/api/businesses/{business_id}/maps/{map_id}/to-be", axum::routing::post(maps::to_be))
        .route("/api/businesses/{business_id}/maps/{map_id}/share-links", get(maps::share_links).post(maps::create_share_link))
        .route("/api/businesses/{business_id}/maps/{map_id}/share-links/{link}", axum::routing::delete(maps::revoke_share_link))
        .route("/api/businesses/{business_id}/maps/{map_id}/numbers", get(maps::numbers))
        .route("/api/businesses/{business_id}/maps/{map_id}/quotes", get(maps::quotes))
        .route("/api/businesses/{business_id}/personas", get(personas::list).post(personas::create))
        .route("/api/businesses/{business_id}/personas/preview", get(personas::preview))
        .route("/api/businesses/{business_id}/personas/suggestions", get(personas::suggestions))
        .route("/api/businesses/{business_id}/personas/{persona_id}", get(personas::get_persona).patch(personas::update).delete(personas::delete))
        .route("/api/businesses/{business_id}/personas/{persona_id}/photo", get(personas::photo_of))
        .route("/api/businesses/{business_id}/touchpoints", get(catalogue::touchpoints).post(touchpoints::create))
        .route("/api/businesses/{business_id}/touchpoints/preview", get(touchpoints::preview))
        .route("/api/businesses/{business_id}/touchpoints/suggestions", get(touchpoints::suggestions).post(touchpoints::choose))
        .route("/api/businesses/{business_id}/touchpoints/order", put(touchpoints::reorder))
        .route("/api/businesses/{business_id}/touchpoints/{touchpoint_id}", get(touchpoints::get_one).patch(touchpoints::edit).delete(touchpoints::delete))
        .route("/api/businesses/{business_id}/maps/{map_id}/comments", get(comments::of_map))
        .route("/api/businesses/{business_id}/maps/{map_id}/cards/{card_id}/comments", get(comments::list).post(comments::create))
        .route(
            "/api/businesses/{business_id}/maps/{map_id}/cards/{card_id}/comments/{comment_id}",
            patch(comments::edit).delete(comments::delete),
        )
        .route("/api/businesses/{business_id}/customers/{customer_id}/export", get(privacy::export))
        .route("/api/businesses/{business_id}/erasures", get(privacy::erasures))
        .route("/api/businesses/{business_id}/retention", get(privacy::retention).put(privacy::set_retention))
        .route("/api/businesses/{business_id}/sources", get(sources::list).post(sources::create))
        .route("/api/businesses/{business_id}/sources/{source_id}", axum::routing::delete(sources::revoke))
        .route("/api/businesses/{business_id}/onboarding", get(sources::onboarding).put(sources::set_onboarding))
        .route("/api/businesses/{business_id}/changes", get(changes::list).post(changes::create))
        .route("/api/businesses/{business_id}/changes/{change_id}/impact", get(changes::impact))
        .route("/api/businesses/{business_id}/insights", get(insights::list))
        .route("/api/businesses/{business_id}/research", get(research::list))
        .route("/api/businesses/{business_id}/research/{feedback_id}/tags", axum::routing::post(research::tags))
        .route("/api/businesses/{business_id}/maps/{map_id}/cards/{card_id}/quotes", axum::routing::post(research::cite))
        .route("/api/businesses/{business_id}/maps/{map_id}/evidence", get(research::evidence))
        .route("/api/businesses/{business_id}/report", get(reports::report))
        .route("/api/businesses/{business_id}/report/send", axum::routing::post(reports::send_report))
        .route("/api/businesses/{business_id}/digests", get(reports::digests).post(reports::create_digest))
        .route("/api/businesses/{business_id}/digests/{digest_id}", axum::routing::delete(reports::remove_digest))
        .route("/api/businesses/{business_id}/digests/{digest_id}/send", axum::routing::post(reports::send_digest))
        .route("/api/businesses/{business_id}/alerts", get(reports::alerts).post(reports::create_alert))
        .route("/api/businesses/{business_id}/alerts/fired", get(reports::fired))
        .route("/api/businesses/{business_id}/alerts/{alert_id}", axum::routing::delete(reports::remove_alert))
        .route("/api/businesses/{business_id}/alerts/{alert_id}/test", axum::routing::post(reports::test_alert))
        .route("/api/businesses/{business_id}/deliveries", get(reports::deliveries))
        .route("/api/portfolio", get(reports::portfolio))
        .route("/api/businesses/{business_id}/surveys", get(surveys::list).post(surveys::create))
        .route("/api/businesses/{business_id}/surveys/{survey_id}/results", get(surveys::results))
        .route("/api/businesses/{business_id}/feedback/themes", get(surveys::themes))
        .route("/api/businesses/{business_id}/feedback/sentiment", get(surveys::sentiment))
        .route("/api/businesses/{business_id}/feedback/import", axum::routing::post(surveys::import))
        .route(
            "/api/businesses/{business_id}/imports",
            axum::routing::post(imports::create).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/api/businesses/{business_id}/imports/rejects/{rejects_id}", get(imports::rejects))
        .route("/api/keys", get(list_keys).post(create_key))
        .route("/api/keys/{key_id}", axum::routing::delete(revoke_key))
}

/// A JSON body whose rejection is an `ApiError` (`invalid_json`) like every other error.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(e @ JsonRejection::JsonDataError(_)) => Err(ApiError::invalid_input(e.body_text())),
            Err(e) => Err(ApiError::bad_request("invalid_json", e.body_text())),
        }
    }
}

/// Path parameters whose rejection is an `ApiError` (`invalid_input`).
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| ApiError::invalid_input(e.body_text()))
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// A user as the API shows them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// RFC 3339.
    pub created: String,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> UserOut {
        UserOut { id: u.id.0, email: u.email.clone(), name: u.name.clone(), created: u.created.to_rfc3339() }
    }
}

/// The caller.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeOut {
    pub user: UserOut,
    /// How the call was authenticated: "session" or "api_key".
    pub authenticated_by: String,
}

/// A business with the caller's role in it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BusinessOut {
    pub id: i64,
    pub name: String,
    pub currency: String,
    pub timezone: String,
    /// owner, editor or viewer.
    pub role: String,
}

impl From<&Membership> for BusinessOut {
    fn from(m: &Membership) -> BusinessOut {
        BusinessOut {
            id: m.business.id.0,
            name: m.business.name.clone(),
            currency: m.business.currency.to_string(),
            timezone: m.business.timezone.clone(),
            role: m.role.to_string(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateBusiness {
    pub name: String,
    /// ISO 4217; USD when absent.
    pub currency: Option<String>,
    /// IANA time zone; UTC when absent.
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RenameBusiness {
    pub name: String,
}

/// What the store holds for a business; every count is its own sample size.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SummaryOut {
    pub business_id: i64,
    /// customers, identities, events, first_event, last_event, orders, revenue, currency, stages,
    /// touchpoints, personas, maps, surveys, responses, feedback, changes, spend_rows, spend.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberOut {
    pub user: UserOut,
    pub role: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SetRole {
    /// owner, editor or viewer.
    #[schema(value_type = params::RoleName)]
    pub role: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateInvitation {
    /// owner, editor or viewer.
    #[schema(value_type = params::RoleName)]
    pub role: String,
    /// When set, only this address may accept.
    pub email: Option<String>,
}

/// An invitation just created: the token is shown only now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvitationOut {
    pub token: String,
    /// The page that accepts it, relative to the server's address.
    pub path: String,
    /// RFC 3339.
    pub expires: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyOut {
    pub id: i64,
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

impl From<&ApiKeyInfo> for KeyOut {
    fn from(k: &ApiKeyInfo) -> KeyOut {
        KeyOut {
            id: k.id,
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            created: k.created.to_rfc3339(),
            last_used: k.last_used.map(Timestamp::to_rfc3339),
            revoked: k.revoked.map(Timestamp::to_rfc3339),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateKey {
    pub name: String,
}

/// A key just created: `secret` is the key itself, shown only now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewKeyOut {
    pub key: KeyOut,
    pub secret: String,
}

fn parse_role(text: &str) -> ApiResult<Role> {
    Role::parse(text).ok_or_else(|| ApiError::invalid_input(format!("role: {text:?} is not owner, editor or viewer")))
}

#[utoipa::path(get, path = "/api/me", tag = "account",
    responses((status = 200, body = MeOut), (status = 401, body = openapi::ErrorBody)))]
pub async fn me(caller: ApiUser) -> axum::Json<MeOut> {
    let authenticated_by = if caller.by_key { "api_key" } else { "session" }.to_string();
    axum::Json(MeOut { user: UserOut::from(&caller.user), authenticated_by })
}

#[utoipa::path(get, path = "/api/businesses", tag = "businesses",
    responses((status = 200, body = [BusinessOut]), (status = 401, body = openapi::ErrorBody)))]
pub async fn list_businesses(caller: ApiUser, State(state): State<ServerState>) -> ApiResult<axum::Json<Vec<BusinessOut>>> {
    let user = caller.user.id;
    let memberships = state.try_read(move |app| app.memberships(user)).await?;
    Ok(axum::Json(memberships.iter().map(BusinessOut::from).collect()))
}

#[utoipa::path(post, path = "/api/businesses", tag = "businesses", request_body = CreateBusiness,
    responses((status = 201, body = BusinessOut), (status = 400, body = openapi::ErrorBody),
        (status = 401, body = openapi::ErrorBody), (status = 409, body = openapi::ErrorBody)))]
pub async fn create_business(caller: ApiUser, State(state): State<ServerState>, JsonBody(body): JsonBody<CreateBusiness>) -> ApiResult<Response> {
    let user = caller.user.id;
    let currency = body.currency.unwrap_or_else(|| "USD".into());
    let timezone = body.timezone.unwrap_or_else(|| "UTC".into());
    let business = state.try_write(move |app| app.create_business_owned(user, body.name.trim(), &currency, &timezone)).await?;
    let out = BusinessOut::from(&Membership { business, role: Role::Owner });
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

#[utoipa::path(patch, path = "/api/businesses/{business_id}", tag = "businesses", request_body = RenameBusiness,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = BusinessOut), (status = 400, body = openapi::ErrorBody), (status = 401, body = openapi::ErrorBody),
        (status = 403, body = openapi::ErrorBody), (status = 404, body = openapi::ErrorBody), (status = 409, body = openapi::ErrorBody)))]
pub async fn rename_business(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<RenameBusiness>,
) -> ApiResult<axum::Json<BusinessOut>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_manage(membership.role)?;
    let business = state.try_write(move |app| app.rename_business(BusinessId(id), body.name.trim())).await?;
    Ok(axum::Json(BusinessOut::from(&Membership { business, role: membership.role })))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/summary", tag = "businesses",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = SummaryOut), (status = 401, body = openapi::ErrorBody), (status = 404, body = openapi::ErrorBody)))]
pub async fn summary(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<axum::Json<SummaryOut>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    let summary = state.try_read(move |app| app.summary(&membership.business)).await?;
    let summary = serde_json::to_value(summary).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(axum::Json(SummaryOut { business_id: id, summary }))
}

/// The business of route `id` when the caller may edit it: not a member → 404, a viewer → 403.
pub(crate) async fn editor(state: &ServerState, caller: &ApiUser, id: i64) -> Result<trailmap_model::Business, ApiError> {
    let membership = crate::auth::membership(state, caller.user.id, BusinessId(id)).await?;
    crate::auth::require_edit(membership.role)?;
    Ok(membership.business)
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/members", tag = "members",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = [MemberOut]), (status = 401, body = openapi::ErrorBody), (status = 404, body = openapi::ErrorBody)))]
pub async fn members(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<axum::Json<Vec<MemberOut>>> {
    auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    let members = state.try_read(move |app| app.members(BusinessId(id))).await?;
    Ok(axum::Json(members.iter().map(|(u, r)| MemberOut { user: UserOut::from(u), role: r.to_string() }).collect()))
}

#[utoipa::path(put, path = "/api/businesses/{business_id}/members/{user_id}", tag = "members", request_body = SetRole,
    params(("business_id" = i64, Path, description = "The business"), ("user_id" = i64, Path, description = "A member of it")),
    responses((status = 200, body = MemberOut), (status = 400, body = openapi::ErrorBody), (status = 401, body = openapi::ErrorBody),
        (status = 403, body = openapi::ErrorBody), (status = 404, body = openapi::ErrorBody), (status = 409, body = openapi::ErrorBody)))]
pub async fn set_member(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath((id, member)): ApiPath<(i64, i64)>,
    JsonBody(body): JsonBody<SetRole>,
) -> ApiResult<axum::Json<MemberOut>> {
    let business = BusinessId(id);
    require_manage(auth::membership(&state, caller.user.id, business).await?.role)?;
    let role = parse_role(&body.role)?;
    // Only members can be re-roled; people join through invitations.
    auth::membership(&state, UserId(member), business).await.map_err(|_| ApiError::not_found(format!("no member with user id {member}")))?;
    let user = state
        .try_write(move |app| {
            app.set_member(business, UserId(member), role)?;
            app.user(UserId(member))
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user with id {member}")))?;
    Ok(axum::Json(MemberOut { user: UserOut::from(&user), role: role.to_string() }))
}

#[utoipa::path(delete, path = "/api/businesses/{business_id}/members/{user_id}", tag = "members",
    params(("business_id" = i64, Path, description = "The business"), ("user_id" = i64, Path, description = "A member of it")),
    responses((status = 204), (status = 401, body = openapi::ErrorBody), (status = 403, body = openapi::ErrorBody),
        (status = 404, body = openapi::ErrorBody), (status = 409, body = openapi::ErrorBody)))]
pub async fn remove_member(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, member)): ApiPath<(i64, i64)>) -> ApiResult<StatusCode> {
    let business = BusinessId(id);
    require_manage(auth::membership(&state, caller.user.id, business).await?.role)?;
    auth::membership(&state, UserId(member), business).await.map_err(|_| ApiError::not_found(format!("no member with user id {member}")))?;
    state.try_write(move |app| app.remove_member(business, UserId(member))).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/invitations", tag = "members", request_body = CreateInvitation,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 201, body = InvitationOut), (status = 400, body = openapi::ErrorBody), (status = 401, body = openapi::ErrorBody),
        (status = 403, body = openapi::ErrorBody), (status = 404, body = openapi::ErrorBody)))]
pub async fn create_invitation(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<CreateInvitation>,
) -> ApiResult<Response> {
    let business = BusinessId(id);
    require_manage(auth::membership(&state, caller.user.id, business).await?.role)?;
    let role = parse_role(&body.role)?;
    let user = caller.user.id;
    let at = auth::now();
    let email = body.email.filter(|e| !e.trim().is_empty());
    let token = state.try_write(move |app| app.create_invitation(business, role, email.as_deref(), user, at, INVITATION_TTL_MS)).await?;
    let out = InvitationOut { path: format!("/invite/{token}"), token, expires: at.add_millis(INVITATION_TTL_MS).to_rfc3339() };
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

#[utoipa::path(get, path = "/api/keys", tag = "account",
    responses((status = 200, body = [KeyOut]), (status = 401, body = openapi::ErrorBody)))]
pub async fn list_keys(caller: ApiUser, State(state): State<ServerState>) -> ApiResult<axum::Json<Vec<KeyOut>>> {
    let user = caller.user.id;
    let keys = state.try_read(move |app| app.api_keys(user)).await?;
    Ok(axum::Json(keys.iter().map(KeyOut::from).collect()))
}

#[utoipa::path(post, path = "/api/keys", tag = "account", request_body = CreateKey,
    responses((status = 201, body = NewKeyOut), (status = 400, body = openapi::ErrorBody), (status = 401, body = openapi::ErrorBody)))]
pub async fn create_key(caller: ApiUser, State(state): State<ServerState>, JsonBody(body): JsonBody<CreateKey>) -> ApiResult<Response> {
    let user = caller.user.id;
    let at = auth::now();
    let (info, secret) = state.try_write(move |app| app.create_api_key(user, body.name.trim(), at)).await?;
    Ok((StatusCode::CREATED, axum::Json(NewKeyOut { key: KeyOut::from(&info), secret })).into_response())
}

#[utoipa::path(delete, path = "/api/keys/{key_id}", tag = "account",
    params(("key_id" = i64, Path, description = "One of the caller's keys")),
    responses((status = 204), (status = 401, body = openapi::ErrorBody), (status = 404, body = openapi::ErrorBody)))]
pub async fn revoke_key(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<StatusCode> {
    let user = caller.user.id;
    let at = auth::now();
    state.try_write(move |app| app.revoke_api_key(user, id, at)).await?;
    Ok(StatusCode::NO_CONTENT)
}
