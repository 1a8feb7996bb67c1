//! The dashboard and the customers behind its numbers as JSON: `GET
//! /api/businesses/{id}/dashboard` (the same numbers as the page, from the same answer cache),
//! `.../customers` (the customers behind a metric, a channel or a list of ids) and
//! `.../customers/{customer_id}` (one customer's timeline). Any member may read.

use super::{ApiPath, ApiResult, openapi::ErrorBody};
use crate::auth::{self, ApiUser};
use crate::error::ApiError;
use crate::state::ServerState;
use crate::dashboard_data::{age_headers, asks_current, customers_behind, load_dashboard, period};
use trailmap_app::query::CustomersQuery as PeriodQuery;
use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use trailmap_model::{BusinessId, CustomerId};
use utoipa::ToSchema;

/// Customers listed by one call at most; `total` says how many there are in all.
const LIST_LIMIT: usize = 1000;

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardOut {
    pub business_id: i64,
    /// Periods, metrics with current and previous values, n, trend and customer ids, and new
    /// customers by first channel. Money is in minor units (cents).
    pub dashboard: trailmap_app::Dashboard,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CustomerListOut {
    pub business_id: i64,
    pub title: String,
    /// How many customers are behind the number.
    pub total: usize,
    /// The first of them (up to 1,000), with their email, name and first-seen time.
    #[schema(value_type = Vec<Object>)]
    pub customers: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineOut {
    pub business_id: i64,
    /// The customer and every entry of their journey (events, orders, survey answers, feedback) in
    /// time order.
    pub timeline: trailmap_app::Timeline,
}

fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::internal(e.to_string()))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/dashboard", tag = "dashboard",
    params(("business_id" = i64, Path, description = "The business"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD (with to); default: the last 30 days with data"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD (with from)"),
        ("Cache-Control" = Option<String>, Header, description = "no-cache: wait for the answer of the current data rather than take one counted up to 15 s ago")),
    responses((status = 200, body = DashboardOut,
            headers(("Age" = u64, description = "Present when the answer was counted this many seconds ago while newer events arrive (at most 15); a refresh is under way"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn dashboard(
    caller: ApiUser,
    State(state): State<ServerState>,
    ApiPath(id): ApiPath<i64>,
    Query(query): Query<PeriodQuery>,
    asked: axum::http::HeaderMap,
) -> ApiResult<(axum::http::HeaderMap, Json<DashboardOut>)> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    let current = asks_current(&asked);
    let period = period(&state, &membership.business, &query, current).await?;
    let (board, age) = load_dashboard(&state, &membership.business, period, current).await?;
    // An answer that lags the data (counted while events kept arriving) says by how much.
    Ok((age_headers(age), Json(DashboardOut { business_id: id, dashboard: (*board).clone() })))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/customers", tag = "dashboard",
    params(("business_id" = i64, Path, description = "The business"),
        ("metric" = Option<String>, Query, description = "A dashboard metric key (new_customers, conversion_rate, repeat_rate, average_order_value, revenue, nps, csat); default new_customers"),
        ("of" = Option<String>, Query, description = "sample: the metric's whole sample (a rate's denominator) instead of the customers it counts"),
        ("channel" = Option<String>, Query, description = "New customers of this first channel"),
        ("ids" = Option<String>, Query, description = "Explicit customer ids, comma-separated (instead of a metric)"),
        ("from" = Option<String>, Query, description = "First day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "Last day, YYYY-MM-DD")),
    responses((status = 200, body = CustomerListOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn customers(caller: ApiUser, State(state): State<ServerState>, ApiPath(id): ApiPath<i64>, Query(query): Query<PeriodQuery>) -> ApiResult<Json<CustomerListOut>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    let business = membership.business.clone();
    let (title, ids) = customers_behind(&state, &business, &query).await?;
    let total = ids.len();
    let listed = state.try_read(move |app| app.customers_by_id(&business, &ids, LIST_LIMIT)).await?;
    let customers = listed.iter().map(to_json).collect::<Result<_, _>>()?;
    Ok(Json(CustomerListOut { business_id: id, title, total, customers }))
}

#[utoipa::path(get, path = "/api/businesses/{business_id}/customers/{customer_id}", tag = "dashboard",
    params(("business_id" = i64, Path, description = "The business"), ("customer_id" = i64, Path, description = "A customer of it")),
    responses((status = 200, body = TimelineOut), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn customer(caller: ApiUser, State(state): State<ServerState>, ApiPath((id, customer)): ApiPath<(i64, i64)>) -> ApiResult<Json<TimelineOut>> {
    let membership = auth::membership(&state, caller.user.id, BusinessId(id)).await?;
    let business = membership.business.clone();
    let timeline = state.try_read(move |app| app.customer_timeline(&business, CustomerId(customer))).await?;
    Ok(Json(TimelineOut { business_id: id, timeline }))
}
