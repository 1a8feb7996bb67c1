//! A business's sources and onboarding as JSON: the write keys of the tracking API under
//! `/api/businesses/{id}/sources` (list with each key's last use, create with the key and the
//! website snippet shown once, revoke), and the onboarding checklist at `.../onboarding` (read,
//! hide or show again). Every member reads; editors and owners create, revoke and hide (else 403
//! `forbidden`). A revoked key is refused by the tracking API from its next request on.

use super::{ApiPath, ApiResult, JsonBody, openapi::ErrorBody};
use crate::auth::{self, ApiUser, require_edit};
use crate::keys;
use crate::state::ServerState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use trailmap_app::{Onboarding, WriteKey};
use trailmap_model::{BusinessId, Timestamp};
use utoipa::ToSchema;

/// A write key as listed: never the key itself, which only its creator saw.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SourceOut {
    pub id: i64,
    pub name: String,
    /// RFC 3339.
    pub created: String,
    /// When a tracking request last sent messages with the key (RFC 3339); none: never.
    pub last_used: Option<String>,
    /// When the key was revoked (RFC 3339); none: it works.
    pub revoked: Option<String>,
}

impl From<&WriteKey> for SourceOut {
    fn from(k: &WriteKey) -> SourceOut {
        SourceOut {
            id: k.id,
            name: k.name.clone(),
            created: k.created_at.to_rfc3339(),
            last_used: k.last_used.map(Timestamp::to_rfc3339),
            revoked: k.revoked_at.map(Timestamp::to_rfc3339),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateSource {
    /// What the key is for: "website", "ios app".
    pub name: String,
}

/// A key just made: `write_key` and `snippet` are shown only now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewSourceOut {
    pub source: SourceOut,
    /// The key: HTTP Basic auth user name (no password) or `writeKey` in the body.
    pub write_key: String,
    /// The two script tags a website adds to its pages, with this server's address and the key.
    pub snippet: String,
}

/// One step of the checklist.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StepOut {
    /// website, import, touchpoints, map or invite.
    pub key: String,
    pub title: String,
    pub done: bool,
    /// The step does not keep the checklist up (invite).
    pub optional: bool,
    /// Where the step stands, with its figure.
    pub status: String,
}

/// The onboarding checklist of a business and the figures behind it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OnboardingOut {
    pub business_id: i64,
    pub steps: Vec<StepOut>,
    pub done: usize,
    pub total: usize,
    /// Whether the dashboard shows the checklist: a required step is left and nobody hid it.
    pub shown: bool,
    /// When a member hid the checklist (RFC 3339).
    pub hidden: Option<String>,
    /// No events, orders or survey answers yet.
    pub empty: bool,
    pub live_write_keys: usize,
    /// When the last message arrived through a write key (RFC 3339).
    pub last_event_at: Option<String>,
    /// Seconds from then to the server's now.
    pub seconds_since_last_event: Option<i64>,
    pub events: u64,
    pub orders: u64,
    pub touchpoints: u64,
    pub maps: u64,
    pub members: u64,
}

impl OnboardingOut {
    pub fn new(business: BusinessId, o: &Onboarding, now: Timestamp) -> OnboardingOut {
        OnboardingOut {
            business_id: business.0,
            steps: o
                .steps
                .iter()
                .map(|s| StepOut { key: s.key.into(), title: s.title.into(), done: s.done, optional: s.optional, status: s.status.clone() })
                .collect(),
            done: o.done,
            total: o.total,
            shown: o.shown,
            hidden: o.hidden_at.map(Timestamp::to_rfc3339),
            empty: o.empty,
            live_write_keys: o.live_write_keys,
            last_event_at: o.last_event_at.map(Timestamp::to_rfc3339),
            seconds_since_last_event: o.last_event_at.map(|t| ((now.0 - t.0) / 1000).max(0)),
            events: o.events,
            orders: o.orders,
            touchpoints: o.touchpoints,
            maps: o.maps,
            members: o.members,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SetChecklist {
    /// true hides the checklist from the dashboard; false shows it again.
    pub hidden: bool,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/sources", tag = "sources",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = [SourceOut]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<Vec<SourceOut>>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let keys = state.try_read(move |app| app.write_keys(&business)).await?;
    Ok(Json(keys.iter().map(SourceOut::from).collect()))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/sources", tag = "sources", request_body = CreateSource,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 201, body = NewSourceOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    caller: ApiUser,
    State(state): State<ServerState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<CreateSource>,
) -> ApiResult<Response> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let (stored, key) = keys::create_for(&state, membership.business, body.name).await?;
    let snippet = keys::snippet(&keys::site_origin(&headers, state.auth.secure_cookies), &key);
    Ok((StatusCode::CREATED, Json(NewSourceOut { source: SourceOut::from(&stored), write_key: key, snippet })).into_response())
}

#[utoipa::path(delete, path = "/api/businesses/{business_id}/sources/{source_id}", tag = "sources",
    params(("business_id" = i64, Path, description = "The business"), ("source_id" = i64, Path, description = "One of its write keys")),
    responses((status = 200, body = SourceOut, description = "The key, revoked"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "The key is revoked already")))]
pub async fn revoke(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, source)): ApiPath<(i64, i64)>) -> ApiResult<Json<SourceOut>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let revoked = keys::revoke_for(&state, membership.business, source).await?;
    Ok(Json(SourceOut::from(&revoked)))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/onboarding", tag = "sources",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = OnboardingOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn onboarding(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<OnboardingOut>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let found = state.try_read(move |app| app.onboarding(&business)).await?;
    Ok(Json(OnboardingOut::new(BusinessId(id), &found, auth::now())))
}

#[utoipa::path(put, path = "/api/businesses/{business_id}/onboarding", tag = "sources", request_body = SetChecklist,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = OnboardingOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_onboarding(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<SetChecklist>,
) -> ApiResult<Json<OnboardingOut>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let (business, now) = (membership.business, auth::now());
    let found = state
        .try_write(move |app| {
            app.set_checklist_hidden(&business, body.hidden.then_some(now))?;
            app.onboarding(&business)
        })
        .await?;
    Ok(Json(OnboardingOut::new(BusinessId(id), &found, now)))
}
