//! Persona cards as JSON under `/api/businesses/{id}/personas`: list them with their coverage,
//! create one (`POST`), read, change (`PATCH`: a field left out stays, `null` clears it) and
//! delete one, its photo (`.../{persona_id}/photo`, served with its own image type), the live
//! count of a segment rule (`.../preview?rule=...`) and personas suggested from behaviour
//! clusters (`.../suggestions`). Members read; editors and owners write (403 for viewers).
//!
//! The segment rule is its text form (`orders>=2 & first_channel=Referral`, grammar in the
//! model's `persona_rule`); one that does not read is a 400 `invalid_input` whose message gives
//! the character and the reason. A photo is a `data:image/...;base64,` URI (or bare base64) of a
//! PNG, JPEG or WebP of at most 256 KiB, told by its first bytes; anything else is a 400 naming
//! `photo`, and nothing is written.

use super::{ApiPath, ApiResult, JsonBody, openapi::ErrorBody};
use crate::auth::{self, ApiUser, require_edit};
use crate::error::ApiError;
use crate::personas::{SuggestionsQuery, customer_facts, photo_path, photo_response};
use crate::state::ServerState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Deserializer, Serialize};
use trailmap_app::personas::{PersonaBoard, PersonaCard, PersonaChanges, PersonaInput, SegmentPreview, photo_from_text};
use trailmap_app::PersonaSuggestions;
use trailmap_model::{Business, BusinessId, PersonaId};
use utoipa::ToSchema;

fn json<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::internal(format!("the answer cannot be written as JSON: {e}")))
}

/// One persona card and the customers it covers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonaOut {
    /// The card: id, name, initials (given or from the name), initials_given, has_photo,
    /// demographics [{label, value}], goals, frustrations, behaviours, quote, rule (its text, or
    /// null), rule_in_words, rank (its place when overlaps are resolved, 1 first), matches and
    /// covers ({n, customers}: the customers its rule matches, and those it covers once earlier
    /// personas took theirs), counted_earlier ([{persona, name, n, customers}]).
    #[schema(value_type = Object)]
    pub persona: serde_json::Value,
    /// Where the photo is served, when there is one.
    pub photo_url: Option<String>,
    /// The customers the persona covers (as `persona.covers`).
    pub n: usize,
    pub customers: Vec<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PersonasOut {
    pub business_id: i64,
    /// Every customer of the business: the n each count is out of.
    pub customers: usize,
    /// How overlapping rules are resolved.
    pub precedence: String,
    pub personas: Vec<PersonaOut>,
    /// Customers no persona covers: {n, customers}.
    #[schema(value_type = Object)]
    pub unassigned: serde_json::Value,
}

fn persona_out(business: BusinessId, card: &PersonaCard) -> Result<PersonaOut, ApiError> {
    Ok(PersonaOut {
        persona: json(card)?,
        photo_url: card.has_photo.then(|| photo_path(business, card.id)),
        n: card.covers.n,
        customers: card.covers.customers.iter().map(|c| c.0).collect(),
    })
}

/// A demographics row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DemographicIn {
    pub label: String,
    pub value: String,
}

/// A new persona card. Only `name` is needed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewPersona {
    pub name: String,
    /// Up to three letters or digits shown without a photo; the name's when absent.
    pub initials: Option<String>,
    /// A PNG, JPEG or WebP of at most 256 KiB as a `data:image/...;base64,` URI or bare base64.
    pub photo: Option<String>,
    #[serde(default)]
    pub demographics: Vec<DemographicIn>,
    #[serde(default)]
    pub goals: Vec<String>,
    #[serde(default)]
    pub frustrations: Vec<String>,
    #[serde(default)]
    pub behaviours: Vec<String>,
    pub quote: Option<String>,
    /// The segment rule's text, such as `orders>=2 & first_channel=Referral`; none: not tied to
    /// customers yet.
    pub rule: Option<String>,
}

/// `Some(None)` for a field sent as null, `Some(Some(v))` for a value; absent fields stay None.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes to a card: a field left out stays as it is; `null` clears initials, photo, quote or
/// rule.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct PersonaPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub initials: Option<Option<String>>,
    /// As in a new card; null removes the photo.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub photo: Option<Option<String>>,
    pub demographics: Option<Vec<DemographicIn>>,
    pub goals: Option<Vec<String>>,
    pub frustrations: Option<Vec<String>>,
    pub behaviours: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub quote: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub rule: Option<Option<String>>,
}

fn rows(rows: Vec<DemographicIn>) -> Vec<(String, String)> {
    rows.into_iter().map(|d| (d.label, d.value)).collect()
}

fn photo(text: Option<String>) -> Result<Option<Vec<u8>>, ApiError> {
    Ok(text.filter(|t| !t.trim().is_empty()).map(|t| photo_from_text(&t)).transpose()?)
}

/// The board of `business` over its cached facts.
async fn board(state: &ServerState, business: &Business) -> Result<PersonaBoard, ApiError> {
    let facts = customer_facts(state, business).await?;
    let b = business.clone();
    state.try_read(move |app| app.persona_board_with(&b, &facts)).await
}

/// The card of `persona` with its coverage.
async fn card_out(state: &ServerState, business: &Business, persona: PersonaId) -> ApiResult<PersonaOut> {
    let board = board(state, business).await?;
    let card = board
        .personas
        .iter()
        .find(|c| c.id == persona)
        .ok_or_else(|| ApiError::not_found(format!("{} has no persona {persona}", business.name)))?;
    persona_out(business.id, card)
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/personas", tag = "personas",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = PersonasOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<PersonasOut>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let board = board(&state, &business).await?;
    Ok(Json(PersonasOut {
        business_id: id,
        customers: board.customers,
        precedence: board.precedence.to_string(),
        personas: board.personas.iter().map(|c| persona_out(business.id, c)).collect::<Result<_, _>>()?,
        unassigned: json(&board.unassigned)?,
    }))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/personas", tag = "personas", request_body = NewPersona,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 201, body = PersonaOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "The name is taken", body = ErrorBody)))]
pub async fn create(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<NewPersona>,
) -> ApiResult<(StatusCode, Json<PersonaOut>)> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let input = PersonaInput {
        name: body.name,
        initials: body.initials,
        photo: photo(body.photo)?,
        demographics: rows(body.demographics),
        goals: body.goals,
        frustrations: body.frustrations,
        behaviours: body.behaviours,
        quote: body.quote,
        rule: body.rule,
    };
    let b = business.clone();
    let created = state.try_write(move |app| app.create_persona(&b, input)).await?;
    Ok((StatusCode::CREATED, Json(card_out(&state, &business, created.id).await?)))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/personas/{persona_id}", tag = "personas",
    params(("business_id" = i64, Path, description = "The business"), ("persona_id" = i64, Path, description = "The persona")),
    responses((status = 200, body = PersonaOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_persona(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, persona)): ApiPath<(i64, i64)>) -> ApiResult<Json<PersonaOut>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    Ok(Json(card_out(&state, &business, PersonaId(persona)).await?))
}

#[utoipa::path(patch, path = "/api/businesses/{business_id}/personas/{persona_id}", tag = "personas", request_body = PersonaPatch,
    params(("business_id" = i64, Path, description = "The business"), ("persona_id" = i64, Path, description = "The persona")),
    responses((status = 200, body = PersonaOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "The new name is taken", body = ErrorBody)))]
pub async fn update(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath((id, persona)): ApiPath<(i64, i64)>,
    JsonBody(body): JsonBody<PersonaPatch>,
) -> ApiResult<Json<PersonaOut>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    let changes = PersonaChanges {
        name: body.name,
        initials: body.initials,
        photo: body.photo.map(photo).transpose()?,
        demographics: body.demographics.map(rows),
        goals: body.goals,
        frustrations: body.frustrations,
        behaviours: body.behaviours,
        quote: body.quote,
        rule: body.rule,
    };
    let b = business.clone();
    state.try_write(move |app| app.update_persona(&b, PersonaId(persona), changes)).await?;
    Ok(Json(card_out(&state, &business, PersonaId(persona)).await?))
}

#[utoipa::path(delete, path = "/api/businesses/{business_id}/personas/{persona_id}", tag = "personas",
    params(("business_id" = i64, Path, description = "The business"), ("persona_id" = i64, Path, description = "The persona")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A map shows the persona; the message names the maps", body = ErrorBody)))]
pub async fn delete(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, persona)): ApiPath<(i64, i64)>) -> ApiResult<StatusCode> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    require_edit(membership.role)?;
    let business = membership.business;
    state.try_write(move |app| app.delete_persona(&business, PersonaId(persona))).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/personas/{persona_id}/photo", tag = "personas",
    params(("business_id" = i64, Path, description = "The business"), ("persona_id" = i64, Path, description = "The persona")),
    responses((status = 200, description = "The photo, as image/png, image/jpeg or image/webp", content_type = "image/*"),
        (status = 401, body = ErrorBody), (status = 404, description = "No such persona, or it has no photo", body = ErrorBody)))]
pub async fn photo_of(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, persona)): ApiPath<(i64, i64)>) -> Result<Response, ApiError> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let b = business.clone();
    let photo = state.try_read(move |app| app.persona_photo(&b, PersonaId(persona))).await?;
    let photo = photo.ok_or_else(|| ApiError::not_found(format!("persona {persona} has no photo")))?;
    Ok(photo_response(photo))
}

/// A rule to count: its text, and the persona being edited (which keeps its place) if any.
#[derive(Debug, Default, Clone, Serialize, Deserialize, utoipa::IntoParams)]
pub struct PreviewQuery {
    /// The segment rule's text, such as `orders>=2 & first_channel=Referral`.
    pub rule: Option<String>,
    /// The persona being edited; without it, the count is for a new persona (which comes last).
    pub persona: Option<String>,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/personas/preview", tag = "personas",
    params(("business_id" = i64, Path, description = "The business"), PreviewQuery),
    responses((status = 200, description = "The rule's canonical text and words, the customers (n) it is counted over, the customers it matches and would cover ({n, customers}), those that count for earlier personas, and how overlaps are resolved", body = Object),
        (status = 400, description = "The rule does not read: the message gives the character and the reason", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn preview(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    Query(query): Query<PreviewQuery>,
) -> ApiResult<Json<SegmentPreview>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let editing = match query.persona.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(text) => Some(PersonaId(
            text.parse().map_err(|_| ApiError::invalid_input(format!("persona {text:?}: expected a persona id")))?,
        )),
        None => None,
    };
    let rule = query.rule.unwrap_or_default();
    let facts = customer_facts(&state, &business).await?;
    Ok(Json(state.try_read(move |app| app.preview_segment_with(&business, &facts, &rule, editing)).await?))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/personas/suggestions", tag = "personas",
    params(("business_id" = i64, Path, description = "The business"), SuggestionsQuery),
    responses((status = 200, description = "Behaviour clusters of the customers with an order (seeded k-means), each with a name, a description, its customers (n and ids) and the segment rule that approximates it (rule_text); POST one's name, description as a behaviour and rule_text to create it", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn suggestions(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    Query(query): Query<SuggestionsQuery>,
) -> ApiResult<Json<PersonaSuggestions>> {
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    Ok(Json(state.try_read(move |app| app.suggest_personas(&business, &query.request(app)?)).await?))
}
