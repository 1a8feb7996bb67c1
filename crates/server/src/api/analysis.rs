//! The analysis questions as JSON: `GET /api/businesses/{id}/analysis/{funnel,flows,attribution,
//! retention,clv}` take the same query parameters as the web pages, read by the same typed
//! requests of the app (`trailmap_app::query`), and answer the app's report, typed, with the n of
//! every figure and the customer ids behind it (a funnel's only when asked, a page at a time with
//! `customers_at`, `limit` and `offset`: its lists run to megabytes). Any member may read; a bad
//! parameter is a 400 `invalid_input` naming it.

use super::params::{AttributionBy, AttributionCount, AttributionModel, ClvBy, ClvModel, ClvUnit, FlowsBy};
use super::{ApiPath, ApiResult, openapi::ErrorBody};
use crate::auth::{self, ApiUser};
use crate::state::ServerState;
use axum::Json;
use axum::extract::{RawQuery, State};
use serde::Serialize;
use trailmap_analytics::{FunnelMode, RetentionPeriod};
use trailmap_app::query::ClvSummary;
use trailmap_app::{App, AttributionReport, AttributionRequest, ClvRequest, FromParams, FunnelAnswer, FunnelRequest, Params, PathsAnswer, PathsRequest, RetentionAnswer, RetentionRequest};
use trailmap_model::{Business, BusinessId};
use utoipa::ToSchema;

/// An analysis answer: which analysis, for which business, and the app's report.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalysisOut<R> {
    pub business_id: i64,
    /// Which analysis: funnel, flows, attribution, retention or clv.
    pub analysis: String,
    /// The report, as the CLI's `--format json` gives it; every figure carries its n.
    pub report: R,
    /// Where the events this answer counts were read: `store` (the server's store) or
    /// `clickhouse` (read from ClickHouse into the embedded engine; a funnel's or a retention's
    /// `path` says when it was counted in ClickHouse itself).
    pub events_from: String,
}

/// Checks the membership, reads the typed request from the query string, and asks the app on a
/// read connection.
async fn answer<Q, R>(caller: ApiUser, state: ServerState, id: i64, slug: &str, raw: Option<String>, ask: fn(&App, &Business, &Q) -> trailmap_app::Result<R>) -> ApiResult<Json<AnalysisOut<R>>>
where
    Q: FromParams + Send + 'static,
    R: Send + 'static,
{
    let business = auth::membership(&state, caller.user.id, BusinessId(id)).await?.business;
    let request = Q::from_params(&Params::parse(raw.as_deref()))?;
    let (report, events_from) = state.try_read(move |app| Ok((ask(app, &business, &request)?, app.events_from()))).await?;
    Ok(Json(AnalysisOut { business_id: id, analysis: slug.to_string(), report, events_from: events_from.to_string() }))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/analysis/funnel", tag = "analysis",
    params(("business_id" = i64, Path, description = "The business"),
        ("steps" = Option<String>, Query, description = "Steps, comma-separated (event names, a|b, touchpoint:NAME, stage:NAME); default: the business's shop or store funnel"),
        ("window" = Option<String>, Query, description = "Conversion window from step 1: 30m, 24h, 7d, 2w; default 7d"),
        ("mode" = Option<FunnelMode>, Query, description = "ordered (default), strict or unordered"),
        ("breakdown" = Option<String>, Query, description = "first-channel, first-source, channel, source, medium, campaign, page, property:KEY, persona or customer:KEY"),
        ("customers_at" = Option<usize>, Query, minimum = 1, description = "List the customers behind this step (1 for the first) in the answer's `customers`, a page of them; without it the answer carries counts and no customer ids"),
        ("customers_who" = Option<String>, Query, description = "With customers_at: reached (default), the customers reaching the step, or dropped, those who reached the step before but not this one"),
        ("customers_group" = Option<String>, Query, description = "With customers_at: the customers of this breakdown group (a value of the breakdown) instead of all"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 10000, description = "With customers_at: customers in the page, 1 to 10000; default 100"),
        ("offset" = Option<usize>, Query, description = "With customers_at: customers skipped before the page; default 0 (the next page starts at offset + limit)"),
        ("pushdown" = Option<bool>, Query, description = "true: count the steps in ClickHouse (windowFunnel) when the events are there and the funnel can be; the same counts without step times. The answer's `path` says which path it took, `path_note` why a pushdown was not taken")),
    responses((status = 200, body = AnalysisOut<FunnelAnswer>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn funnel(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<AnalysisOut<FunnelAnswer>>> {
    answer::<FunnelRequest, FunnelAnswer>(caller, state, id, "funnel", raw, |app, b, r| app.funnel(b, r)).await
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/analysis/flows", tag = "analysis",
    params(("business_id" = i64, Path, description = "The business"),
        ("by" = Option<FlowsBy>, Query, description = "event (default) or page"),
        ("from" = Option<String>, Query, description = "Paths starting at this event"),
        ("to" = Option<String>, Query, description = "Paths leading to this event"),
        ("session_gap" = Option<String>, Query, description = "Idle time ending a session; default 30m"),
        ("top" = Option<usize>, Query, minimum = 1, maximum = 500, description = "Busiest edges kept, 1 to 500; default 50"),
        ("max_steps" = Option<usize>, Query, minimum = 2, maximum = 50, description = "Steps per path, 2 to 50; default 6"),
        ("pushdown" = Option<bool>, Query, description = "true: make each customer's sessions in ClickHouse when the events are there; the same paths. The answer's `path` says which path it took, `path_note` why a pushdown was not taken")),
    responses((status = 200, body = AnalysisOut<PathsAnswer>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn flows(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<AnalysisOut<PathsAnswer>>> {
    answer::<PathsRequest, PathsAnswer>(caller, state, id, "flows", raw, |app, b, r| app.paths_answer(b, r)).await
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/analysis/attribution", tag = "analysis",
    params(("business_id" = i64, Path, description = "The business"),
        ("model" = Option<AttributionModel>, Query, description = "all (default), first, last, last-non-direct, linear, time-decay, position, markov or shapley"),
        ("by" = Option<AttributionBy>, Query, description = "channel (default), source, campaign or touchpoint"),
        ("lookback" = Option<String>, Query, description = "How long before a conversion a touch counts: 30m, 24h, 30d, 2w; default 30d"),
        ("half_life" = Option<String>, Query, description = "Half-life of the time-decay model, written like lookback; default 7d"),
        ("count" = Option<AttributionCount>, Query, description = "all (default): every conversion; first: each customer's first (new customers)"),
        ("from" = Option<String>, Query, description = "First day of conversions counted, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Last day of conversions counted, YYYY-MM-DD, included"),
        ("conversion" = Option<String>, Query, description = "The conversion event; default purchase")),
    responses((status = 200, body = AnalysisOut<AttributionReport>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn attribution(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<AnalysisOut<AttributionReport>>> {
    answer::<AttributionRequest, AttributionReport>(caller, state, id, "attribution", raw, |app, b, r| app.attribution(b, r)).await
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/analysis/retention", tag = "analysis",
    params(("business_id" = i64, Path, description = "The business"),
        ("period" = Option<RetentionPeriod>, Query, description = "month (default) or week"),
        ("pushdown" = Option<bool>, Query, description = "true: summarise each buyer in ClickHouse when the events are there; the same report. The answer's `path` says which path it took, `path_note` why a pushdown was not taken")),
    responses((status = 200, body = AnalysisOut<RetentionAnswer>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn retention(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<AnalysisOut<RetentionAnswer>>> {
    answer::<RetentionRequest, RetentionAnswer>(caller, state, id, "retention", raw, |app, b, r| app.retention_answer(b, r)).await
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/analysis/clv", tag = "analysis",
    params(("business_id" = i64, Path, description = "The business"),
        ("by" = Option<ClvBy>, Query, description = "channel (default), touchpoint, cohort or persona"),
        ("model" = Option<ClvModel>, Query, description = "bgnbd (default), pareto-nbd or gamma-gamma"),
        ("unit" = Option<ClvUnit>, Query, description = "week (default) or day"),
        ("horizon" = Option<u32>, Query, minimum = 1, maximum = 520, description = "Periods predicted, 1 to 520; default 52")),
    responses((status = 200, body = AnalysisOut<ClvSummary>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn clv(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, RawQuery(raw): RawQuery) -> ApiResult<Json<AnalysisOut<ClvSummary>>> {
    answer::<ClvRequest, ClvSummary>(caller, state, id, "clv", raw, |app, b, r| app.clv_answer(b, r).map(|a| a.summary())).await
}
