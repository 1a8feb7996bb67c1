//! The analysis questions as JSON: `GET /api/businesses/{id}/analysis/{funnel,flows,attribution,
//! retention,clv}` take the same query parameters as the web pages (`web::analysis`) and answer
//! the app's report, with the n of every figure and the customer ids behind it. Any member may
//! read; a bad parameter is a 400 `invalid_input` naming it.

use super::params::{AttributionBy, AttributionModel, ClvBy, ClvModel, ClvUnit, FlowsBy, FunnelMode, RetentionPeriod};
use super::{ApiPath, ApiResult, openapi::ErrorBody};
use crate::auth::ApiUser;
use crate::state::ServerState;
use crate::web::analysis::{self, Analysis, Query};
use axum::Json;
use axum::extract::{RawQuery, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An analysis answer: the app's report for the business.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AnalysisOut {
    pub business_id: i64,
    /// Which analysis: funnel, flows, attribution, retention or clv.
    pub analysis: String,
    /// The report, as the CLI's `--format json` gives it; every figure carries its n.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
}

async fn run<A: Analysis>(caller: ApiUser, state: ServerState, id: i64, raw: Option<String>) -> ApiResult<Json<AnalysisOut>> {
    let query = Query::parse(raw.as_deref());
    let (_, answer) = analysis::answer::<A>(&state, caller.user.id, id, &query).await?;
    Ok(Json(AnalysisOut { business_id: id, analysis: A::SLUG.to_string(), report: A::json(&answer)? }))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/analysis/funnel", tag = "analysis",
    params(("business_id" = i64, Path, description = "The business"),
        ("steps" = Option<String>, Query, description = "Steps, comma-separated (event names, a|b, touchpoint:NAME, stage:NAME); default: the business's shop or store funnel"),
        ("window" = Option<String>, Query, description = "Conversion window from step 1: 30m, 24h, 7d, 2w; default 7d"),
        ("mode" = Option<FunnelMode>, Query, description = "ordered (default), strict or unordered"),
        ("breakdown" = Option<String>, Query, description = "first-channel, first-source, channel, source, medium, campaign, page, property:KEY, persona or customer:KEY")),
    responses((status = 200, body = AnalysisOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn funnel(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<AnalysisOut>> {
    run::<analysis::funnel::Funnel>(caller, state, id, raw).await
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/analysis/flows", tag = "analysis",
    params(("business_id" = i64, Path, description = "The business"),
        ("by" = Option<FlowsBy>, Query, description = "event (default) or page"),
        ("from" = Option<String>, Query, description = "Paths starting at this event"),
        ("to" = Option<String>, Query, description = "Paths leading to this event"),
        ("session_gap" = Option<String>, Query, description = "Idle time ending a session; default 30m"),
        ("top" = Option<usize>, Query, minimum = 1, maximum = 500, description = "Busiest edges kept, 1 to 500; default 50"),
        ("max_steps" = Option<usize>, Query, minimum = 2, maximum = 50, description = "Steps per path, 2 to 50; default 6")),
    responses((status = 200, body = AnalysisOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn flows(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<AnalysisOut>> {
    run::<analysis::flows::Flows>(caller, state, id, raw).await
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/analysis/attribution", tag = "analysis",
    params(("business_id" = i64, Path, description = "The business"),
        ("model" = Option<AttributionModel>, Query, description = "all (default), first, last, last-non-direct, linear, time-decay, position, markov or shapley"),
        ("by" = Option<AttributionBy>, Query, description = "channel (default), source, campaign or touchpoint"),
        ("lookback" = Option<String>, Query, description = "How long before a conversion a touch counts; default 30d"),
        ("conversion" = Option<String>, Query, description = "The conversion event; default purchase")),
    responses((status = 200, body = AnalysisOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn attribution(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<AnalysisOut>> {
    run::<analysis::attribution::Attribution>(caller, state, id, raw).await
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/analysis/retention", tag = "analysis",
    params(("business_id" = i64, Path, description = "The business"),
        ("period" = Option<RetentionPeriod>, Query, description = "month (default) or week")),
    responses((status = 200, body = AnalysisOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retention(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<AnalysisOut>> {
    run::<analysis::retention::Retention>(caller, state, id, raw).await
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/analysis/clv", tag = "analysis",
    params(("business_id" = i64, Path, description = "The business"),
        ("by" = Option<ClvBy>, Query, description = "channel (default), touchpoint, cohort or persona"),
        ("model" = Option<ClvModel>, Query, description = "bgnbd (default), pareto-nbd or gamma-gamma"),
        ("unit" = Option<ClvUnit>, Query, description = "week (default) or day"),
        ("horizon" = Option<u32>, Query, minimum = 1, maximum = 520, description = "Periods predicted, 1 to 520; default 52")),
    responses((status = 200, body = AnalysisOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn clv(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<AnalysisOut>> {
    run::<analysis::clv::Clv>(caller, state, id, raw).await
}
