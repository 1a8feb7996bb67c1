//! Touchpoints a business makes itself, as JSON (the list with volumes is `catalogue::touchpoints`):
//!
//! - `POST /api/businesses/{id}/touchpoints` creates one (editors and owners);
//! - `GET`, `PATCH` and `DELETE .../touchpoints/{touchpoint_id}` read, edit (any field, and
//!   `position` to move it) and delete one;
//! - `PUT .../touchpoints/order` puts them all in a new order (ids, each once);
//! - `GET .../touchpoints/preview?rule=RULE` says what a rule matches over the 30 days up to the
//!   business's last event, with examples (any member; the web form's live preview reads it);
//! - `GET .../touchpoints/suggestions` proposes touchpoints from the data, each with its volume,
//!   and `POST` to it accepts or dismisses them by key.
//!
//! A rule that does not read is a 400 `invalid_rule` whose error also carries `field` and
//! `offset` (the 0-based character offset where the rule stops making sense).

use super::{ApiPath, ApiResult, JsonBody, openapi::ErrorBody};
use crate::auth::{self, ApiUser, author, require_edit};
use crate::state::ServerState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trailmap_app::touchpoint_edits::{TouchpointDeleted, TouchpointEdit, TouchpointRequest, TouchpointSaved, TouchpointView};
use trailmap_app::touchpoint_preview::{PreviewExample, RulePreview};
use trailmap_app::touchpoint_suggestions::{TouchpointSuggestion, TouchpointSuggestions};
use trailmap_model::{Business, BusinessId, TouchpointId};
use utoipa::ToSchema;

/// A touchpoint to create.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewTouchpoint {
    pub name: String,
    /// web, ads, social, email, in-store, phone, referral or other.
    pub channel: String,
    /// The rule over events: `purchase`, `a|b`, `page_view[page^=/checkout]`,
    /// `*[channel=Paid Social]`, `[utm_source=instagram][utm_medium=cpc]`, `*[referral_code]`,
    /// `*[offline_kind=till]`.
    pub rule: String,
    /// The business stage it sits on, by name.
    pub stage: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// Changes to a touchpoint; absent fields stay as they are.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct TouchpointChanges {
    pub name: Option<String>,
    pub channel: Option<String>,
    pub rule: Option<String>,
    /// A stage name; the empty text takes it off its stage.
    pub stage: Option<String>,
    pub description: Option<String>,
    /// Its new place in the business's order, from 1.
    pub position: Option<usize>,
}

/// A touchpoint.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TouchpointOut {
    pub id: i64,
    pub name: String,
    pub channel: String,
    /// The rule in the event rule language; empty when it has none.
    pub rule: String,
    pub rule_in_words: String,
    pub stage: Option<String>,
    /// 1-based, in the business's order.
    pub position: usize,
    pub online: bool,
    pub description: String,
}

impl From<TouchpointView> for TouchpointOut {
    fn from(t: TouchpointView) -> TouchpointOut {
        TouchpointOut {
            id: t.id.0,
            name: t.name,
            channel: t.channel,
            rule: t.rule,
            rule_in_words: t.rule_in_words,
            stage: t.stage,
            position: t.position,
            online: t.online,
            description: t.description,
        }
    }
}

/// The business's touchpoints in their new order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TouchpointOrder {
    /// Every touchpoint's id, each once, in the order wanted.
    pub order: Vec<i64>,
}

/// The business's touchpoints, in its order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TouchpointListOut {
    pub business_id: i64,
    pub touchpoints: Vec<TouchpointOut>,
}

/// A touchpoint as saved, the maps that got a new version because it followed its stage, and
/// the changes whose metric now names it by its new name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TouchpointSavedOut {
    pub touchpoint: TouchpointOut,
    pub maps: Vec<String>,
    pub changes_renamed: Vec<String>,
}

impl From<TouchpointSaved> for TouchpointSavedOut {
    fn from(s: TouchpointSaved) -> TouchpointSavedOut {
        TouchpointSavedOut { touchpoint: s.touchpoint.into(), maps: s.maps, changes_renamed: s.changes_renamed }
    }
}

/// A deleted touchpoint and the maps it was taken off (each got a new version).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TouchpointDeletedOut {
    pub name: String,
    pub maps: Vec<String>,
}

impl From<TouchpointDeleted> for TouchpointDeletedOut {
    fn from(d: TouchpointDeleted) -> TouchpointDeletedOut {
        TouchpointDeletedOut { name: d.name, maps: d.maps }
    }
}

/// `?rule=RULE`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct PreviewQuery {
    /// The rule to try, in the event rule language.
    #[serde(default)]
    pub rule: String,
}

/// A matching event shown as an example.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExampleOut {
    /// RFC 3339.
    pub time: String,
    pub customer: i64,
    pub event: String,
    /// page, channel, source, medium, campaign, referrer when present, and the properties the rule tests.
    #[schema(value_type = Object)]
    pub fields: std::collections::BTreeMap<String, String>,
}

impl From<PreviewExample> for ExampleOut {
    fn from(e: PreviewExample) -> ExampleOut {
        ExampleOut { time: e.time.to_rfc3339(), customer: e.customer.0, event: e.event, fields: e.fields }
    }
}

/// What a rule matches over the 30 days up to the business's last event.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PreviewOut {
    /// The rule as read back in the rule language.
    pub rule: String,
    pub rule_in_words: String,
    /// The window's first instant (RFC 3339); null when the business has no events.
    pub from: Option<String>,
    /// The window's end, exclusive (just after the last event).
    pub to: Option<String>,
    pub events: u64,
    /// The customers with a matching event in the window: n and their ids.
    pub n: usize,
    pub customers: Vec<i64>,
    pub examples: Vec<ExampleOut>,
    pub matches_nothing: bool,
    pub all_time_events: u64,
    pub summary: String,
    pub notes: Vec<String>,
}

impl From<RulePreview> for PreviewOut {
    fn from(p: RulePreview) -> PreviewOut {
        PreviewOut {
            rule: p.rule,
            rule_in_words: p.rule_in_words,
            from: p.window.map(|(from, _)| from.to_rfc3339()),
            to: p.window.map(|(_, to)| to.to_rfc3339()),
            events: p.events,
            n: p.customers.n,
            customers: p.customers.customers.iter().map(|c| c.0).collect(),
            examples: p.examples.into_iter().map(ExampleOut::from).collect(),
            matches_nothing: p.matches_nothing,
            all_time_events: p.all_time_events,
            summary: p.summary,
            notes: p.notes,
        }
    }
}

/// One suggested touchpoint and its volume.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SuggestionOut {
    /// What accept and dismiss name it by (`channel:Paid Social`, `page:checkout`, `survey:3`).
    pub key: String,
    /// channel, page, email, offline, referral or survey.
    pub kind: String,
    pub name: String,
    pub channel: String,
    pub rule: String,
    pub rule_in_words: String,
    pub stage: Option<String>,
    /// What `volume` counts: "events" or "survey responses".
    pub counts: String,
    pub volume: u64,
    /// The customers behind the volume: n and their ids.
    pub n: usize,
    pub customers: Vec<i64>,
    pub why: String,
}

impl From<&TouchpointSuggestion> for SuggestionOut {
    fn from(s: &TouchpointSuggestion) -> SuggestionOut {
        SuggestionOut {
            key: s.key.clone(),
            kind: serde_json::to_value(s.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            name: s.name.clone(),
            channel: s.channel.clone(),
            rule: s.rule.clone(),
            rule_in_words: s.rule_in_words.clone(),
            stage: s.stage.clone(),
            counts: s.counts.clone(),
            volume: s.volume,
            n: s.customers.n,
            customers: s.customers.customers.iter().map(|c| c.0).collect(),
            why: s.why.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SuggestionsOut {
    pub business_id: i64,
    /// The events looked at: all of the business's.
    pub events: u64,
    pub suggestions: Vec<SuggestionOut>,
    /// Suggestions dismissed before, not shown again.
    pub dismissed: usize,
}

impl SuggestionsOut {
    fn new(business_id: i64, s: &TouchpointSuggestions) -> SuggestionsOut {
        SuggestionsOut { business_id, events: s.events, suggestions: s.suggestions.iter().map(SuggestionOut::from).collect(), dismissed: s.dismissed }
    }
}

/// Suggestions to accept and to dismiss, by key.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct SuggestionChoice {
    #[serde(default)]
    pub accept: Vec<String>,
    #[serde(default)]
    pub dismiss: Vec<String>,
}

/// What accepting and dismissing did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SuggestionChoiceOut {
    pub accepted: Vec<TouchpointOut>,
    pub dismissed: Vec<String>,
}

/// The business, for an editor (403 for a viewer, 404 for a non-member).
async fn editable(state: &ServerState, caller: &ApiUser, id: i64) -> ApiResult<Business> {
    let membership = auth::membership(state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    Ok(membership.business)
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/touchpoints", tag = "touchpoints", request_body = NewTouchpoint,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 201, body = TouchpointSavedOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<NewTouchpoint>,
) -> ApiResult<(StatusCode, Json<TouchpointSavedOut>)> {
    let business = editable(&state, &caller, id).await?;
    let by = author(&caller.user);
    let request = TouchpointRequest { name: body.name, channel: body.channel, rule: body.rule, stage: body.stage, description: body.description };
    let saved = state.try_write(move |app| app.create_touchpoint(&business, &request, &by)).await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/touchpoints/{touchpoint_id}", tag = "touchpoints",
    params(("business_id" = i64, Path, description = "The business"), ("touchpoint_id" = i64, Path, description = "The touchpoint")),
    responses((status = 200, body = TouchpointOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, touchpoint)): ApiPath<(i64, i64)>) -> ApiResult<Json<TouchpointOut>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let view = state.try_read(move |app| app.touchpoint(&business, TouchpointId(touchpoint))).await?;
    Ok(Json(view.into()))
}

#[utoipa::path(put, path = "/api/businesses/{business_id}/touchpoints/order", tag = "touchpoints", request_body = TouchpointOrder,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = TouchpointListOut), (status = 400, body = ErrorBody, description = "`order` leaves one out, repeats one or names another business's"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reorder(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<TouchpointOrder>,
) -> ApiResult<Json<TouchpointListOut>> {
    let business = editable(&state, &caller, id).await?;
    let order: Vec<TouchpointId> = body.order.into_iter().map(TouchpointId).collect();
    let touchpoints = state.try_write(move |app| app.reorder_touchpoints(&business, &order)).await?;
    Ok(Json(TouchpointListOut { business_id: id, touchpoints: touchpoints.into_iter().map(TouchpointOut::from).collect() }))
}

#[utoipa::path(patch, path = "/api/businesses/{business_id}/touchpoints/{touchpoint_id}", tag = "touchpoints", request_body = TouchpointChanges,
    params(("business_id" = i64, Path, description = "The business"), ("touchpoint_id" = i64, Path, description = "The touchpoint")),
    responses((status = 200, body = TouchpointSavedOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn edit(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath((id, touchpoint)): ApiPath<(i64, i64)>,
    JsonBody(body): JsonBody<TouchpointChanges>,
) -> ApiResult<Json<TouchpointSavedOut>> {
    let business = editable(&state, &caller, id).await?;
    let by = author(&caller.user);
    let edit = TouchpointEdit {
        name: body.name,
        channel: body.channel,
        rule: body.rule,
        stage: body.stage,
        description: body.description,
        position: body.position,
    };
    let saved = state.try_write(move |app| app.edit_touchpoint(&business, TouchpointId(touchpoint), &edit, &by)).await?;
    Ok(Json(saved.into()))
}

#[utoipa::path(delete, path = "/api/businesses/{business_id}/touchpoints/{touchpoint_id}", tag = "touchpoints",
    params(("business_id" = i64, Path, description = "The business"), ("touchpoint_id" = i64, Path, description = "The touchpoint")),
    responses((status = 200, body = TouchpointDeletedOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "A change, survey or feedback records what happened at it; the message names them")))]
pub async fn delete(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, touchpoint)): ApiPath<(i64, i64)>) -> ApiResult<Json<TouchpointDeletedOut>> {
    let business = editable(&state, &caller, id).await?;
    let by = author(&caller.user);
    let deleted = state.try_write(move |app| app.delete_touchpoint(&business, TouchpointId(touchpoint), &by)).await?;
    Ok(Json(deleted.into()))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/touchpoints/preview", tag = "touchpoints",
    params(("business_id" = i64, Path, description = "The business"), PreviewQuery),
    responses((status = 200, body = PreviewOut), (status = 400, body = ErrorBody, description = "The rule does not read: `field` and `offset` say where"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn preview(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, Query(query): Query<PreviewQuery>) -> ApiResult<Json<PreviewOut>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let preview = state.try_read(move |app| app.preview_touchpoint_rule(&business, &query.rule)).await?;
    Ok(Json(preview.into()))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/touchpoints/suggestions", tag = "touchpoints",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = SuggestionsOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn suggestions(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<SuggestionsOut>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let suggestions = state.try_read(move |app| app.touchpoint_suggestions(&business)).await?;
    Ok(Json(SuggestionsOut::new(id, &suggestions)))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/touchpoints/suggestions", tag = "touchpoints", request_body = SuggestionChoice,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = SuggestionChoiceOut), (status = 400, body = ErrorBody, description = "A key that is not a current suggestion, or none given"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn choose(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<SuggestionChoice>,
) -> ApiResult<Json<SuggestionChoiceOut>> {
    let business = editable(&state, &caller, id).await?;
    let by = author(&caller.user);
    let dismissed = body.dismiss.clone();
    let accepted = state.try_write(move |app| app.choose_touchpoint_suggestions(&business, &body.accept, &body.dismiss, &by)).await?;
    Ok(Json(SuggestionChoiceOut { accepted: accepted.into_iter().map(TouchpointOut::from).collect(), dismissed }))
}
