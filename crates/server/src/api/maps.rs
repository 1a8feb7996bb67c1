//! Journey maps as JSON under `/api/businesses/{id}/maps`: list, create from a template, one map,
//! single edits (a `MapEdit` with its `"op"` tag; each a new version), versions and the diff of
//! two, exports (json, mermaid, svg, png, pdf), import of a JSON export, the "to be" map of an
//! "as is" map, share links (create, list, revoke) and the live numbers of the stages for a
//! period and persona, and the quote picker of a stage. Any member reads; editors and owners write (else 403 `forbidden`).

use super::{ApiPath, ApiResult, JsonBody, editor, openapi::ErrorBody};
use crate::auth::{self, ApiUser, author};
use crate::error::ApiError;
use crate::state::ServerState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use trailmap_app::{MapEdit, MapExportFormat, MapNumbers, MapTemplate};
use trailmap_app::map_evidence::PICKER_QUOTES;
use trailmap_app::query::{NumbersQuery, link_expiry as expiry_of};
use trailmap_model::{BusinessId, MapId, Membership};
use utoipa::ToSchema;

fn map_id(id: i64) -> MapId {
    MapId(id)
}

async fn member(state: &ServerState, caller: &ApiUser, id: i64) -> Result<Membership, ApiError> {
    auth::membership(state, caller.user.id, BusinessId(id)).await
}

fn json<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::internal(format!("the answer cannot be written as JSON: {e}")))
}

/// The business's maps with their staleness, size and newest version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MapListOut {
    pub business_id: i64,
    /// One summary per map: id, name, kind, as_is, owner, review_date, stale, stages, cards,
    /// assumptions, version, updated_by, updated_at.
    #[schema(value_type = Vec<Object>)]
    pub maps: Vec<serde_json::Value>,
}

/// One map as stored (stages × lanes, cards with evidence, emotions), with its newest version.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MapOut {
    pub id: i64,
    pub version: u32,
    pub author: String,
    /// RFC 3339.
    pub updated_at: String,
    #[schema(value_type = Object)]
    pub map: serde_json::Value,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateMap {
    pub name: String,
    /// coffee-shop, web-shop, services or blank (default).
    pub template: Option<String>,
}

/// Any JSON value: an edit (`{"op": "edit_card", ...}`), a document, a diff, numbers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct AnyJson(pub serde_json::Value);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreateShareLink {
    /// At least 8 characters; none: anyone with the link sees the map.
    pub password: Option<String>,
    /// The last day the link works (YYYY-MM-DD, UTC); none: until revoked.
    pub expires: Option<String>,
    /// Origins whose pages may embed the map in a frame (`https://intranet.example`, at most
    /// 10); none: no site may.
    #[serde(default)]
    pub embed_on: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DiffQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

fn version_of(field: &str, text: Option<&str>) -> Result<Option<u32>, trailmap_app::AppError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| trailmap_app::AppError::Invalid(format!("{field}: {t:?} is not a version number"))),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct FormatQuery {
    pub format: Option<String>,
}

fn map_out(v: &trailmap_app::MapVersion) -> Result<MapOut, ApiError> {
    Ok(MapOut { id: v.map.id.0, version: v.version, author: v.author.clone(), updated_at: v.created_at.to_rfc3339(), map: json(&v.map)? })
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/maps", tag = "maps",
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 200, body = MapListOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<MapListOut>> {
    let m = member(&state, &caller, id).await?;
    let (business, today) = (m.business.clone(), auth::now().date());
    let maps = state.try_read(move |app| app.journey_maps(&business, today)).await?;
    Ok(Json(MapListOut { business_id: id, maps: maps.iter().map(json).collect::<Result<_, _>>()? }))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/maps", tag = "maps", request_body = CreateMap,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 201, body = MapOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, JsonBody(body): JsonBody<CreateMap>) -> ApiResult<Response> {
    let business = editor(&state, &caller, id).await?;
    let template = MapTemplate::parse(body.template.as_deref().unwrap_or("blank"))?;
    let by = author(&caller.user);
    let version = state
        .try_write(move |app| {
            let map = app.create_map(&business, &body.name, template, &by)?;
            app.journey_map(&business, map.id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(map_out(&version)?)).into_response())
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/maps/{map_id}", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map")),
    responses((status = 200, body = MapOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_map(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map)): ApiPath<(i64, i64)>) -> ApiResult<Json<MapOut>> {
    let business = member(&state, &caller, id).await?.business;
    let version = state.try_read(move |app| app.journey_map(&business, map_id(map))).await?;
    Ok(Json(map_out(&version)?))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/maps/{map_id}/edits", tag = "maps", request_body = AnyJson,
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map")),
    responses((status = 200, body = MapOut, description = "The map after the edit, as its new version"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn edit(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map)): ApiPath<(i64, i64)>, JsonBody(edit): JsonBody<MapEdit>) -> ApiResult<Json<MapOut>> {
    let business = editor(&state, &caller, id).await?;
    let by = author(&caller.user);
    let version = state
        .try_write(move |app| {
            app.edit_map(&business, map_id(map), &edit, &by)
        })
        .await?;
    Ok(Json(map_out(&version)?))
}

/// `?stage=ID&q=words&limit=N`: the quote picker's question.
#[derive(Debug, Default, Deserialize)]
pub struct QuotesQuery {
    pub stage: Option<String>,
    pub q: Option<String>,
    pub limit: Option<String>,
}

/// The quote picker of a stage: feedback tied to the stage's touchpoints, most negative first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QuotesOut {
    pub stage: u32,
    /// The texts matching the search; `quotes` holds at most `limit` of them.
    pub n: usize,
    /// Each: feedback (id), time, touchpoint, touchpoint_name, source, rating, text, compound.
    #[schema(value_type = Vec<Object>)]
    pub quotes: Vec<serde_json::Value>,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/maps/{map_id}/quotes", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map"),
        ("stage" = u32, Query, description = "The map stage whose touchpoints' feedback is offered"),
        ("q" = Option<String>, Query, description = "Keep texts containing these words (any case)"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 500, description = "At most this many quotes (default 40, at most 500)")),
    responses((status = 200, body = QuotesOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn quotes(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map)): ApiPath<(i64, i64)>, Query(q): Query<QuotesQuery>) -> ApiResult<Json<QuotesOut>> {
    let business = member(&state, &caller, id).await?.business;
    let stage_text = q.stage.unwrap_or_default();
    let stage: u32 = stage_text.trim().parse().map_err(|_| ApiError::invalid_input(format!("stage: {stage_text:?} is not a stage id")))?;
    let limit = match q.limit.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => PICKER_QUOTES,
        Some(t) => t.parse::<usize>().ok().filter(|n| (1..=500).contains(n)).ok_or_else(|| ApiError::invalid_input(format!("limit: {t:?} is not a number from 1 to 500")))?,
    };
    let search = q.q.unwrap_or_default();
    let found = state.try_read(move |app| app.stage_quotes(&business, map_id(map), stage, &search, limit)).await?;
    Ok(Json(QuotesOut { stage: found.stage, n: found.n, quotes: found.quotes.iter().map(json).collect::<Result<_, _>>()? }))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/maps/{map_id}/versions", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map")),
    responses((status = 200, body = [VersionOut], description = "The versions, oldest first"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn versions(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map)): ApiPath<(i64, i64)>) -> ApiResult<Json<Vec<VersionOut>>> {
    let business = member(&state, &caller, id).await?.business;
    let list = state.try_read(move |app| app.map_versions(&business, map_id(map))).await?;
    Ok(Json(list.into_iter().map(|v| VersionOut { version: v.version, author: v.author, created_at: v.created_at.0 }).collect()))
}

/// One saved version of a map.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VersionOut {
    pub version: u32,
    pub author: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/maps/{map_id}/diff", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map"),
        ("from" = Option<u32>, Query, description = "The older version; default: the one before `to`"),
        ("to" = Option<u32>, Query, description = "The newer version; default: the newest")),
    responses((status = 200, body = AnyJson, description = "The changes, as a list and as text"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn diff(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map)): ApiPath<(i64, i64)>, Query(q): Query<DiffQuery>) -> ApiResult<Json<serde_json::Value>> {
    let business = member(&state, &caller, id).await?.business;
    let diff = state
        .try_read(move |app| {
            let to = match version_of("to", q.to.as_deref())? {
                Some(to) => to,
                None => app.journey_map(&business, map_id(map))?.version,
            };
            let from = version_of("from", q.from.as_deref())?.unwrap_or(to.saturating_sub(1).max(1));
            app.diff_map_versions(&business, map_id(map), from, to)
        })
        .await?;
    Ok(Json(json(&diff)?))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/maps/{map_id}/export", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map"),
        ("format" = Option<super::params::MapExportFormat>, Query, description = "json (default), mermaid, svg, png or pdf")),
    responses((status = 200, description = "The map as a file in the format asked for"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map)): ApiPath<(i64, i64)>, Query(q): Query<FormatQuery>) -> ApiResult<Response> {
    let business = member(&state, &caller, id).await?.business;
    let format = MapExportFormat::parse(q.format.as_deref().unwrap_or("json"))?;
    let (name, bytes) = state
        .try_read(move |app| {
            let name = app.journey_map(&business, map_id(map))?.map.name;
            Ok((name, app.export_map(&business, map_id(map), format, None)?))
        })
        .await?;
    Ok(crate::downloads::map_download(bytes, format, &name))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/maps/import", tag = "maps", request_body = AnyJson,
    params(("business_id" = i64, Path, description = "The business")),
    responses((status = 201, body = AnyJson, description = "The new map (id, map), the touchpoints created from the document (touchpoints_created), those the business had under the same name with another rule (touchpoints_kept) and the names the business lacks (dropped)"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn import(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, JsonBody(document): JsonBody<serde_json::Value>) -> ApiResult<Response> {
    let business = editor(&state, &caller, id).await?;
    let by = author(&caller.user);
    let text = document.to_string();
    let imported = state.try_write(move |app| app.import_map_json(&business, &text, &by)).await?;
    Ok((StatusCode::CREATED, Json(json(&imported)?)).into_response())
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/maps/{map_id}/to-be", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The \"as is\" map")),
    responses((status = 201, body = MapOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn to_be(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map)): ApiPath<(i64, i64)>) -> ApiResult<Response> {
    let business = editor(&state, &caller, id).await?;
    let by = author(&caller.user);
    let version = state
        .try_write(move |app| {
            let made = app.create_to_be_map(&business, map_id(map), &by)?;
            app.journey_map(&business, made.id)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(map_out(&version)?)).into_response())
}

/// A share link as listed: never its token, which was shown once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ShareLinkOut {
    /// SHA-256 of the token (hex): what DELETE takes when the token is gone.
    pub token_hash: String,
    pub has_password: bool,
    /// RFC 3339.
    pub expires_at: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/maps/{map_id}/share-links", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map")),
    responses((status = 200, body = [ShareLinkOut]), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn share_links(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map)): ApiPath<(i64, i64)>) -> ApiResult<Json<Vec<ShareLinkOut>>> {
    let business = member(&state, &caller, id).await?.business;
    let links = state.try_read(move |app| app.share_links(&business, map_id(map))).await?;
    Ok(Json(
        links
            .into_iter()
            .map(|l| ShareLinkOut {
                token_hash: l.token_hash,
                has_password: l.password_hash.is_some(),
                expires_at: l.expires_at.map(|t| t.to_rfc3339()),
                created_by: l.created_by,
                created_at: l.created_at.to_rfc3339(),
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/businesses/{business_id}/maps/{map_id}/share-links", tag = "maps", request_body = CreateShareLink,
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map")),
    responses((status = 201, body = AnyJson, description = "The link: token (shown once), path, has_password, expires_at"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_share_link(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath((id, map)): ApiPath<(i64, i64)>,
    JsonBody(body): JsonBody<CreateShareLink>,
) -> ApiResult<Response> {
    let business = editor(&state, &caller, id).await?;
    let expires = expiry_of("expires", body.expires.as_deref().unwrap_or(""))?;
    let (by, now) = (author(&caller.user), auth::now());
    let embed_on = trailmap_app::check_embed_origins(&body.embed_on)?;
    let made = state
        .try_write(move |app| {
            let made = app.create_share_link(&business, map_id(map), body.password.as_deref(), expires, &by, now)?;
            if !embed_on.is_empty() {
                app.set_share_link_embedding(&business, map_id(map), &made.token, &embed_on)?;
            }
            Ok(made)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(json(&made)?)).into_response())
}

#[utoipa::path(delete, path = "/api/businesses/{business_id}/maps/{map_id}/share-links/{link}", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map"),
        ("link" = String, Path, description = "The link's token (tms_...) or its token_hash")),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_share_link(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map, link)): ApiPath<(i64, i64, String)>) -> ApiResult<StatusCode> {
    let business = editor(&state, &caller, id).await?;
    state
        .try_write(move |app| {
            if link.starts_with("tms_") {
                app.revoke_share_link(&business, map_id(map), &link)
            } else {
                app.revoke_share_link_by_hash(&business, map_id(map), &link)
            }
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/maps/{map_id}/numbers", tag = "maps",
    params(("business_id" = i64, Path, description = "The business"), ("map_id" = i64, Path, description = "The map"),
        ("from" = Option<String>, Query, description = "First day (YYYY-MM-DD); with `to`, else all time"),
        ("to" = Option<String>, Query, description = "Last day, included (YYYY-MM-DD)"),
        ("persona" = Option<String>, Query, description = "Only this persona's customers: its id or name"),
        ("window" = Option<i64>, Query, description = "Days after reaching a stage within which a later stage counts as going on (1 to 3650, default 30)")),
    responses((status = 200, body = trailmap_app::MapNumbers, description = "Per stage: reach, the customers new at the stage, conversion to the next stage (with those who skipped it and those already past it), drop-off and revenue (each order once, at the stage where it happened), each with n and customers; per touchpoint: reach and revenue; orders before any stage; and the definition of each number"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn numbers(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, map)): ApiPath<(i64, i64)>, Query(q): Query<NumbersQuery>) -> ApiResult<Json<MapNumbers>> {
    let business = member(&state, &caller, id).await?.business;
    let numbers = crate::map_answers::map_numbers(&state, &business, map, &q).await?;
    Ok(Json(MapNumbers::clone(&numbers)))
}
